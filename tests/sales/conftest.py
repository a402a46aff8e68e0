"""Fixtures of the sales plugin's tests: a service-layer session on a schema with the contacts and
sales tables, an operator acting at the "Guichet", a small catalogue (the seeds' "Joyaux"), buyers,
and API clients by role."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from coulisses.db import Actor, acting_as, utcnow
from tests.conftest import create_schema


@pytest.fixture
def app(make_app):
    return make_app(["sales"])


@pytest.fixture
def db(database_url, session):
    """A service-layer session on a database holding the host's, contacts' and sales' tables, with
    the default channels, point of sale "Guichet" and payment modes."""
    from plugins.sales.services.settings import install_defaults

    create_schema(database_url, ["sales"])
    install_defaults(session)
    session.commit()
    return session


@pytest.fixture
def operator_id(db):
    """An operator ("STX_BDD") to act as, without the web app."""
    from coulisses import security

    security.sync_roles_and_permissions(db, {})
    op = security.create_operator(db, "STX_BDD", "correct horse battery", "Guichet 1", ["operator"])
    db.commit()
    with acting_as(Actor(operator_id=op.id, login=op.login)):
        yield op.id


@dataclass
class Catalogue:
    season: object
    venue: object
    seated_venue: object
    balcon: object
    cat1: object
    cat2: object
    audience: object
    full: object
    reduced: object
    event: object
    performance: object  # unseated, Cat 1: 30 places, Cat 2: 10, 110,00 / 60,00
    seated: object  # seated: Balcon, 6 seats of Cat 1
    seats: list


def next_month(hour=20, minute=15) -> datetime:
    day = (utcnow() + timedelta(days=30)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def catalogue(db, operator_id) -> Catalogue:
    from plugins.sales.services import catalogue as cat

    today = utcnow().date()
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    # the season holds the performances (a month ahead) whatever today is: in August too
    end = max(date(start.year + 1, 8, 31), next_month().date() + timedelta(days=1))
    season = cat.create_season(db, "S1", f"{start.year}/{start.year + 1}", start, end)
    venue = cat.create_venue(db, "OPERA", "Opéra Garnier")
    seated_venue = cat.create_venue(db, "SALLE", "Grande salle", seated=True)
    balcon = cat.add_area(db, seated_venue, "BALC", "Balcon")
    cat1 = cat.create_category(db, "CAT1", "Cat 1", 1)
    cat2 = cat.create_category(db, "CAT2", "Cat 2", 2)
    seats = cat.add_seats(db, balcon, {"A": ["1", "3", "5"], "B": ["51S", "53S", "55S"]}, category=cat1)
    audience = cat.create_audience(db, "OCC", "Contact occasionnel")
    full = cat.create_tariff(db, "PLEIN", "Plein tarif", audience)
    reduced = cat.create_tariff(db, "REDUIT", "Tarif réduit", audience)
    event = cat.create_event(db, "JOYAUX", "Joyaux", season=season)
    performance = cat.create_performance(db, event, venue, next_month(), quotas={cat1: 30, cat2: 10})
    seated = cat.create_performance(db, event, seated_venue, next_month(19, 30), quotas={cat1: 6})
    for perf in (performance, seated):
        cat.set_price(db, perf, cat1, full, "110.00")
        cat.set_price(db, perf, cat1, reduced, "80.00")
    cat.set_price(db, performance, cat2, full, "60.00")
    db.commit()
    return Catalogue(season, venue, seated_venue, balcon, cat1, cat2, audience, full, reduced, event, performance,
                     seated, seats)


@pytest.fixture
def person(db):
    """``person(last, first, **more)``: a quick-created individual."""
    from plugins.contacts.services.contacts import create_quick

    def make(last_name, first_name, postal_code="75006", city="PARIS", country="FR", civility="MME", **more):
        return create_quick(db, {"civility": civility, "last_name": last_name, "first_name": first_name,
                                 "country": country, "postal_code": postal_code, "city": city, **more})

    return make


@pytest.fixture
def buyer(person, operator_id):
    return person("Akoka", "Viviane")


def line(performance, category, tariff, quantity=1, **kw):
    from plugins.sales.services.orders import LineInput

    return LineInput(performance, category, tariff, quantity, **kw)


def euros(value: str) -> Decimal:
    return Decimal(value)
