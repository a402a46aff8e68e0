"""Demo data of the refunds plugin (after the sales demo): the seed's cancellation basket.

The sales demo leaves "Ordre 1271" — a basket that took order 959 up — on hold at the Guichet. The
refunds demo makes it the seed's cancellation basket: AKOKA Viviane, 6 of order 959's tickets to
refund (Joyaux - Lun 02.11.2015 20:15, Cat 1 Contact occasionnel - Plein tarif: −660,00 €), asked by
the public, cause "Échange"; still on hold, to be resumed from "Échange - annulation". Without that
basket (an older database), a new one is opened and held.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import NotFoundError
from coulisses.db import Actor, acting_as

SEED_ORDER = 959
SEED_OPERATION = 1271
SEED_TICKETS = 6


def load_demo(session: Session, size: str = "normal") -> None:
    from plugins.refunds.models import RefundCause
    from plugins.refunds.services import baskets
    from plugins.refunds.services.causes import install_defaults
    from plugins.sales.models import Order, Ticket
    from plugins.sales.services import baskets as sales_baskets
    from plugins.sales.services.settings import get_point_of_sale

    install_defaults(session)
    order = session.scalar(select(Order).where(Order.number == SEED_ORDER))
    if order is None:
        return
    try:
        sales_basket = sales_baskets.get_basket(session, SEED_OPERATION)
        if sales_basket.state not in ("open", "held"):
            sales_basket = None
    except NotFoundError:
        sales_basket = None
    pos = get_point_of_sale(session, "GUICHET")
    tickets = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.barcode)))
    cause = session.scalar(select(RefundCause).where(RefundCause.code == "EXCHANGE"))
    with acting_as(Actor(operator_id=order.created_by_id, login="STX_BDD", context={"point_of_sale_id": pos.id})):
        basket = baskets.open_basket(session, contact=order.buyer_id, point_of_sale=pos, sales_basket=sales_basket)
        baskets.add_range(session, basket, tickets[0].barcode, tickets[SEED_TICKETS - 1].barcode)
        baskets.set_options(session, basket, requested_by="public", cause=cause.id if cause else None)
        baskets.hold(session, basket)
