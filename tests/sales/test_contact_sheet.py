"""Sales and the contact sheet: the buyer becomes a customer, the three histories show each order to
the right contact (contacts_history), the indicators count attendance and spend (contacts_facts), a
merge moves orders, tickets, payments and credit (contacts_references), the credit balance section
(contacts_sheet_sections), and a contact with orders cannot be deleted (contacts_contact_deleting)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError
from plugins.contacts.services.contacts import create_contact, delete_contact
from plugins.contacts.services.sheet import get_sheet, history
from plugins.sales.models import CreditMovement, Order, Payment, Ticket
from plugins.sales.registry import get_registry
from plugins.sales.services import credit, orders
from plugins.sales.services.payments import PaymentInput, pay
from tests.sales.conftest import line


@pytest.fixture
def registry():
    """The contacts registry with the sales plugin's hooks (as the running app has it)."""
    return get_registry().contacts()


@pytest.fixture
def school_visit(db, catalogue, buyer, person):
    """A relay buys 3 tickets for her structure, the structure pays, two pupils attend."""
    c = catalogue
    university = create_contact(db, {"type_code": "structure", "structure_name": "UNIVERSITY PARIS"})
    pupils = [person("Martin", "Léa"), person("Durand", "Hugo")]
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 3, attendees=[p.id for p in pupils])],
                        structure=university, payer=university, payments=[PaymentInput("TRANSFER", "330.00")])
    db.commit()
    return order, university, pupils


def test_a_sale_makes_the_buyer_a_customer_but_a_reservation_does_not(db, catalogue, buyer, person):
    c = catalogue
    other = person("Shapira", "Michel")
    orders.reserve(db, other, [line(c.performance, c.cat1, c.full)])
    assert other.customer_since is None
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)])
    assert buyer.customer_since is not None and buyer.status == "customer"


def test_each_history_shows_the_order_to_the_right_contact(db, school_visit, buyer, registry):
    order, university, pupils = school_visit
    purchases = history(db, buyer, "purchases", registry=registry)
    assert [(r.reference, r.amount, r.status, r.source) for r in purchases] == [
        (str(order.number), Decimal("330.00"), "Soldé", "sales")]
    assert [r.reference for r in history(db, university, "purchases", registry=registry)] == [str(order.number)]
    cultural = history(db, pupils[0], "cultural", registry=registry)
    assert len(cultural) == 1 and cultural[0].label.startswith("Joyaux - ") and cultural[0].status == "à venir"
    assert cultural[0].details["tickets"] == 1
    assert [r.details["tickets"] for r in history(db, buyer, "cultural", registry=registry)] == [1]  # no attendee
    financial = history(db, university, "financial", registry=registry)
    assert [(r.amount, r.details["mode"]) for r in financial] == [(Decimal("330.00"), "Virement")]
    assert history(db, buyer, "financial", registry=registry) == []
    # an attendee sees the order in their purchases, as attendee only
    [attended] = history(db, pupils[1], "purchases", registry=registry)
    assert attended.reference == str(order.number) and attended.details["roles"] == ["attendee"]


def test_an_order_appears_once_per_history_with_every_role_it_plays(db, school_visit, buyer, registry):
    """UNIVERSITY PARIS paid the order its relay AKOKA bought for it: one line, "payeur, structure, par
    un relais", not one as payer and one through the relay; and it is a customer, not a prospect."""
    from plugins.contacts.services.links import add_link

    order, university, pupils = school_visit
    add_link(db, buyer, "relay_of", university)
    db.flush()
    rows = history(db, university, "purchases", registry=registry)
    assert [r.reference for r in rows] == [str(order.number)]
    assert rows[0].details["roles"] == ["payer", "structure", "via_relay"]
    assert rows[0].details["roles_label"] == "payeur, structure, par un relais"
    assert rows[0].details["via_number"] == buyer.number
    [own] = history(db, buyer, "purchases", registry=registry)
    assert own.details["roles"] == ["buyer"]
    financial = history(db, university, "financial", registry=registry)
    assert len(financial) == 1  # the payment once, though the relay's history is gathered too
    assert university.customer_since is not None and university.status == "customer"
    assert "(Client)" in get_sheet(db, university)["header"]


def test_contacts_facts_feed_attendance_spend_and_channels(db, catalogue, buyer, registry):
    from plugins.contacts.services.indicators import facts_of, indicators_of, recompute_indicators
    from plugins.sales.services.contact_activity import season_bounds

    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full), line(c.seated, c.cat1, c.full, 1,
                                                                              seats=[c.seats[0].id])])
    facts = facts_of(db, buyer, registry)
    assert facts["performances_this_season"] == 2 and facts["channels"] == ["box_office"]
    assert facts["spend_previous_season"] == 0
    # a payment dated in the previous season counts as its spend
    pay(db, order, [PaymentInput("CARD", "220.00")])
    payment = db.scalars(select(Payment)).one()
    start, _ = season_bounds(db, payment.at, -1)
    db.execute(Payment.__table__.update().values(at=start + timedelta(days=10)))  # Core: the test's time machine
    facts = facts_of(db, buyer, registry)
    assert facts["spend_previous_season"] == Decimal("220.00")
    recompute_indicators(db, buyer, registry=registry)
    levels = {iv.code: (iv.value, iv.level) for iv in indicators_of(db, buyer, registry)}
    assert levels["attendance"] == (2, "regular") and levels["pmg"][1] == "M" and levels["channel"][1] == "single"


def test_a_merge_moves_orders_tickets_payments_and_credit(db, school_visit, buyer, person, registry):
    from plugins.contacts.services.duplicates import merge

    order, university, pupils = school_visit
    twin = person("Akoka", "Viviane", email="v.akoka@example.org")
    credit.adjust_credit(db, pupils[0], "15.00", "Geste")
    merge(db, None, twin, buyer, registry=registry)
    merge(db, None, pupils[1], pupils[0], registry=registry)
    db.commit()
    db.expire_all()
    assert db.get(Order, order.id).buyer_id == twin.id
    assert sorted(t.attendee_id for t in db.scalars(select(Ticket).where(Ticket.order_id == order.id))
                  if t.attendee_id) == [pupils[1].id, pupils[1].id]
    assert db.scalars(select(CreditMovement)).one().contact_id == pupils[1].id
    assert credit.credit_balance(db, pupils[1]) == Decimal("15.00")
    refs = {(r.table, r.column) for r in registry.references}
    assert {("sales_order", "buyer_id"), ("sales_order", "payer_id"), ("sales_payment", "contact_id"),
            ("sales_ticket", "attendee_id"), ("sales_credit_movement", "contact_id")} <= refs


def test_contacts_references_cover_every_sales_column_holding_a_contact(registry):
    from coulisses import db as cdb

    declared = {(r.table, r.column) for r in registry.references}
    for table in cdb.tables_of(["sales"]):
        for column in table.columns:
            if any(fk.column.table.name == "contacts_contact" for fk in column.foreign_keys):
                assert (table.name, column.name) in declared, f"{table.name}.{column.name} is not in contacts_references"


def test_contacts_sheet_sections_show_the_credit_balance_in_the_management_tab(db, buyer, registry):
    credit.adjust_credit(db, buyer, "42.50", "Avoir sur annulation")
    sheet = get_sheet(db, buyer, registry=registry)
    (section,) = [s for s in sheet["sections"] if s["code"] == "sales_credit"]
    assert section["tab"] == "management" and section["label"] == "Solde avoir"
    assert section["data"]["balance"] == "42.50" and section["data"]["balance_display"] == "42,50\u00a0€"
    assert section["data"]["movements"][0]["reason"] == "Avoir sur annulation"
    hidden = get_sheet(db, buyer, registry=registry, can=lambda p: p != "sales.view")
    assert all(s["code"] != "sales_credit" for s in hidden["sections"])


def test_contacts_contact_deleting_refuses_a_contact_with_tickets(db, school_visit, catalogue, person, registry):
    from plugins.contacts.registry import use_registry

    order, university, pupils = school_visit
    prospect = person("Prospect", "Avec")
    orders.reserve(db, prospect, [line(catalogue.performance, catalogue.cat1, catalogue.full)])
    lonely = person("Seul", "Sans")
    with use_registry(registry):
        with pytest.raises(ConflictError, match="a des billets"):
            delete_contact(db, pupils[0])  # a prospect, but the attendee of a ticket
        with pytest.raises(ConflictError, match="a des dossiers"):
            delete_contact(db, prospect)
        delete_contact(db, lonely)
