"""A guard against N+1 regressions: selling a basket issues a number of SQL statements that does not
grow with its tickets or its lines, and stays under a bound.

A sale of 4 tickets paid by card took 57 statements on SQLite (53 on PostgreSQL) before the
statements were counted; 37 (36) since: the catalogue, tariffs, fees and attendees are read once
per basket, the lines and the tickets are each inserted in one statement, a new order is written
once, and the rows the sale itself created are neither locked nor read again.
"""
from __future__ import annotations

from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import event

from coulisses.outbox import JobType, use_job_types
from plugins.sales.services import orders
from plugins.sales.services.deferred import JOB_TYPE, run_indicators_job
from plugins.sales.services.payments import PaymentInput
from tests.sales.conftest import line

BOUND = 40  # statements for one sale, paid, committed (37 on SQLite, 36 on PostgreSQL today)
PRICES = {"full": Decimal("110.00"), "reduced": Decimal("80.00"), "cat2": Decimal("60.00")}


@pytest.fixture(autouse=True)
def deferred_indicators():
    """As in the app and the worker: the contacts' indicators are recomputed by a job after the commit."""
    with use_job_types({JOB_TYPE: JobType(JOB_TYPE, run_indicators_job, "indicators")}):
        yield


@contextmanager
def counting(session):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.split("\n")[0][:100])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _ids(c, buyer):
    """The catalogue as ids (the session is emptied before each counted sale)."""
    return dict(performance=c.performance.id, seated=c.seated.id, cat1=c.cat1.id, cat2=c.cat2.id, full=c.full.id,
                reduced=c.reduced.id, seats=[s.id for s in c.seats], buyer=buyer.id)


def _basket(c, n: int):
    """``n`` tickets of the unseated performance over up to three lines (Cat 1 full, Cat 1 reduced, Cat 2)."""
    kinds = [("full", c["cat1"], c["full"]), ("reduced", c["cat1"], c["reduced"]), ("cat2", c["cat2"], c["full"])]
    quantities = [n // 3 + (1 if i < n % 3 else 0) for i in range(3)]
    lines = [line(c["performance"], cat, tariff, q) for (_, cat, tariff), q in zip(kinds, quantities) if q]
    total = sum((PRICES[k] * q for (k, _, _), q in zip(kinds, quantities)), Decimal("0.00"))
    return lines, total


def _sell_counted(db, buyer, lines, total) -> list[str]:
    db.expunge_all()  # as a new request: nothing of the catalogue in the session
    with counting(db) as statements:
        order = orders.sell(db, buyer, lines, payments=[PaymentInput("CARD", total)])
        db.commit()
    assert order.state == "settled"
    return statements


def test_selling_issues_a_bounded_number_of_statements_whatever_the_basket_holds(db, catalogue, buyer):
    c = _ids(catalogue, buyer)
    buyer = c["buyer"]
    _sell_counted(db, buyer, *_basket(c, 1))  # warm-up: the first sale creates counters and marks
    counts = {}
    for n in (1, 4, 12):  # 1 line of 1 ticket, 3 lines of 4 tickets, 3 lines of 12 tickets
        statements = _sell_counted(db, buyer, *_basket(c, n))
        counts[n] = len(statements)
        assert len(statements) <= BOUND, "\n".join(statements)
    assert counts[1] == counts[4] == counts[12], counts


def test_selling_seats_issues_the_same_statements_for_one_seat_or_five(db, catalogue, buyer):
    c = _ids(catalogue, buyer)
    buyer = c["buyer"]
    _sell_counted(db, buyer, *_basket(c, 1))
    one = _sell_counted(db, buyer, [line(c["seated"], c["cat1"], c["full"], 1, seats=c["seats"][:1])], PRICES["full"])
    seats = c["seats"][1:6]
    five = _sell_counted(db, buyer, [line(c["seated"], c["cat1"], c["full"], 3, seats=seats[:3]),
                                     line(c["seated"], c["cat1"], c["reduced"], 2, seats=seats[3:])],
                         PRICES["full"] * 3 + PRICES["reduced"] * 2)
    assert len(one) == len(five) <= BOUND, "\n".join(five)


FLUSH_BOUND = 7  # unit-of-work flushes for one sale, paid, committed (10 before they were counted)


def test_selling_flushes_the_session_a_bounded_number_of_times(db, catalogue, buyer):
    """Each flush runs the whole unit of work (dependency sort, listeners) even for one row: the
    counters, an operation and its first entry, a contact and its indicator job are written together."""
    c = _ids(catalogue, buyer)
    buyer = c["buyer"]
    _sell_counted(db, buyer, *_basket(c, 1))
    lines, total = _basket(c, 4)
    db.expunge_all()
    flushes = []
    listener = lambda session, flush_context, instances: flushes.append(  # noqa: E731
        sorted(type(o).__name__ for o in list(session.new) + list(session.dirty)))
    event.listen(db, "before_flush", listener)
    try:
        order = orders.sell(db, buyer, lines, payments=[PaymentInput("CARD", total)])
        db.commit()
    finally:
        event.remove(db, "before_flush", listener)
    assert order.state == "settled"
    assert len(flushes) <= FLUSH_BOUND, flushes
    assert [] not in flushes, flushes  # no flush for nothing
