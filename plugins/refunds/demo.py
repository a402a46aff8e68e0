"""Demo data of the refunds plugin (after the sales demo): the seed's cancellation basket on order
959, held ("METTRE EN ATTENTE") so that the screen shows it as in the seed: operation 1271 ("Ordre
1271", the number the sales demo kept free), AKOKA Viviane's 6 tickets of Joyaux - Lun 02.11.2015
20:15 to refund (−660,00 €). The causes are installed by the plugin's defaults.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.db import Actor, acting_as, peek_number, set_sequence_floor

SEED_ORDER = 959
SEED_OPERATION = 1271


def load_demo(session: Session, size: str = "normal") -> None:
    from plugins.refunds.services import baskets
    from plugins.refunds.services.causes import install_defaults
    from plugins.sales.models import Order, Ticket
    from plugins.sales.services.settings import get_point_of_sale

    install_defaults(session)
    order = session.scalar(select(Order).where(Order.number == SEED_ORDER))
    if order is None:
        return
    pos = get_point_of_sale(session, "GUICHET")
    operator = order.created_by_id
    tickets = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.barcode)))
    with acting_as(Actor(operator_id=operator, login="STX_BDD", context={"point_of_sale_id": pos.id})):
        basket = baskets.open_basket(session, contact=order.buyer_id, point_of_sale=pos,
                                     operation=_seed_operation(session, pos, order.buyer.number))
        baskets.add_range(session, basket, tickets[0].barcode, tickets[5].barcode)
        cause = session.scalar(select(baskets.RefundCause).where(baskets.RefundCause.code == "EXCHANGE"))
        baskets.set_options(session, basket, requested_by="public", cause=cause.id if cause else None)
        baskets.hold(session, basket)


def _seed_operation(session: Session, pos, contact_number: int):
    """Operation 1271, the number the sales demo left free: taken from the counter when it is not
    there yet, else written in its gap (once; None when it is used already: a new number)."""
    from coulisses.db import current_actor, utcnow
    from plugins.sales.models import Operation

    nxt = peek_number(session, "sales.operation") or 1
    if nxt <= SEED_OPERATION:
        set_sequence_floor(session, "sales.operation", SEED_OPERATION)
        return None
    if session.scalar(select(Operation.id).where(Operation.number == SEED_OPERATION)) is not None:
        return None
    actor = current_actor()
    operation = Operation(number=SEED_OPERATION, kind="cancellation", order_id=None, operator_id=actor.operator_id,
                          operator_login=actor.login or "", point_of_sale_id=pos.id, channel_id=pos.channel_id,
                          at=utcnow(), amount=None, details={"basket": True, "contact": contact_number})
    session.add(operation)
    session.flush()
    return operation
