"""Baskets: one basket is exactly one numbered operation ("Ordre 1271") whatever it reserves, sells,
cancels and pays across orders; hold, resume, abandon, settle; "reprise de dossier"."""
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from coulisses import ConflictError, InvalidError
from coulisses import security
from coulisses.db import Actor, acting_as
from plugins.sales.models import Operation, OperationEntry, Payment, PerformanceQuota, SeatBooking, Ticket
from plugins.sales.services import baskets, orders
from plugins.sales.services.detail import order_detail
from plugins.sales.services.journal import entries_of, operations_of, record_operation
from plugins.sales.services.payments import PaymentInput, pay
from plugins.sales.services.settings import create_point_of_sale
from tests.sales.conftest import line


def numbers(db):
    return list(db.scalars(select(Operation.number).order_by(Operation.number)))


def test_one_basket_is_one_operation_across_several_orders(db, catalogue, buyer, person):
    c = catalogue
    other = person("Martin", "Paul")
    before = numbers(db)
    basket = baskets.open_basket(db, contact=buyer)
    op = basket.operation
    first = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)], operation=op)
    second = orders.sell(db, other, [line(c.performance, c.cat2, c.full, 1)],
                         payments=[PaymentInput("CASH", "100.00")], operation=op)
    orders.cancel_reservation(db, first, first.tickets[:1], operation=op)
    pay(db, first, [PaymentInput("CARD", "110.00")], operation=op)
    baskets.settle(db, basket)
    db.commit()

    assert numbers(db) == before + [op.number]  # one number, the next one
    assert {t.operation_id for t in first.tickets + second.tickets} == {op.id}
    assert {p.operation_id for p in db.scalars(select(Payment))} == {op.id}
    kinds = [e.kind for e in entries_of(db, operation=op)]
    assert kinds == ["basket", "reserve", "sell", "pay", "cancel_reservation", "pay", "confirm", "settle"]
    assert [o.number for o in baskets.basket_orders(db, basket)] == [first.number, second.number]
    assert first.state == "settled" and second.state == "settled"
    assert baskets.get_basket(db, op.number).state == "settled"
    # the order's history shows what the basket did to it, under the basket's number
    history = order_detail(db, first)["operations"]
    assert [(h["number"], h["kind"]) for h in history] == [
        (op.number, "reserve"), (op.number, "cancel_reservation"), (op.number, "pay"), (op.number, "confirm")]
    assert operations_of(db, first) == [op]
    # the next operation outside the basket follows without a gap
    after = record_operation(db, "update", order=first)
    assert after.number == op.number + 1


def test_a_sale_without_basket_is_still_one_operation(db, catalogue, buyer):
    c = catalogue
    before = len(numbers(db))
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)], payments=[PaymentInput("CASH", "110.00")])
    db.commit()
    assert len(numbers(db)) == before + 1
    assert [e.kind for e in entries_of(db, order=order)] == ["sell", "pay"]


def test_a_closed_basket_takes_nothing_more(db, catalogue, buyer):
    c = catalogue
    basket = baskets.open_basket(db)
    baskets.settle(db, basket)
    with pytest.raises(ConflictError):
        orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)], operation=basket.operation)


def test_hold_then_resume_by_another_operator_of_the_point_of_sale(db, catalogue, buyer, operator_id):
    c = catalogue
    basket = baskets.open_basket(db, contact=buyer)
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)], operation=basket.operation)
    baskets.hold(db, basket, note="Revient à 18 h")
    db.commit()
    assert [b.number for b in baskets.held_baskets(db)] == [basket.number]
    assert basket.held_by_id == operator_id and basket.held_at is not None
    # held: the places stay reserved, and nothing joins it
    assert all(t.state == "reserved" for t in order.tickets)
    with pytest.raises(ConflictError):
        orders.cancel_reservation(db, order, operation=basket.operation)
    db.rollback()
    with pytest.raises(ConflictError):
        baskets.hold(db, basket)
    db.rollback()

    security.sync_roles_and_permissions(db, {})
    colleague = security.create_operator(db, "COLLEGUE", "correct horse battery", "Guichet 2", ["operator"])
    db.commit()
    with acting_as(Actor(operator_id=colleague.id, login=colleague.login)):
        resumed = baskets.resume(db, basket.number)
        pay(db, order, [PaymentInput("CARD", "220.00")], operation=resumed.operation)
        baskets.settle(db, resumed)
        db.commit()
    assert resumed.operator_id == colleague.id and resumed.state == "settled"
    assert order.state == "settled"
    logins = [e.operator_login for e in entries_of(db, operation=basket.operation)]
    assert logins[:3] == ["STX_BDD"] * 3 and logins[-1] == "COLLEGUE"
    assert baskets.held_baskets(db) == []


def test_resume_is_refused_at_another_point_of_sale(db, catalogue, buyer):
    basket = baskets.open_basket(db)
    baskets.hold(db, basket)
    db.commit()
    elsewhere = create_point_of_sale(db, "HALL", "Hall", "box_office")
    db.commit()
    with pytest.raises(ConflictError) as refused:
        baskets.resume(db, basket, point_of_sale=elsewhere)
    assert "Guichet" in str(refused.value)


def test_abandon_releases_what_the_basket_reserved_and_keeps_the_number(db, catalogue, buyer):
    c = catalogue
    quota = db.scalar(select(PerformanceQuota).where(PerformanceQuota.performance_id == c.performance.id,
                                                    PerformanceQuota.category_id == c.cat1.id))
    basket = baskets.open_basket(db, contact=buyer)
    seats = [s.id for s in c.seats[:2]]
    order = orders.reserve(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=seats),
                                       line(c.performance, c.cat1, c.full, 3)], operation=basket.operation)
    db.commit()
    assert db.scalar(select(func.count()).select_from(SeatBooking)) == 2
    baskets.abandon(db, basket)
    db.commit()
    assert basket.state == "abandoned" and basket.closed_at is not None
    assert {t.state for t in order.tickets} == {"cancelled"}
    assert order.state == "cancelled"
    assert db.scalar(select(func.count()).select_from(SeatBooking)) == 0  # the seats are free again
    db.refresh(quota)
    assert quota.taken == 0
    entries = entries_of(db, operation=basket.operation)
    assert entries[-1].kind == "abandon" and len(entries[-1].details["released"]) == 5
    # the number stays in the journal: the next one follows it
    assert record_operation(db, "update", order=order).number == basket.number + 1
    # the same places can be sold again
    again = orders.reserve(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=seats)])
    assert len(again.tickets) == 2


def test_abandon_is_refused_once_money_moved(db, catalogue, buyer):
    c = catalogue
    basket = baskets.open_basket(db)
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)], operation=basket.operation)
    pay(db, order, [PaymentInput("CARD", "50.00")], operation=basket.operation)  # a deposit
    db.commit()
    with pytest.raises(ConflictError) as refused:
        baskets.abandon(db, basket)
    assert "règlements" in str(refused.value)
    db.rollback()
    assert baskets.get_basket(db, basket.number).state == "open"


def test_reprise_de_dossier_adds_removes_changes_tariff_and_pays_in_one_operation(db, catalogue, buyer):
    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 3)])
    db.commit()
    first_number = operations_of(db, order)[0].number
    keep, drop, change = order.tickets

    basket = baskets.open_basket(db)
    baskets.take_up(db, basket, order.number)
    assert basket.contact_id == buyer.id
    added = baskets.add_lines(db, basket, order, [line(c.performance, c.cat2, c.full, 1)])
    removed = baskets.remove_tickets(db, basket, order, [drop])
    new = baskets.change_tariff(db, basket, order, change, c.reduced)
    assert [t.state for t in removed] == ["cancelled"] and change.state == "cancelled"
    assert new.tariff_id == c.reduced.id and new.price == Decimal("80.00") and new.state == "reserved"
    assert baskets.amount_due(db, basket) == Decimal("110.00") + Decimal("60.00") + Decimal("80.00")
    results = baskets.pay_due(db, basket, [PaymentInput("CASH", "300.00")])
    baskets.settle(db, basket)
    db.commit()

    assert results[0].change == Decimal("50.00")
    assert order.state == "settled" and order.balance == 0
    live = [t for t in order.tickets if t.state != "cancelled"]
    assert {t.id for t in live} == {keep.id, added[0].id, new.id} and {t.state for t in live} == {"paid"}
    assert orders.check_order(db, order) == []
    numbers_seen = [h["number"] for h in order_detail(db, order)["operations"]]
    assert set(numbers_seen) == {first_number, basket.number}
    kinds = [e.kind for e in entries_of(db, operation=basket.operation)]
    assert kinds[:2] == ["basket", "take_up"] and kinds[-1] == "settle"
    assert "change_tariff" in kinds and "pay" in kinds


def test_pay_due_spreads_payments_over_the_basket_orders(db, catalogue, buyer, person):
    c = catalogue
    a = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    b = orders.reserve(db, person("Martin", "Paul"), [line(c.performance, c.cat2, c.full, 1)])
    basket = baskets.open_basket(db)
    baskets.take_up(db, basket, a)
    baskets.take_up(db, basket, b)
    db.commit()
    with pytest.raises(ConflictError):  # 170,00 due: 100,00 does not cover it
        baskets.pay_due(db, basket, [PaymentInput("CARD", "100.00")])
    db.rollback()
    baskets.pay_due(db, basket, [PaymentInput("CARD", "100.00"), PaymentInput("CHEQUE", "70.00")])
    db.commit()
    assert (a.state, a.balance, b.state, b.balance) == ("settled", 0, "settled", 0)
    assert sorted((p.order_id, str(p.amount)) for p in db.scalars(select(Payment))) == sorted(
        [(a.id, "100.00"), (a.id, "10.00"), (b.id, "60.00")])


def test_an_order_is_taken_up_by_one_basket_at_a_time(db, catalogue, buyer):
    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    first = baskets.open_basket(db)
    baskets.take_up(db, first, order)
    second = baskets.open_basket(db)
    with pytest.raises(ConflictError) as refused:
        baskets.take_up(db, second, order)
    assert str(first.number) in str(refused.value)
    with pytest.raises(ConflictError):  # not taken up: the basket cannot touch it
        baskets.add_lines(db, second, order, [line(c.performance, c.cat1, c.full, 1)])


def test_a_paid_ticket_cannot_change_tariff_in_a_basket(db, catalogue, buyer):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)], payments=[PaymentInput("CASH", "110.00")])
    basket = baskets.open_basket(db)
    baskets.take_up(db, basket, order)
    with pytest.raises(ConflictError):
        baskets.change_tariff(db, basket, order, order.tickets[0], c.reduced)
    reservation = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    baskets.take_up(db, basket, reservation)
    with pytest.raises(InvalidError):
        baskets.change_tariff(db, basket, reservation, reservation.tickets[0], c.full.id)


def test_operation_entries_are_immutable(db, catalogue, buyer):
    from plugins.sales.models import ImmutableRecordError

    basket = baskets.open_basket(db)
    db.commit()
    entry = db.scalar(select(OperationEntry).where(OperationEntry.operation_id == basket.operation_id))
    entry.kind = "sell"
    with pytest.raises(ImmutableRecordError):
        db.flush()
    db.rollback()


def test_tickets_of_a_basket_count_once(db, catalogue, buyer):
    c = catalogue
    basket = baskets.open_basket(db)
    orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)], operation=basket.operation)
    db.commit()
    assert db.scalar(select(func.count()).select_from(Ticket).where(Ticket.operation_id == basket.operation_id)) == 2
