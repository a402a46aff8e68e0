"""The services that record an operation take the point of sale as SERVICES.md says (a ``PointOfSale``,
its id or its code) and refuse an unknown or closed one before changing anything; two concurrent prints
of the same tickets print them once (the orders are locked before the tickets' state is read)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses import db as cdb
from coulisses.db import Actor, acting_as
from plugins.sales.models import Operation, Ticket
from plugins.sales.services import credit, orders, settings
from plugins.sales.services.journal import record_operation
from tests.sales.conftest import line


@pytest.fixture
def kiosk(db, operator_id):
    pos = settings.create_point_of_sale(db, "KIOSK", "Kiosque", "box_office")
    db.commit()
    return pos


@pytest.fixture
def closed(db, operator_id):
    pos = settings.create_point_of_sale(db, "OLD", "Ancien guichet", "box_office")
    pos.active = False
    db.commit()
    return pos


def operation_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Operation))


@pytest.mark.parametrize("ref", ["instance", "id", "code"])
def test_record_operation_takes_an_instance_an_id_or_a_code(db, kiosk, ref):
    value = {"instance": kiosk, "id": kiosk.id, "code": "KIOSK"}[ref]
    operation = record_operation(db, "update", point_of_sale=value, details={})
    assert operation.point_of_sale_id == kiosk.id and operation.channel_id == kiosk.channel_id


@pytest.mark.parametrize("ref", ["instance", "id", "code"])
def test_record_operation_refuses_a_closed_point_of_sale(db, closed, ref):
    value = {"instance": closed, "id": closed.id, "code": "OLD"}[ref]
    with pytest.raises(InvalidError, match="Ancien guichet est fermé") as exc:
        record_operation(db, "update", point_of_sale=value, details={})
    assert exc.value.fields == {"point_of_sale": "Point de vente fermé"}
    assert operation_count(db) == 0


def test_an_unknown_point_of_sale_is_invalid_input_not_a_missing_order(db, operator_id):
    with pytest.raises(InvalidError) as exc:
        record_operation(db, "update", point_of_sale="NOWHERE", details={})
    assert "point_of_sale" in exc.value.fields


def test_an_operator_whose_own_point_of_sale_is_closed_is_told_so(db, catalogue, buyer, closed, operator_id):
    with acting_as(Actor(operator_id, "STX_BDD", {"point_of_sale_id": closed.id})):
        with pytest.raises(InvalidError, match="fermé"):
            orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)])


@pytest.fixture
def reserved(db, catalogue, buyer):
    order = orders.reserve(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full, 2)])
    db.commit()
    return order


@pytest.fixture
def sold(db, catalogue, buyer):
    order = orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full, 2)])
    db.commit()
    return order


def last_operation(db) -> Operation:
    return db.scalar(select(Operation).order_by(Operation.number.desc()).limit(1))


def test_confirm_cancel_release_print_and_credit_pass_the_point_of_sale_by_code_or_id(db, catalogue, buyer, kiosk,
                                                                                     reserved, sold):
    orders.confirm(db, reserved, point_of_sale="KIOSK")
    assert last_operation(db).kind == "confirm" and last_operation(db).point_of_sale_id == kiosk.id
    assert reserved.updated_point_of_sale_id == kiosk.id
    other = orders.reserve(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)])
    orders.cancel_reservation(db, other, point_of_sale=kiosk.id)
    assert (last_operation(db).kind, last_operation(db).point_of_sale_id) == ("cancel_reservation", kiosk.id)
    orders.mark_printed(db, sold.tickets[:1], point_of_sale="KIOSK")
    assert (last_operation(db).kind, last_operation(db).point_of_sale_id) == ("print", kiosk.id)
    orders.release_tickets(db, sold, sold.tickets[1:], kind="refund", point_of_sale=kiosk)
    assert (last_operation(db).kind, last_operation(db).point_of_sale_id) == ("refund", kiosk.id)
    credit.adjust_credit(db, buyer, "10.00", "Geste commercial", point_of_sale="KIOSK")
    assert (last_operation(db).kind, last_operation(db).point_of_sale_id) == ("credit", kiosk.id)


def test_each_of_them_refuses_a_closed_point_of_sale_and_changes_nothing(db, catalogue, buyer, closed, reserved,
                                                                         sold):
    before = operation_count(db)
    calls = [
        lambda: orders.confirm(db, reserved, point_of_sale="OLD"),
        lambda: orders.cancel_reservation(db, reserved, point_of_sale=closed.id),
        lambda: orders.mark_printed(db, sold.tickets, point_of_sale=closed),
        lambda: orders.release_tickets(db, sold, sold.tickets, kind="refund", point_of_sale="OLD"),
        lambda: credit.adjust_credit(db, buyer, "10.00", "Geste", point_of_sale="OLD"),
    ]
    for call in calls:
        with pytest.raises(InvalidError, match="fermé"):
            call()
        db.rollback()
    assert operation_count(db) == before
    assert {t.state for t in db.scalars(select(Ticket).where(Ticket.order_id == reserved.id))} == {"reserved"}
    assert {t.state for t in db.scalars(select(Ticket).where(Ticket.order_id == sold.id))} == {"paid"}
    assert credit.credit_balance(db, buyer) == 0


def test_two_operators_printing_the_same_tickets_at_once_print_them_once(db, database_url, sold, operator_id):
    """A prints (not yet committed) while B starts printing the same tickets; A commits only once B is
    about to take its first lock. B must read the tickets after that lock: it finds them printed."""
    from sqlalchemy import event

    ids = [t.id for t in sold.tickets]
    orders.mark_printed(db, ids)  # A: the order row locked (PostgreSQL) / the write lock (SQLite) until commit
    engine = cdb.make_engine(database_url)
    b_locking = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _signal(conn, cursor, statement, parameters, context, executemany):
        if "FOR UPDATE" in statement or "core_write_lock" in statement:
            b_locking.set()

    outcome: list = []

    def operator_b():
        with acting_as(Actor(operator_id, "guichet2")), Session(engine) as s:
            try:
                orders.mark_printed(s, ids)
                s.commit()
                outcome.append("printed")
            except ConflictError as exc:
                s.rollback()
                outcome.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - reported below
                s.rollback()
                outcome.append(repr(exc))

    b = threading.Thread(target=operator_b)
    b.start()
    assert b_locking.wait(10)
    db.commit()  # A's print is done
    b.join(30)
    engine.dispose()
    assert len(outcome) == 1 and "déjà imprimé" in outcome[0], outcome
    db.expire_all()
    assert [t.print_count for t in db.scalars(select(Ticket).where(Ticket.id.in_(ids)))] == [1, 1]
    assert db.scalar(select(func.count()).select_from(Operation).where(Operation.kind == "print")) == 1
