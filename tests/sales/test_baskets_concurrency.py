"""Baskets under concurrency, on SQLite (the write lock) and PostgreSQL (SELECT … FOR UPDATE), with
real threads: numbers stay gapless, and nothing joins a basket that was abandoned meanwhile."""
from sqlalchemy import select

from plugins.sales.models import Basket, Operation, Ticket
from plugins.sales.services import baskets, orders
from tests.sales.conftest import line
from tests.sales.test_concurrency import SELLERS, buyers, race  # noqa: F401 - fixture


def test_baskets_opened_at_once_get_consecutive_numbers(db, database_url, catalogue, operator_id):
    start = db.scalar(select(Operation.number).order_by(Operation.number.desc()).limit(1)) or 0
    outcomes = race(database_url, operator_id, lambda s, i: baskets.open_basket(s))
    assert outcomes["sold"] == SELLERS
    db.expire_all()
    got = sorted(db.scalars(select(Operation.number).join(Basket, Basket.operation_id == Operation.id)))
    assert got == list(range(start + 1, start + 1 + SELLERS))


def test_nothing_joins_a_basket_abandoned_at_the_same_moment(db, database_url, catalogue, buyers, operator_id):
    c = catalogue
    basket = baskets.open_basket(db)
    db.commit()
    number = basket.number

    def work(s, i):
        if i == 0:
            baskets.abandon(s, number)
        else:
            op = baskets.get_basket(s, number).operation
            orders.reserve(s, buyers[i], [line(c.performance, c.cat1, c.full, 1)], operation=op)

    outcomes = race(database_url, operator_id, work)
    assert outcomes["sold"] + outcomes["refused"] == SELLERS
    db.expire_all()
    assert baskets.get_basket(db, number).state == "abandoned"
    states = list(db.scalars(select(Ticket.state).where(Ticket.operation_id == basket.operation_id)))
    # reservations that got in before the abandon were released by it; none came after
    assert set(states) <= {"cancelled"}
    assert outcomes["refused"] == SELLERS - 1 - len(states)
