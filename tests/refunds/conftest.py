"""Fixtures of the refunds plugin's tests: a session on a schema with the contacts, sales and refunds
tables and their defaults, an operator at the "Guichet", and the seed's world: a seated Grande salle
(Balcon), Joyaux - Lun 02.11.2015 20:15 (Cat 1, Contact occasionnel - Plein tarif 110,00 €) and
Carmina Burana - Lun 26.10.2015 19:30 (Cat 1 60,00 €), AKOKA Viviane relay of UNIVERSITY PARIS, and
``seed_order()``: the seed's order (22 printed tickets, 2 420,00 € paid by "other")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from coulisses.db import Actor, acting_as
from tests.conftest import create_schema

PARIS = ZoneInfo("Europe/Paris")
SEATS = [str(n) for n in range(1, 41)]


@pytest.fixture
def app(make_app):
    return make_app(["refunds"])


@pytest.fixture
def db(database_url, session):
    """The refunds plugin's manager is installed (sales' and refunds' registries, the job types)."""
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from plugins.refunds.services.causes import install_defaults as refunds_defaults
    from plugins.sales.services.settings import install_defaults

    create_schema(database_url, ["refunds"])
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds"]))
    with use_manager(pm):
        install_defaults(session)
        refunds_defaults(session)
        session.commit()
        yield session


@pytest.fixture
def operator_id(db):
    from coulisses import security

    security.sync_roles_and_permissions(db, {})
    op = security.create_operator(db, "STX_BDD", "correct horse battery", "Guichet 1", ["operator"])
    db.commit()
    with acting_as(Actor(operator_id=op.id, login=op.login)):
        yield op.id


@dataclass
class World:
    cat1: object
    cat2: object
    full: object
    reduced: object
    joyaux: object
    carmina: object
    balcon: object
    seats: dict
    akoka: object


@pytest.fixture
def world(db, operator_id) -> World:
    from datetime import date

    from plugins.contacts.services.contacts import create_quick
    from plugins.sales.services import catalogue as cat

    season = cat.create_season(db, "S2015", "2015/2016", date(2015, 9, 1), date(2016, 8, 31))
    venue = cat.create_venue(db, "GRANDE_SALLE", "Grande salle", seated=True)
    balcon = cat.add_area(db, venue, "BALCON", "Balcon")
    cat1 = cat.create_category(db, "CAT1", "Cat 1", 1)
    cat2 = cat.create_category(db, "CAT2", "Cat 2", 2)
    seats = cat.add_seats(db, balcon, [("", n) for n in SEATS], category=cat1)
    extra = cat.add_seats(db, balcon, [("", f"C{n}") for n in range(1, 11)], category=cat2)
    audience = cat.create_audience(db, "OCC", "Contact occasionnel")
    full = cat.create_tariff(db, "PLEIN", "Plein tarif", audience)
    reduced = cat.create_tariff(db, "REDUIT", "Tarif réduit", audience)
    joyaux_event = cat.create_event(db, "JOYAUX", "Joyaux", season=season)
    carmina_event = cat.create_event(db, "CARMINA", "Carmina Burana", season=season)
    joyaux = cat.create_performance(db, joyaux_event, venue, datetime(2015, 11, 2, 20, 15, tzinfo=PARIS),
                                    quotas={cat1: 40, cat2: 10})
    carmina = cat.create_performance(db, carmina_event, venue, datetime(2015, 10, 26, 19, 30, tzinfo=PARIS),
                                     quotas={cat1: 40, cat2: 10})
    for perf, (p1, p2) in ((joyaux, ("110.00", "60.00")), (carmina, ("60.00", "45.00"))):
        cat.set_price(db, perf, cat1, full, p1)
        cat.set_price(db, perf, cat1, reduced, str(Decimal(p1) * Decimal("0.7")))
        cat.set_price(db, perf, cat2, full, p2)
    akoka = create_quick(db, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                              "postal_code": "75006", "city": "PARIS"})
    db.commit()
    return World(cat1, cat2, full, reduced, joyaux, carmina, balcon,
                 {s.number: s.id for s in seats + extra}, akoka)


@pytest.fixture
def sell(db, world):
    """``sell(n, performance=joyaux, mode="OTHER", printed=True, buyer=akoka)``: a paid order of n Cat 1
    full-price tickets on consecutive free Balcon seats."""
    from plugins.sales.models import SeatBooking
    from plugins.sales.services import orders
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput, pay

    def make(n, performance=None, mode="OTHER", printed=True, buyer=None, payments=None):
        perf = performance or world.joyaux
        taken = {b.seat_id for b in db.query(SeatBooking).filter_by(performance_id=perf.id)}
        seats = [world.seats[s] for s in SEATS if world.seats[s] not in taken][:n]
        order = orders.sell(db, buyer or world.akoka, [LineInput(perf.id, world.cat1.id, world.full.id, n,
                                                                  seats=seats)])
        pay(db, order, payments or [PaymentInput(mode, order.total)])
        if printed:
            orders.mark_printed(db, order.tickets)
        db.commit()
        return order

    return make


@pytest.fixture
def seed_order(sell):
    """Order "959": 22 × Joyaux Cat 1 Plein tarif 110,00 € = 2 420,00 €, paid, printed."""
    return lambda: sell(22)
