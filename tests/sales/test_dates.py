"""The sales rules that depend on the date, under a fixed clock (never today's date): the season a
moment belongs to (the contact sheet's facts: performances this season, spend of the previous one) at
the edges of months, seasons and years and across the daylight-saving changes of Europe/Paris; the
upcoming performances; the "upcoming / past" of the cultural history."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from coulisses.config import use_config
from coulisses.db import clock
from plugins.sales.services import catalogue as cat
from plugins.sales.services import orders
from plugins.sales.services.contact_activity import facts, history, season_bounds
from plugins.sales.services.payments import PaymentInput
from tests.sales.conftest import line

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("when, offset, start, end", [
    # the last minute of August in Paris (21:59 UTC in summer time) is still the 2025/2026 season
    (utc(2026, 8, 31, 21, 59), 0, paris(2025, 9, 1), paris(2026, 9, 1)),
    # midnight in Paris on 1 September (22:00 UTC the day before) opens 2026/2027
    (utc(2026, 8, 31, 22, 0), 0, paris(2026, 9, 1), paris(2027, 9, 1)),
    (utc(2026, 8, 31, 22, 0), -1, paris(2025, 9, 1), paris(2026, 9, 1)),
    # New Year's Eve: already 1 January in Paris, same season
    (utc(2026, 12, 31, 23, 30), 0, paris(2026, 9, 1), paris(2027, 9, 1)),
    # the first days of a month
    (utc(2026, 12, 1, 0, 0), 0, paris(2026, 9, 1), paris(2027, 9, 1)),
    (utc(2027, 3, 1, 0, 0), -1, paris(2025, 9, 1), paris(2026, 9, 1)),
])
def test_seasons_by_month_follow_paris_days(db, when, offset, start, end):
    assert season_bounds(db, when, offset) == (start, end)


def test_calendar_year_seasons_turn_at_paris_midnight(db):
    with use_config({"CONTACTS_SEASON_START_MONTH": 1}):
        assert season_bounds(db, utc(2026, 12, 31, 22, 59)) == (paris(2026, 1, 1), paris(2027, 1, 1))
        assert season_bounds(db, utc(2026, 12, 31, 23, 0)) == (paris(2027, 1, 1), paris(2028, 1, 1))


@pytest.fixture
def dst_seasons(db):
    """Seasons whose edges are the daylight-saving changes of 2026 in Paris (29 March, 25 October)."""
    winter = cat.create_season(db, "W", "Hiver 2025/2026", date(2025, 10, 25), date(2026, 3, 28))
    summer = cat.create_season(db, "S", "Été 2026", date(2026, 3, 29), date(2026, 10, 24))
    next_winter = cat.create_season(db, "W2", "Hiver 2026/2027", date(2026, 10, 25), date(2027, 3, 27))
    db.commit()
    return winter, summer, next_winter


def test_season_rows_start_and_end_at_paris_midnight_across_daylight_saving(db, dst_seasons):
    # 29 March 2026 00:30 in Paris is still winter time (UTC+1): 28 March 23:30 UTC
    start, end = season_bounds(db, utc(2026, 3, 28, 23, 30))
    assert (start, end) == (utc(2026, 3, 28, 23, 0), utc(2026, 10, 24, 22, 0))  # summer time at the end (UTC+2)
    assert season_bounds(db, utc(2026, 3, 28, 22, 59))[0] == utc(2025, 10, 24, 22, 0)  # still the winter season
    # 25 October 2026 00:30 in Paris is still summer time: 24 October 22:30 UTC
    assert season_bounds(db, utc(2026, 10, 24, 22, 30)) == (utc(2026, 10, 24, 22, 0), utc(2027, 3, 27, 23, 0))
    assert season_bounds(db, utc(2026, 10, 24, 22, 30), -1) == (start, end)
    # the season's last day counts whole: 24 October 23:59 in Paris
    assert season_bounds(db, utc(2026, 10, 24, 21, 59))[1] == end


@pytest.fixture
def stage(db, operator_id):
    """A venue without seats, one category and tariff, an event; no season rows."""
    venue = cat.create_venue(db, "OPERA", "Opéra Garnier")
    cat1 = cat.create_category(db, "CAT1", "Cat 1")
    full = cat.create_tariff(db, "PLEIN", "Plein tarif")
    event = cat.create_event(db, "JOYAUX", "Joyaux")
    db.commit()

    def performance(starts_at):
        perf = cat.create_performance(db, event, venue, starts_at, quotas={cat1: 10})
        cat.set_price(db, perf, cat1, full, "20.00")
        return perf

    return performance, cat1, full


def test_performances_this_season_count_from_paris_midnight_of_the_first_day(db, stage, buyer):
    performance, cat1, full = stage
    last_of_august = performance(utc(2026, 8, 31, 20, 0))  # 22:00 in Paris on 31 August: previous season
    first_of_september = performance(utc(2026, 8, 31, 22, 30))  # 00:30 in Paris on 1 September
    with clock(lambda: utc(2026, 8, 20, 10, 0)):
        orders.sell(db, buyer, [line(last_of_august, cat1, full), line(first_of_september, cat1, full)])
    with clock(lambda: utc(2026, 9, 1, 8, 0)):
        assert facts(db, buyer)["performances_this_season"] == 1
    with clock(lambda: utc(2026, 8, 31, 21, 0)):  # 23:00 in Paris: still August
        assert facts(db, buyer)["performances_this_season"] == 1  # the one of 31 August


def test_spend_of_the_previous_season_takes_payments_by_their_paris_day(db, stage, buyer):
    performance, cat1, full = stage
    show = performance(utc(2026, 10, 10, 18, 0))
    with clock(lambda: utc(2026, 8, 31, 21, 30)):  # 23:30 in Paris on 31 August: season 2025/2026
        orders.sell(db, buyer, [line(show, cat1, full)], payments=[PaymentInput("CARD", "20.00")])
    with clock(lambda: utc(2026, 8, 31, 22, 30)):  # 00:30 on 1 September: season 2026/2027
        orders.sell(db, buyer, [line(show, cat1, full, 2)], payments=[PaymentInput("CASH", "40.00")])
    with clock(lambda: utc(2027, 1, 15, 12, 0)):  # 2026/2027: the previous season holds the first payment
        assert facts(db, buyer)["spend_previous_season"] == Decimal("20.00")
    with clock(lambda: utc(2027, 8, 31, 22, 0)):  # 1 September 2027 in Paris: the previous is 2026/2027
        assert facts(db, buyer)["spend_previous_season"] == Decimal("40.00")


def test_upcoming_and_past_are_told_by_the_clock(db, stage, buyer):
    performance, cat1, full = stage
    show = performance(utc(2027, 1, 1, 19, 0))
    with clock(lambda: utc(2026, 12, 31, 10, 0)):
        orders.sell(db, buyer, [line(show, cat1, full)])
        assert [r.status for r in history(db, buyer, "cultural")] == ["à venir"]
        assert [p.id for p in cat.performances_on_sale(db)] == [show.id]
    with clock(lambda: utc(2027, 1, 1, 19, 0) + timedelta(seconds=1)):
        assert [r.status for r in history(db, buyer, "cultural")] == ["passée"]
        assert cat.performances_on_sale(db) == []
