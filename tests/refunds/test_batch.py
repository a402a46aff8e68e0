"""A cancelled performance refunded in one batch: the simulation (orders, amounts by mode, orders an
operator must take), the run (each order its own basket and operation, progress, a report), and a
second run that does nothing twice."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from plugins.refunds.models import CancellationBasket
from plugins.refunds.services import batch
from plugins.sales.models import Payment, Ticket
from plugins.sales.services import orders
from plugins.sales.services.credit import credit_balance
from plugins.sales.services.orders import LineInput, check_order
from plugins.sales.services.payments import PaymentInput


def test_simulate_then_run_then_run_again(db, world, sell):
    card = sell(2, mode="CARD")
    cash = sell(1, mode="CASH")
    split = sell(2, payments=[PaymentInput("CHEQUE", "100.00"), PaymentInput("CASH", "120.00")])
    unpaid = orders.sell(db, world.akoka, [LineInput(world.joyaux.id, world.cat1.id, world.full.id, 1,
                                                     seats=[world.seats["40"]])])
    other = sell(1, performance=world.carmina)  # another performance: untouched
    db.commit()

    sim = batch.simulate(db, world.joyaux)
    assert sim["orders"] == 4 and sim["automatic"] == 3 and sim["tickets"] == 5
    assert sim["amount"] == Decimal("550.00")
    assert sim["by_mode"] == {"CARD": Decimal("220.00"), "CREDIT": Decimal("230.00"), "CHEQUE": Decimal("100.00")}
    assert [n["order"] for n in sim["needs_operator"]] == [unpaid.number]
    assert db.scalar(select(func.count()).select_from(CancellationBasket)) == 0  # nothing written

    pc = batch.start(db, world.joyaux, enqueue_job=False)
    db.commit()
    assert world.joyaux.on_sale is False
    steps = []
    report = batch.run(db, pc, commit=db.commit, progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (4, 4)
    assert len(report["done"]) == 3 and report["amount"] == "550.00"
    assert [n["order"] for n in report["needs_operator"]] == [unpaid.number]
    operations = {d["operation"] for d in report["done"]}
    assert len(operations) == 3  # each order its own operation
    for order in (card, cash, split):
        db.refresh(order)
        assert order.state == "cancelled" and order.paid == 0 and check_order(db, order) == []
    assert credit_balance(db, world.akoka) == Decimal("230.00")  # cash went to the credit balance
    db.refresh(other)
    assert other.state == "settled"

    refunds_before = db.scalar(select(func.count()).select_from(Payment).where(Payment.amount < 0))
    again = batch.run(db, pc, commit=db.commit)
    assert len(again["done"]) == 3 and db.scalar(select(func.count()).select_from(Payment).where(
        Payment.amount < 0)) == refunds_before  # nothing twice
    live = db.scalar(select(func.count()).select_from(Ticket).where(Ticket.performance_id == world.joyaux.id,
                                                                     Ticket.state != "cancelled"))
    assert live == 1  # the unpaid order's ticket, left to an operator
