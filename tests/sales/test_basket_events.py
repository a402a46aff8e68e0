"""After-commit events of the sales plugin: told to plugins once the transaction committed (the
outbox job ``sales.events``), never when it rolls back, with the basket's operation."""
import pytest
from sqlalchemy import func, select

from coulisses import plugins as cplugins
from coulisses.config import use_config
from coulisses.outbox import Job
from coulisses.registry import use_manager
from plugins.sales.services import baskets, events, orders
from plugins.sales.services.payments import PaymentInput, pay
from tests.platform.conftest import make_plugin
from tests.sales.conftest import line


@pytest.fixture
def seen(register_plugin):
    """A throwaway plugin recording every after-commit hook; the registries and the outbox built from
    a manager holding it; jobs run inline after commit."""
    got = []

    def recorder(name, *fields):
        def hook(session, order, operation, **kw):
            got.append((name, order.number, operation.number if operation else None,
                        *[sorted(t.barcode for t in kw[f]) if f == "tickets" else str(kw[f].amount) for f in fields]))
        return hook

    hooks = {
        "sales_after_order_created": lambda session, order, operation: recorder("created")(session, order, operation),
        "sales_after_order_paid": lambda session, order, operation: recorder("paid")(session, order, operation),
        "sales_after_tickets_cancelled": lambda session, order, tickets, operation: recorder("cancelled", "tickets")(
            session, order, operation, tickets=tickets),
        "sales_after_tickets_to_print": lambda session, order, tickets, operation: recorder("to_print", "tickets")(
            session, order, operation, tickets=tickets),
        "sales_after_payment_completed": lambda session, order, payment, operation: recorder("payment", "payment")(
            session, order, operation, payment=payment),
        "sales_after_payment_pending": lambda session, order, payment, operation: recorder("pending", "payment")(
            session, order, operation, payment=payment),
    }
    register_plugin(make_plugin("tp_sales_after", depends=["sales"], hooks=hooks))
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_sales_after"]))
    with use_manager(pm), use_config({"OUTBOX_RUN": "inline"}):
        yield got


def jobs(db):
    return db.scalar(select(func.count()).select_from(Job).where(Job.kind == events.JOB_TYPE))


def test_events_of_a_basket_are_told_after_commit(db, catalogue, buyer, seen):
    c = catalogue
    basket = baskets.open_basket(db)
    op = basket.operation
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 3)], operation=op)
    orders.cancel_reservation(db, order, order.tickets[:1], operation=op)
    pay(db, order, [PaymentInput("CARD", "220.00")], operation=op)
    assert seen == []  # nothing inside the transaction
    cancelled = order.tickets[0].barcode
    sold = sorted(t.barcode for t in order.tickets[1:])
    db.commit()
    n = op.number
    assert seen == [("created", order.number, n), ("cancelled", order.number, n, [cancelled]),
                    ("payment", order.number, n, "220.00"), ("to_print", order.number, n, sold),
                    ("paid", order.number, n)]
    assert jobs(db) == 1  # one job for the transaction


def test_sell_announces_creation_tickets_payment_and_settlement(db, catalogue, buyer, seen):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.commit()
    assert [s[0] for s in seen] == ["to_print", "created", "payment", "paid"]
    assert {s[2] for s in seen} == {order.operations[0].number}


def test_nothing_is_told_when_the_transaction_rolls_back(db, catalogue, buyer, seen):
    c = catalogue
    db.commit()
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.rollback()
    orders.reserve(db, buyer, [line(c.performance, c.cat2, c.full, 1)])
    db.commit()
    assert [s[0] for s in seen] == ["created"]


def test_a_pending_payment_is_told_by_the_payment_mode(db, catalogue, buyer, seen):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CARD", "60.00")])
    db.commit()
    seen.clear()
    payment = order.payments[0]
    events.emit(db, "payment_pending", order=order, operation=payment.operation, payment=payment)
    db.commit()
    assert seen == [("pending", order.number, payment.operation.number, "60.00")]


def test_no_job_when_no_plugin_listens(db, catalogue, buyer):
    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.commit()
    assert jobs(db) == 0


def test_a_failing_listener_leaves_the_sale_done_and_the_job_retried(db, catalogue, buyer, register_plugin):
    def boom(session, order, operation):
        raise RuntimeError("printer offline")

    register_plugin(make_plugin("tp_sales_boom", depends=["sales"], hooks={"sales_after_order_created": boom}))
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_sales_boom"]))
    c = catalogue
    with use_manager(pm), use_config({"OUTBOX_RUN": "inline"}):
        order = orders.reserve(db, buyer, [line(c.performance, c.cat2, c.full, 1)])
        db.commit()
    job = db.scalar(select(Job).where(Job.kind == events.JOB_TYPE))
    assert order.state == "reserved"
    assert job.state == "pending" and job.attempts == 1 and "printer offline" in job.last_error
