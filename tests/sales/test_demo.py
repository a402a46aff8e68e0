"""The sales demo data: the seed's order 959 exactly as the seeds show it, its place in AKOKA
Viviane's contact sheet, the money invariants on every demo order, a catalogue that looks alive
today, reproducibility, and the load through the host's demo hook (contacts, then sales)."""
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from coulisses import db as cdb
from coulisses.db import peek_number, utcnow
from plugins.contacts.models import Contact
from plugins.sales.models import Operation, Order, Payment, PerformanceQuota, Performance, SeatBooking, Ticket
from plugins.sales.services import barcodes, orders


# "Today" for the demo and the tests that read it: set, so that no test depends on the day it runs.
TODAY = datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc)


def _load_small_demo(db):
    from plugins.contacts.demo import load_demo as contacts_demo
    from plugins.sales.demo import load_demo

    contacts_demo(db, "small")
    db.commit()
    summary = load_demo(db, "small")
    db.commit()
    return summary


@pytest.fixture
def demo(db):
    """The small demo of contacts, then of sales (as ``coulisses demo load --size small`` does), loaded
    on ``TODAY``; the test runs on that day too."""
    with cdb.clock(lambda: TODAY):
        yield _load_small_demo(db)


def test_order_959_is_the_seeds_order(db, demo):
    from plugins.sales.services.detail import order_detail

    order = orders.get_order(db, 959)
    akoka = db.get(Contact, order.buyer_id)
    assert (akoka.number, akoka.last_name, akoka.first_name) == (15, "AKOKA", "Viviane")
    university = db.get(Contact, order.structure_id)
    assert (university.number, university.structure_name) == (16, "UNIVERSITY PARIS")
    assert order.payer_id == university.id  # the structure pays (on account, later)
    detail = order_detail(db, order)
    assert detail["header"] == "Dossier 959 (Soldé) - AKOKA, Viviane | UNIVERSITY PARIS / Relais [15]"
    assert detail["created_line"] == "Création 28.09.2015 17:03 par STX_BDD sur Guichet"
    assert detail["updated_line"] == "Dernière modif 28.09.2015 17:03 par STX_BDD sur Guichet"
    (group,) = detail["summary"]
    (perf,) = group["performances"]
    assert perf["label"] == "Joyaux - Lun 02.11.2015 20:15" and perf["quantity"] == 22
    (line,) = perf["lines"]
    assert (line["category"], line["tariff"], line["price"], line["fees"]) == (
        "Cat 1", "Contact occasionnel - Plein tarif", Decimal("110.00"), Decimal("0.00"))
    assert (detail["total"], detail["subtotal_paid"], detail["balance"]) == (
        Decimal("2420.00"), Decimal("2420.00"), Decimal("0.00"))
    assert [(p["mode"], p["amount"]) for p in detail["payments"]] == [("OTHER", Decimal("2420.00"))]
    tickets = detail["tickets"]
    assert len(tickets) == 22 and {t["price"] for t in tickets} == {Decimal("110.00")}
    # "Hors cont. - Balcon - 51S - 01010002748 - Billet - 28.09.2015 17:03 - Guichet - STX_BDD - imprimé -
    # Remis au contact": the seed's barcodes, although our check digit does not guard them.
    assert tickets[0]["line"].startswith("Hors cont. - Balcon - 51S - 01010002748 - Billet - 28.09.2015 17:03 - Guichet - STX_BDD - ")
    assert tickets[0]["line"].endswith("imprimé - Remis au contact")
    assert [t["seat"] for t in tickets[:4]] == ["51S", "1", "3", "17"]
    codes = [t["barcode"] for t in tickets]
    assert codes[:2] == ["01010002748", "01010002746"] and codes[-4:-2] == ["01010002747", "01010002735"]
    assert sorted(codes) == [f"010100027{n}" for n in range(27, 49)]  # one range, 01010002727 … 01010002748
    assert not barcodes.is_valid("01010002748")
    in_range = orders.find_tickets_range(db, "01010002727", "01010002748")
    assert sorted(t.id for t in in_range) == sorted(t["id"] for t in tickets)
    assert orders.find_ticket(db, "01010002748").order_id == order.id
    assert orders.find_ticket(db, "01010002748").seat.label == "51S"
    # the numbers: gapless, orders around 959, operations from 1271 (the seed's cancellation basket)
    numbers = list(db.scalars(select(Order.number).order_by(Order.number)))
    assert numbers == list(range(numbers[0], numbers[-1] + 1)) and 959 in numbers
    ops = list(db.scalars(select(Operation.number).order_by(Operation.number)))
    assert ops == list(range(1271, 1271 + len(ops)))
    assert peek_number(db, "sales.order") == numbers[-1] + 1
    assert peek_number(db, "sales.operation") == ops[-1] + 1


def test_ordre_1271_is_the_seeds_basket_on_hold_with_order_959(db, demo):
    from plugins.sales.services import baskets

    basket = baskets.get_basket(db, 1271)
    assert basket.id == demo["seed_basket"]
    assert basket.state == "held" and basket.point_of_sale.code == "GUICHET" and "959" in basket.note
    assert [o.number for o in baskets.basket_orders(db, basket)] == [959]
    assert [b.number for b in baskets.held_baskets(db, "GUICHET")] == [1271]


def test_akoka_sheet_shows_order_959(db, demo):
    from plugins.contacts.services.sheet import history
    from plugins.sales.registry import get_registry

    registry = get_registry().contacts()
    akoka = db.scalar(select(Contact).where(Contact.number == 15))
    university = db.scalar(select(Contact).where(Contact.number == 16))
    purchases = history(db, akoka, "purchases", registry=registry)
    row = next(r for r in purchases if r.reference == "959")
    assert row.label == "Dossier 959 — 22 billets" and row.amount == Decimal("2420.00") and row.status == "Soldé"
    cultural = history(db, akoka, "cultural", registry=registry)
    assert any(r.label == "Joyaux - Lun 02.11.2015 20:15" and r.details["tickets"] == 22 for r in cultural)
    financial = history(db, university, "financial", registry=registry)
    assert any(r.reference == "959" and r.amount == Decimal("2420.00") for r in financial)
    assert akoka.status == "customer" and akoka.customer_since is not None
    assert akoka.customer_since.year == 2015


def test_every_demo_order_keeps_the_money_invariants(db, demo):
    all_orders = db.scalars(select(Order).order_by(Order.number)).all()
    assert len(all_orders) >= 30
    for order in all_orders:
        assert orders.check_order(db, order) == [], order.number
        payments = db.scalars(select(Payment.amount).where(Payment.order_id == order.id)).all()
        paid_in = sum((a for a in payments if a > 0), Decimal("0"))
        refunds = sum((-a for a in payments if a < 0), Decimal("0"))
        assert order.balance == order.total - paid_in + refunds
        assert order.balance >= 0  # no refund in the sales demo: nobody is owed money
    # counters = live tickets; no seat sold twice
    live = Counter(db.execute(select(Ticket.performance_id, Ticket.category_id)
                              .where(Ticket.state != "cancelled")).all())
    for quota in db.scalars(select(PerformanceQuota)):
        assert quota.taken == live[(quota.performance_id, quota.category_id)] <= quota.capacity
    for perf in db.scalars(select(Performance)):
        assert perf.taken == sum(n for (p, _c), n in live.items() if p == perf.id) <= perf.capacity
    seated = db.execute(select(Ticket.performance_id, Ticket.seat_id)
                        .where(Ticket.state != "cancelled", Ticket.seat_id.is_not(None))).all()
    assert len(seated) == len(set(seated)) == db.scalar(select(func.count()).select_from(SeatBooking))
    # credit balances given by hand: movements' running balances never negative
    from plugins.sales.models import CreditMovement
    from plugins.sales.services.credit import credit_balance

    movements = db.scalars(select(CreditMovement)).all()
    assert movements and all(m.balance_after >= 0 for m in movements)
    assert all(credit_balance(db, m.contact_id) > 0 for m in movements)
    # the mix the screens need
    states = Counter(o.state for o in all_orders)
    assert states["settled"] > len(all_orders) / 2
    modes = set(db.scalars(select(Payment.payment_mode_id)))
    assert len(modes) >= 3


@pytest.mark.parametrize("today", [
    datetime(2026, 9, 1, 7, 0, tzinfo=timezone.utc),    # the season's first morning
    datetime(2026, 12, 1, 11, 0, tzinfo=timezone.utc),  # a month's first day (the suite once failed on them)
    datetime(2027, 1, 1, 0, 30, tzinfo=timezone.utc),   # New Year's night
    datetime(2027, 3, 15, 9, 0, tzinfo=timezone.utc),   # March: the current season ends in June
    datetime(2027, 8, 31, 16, 0, tzinfo=timezone.utc),  # the season's last day
], ids=lambda moment: moment.date().isoformat())
def test_the_demo_looks_alive_today(db, today):
    """Loaded on ``today`` (the host's clock, which the demo reads), the demo has performances on sale
    ahead of ``today``, some sold, and recent orders: whatever day the suite runs."""
    from plugins.sales.services.catalogue import performances_on_sale

    with cdb.clock(lambda: today):
        _load_small_demo(db)
        upcoming = performances_on_sale(db, limit=100)
        assert len(upcoming) >= 5
        assert all(p.starts_at > today for p in upcoming)
        assert {p.venue_name for p in upcoming} == {"Grande salle", "Studio (placement libre)"}
        assert any(p.taken > 0 for p in upcoming) and all(p.available > 0 for p in upcoming)
        recent = db.scalar(select(func.max(Order.created_at)))
        assert timedelta(0) <= utcnow() - recent < timedelta(days=60)
        # Reservations and partly paid orders exist for upcoming performances (small demo: a few)
        assert db.scalar(select(func.count()).select_from(Order)
                         .where(Order.state.in_(("reserved", "not_settled")))) >= 1
        # a programme at least 9 months ahead (the next season when the current one runs out)
        last = db.scalar(select(func.max(Performance.starts_at)))
        months = (last.year - today.year) * 12 + last.month - today.month - (last.day < today.day)
        assert months >= 9, (today, last)


def test_the_demo_is_reproducible(db, demo, database_url):
    from sqlalchemy.orm import Session

    from coulisses import db as cdb
    from plugins.contacts.demo import load_demo as contacts_demo
    from plugins.sales.demo import load_demo
    from tests.conftest import create_schema

    def fingerprint(session):
        return session.execute(select(Order.number, Order.state, Order.total, Order.paid, Order.created_at)
                               .order_by(Order.number)).all(), \
            session.scalars(select(Ticket.barcode).order_by(Ticket.id)).all()

    first = fingerprint(db)
    other_url = database_url.replace("coulisses.db", "again.db") if database_url.startswith("sqlite") else None
    if other_url is None:
        pytest.skip("compared on SQLite (one fresh database per test on PostgreSQL)")
    create_schema(other_url, ["sales"])
    engine = cdb.make_engine(other_url)
    with Session(engine) as again:
        contacts_demo(again, "small")
        again.commit()
        load_demo(again, "small")
        again.commit()
        assert fingerprint(again) == first
    engine.dispose()


def test_the_demo_loads_through_the_host_hook(app, database_url):
    from click.testing import CliRunner

    from coulisses.cli import main
    from tests.conftest import app_session

    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts,sales",
           "COULISSES_ENV": "development", "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    result = CliRunner().invoke(main, ["demo", "load", "--size", "small"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.index("contacts") < result.output.index("sales")
    with app_session(app) as s:
        order = s.scalar(select(Order).where(Order.number == 959))
        assert order is not None and order.total == Decimal("2420.00") and order.balance == 0
