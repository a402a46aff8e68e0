"""Demo data of the waiting account (after the sales demo): the seed's order 959 paid on account by
UNIVERSITY PARIS [16] (its payer), 2 420,00 € on 28.09.2015 17:03 by STX_BDD at the Guichet, not
settled ("Non soldé"); UNIVERSITY PARIS authorised up to 10 000,00 €; an invoice range ``FA``; the
organisation's SEPA creditor identifier (a test one)."""
from __future__ import annotations

from datetime import date, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.db import Actor, acting_as, clock, get_setting

from plugins.waiting_account.models import InvoiceRange, Movement
from plugins.waiting_account.services import accounts, invoices, sepa


def load_demo(session: Session, size: str = "normal") -> dict:
    from coulisses.security import Operator
    from plugins.sales.demo.data import SEED_ORDER_AT, SEED_ORDER_NUMBER
    from plugins.sales.models import Order, PointOfSale
    from plugins.sales.services.payments import PaymentInput, pay

    if session.scalar(select(InvoiceRange.id).where(InvoiceRange.prefix == "FA")) is None:
        invoices.create_range(session, "FA", 1, 999999, date(2015, 1, 1), date(2099, 12, 31))
    if not get_setting(session, sepa.SETTING_CREDITOR_ID):
        sepa.set_creditor_id(session, "FR72ZZZ123456")
    order = session.scalar(select(Order).where(Order.number == SEED_ORDER_NUMBER))
    if order is None or order.payer_id is None or order.paid != 0:
        return {"order_959": False}
    if session.scalar(select(Movement.id).where(Movement.order_id == order.id)) is not None:
        return {"order_959": True}
    operator = session.scalar(select(Operator).where(Operator.login == "STX_BDD"))
    pos = session.scalar(select(PointOfSale).where(PointOfSale.code == "GUICHET"))
    at = SEED_ORDER_AT.astimezone(timezone.utc)
    with clock(lambda: at), acting_as(Actor(operator_id=operator.id if operator else None,
                                            login=operator.login if operator else "",
                                            context={"point_of_sale_id": pos.id if pos else None})):
        accounts.set_authorisation(session, order.payer_id, authorised=True, ceiling=Decimal("10000.00"))
        pay(session, order, [PaymentInput("ATTENTE", order.total, contact=order.payer_id,
                                          reference="Compte d'attente UNIVERSITY PARIS")],
            point_of_sale=pos.code if pos else None)
    session.flush()
    return {"order_959": True}
