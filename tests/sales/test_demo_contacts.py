"""The demo's contacts agree with their sales (issue 14): SHAPIRA Michel [17] is a customer since
21.09.2015 with the purchases behind it and ARGENT (Moyen) in the PMG indicator; UNIVERSITY PARIS [16]
is a customer through order 959, listed once in its history with every role it plays."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from plugins.contacts.models import Contact
from plugins.contacts.services.indicators import indicators_of
from plugins.contacts.services.sheet import get_sheet, history
from plugins.sales.registry import get_registry

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def demo(db):
    from plugins.contacts.demo import load_demo as contacts_demo
    from plugins.contacts.registry import use_registry
    from plugins.sales.demo import load_demo

    with use_registry(get_registry().contacts()):  # as in the app: contacts with the sales hooks
        contacts_demo(db, "small")
        db.commit()
        load_demo(db, "small")
        db.commit()


def _contact(db, number):
    return db.scalar(select(Contact).where(Contact.number == number))


def test_shapira_status_histories_and_indicators_agree(db, demo):
    registry = get_registry().contacts()
    michel = _contact(db, 17)
    since = datetime(2015, 9, 21, 8, 36, tzinfo=PARIS)
    assert michel.customer_since == since and michel.status == "customer"
    assert michel.created_at == since  # "created 21.09.2015", not the day the demo was loaded
    purchases = history(db, michel, "purchases", registry=registry)
    assert len(purchases) >= 2
    first = min(purchases, key=lambda r: r.date)
    assert first.date == since and first.details["roles"] == ["buyer"]
    assert max(r.date for r in purchases) == michel.last_purchase_at
    assert history(db, michel, "financial", registry=registry)
    pmg = next(i for i in indicators_of(db, michel, registry=registry) if i.code == "pmg")
    assert pmg.level == "M"  # the seed's "ARGENT PMG" (silver trophy)
    assert get_sheet(db, michel)["header"].endswith("SHAPIRA (Client)")


def test_university_paris_is_a_customer_and_lists_order_959_once(db, demo):
    registry = get_registry().contacts()
    university = _contact(db, 16)
    assert university.status == "customer"
    assert "(Client)" in get_sheet(db, university)["header"]
    rows = [r for r in history(db, university, "purchases", registry=registry) if r.reference == "959"]
    assert len(rows) == 1
    assert set(rows[0].details["roles"]) == {"payer", "structure", "via_relay"}
    assert rows[0].details["via_number"] == 15
    financial = [r for r in history(db, university, "financial", registry=registry) if r.reference == "959"]
    assert len(financial) == 1


def test_every_demo_customer_has_an_order_and_every_buyer_is_a_customer(db, demo):
    from sqlalchemy import or_

    from plugins.sales.models import Order

    def orders_of(contact_id):
        return select(Order.id).where(or_(Order.buyer_id == contact_id, Order.payer_id == contact_id,
                                          Order.structure_id == contact_id),
                                      Order.state.in_(("settled", "not_settled")))

    customers = db.scalars(select(Contact).where(Contact.customer_since.is_not(None))).all()
    without = [c.number for c in customers if db.scalar(orders_of(c.id).limit(1)) is None]
    assert without == []
    paid_for = set(db.scalars(select(Order.structure_id).where(Order.structure_id.is_not(None),
                                                               Order.state == "settled")))
    assert all(db.get(Contact, i).status == "customer" for i in paid_for)
