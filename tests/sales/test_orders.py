"""Orders: reserve, sell, confirm, cancel a reservation, release sold tickets, print; capacity per
performance and category; seats; barcodes; the operations journal and its immutability."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError, NotFoundError
from plugins.sales.models import ImmutableRecordError, Operation, PerformanceQuota, SeatBooking, Ticket
from plugins.sales.services import barcodes, orders
from plugins.sales.services import catalogue as cat_services
from plugins.sales.services.detail import order_detail
from plugins.sales.services.payments import PaymentInput
from tests.sales.conftest import line


def test_a_sale_gives_numbered_order_tickets_with_barcodes_and_an_operation(db, catalogue, buyer):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2), line(c.performance, c.cat2, c.full, 1)])
    db.commit()
    assert order.number == 1 and order.state == "not_settled"
    assert order.total == Decimal("280.00") and order.balance == Decimal("280.00")
    tickets = db.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.barcode)).all()
    assert [t.state for t in tickets] == ["paid"] * 3
    assert all(barcodes.is_valid(t.barcode) for t in tickets)
    assert [int(t.barcode[:-1]) for t in tickets] == list(range(int(tickets[0].barcode[:-1]),
                                                               int(tickets[0].barcode[:-1]) + 3))
    (op,) = db.scalars(select(Operation).where(Operation.order_id == order.id)).all()
    assert (op.number, op.kind, op.operator_login, op.amount) == (1, "sell", "STX_BDD", Decimal("280.00"))
    quotas = {q.category_id: q.taken for q in db.scalars(select(PerformanceQuota))
              if q.performance_id == c.performance.id}
    assert quotas == {c.cat1.id: 2, c.cat2.id: 1} and c.performance.taken == 3
    second = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full)])
    assert second.number == 2 and second.operations[0].number == 2


def test_the_order_detail_reads_like_the_seed(db, catalogue, buyer, person):
    from plugins.contacts.services.contacts import create_contact
    from plugins.contacts.services.links import add_link

    c = catalogue
    university = create_contact(db, {"type_code": "structure", "structure_name": "UNIVERSITY PARIS"})
    add_link(db, buyer, "relay_of", university)
    order = orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=[c.seats[3].id, c.seats[0].id])],
                        structure=university, payments=[PaymentInput("OTHER", "220.00")])
    orders.mark_printed(db, order.tickets)
    detail = order_detail(db, order)
    assert detail["header"] == f"Dossier {order.number} (Soldé) - AKOKA, Viviane | UNIVERSITY PARIS / Relais [{buyer.number}]"
    assert detail["created_line"].startswith("Création ") and detail["created_line"].endswith(" par STX_BDD sur Guichet")
    first = detail["tickets"][0]
    # the seed's ticket line begins with the contingent: "Hors cont." when outside any
    assert first["line"].startswith(f"Hors cont. - Balcon - B51S - {first['barcode']} - Billet - ")
    assert first["contingent"] is None and first["contingent_label"] == "Hors cont."
    assert first["line"].endswith(" - Guichet - STX_BDD - imprimé - Remis au contact")
    (group,) = detail["summary"]
    (perf,) = group["performances"]
    assert perf["label"].startswith("Joyaux - ") and perf["quantity"] == 2
    assert perf["lines"][0]["tariff"] == "Contact occasionnel - Plein tarif"
    assert (detail["subtotal_paid"], detail["total"], detail["balance"]) == (Decimal("220.00"), Decimal("220.00"), 0)
    assert [o["kind"] for o in detail["operations"]] == ["sell", "pay", "print"]


def test_selling_beyond_a_category_quota_is_refused_with_a_clear_message(db, catalogue, buyer):
    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 9)])
    with pytest.raises(ConflictError, match=r"Plus assez de places pour Joyaux - .*, Cat 2 : 2 demandée\(s\), 1 disponible"):
        orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 2)])
    db.rollback()


def test_the_performance_capacity_caps_every_category_together(db, catalogue, buyer):
    c = catalogue
    catalogue_perf = catalogue.performance
    catalogue_perf.capacity = 12  # Cat 1: 30 and Cat 2: 10, but only 12 people fit
    db.commit()
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 10)])
    with pytest.raises(ConflictError, match=r"Séance complète : Joyaux .* 3 demandée\(s\), 2 disponible"):
        orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 3)])


def test_a_category_without_quota_or_price_is_not_sold(db, catalogue, buyer):
    c = catalogue
    with pytest.raises(InvalidError) as err:
        orders.sell(db, buyer, [line(c.seated, c.cat2, c.full, 1, seats=[c.seats[0].id])])
    assert "lines.0.category" in err.value.fields
    with pytest.raises(InvalidError) as err:
        orders.sell(db, buyer, [line(c.performance, c.cat2, c.reduced, 1)])
    assert "lines.0.tariff" in err.value.fields


def test_a_seat_cannot_be_sold_twice(db, catalogue, buyer):
    c = catalogue
    orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[0].id])])
    db.commit()
    with pytest.raises(ConflictError, match="Place\\(s\\) déjà vendue\\(s\\) : Balcon - A1"):
        orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=[c.seats[1].id, c.seats[0].id])])
    db.rollback()
    states = {s.label: s.free for s in cat_services.seat_map(db, c.seated)}
    assert states == {"A1": False, "A3": True, "A5": True, "B51S": True, "B53S": True, "B55S": True}


def test_the_database_refuses_a_second_booking_of_a_seat_even_without_the_service(db, catalogue, buyer):
    from sqlalchemy.exc import IntegrityError

    c = catalogue
    order = orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[0].id])])
    other = orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[1].id])])
    db.commit()
    db.add(SeatBooking(performance_id=c.seated.id, seat_id=c.seats[0].id, ticket_id=other.tickets[0].id))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    assert order.tickets[0].seat_id == c.seats[0].id


def test_a_seated_venue_needs_seats_and_an_unseated_one_refuses_them(db, catalogue, buyer):
    c = catalogue
    with pytest.raises(InvalidError, match="choisissez les places"):
        orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1)])
    with pytest.raises(InvalidError, match="pas de places numérotées"):
        orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1, seats=[c.seats[0].id])])


def test_cancelling_a_reservation_frees_places_and_seats_but_paid_tickets_are_refused(db, catalogue, buyer, operator_id):
    c = catalogue
    reserved = orders.reserve(db, buyer, [line(c.seated, c.cat1, c.full, 2, seats=[c.seats[0].id, c.seats[1].id])])
    sold = orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[2].id])])
    assert reserved.state == "reserved" and reserved.total == Decimal("220.00") and c.seated.taken == 3
    db.commit()
    with pytest.raises(ConflictError, match="est payé : il s'annule par un remboursement"):
        orders.cancel_reservation(db, sold, sold.tickets)
    db.rollback()
    cancelled = orders.cancel_reservation(db, reserved)
    db.commit()
    assert [t.state for t in cancelled] == ["cancelled", "cancelled"]
    assert reserved.state == "cancelled" and reserved.total == 0 and c.seated.taken == 1
    assert orders.check_order(db, reserved) == []
    again = orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[0].id])])
    assert again.tickets[0].seat_id == c.seats[0].id
    with pytest.raises(ConflictError, match="pas de place réservée"):
        orders.cancel_reservation(db, reserved)


def test_confirming_a_reservation_sells_it(db, catalogue, buyer):
    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    orders.confirm(db, order)
    assert order.state == "not_settled" and {t.state for t in order.tickets} == {"paid"}
    assert [op.kind for op in order.operations] == ["reserve", "confirm"]


def test_release_tickets_keeps_non_refundable_fees(db, catalogue, buyer):
    c = catalogue
    catalogue_fee = cat_services
    catalogue_fee.create_fee(db, "LOC", "Frais de location", "2.00", refundable=False)
    catalogue_fee.create_fee(db, "DOS", "Frais de dossier", "1.50")
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    db.commit()
    assert order.total == Decimal("227.00") and order.tickets[0].fees_refundable == Decimal("1.50")
    with pytest.raises(InvalidError):
        orders.release_tickets(db, order, order.tickets[:1], kind="refund", retained={order.tickets[0].id: "1.00"})
    db.rollback()
    order = orders.get_order(db, order.number)
    orders.release_tickets(db, order, order.tickets[:1], kind="refund")
    assert order.total == Decimal("115.50")  # one ticket + the 2,00 kept of the cancelled one
    assert c.performance.taken == 1 and orders.check_order(db, order) == []


def test_mark_printed_refuses_reserved_tickets_and_second_prints(db, catalogue, buyer):
    c = catalogue
    reserved = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full)])
    with pytest.raises(ConflictError, match="réservé : il ne peut pas être imprimé"):
        orders.mark_printed(db, reserved.tickets)
    sold = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)])
    orders.mark_printed(db, sold.tickets)
    ticket = sold.tickets[0]
    assert (ticket.state, ticket.print_state, ticket.print_count) == ("printed", "printed", 1)
    with pytest.raises(ConflictError, match="déjà imprimé"):
        orders.mark_printed(db, sold.tickets)
    orders.mark_printed(db, sold.tickets, reprint=True)
    assert ticket.print_count == 2


def test_find_ticket_by_barcode_and_by_range(db, catalogue, buyer):
    c = catalogue
    group = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 5)])
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 3)])
    codes = sorted(t.barcode for t in group.tickets)
    assert orders.find_ticket(db, codes[2]).order_id == group.id
    assert [t.barcode for t in orders.find_tickets_range(db, codes[1], codes[3])] == codes[1:4]
    assert [t.barcode for t in orders.find_tickets_range(db, codes[4], codes[0])] == codes
    wrong = codes[0][:-1] + str((int(codes[0][-1]) + 1) % 10)
    with pytest.raises(NotFoundError, match="Code-barres inconnu"):  # mistyped: unknown, not "invalid"
        orders.find_ticket(db, wrong)
    with pytest.raises(NotFoundError):
        orders.find_ticket(db, barcodes.make((int(codes[-1][:-1]) + 1) % barcodes.SPACE))
    with pytest.raises(InvalidError):
        orders.find_ticket(db, "  ")


def test_any_stored_barcode_is_found_whatever_its_check_digit(db, catalogue, buyer):
    """Tickets imported or issued by another system (the seed's 01010002748) do not follow our check
    digit: look-up and ranges find them all the same."""
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    first, second = sorted(order.tickets, key=lambda t: t.id)
    first.barcode, second.barcode = "01010002748", "01010002727"
    db.flush()
    assert not barcodes.is_valid("01010002748")
    assert orders.find_ticket(db, "01010002748").id == first.id
    assert orders.find_ticket(db, " 01010002727 ").id == second.id
    assert [t.id for t in orders.find_tickets_range(db, "01010002727", "01010002748")] == [second.id, first.id]


def test_barcode_check_digit_is_luhn():
    assert barcodes.check_digit("7992739871") == "3"  # the textbook Luhn example
    assert barcodes.is_valid(barcodes.make(101000274)) and len(barcodes.make(101000274)) == 11
    assert not barcodes.is_valid("0101000274") and not barcodes.is_valid("0101000274x")


def test_operations_payments_and_credit_movements_are_immutable(db, catalogue, buyer):
    from plugins.sales.models import Payment

    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)], payments=[PaymentInput("CARD", "110.00")])
    db.commit()
    op = order.operations[0]
    op.amount = Decimal("1.00")
    with pytest.raises(ImmutableRecordError):
        db.flush()
    db.rollback()
    payment = db.scalars(select(Payment)).one()
    db.delete(payment)
    with pytest.raises(ImmutableRecordError, match="cannot be deleted"):
        db.flush()
    db.rollback()


def test_every_change_is_an_operation_with_gapless_numbers(db, catalogue, buyer):
    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    from plugins.sales.services.payments import pay

    pay(db, order, [PaymentInput("CARD", "20.00")])
    orders.cancel_reservation(db, order, order.tickets[:1])
    orders.confirm(db, order)
    db.commit()
    ops = db.scalars(select(Operation).order_by(Operation.number)).all()
    assert [(o.number, o.kind) for o in ops] == [(1, "reserve"), (2, "pay"), (3, "cancel_reservation"), (4, "confirm")]
    assert all(o.point_of_sale_id and o.operator_login == "STX_BDD" for o in ops)


def test_the_point_of_sale_comes_from_the_actor_or_the_operator(db, catalogue, buyer, operator_id):
    from coulisses.db import Actor, acting_as
    from plugins.sales.services import settings

    c = catalogue
    web = settings.create_point_of_sale(db, "WEB", "Billetterie en ligne", "internet")
    kiosk = settings.create_point_of_sale(db, "KIOSK", "Kiosque", "box_office")
    settings.set_operator_point_of_sale(db, operator_id, kiosk)
    assert orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)]).point_of_sale_id == kiosk.id
    with acting_as(Actor(operator_id, "STX_BDD", {"point_of_sale_id": web.id})):
        order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)])
    assert order.point_of_sale_id == web.id and order.channel.code == "internet"
    assert orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)], point_of_sale="GUICHET").point_of_sale.label == "Guichet"


def test_catalogue_queries_for_the_sales_screen(db, catalogue, buyer):
    c = catalogue
    catalogue_mod = cat_services
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 4)])
    on_sale = catalogue_mod.performances_on_sale(db)
    assert [p.id for p in on_sale] == [c.seated.id, c.performance.id]  # by time: 19:30, then 20:15
    perf = next(p for p in on_sale if p.id == c.performance.id)
    assert [(x.label, x.capacity, x.available) for x in perf.categories] == [("Cat 1", 30, 26), ("Cat 2", 10, 10)]
    prices = catalogue_mod.prices_for(db, c.performance)
    assert [(p.category_label, p.tariff_label, p.amount) for p in prices] == [
        ("Cat 1", "Contact occasionnel - Plein tarif", Decimal("110.00")),
        ("Cat 1", "Contact occasionnel - Tarif réduit", Decimal("80.00")),
        ("Cat 2", "Contact occasionnel - Plein tarif", Decimal("60.00"))]
    with pytest.raises(ConflictError, match="déjà prises"):
        catalogue_mod.set_quota(db, c.performance, c.cat1, 3)
