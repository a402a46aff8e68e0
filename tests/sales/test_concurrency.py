"""Points of sale selling the last places at the same moment: never oversold, a seat never sold
twice — on SQLite (the write lock) and PostgreSQL (SELECT … FOR UPDATE), with real threads."""
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError
from coulisses import db as cdb
from coulisses.db import Actor, acting_as
from plugins.sales.models import SeatBooking, Ticket
from plugins.sales.services import orders
from plugins.sales.services.payments import PaymentInput
from tests.sales.conftest import line

SELLERS = 8


def race(database_url, operator_id, work):
    """Run ``work(session, i)`` in SELLERS threads released together; returns Counter of outcomes."""
    engine = cdb.make_engine(database_url, pool_size=SELLERS + 2)
    barrier = threading.Barrier(SELLERS)
    outcomes: Counter = Counter()
    errors = []

    def seller(i):
        with acting_as(Actor(operator_id, f"guichet{i}")), Session(engine) as s:
            barrier.wait()
            try:
                work(s, i)
                s.commit()
                outcomes["sold"] += 1
            except ConflictError:
                s.rollback()
                outcomes["refused"] += 1
            except Exception as exc:  # noqa: BLE001 - reported below
                s.rollback()
                errors.append(repr(exc))

    threads = [threading.Thread(target=seller, args=(i,)) for i in range(SELLERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert errors == []
    return outcomes


@pytest.fixture
def buyers(db, person):
    people = [person(f"Client{i}", "Test") for i in range(SELLERS)]
    db.commit()
    return [p.id for p in people]


def test_sellers_racing_for_the_last_places_never_oversell(db, database_url, catalogue, buyers, operator_id):
    c = catalogue
    orders.sell(db, buyers[0], [line(c.performance, c.cat2, c.full, 7)])  # 3 places left in Cat 2
    db.commit()
    perf, cat, tariff = c.performance.id, c.cat2.id, c.full.id

    outcomes = race(database_url, operator_id, lambda s, i: orders.sell(
        s, buyers[i], [line(perf, cat, tariff, 1)], payments=[PaymentInput("CASH", "60.00")]))

    assert outcomes == Counter({"sold": 3, "refused": SELLERS - 3})
    db.expire_all()
    sold = db.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.performance_id == perf, Ticket.category_id == cat, Ticket.state != "cancelled"))
    assert sold == 10 and c.performance.quotas[1].taken == 10


def test_sellers_racing_for_one_seat_sell_it_once(db, database_url, catalogue, buyers, operator_id):
    c = catalogue
    perf, cat, tariff, seat = c.seated.id, c.cat1.id, c.full.id, c.seats[0].id

    outcomes = race(database_url, operator_id, lambda s, i: orders.sell(s, buyers[i], [line(perf, cat, tariff, 1, seats=[seat])]))

    assert outcomes == Counter({"sold": 1, "refused": SELLERS - 1})
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SeatBooking).where(SeatBooking.performance_id == perf)) == 1
    assert db.scalar(select(func.count()).select_from(Ticket).where(Ticket.performance_id == perf)) == 1


def test_two_payments_racing_on_one_order_never_overpay(db, database_url, catalogue, buyers, operator_id):
    from plugins.sales.services.payments import pay

    c = catalogue
    order = orders.sell(db, buyers[0], [line(c.performance, c.cat1, c.full, 1)])
    db.commit()
    number = order.number

    outcomes = race(database_url, operator_id,
                    lambda s, i: pay(s, orders.get_order(s, number), [PaymentInput("CARD", "110.00")]))

    assert outcomes == Counter({"sold": 1, "refused": SELLERS - 1})
    db.expire_all()
    assert orders.get_order(db, number).paid == order.total
