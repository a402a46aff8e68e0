"""The demo: order 959 (AKOKA Viviane, UNIVERSITY PARIS pays) is paid on account, 22 × Joyaux at
110,00 € = 2 420,00 €, and its account shows it "Non soldé"."""
from decimal import Decimal

from sqlalchemy import select

from coulisses import demo as cdemo
from coulisses import plugins as cplugins
from coulisses.db import make_engine
from sqlalchemy.orm import Session


def test_order_959_is_paid_on_account_and_not_settled(app, database_url):
    from plugins.contacts.models import Contact
    from plugins.sales.models import Order, Payment
    from plugins.waiting_account.models import Movement
    from plugins.waiting_account.services import accounts, schedule
    from plugins.waiting_account.services.views import order_actions

    with app.app_context():
        engine = make_engine(database_url)
        with Session(engine) as session:
            pm = app.extensions["coulisses"].pm
            cplugins.install_defaults(session, pm)
            session.commit()
            assert "waiting_account" in cdemo.load_demo(session, pm, "small", echo=lambda _m: None)
        with Session(engine) as session:
            order = session.scalar(select(Order).where(Order.number == 959))
            assert (len(order.tickets), order.total) == (22, Decimal("2420.00"))
            [payment] = session.scalars(select(Payment).where(Payment.order_id == order.id)).all()
            assert (payment.payment_mode.code, payment.amount) == ("ATTENTE", Decimal("2420.00"))
            payer = session.get(Contact, order.payer_id)
            assert payer.display_name == "UNIVERSITY PARIS"
            movement = session.scalar(select(Movement).where(Movement.order_id == order.id))
            assert schedule.movement_status(session, movement) == "open"
            assert accounts.state_of(session, payer).outstanding == Decimal("2420.00")
            labels = [str(a.label) for a in order_actions(session, order)]
            assert "Compte d'attente (Non soldé)" in labels
        engine.dispose()
