"""The order's life: reservations that expire (default per point of sale, changed per order, released
by the periodic task with a line in the order's history), the availability of performances (sold,
reserved, held, available per category), the till's day (opened with a float, closed with the counts,
the difference and its reason; a point of sale that requires an open till refuses operations without
one) and the delivery and documents of an order."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses.db import Actor, acting_as, clock, utcnow
from tests.sales.conftest import line

from plugins.sales.services import availability, delivery, orders, reservations, till
from plugins.sales.services.payments import PaymentInput


def later(hours):
    moment = utcnow() + timedelta(hours=hours)
    return clock(lambda: moment)


# --------------------------------------------------------------------------- reservations


def test_a_reservation_expires_after_its_point_of_sales_default_and_a_sale_has_no_expiry(db, catalogue, buyer):
    from plugins.sales.models import PointOfSale

    c = catalogue
    pos = db.scalar(select(PointOfSale).where(PointOfSale.code == "GUICHET"))
    assert pos.option_hours == 72
    reservations.set_option_hours(db, pos, 48)
    before = utcnow()
    reserved = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    sold = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    assert timedelta(hours=48) <= reserved.option_expires_at - before < timedelta(hours=48, minutes=1)
    assert sold.option_expires_at is None
    reservations.set_option_hours(db, pos, 0)
    assert orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)]).option_expires_at is None
    with pytest.raises(InvalidError) as err:
        reservations.set_option_hours(db, pos, "-3")
    assert "option_hours" in err.value.fields


def test_the_operator_changes_an_expiry_in_the_future_only_and_the_history_says_so(db, catalogue, buyer):
    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    db.commit()
    wanted = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    reservations.set_expiry(db, order, wanted)
    db.commit()
    assert order.option_expires_at == wanted
    last = order.operations[-1]
    assert last.kind == "option" and last.details["expires_at"] == wanted.isoformat()
    with pytest.raises(InvalidError) as err:
        reservations.set_expiry(db, order, utcnow() - timedelta(hours=1))
    assert "option_expires_at" in err.value.fields
    db.rollback()
    sold = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    with pytest.raises(ConflictError, match="pas de place réservée"):
        reservations.set_expiry(db, sold, wanted)


def test_the_periodic_task_releases_expired_reservations_only(db, catalogue, buyer):
    from coulisses import tasks as ctasks
    from plugins.sales.registry import get_registry

    c = catalogue
    expiring = orders.reserve(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=[c.seats[0].id, c.seats[1].id])])
    kept = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 3)])
    reservations.set_expiry(db, kept, utcnow() + timedelta(days=30))
    sold = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)],
                       payments=[PaymentInput("CASH", Decimal("110.00"))])
    db.commit()
    assert c.seated.taken == 2 and c.performance.taken == 4
    assert reservations.release_expired(db)["released"] == []  # nothing has expired yet
    task = ctasks.tasks_of(get_registry().pm)["sales.expire_reservations"]
    with acting_as(Actor(None, "")), later(73):
        outcome = ctasks.run(db, task)
    assert outcome.status == "ok" and outcome.result["released"] == [expiring.number]
    db.expire_all()
    assert [t.state for t in expiring.tickets] == ["cancelled", "cancelled"]
    assert expiring.state == "cancelled" and c.seated.taken == 0
    assert {t.state for t in kept.tickets} == {"reserved"} and sold.state == "settled"
    history = expiring.operations[-1]
    assert history.kind == "option_expired" and history.details["tickets"] == [t.barcode for t in expiring.tickets]
    assert history.operator_id is None
    assert orders.check_order(db, expiring) == []
    with acting_as(Actor(None, "")), later(80):  # already released: nothing more
        assert reservations.release_expired(db)["released"] == []


# --------------------------------------------------------------------------- availability


def test_availability_counts_sold_reserved_held_and_available_per_category(db, catalogue, buyer):
    from plugins.sales.models import PerformanceQuota

    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 3)])
    orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2), line(c.performance, c.cat2, c.full, 1)])
    quota = db.scalar(select(PerformanceQuota).where(PerformanceQuota.performance_id == c.performance.id,
                                                     PerformanceQuota.category_id == c.cat2.id))
    quota.taken += 4  # places held by a basket in progress (no ticket yet)
    c.performance.taken += 4
    db.commit()
    figures = availability.performance_figures(db, c.performance.id)
    cats = {f.code: f for f in figures.categories}
    assert (cats["CAT1"].capacity, cats["CAT1"].sold, cats["CAT1"].reserved, cats["CAT1"].held,
            cats["CAT1"].available) == (30, 3, 2, 0, 25)
    assert (cats["CAT2"].capacity, cats["CAT2"].sold, cats["CAT2"].reserved, cats["CAT2"].held,
            cats["CAT2"].available) == (10, 0, 1, 4, 5)
    assert cats["CAT1"].contingent is None and cats["CAT1"].contingent_label == "Hors cont."
    assert (figures.capacity, figures.sold, figures.reserved, figures.held, figures.available) == (40, 3, 3, 4, 30)
    listed = availability.figures(db)
    assert [f.id for f in listed] == sorted([c.performance.id, c.seated.id], key=lambda i: (
        c.performance.starts_at if i == c.performance.id else c.seated.starts_at, i))


# --------------------------------------------------------------------------- till


def test_a_till_opens_with_a_float_once_and_closes_with_counts_differences_and_a_reason(db, catalogue, buyer, operator_id):
    c = catalogue
    session = till.open_till(db, "150.00")
    db.commit()
    assert session.state == "open" and session.opening_float == Decimal("150.00") and session.number >= 1
    with pytest.raises(ConflictError, match="déjà ouverte"):
        till.open_till(db, "10")
    db.rollback()
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)],
                payments=[PaymentInput("CASH", Decimal("250.00"))])  # 220 due, 30 change
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)],
                        payments=[PaymentInput("CARD", Decimal("110.00"))])
    db.commit()
    totals = {m.code: m for m in till.mode_totals(db, session)}
    assert totals["CASH"].expected == Decimal("370.00") and totals["CARD"].expected == Decimal("110.00")
    with pytest.raises(InvalidError) as err:
        till.close_till(db, session, {"CASH": "370.00"})
    assert "count-CARD" in err.value.fields
    db.rollback()
    with pytest.raises(InvalidError) as err:
        till.close_till(db, session, {"CASH": "365.00", "CARD": "110.00"})
    assert "reason" in err.value.fields
    db.rollback()
    closed = till.close_till(db, session, {"CASH": "365,00", "CARD": "110.00"}, "Erreur de rendu de monnaie")
    db.commit()
    assert closed.state == "closed" and closed.difference == Decimal("-5.00")
    counts = {c.payment_mode.code: (c.expected, c.counted, c.difference) for c in closed.counts}
    assert counts == {"CASH": (Decimal("370.00"), Decimal("365.00"), Decimal("-5.00")),
                      "CARD": (Decimal("110.00"), Decimal("110.00"), Decimal("0.00"))}
    journal = till.journal(db, closed)
    assert [op["kind"] for op in journal["operations"]] == ["sell", "pay", "sell", "pay"]
    assert journal["expected_cash"] == Decimal("370.00") and journal["reason"] == "Erreur de rendu de monnaie"
    with pytest.raises(ConflictError, match="déjà fermée"):
        till.close_till(db, closed, {"CASH": "1", "CARD": "1"}, "x")
    db.rollback()
    # what happens after closing is not the closed session's
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    db.commit()
    assert len(till.journal(db, closed)["operations"]) == 4


def test_a_point_of_sale_requiring_an_open_till_refuses_operations_without_one(db, catalogue, buyer, operator_id):
    c = catalogue
    till.set_requires_open_till(db, "GUICHET", True)
    db.commit()
    with pytest.raises(ConflictError, match="caisse n'est pas ouverte au point de vente Guichet"):
        orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    db.rollback()
    assert c.performance.taken == 0
    session = till.open_till(db, "0")
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    db.commit()
    till.close_till(db, session, {"CASH": "0"})
    db.commit()
    with pytest.raises(ConflictError, match="caisse n'est pas ouverte"):
        orders.confirm(db, order)
    db.rollback()
    with acting_as(Actor(None, "")), later(100):  # the periodic task is nobody's till
        assert reservations.release_expired(db)["released"] == [order.number]
    db.commit()


# --------------------------------------------------------------------------- delivery and documents


def test_delivery_defaults_to_the_buyer_and_changes_are_checked_and_recorded(db, catalogue, person, operator_id):
    c = catalogue
    buyer = person("Akoka", "Viviane", email="viviane@example.org", line1="4 rue de Chevreuse")
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    db.commit()
    view = delivery.delivery_view(db, order)
    assert view["mode"] == "handed" and view["email"] == "viviane@example.org" and view["immediate_print"] is True
    assert "4 rue de Chevreuse" in view["address"] and view["contact_number"] == buyer.number
    assert [(d.type_code, d.send, d.id) for d in delivery.documents(db, order)] == [
        ("sales.ticket", "print", None), ("sales.receipt", "print", None)]
    with pytest.raises(InvalidError) as err:
        delivery.set_delivery(db, order, mode="eticket", email="pas-une-adresse")
    assert "email" in err.value.fields
    db.rollback()
    with pytest.raises(InvalidError) as err:
        delivery.set_delivery(db, order, mode="post", address="  ")
    assert "address" in err.value.fields
    db.rollback()
    other = person("Dupont", "Marc", email="marc@example.org")
    view = delivery.set_delivery(db, order, mode="print_at_home", contact=other.number, immediate_print=False)
    db.commit()
    assert view["mode"] == "print_at_home" and view["email"] == "marc@example.org" and view["immediate_print"] is False
    assert {t.delivery_mode for t in order.tickets} == {"print_at_home"}
    assert order.operations[-1].kind == "delivery"
    assert [(d.type_code, d.send) for d in delivery.documents(db, order)] == [("sales.ticket", "email")]


def test_documents_are_added_removed_and_reset_to_the_delivery_modes_defaults(db, catalogue, buyer):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    added = delivery.add_document(db, order, "sales.order_summary", "email", 2)
    db.commit()
    assert [(d.type_code, d.send, d.quantity) for d in delivery.documents(db, order)] == [
        ("sales.ticket", "print", 1), ("sales.receipt", "print", 1), ("sales.order_summary", "email", 2)]
    first = delivery.documents(db, order)[0]
    delivery.remove_document(db, order, first.id)
    delivery.remove_document(db, order, added.id)
    db.commit()
    assert [d.type_code for d in delivery.documents(db, order)] == ["sales.receipt"]
    with pytest.raises(InvalidError) as err:
        delivery.add_document(db, order, "sales.unknown", "fax", 0)
    assert set(err.value.fields) == {"type_code", "send", "quantity"}
    db.rollback()
    delivery.reset_documents(db, order)
    db.commit()
    assert [(d.type_code, d.send) for d in delivery.documents(db, order)] == [
        ("sales.ticket", "print"), ("sales.receipt", "print")]


def test_a_delivery_contact_cannot_be_deleted(db, catalogue, buyer, person):
    from plugins.sales.services.contact_activity import refuse_deletion_if_referenced

    c = catalogue
    other = person("Dupont", "Marc", email="marc@example.org")
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    delivery.set_delivery(db, order, contact=other.number)
    db.commit()
    with pytest.raises(ConflictError, match="reçoit les billets d'un dossier"):
        refuse_deletion_if_referenced(db, other)
