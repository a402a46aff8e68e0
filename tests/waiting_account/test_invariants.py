"""Property-based: random sequences of sales on account (with and without follow-up), refunds on
account, invoices, settlements (over- and under-payments) and failed direct debits keep each
account's balance equal to the sum of its movements (and to what its instalments still owe), never
negative and never above the ceiling."""
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from coulisses import ConflictError
from coulisses.db import Money
from plugins.waiting_account.models import Movement
from plugins.waiting_account.services import accounts, invoices, schedule, sepa
from plugins.waiting_account.services.settlement import settle
from tests.sales.conftest import line, next_month

STEPS = st.lists(st.one_of(
    st.tuples(st.just("sell"), st.integers(1, 4), st.booleans()),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 3)),
    st.tuples(st.just("invoice"), st.integers(0, 9)),
    st.tuples(st.just("settle"), st.integers(1, 60000)),
    st.tuples(st.just("debit_fails"), st.integers(0, 3)),
), min_size=1, max_size=8)

COUNTER = [0]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=STEPS)
def test_balance_is_the_sum_of_the_movements_and_never_above_the_ceiling(db, catalogue, buyer, invoice_range,
                                                                          identity, steps):
    from plugins.contacts.services.contacts import create_contact
    from plugins.sales.services import catalogue as cat, orders
    from plugins.sales.services.orders import release_tickets
    from plugins.sales.services.payments import PaymentInput, refund

    COUNTER[0] += 1
    c = catalogue
    performance = cat.create_performance(db, c.event, c.venue, next_month(), quotas={c.cat1: 40})
    cat.set_price(db, performance, c.cat1, c.full, "110.00")
    payer = create_contact(db, {"type_code": "structure", "structure_name": f"PARTENAIRE {COUNTER[0]}"})
    accounts.set_authorisation(db, payer, authorised=True, ceiling="600.00")
    if db.scalar(select(func.count()).select_from(sepa.Mandate)) == 0:
        sepa.set_creditor_id(db, "FR72ZZZ123456")
    sepa.create_mandate(db, payer, reference=f"MANDAT-{COUNTER[0]}", signed_on=date(2015, 9, 1),
                        iban="FR7630006000011234567890189", bic="AGRIFRPP")
    db.commit()
    account = accounts.account_of(db, payer)
    sold = []
    for step in steps:
        try:
            if step[0] == "sell":
                amount = 110 * step[1]
                order = orders.sell(db, buyer, [line(performance, c.cat1, c.full, step[1])], payer=payer, payments=[
                    PaymentInput("ATTENTE_SUIVI" if step[2] else "ATTENTE", f"{amount}.00", contact=payer.id)])
                sold.append(order)
            elif step[0] == "refund" and sold:
                order = sold[step[1] % len(sold)]
                live = [t for t in order.tickets if t.state != "cancelled"][:step[2]]
                if live:
                    release_tickets(db, order, live, kind="refund")
                    refund(db, order, "ATTENTE", str(sum((t.price for t in live), Decimal("0.00"))), contact=payer.id)
            elif step[0] == "invoice" and sold:
                invoices.invoice_orders(db, payer, [sold[step[1] % len(sold)]])
            elif step[0] == "settle":
                settle(db, account, "TRANSFER", Decimal(step[1]) / 100, details={"transfer_reference": "VIR"})
            elif step[0] == "debit_fails":
                batch = sepa.prepare_debit(db, date.today() + timedelta(days=400))
                sent = [i for i in schedule.schedule_of(db, account_id=account.id) if i["state"] == "sent"]
                for i in sent[:step[1]]:
                    sepa.record_failed(db, i["id"], "AM04 Provision insuffisante")
                sepa.record_collected(db, batch)
            db.commit()
        except ConflictError:
            db.rollback()
        balance = accounts.balance(db, account)
        moves = list(db.scalars(select(Movement).where(Movement.account_id == account.id).order_by(Movement.id)))
        running = Decimal("0.00")
        for m in moves:
            running += m.amount
            assert m.balance_after == running and 0 <= running <= account.ceiling
        assert balance == running
        left = sum((i["left"] for i in schedule.schedule_of(db, account_id=account.id)), Decimal("0.00"))
        assert left == balance
