"""Date-dependent contacts rules on a fixed clock (issue 7 §4): seasons and seniority, links and alerts
"today", birth dates, and the purge's retention, at the edges of months, seasons and years and across
the daylight-saving changes of Europe/Paris. No test here depends on the day it runs."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from coulisses.db import clock
from plugins.contacts.models import Contact
from plugins.contacts.services import personal_data as pd
from plugins.contacts.services.indicators import recompute_indicators, season_index
from plugins.contacts.services.links import add_link, compute_role, links_of
from plugins.contacts.services.validation import age, parse_birth_date

UTC = timezone.utc


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Paris is UTC+1 in winter (CET) and UTC+2 in summer (CEST, from the last Sunday of March 01:00 UTC to
# the last Sunday of October 01:00 UTC: 2026-03-29 and 2026-10-25).
@pytest.mark.parametrize("when, start_month, season", [
    # season edge in summer time: 31 August 22:00 UTC is 1 September 00:00 in Paris
    (at(2026, 8, 31, 21, 59), 9, 2025),
    (at(2026, 8, 31, 22, 0), 9, 2026),
    # year edge in winter time, seasons starting in January: 31 December 23:00 UTC is New Year in Paris
    (at(2026, 12, 31, 22, 59), 1, 2026),
    (at(2026, 12, 31, 23, 0), 1, 2027),
    # month edge right after the spring change (UTC+2): 31 March 22:00 UTC is 1 April in Paris
    (at(2026, 3, 31, 21, 59), 4, 2025),
    (at(2026, 3, 31, 22, 0), 4, 2026),
    # month edge right after the autumn change (back to UTC+1): 31 October 23:00 UTC is 1 November
    (at(2026, 10, 31, 22, 59), 11, 2025),
    (at(2026, 10, 31, 23, 0), 11, 2026),
    # the night of each change itself
    (at(2026, 3, 29, 0, 59), 3, 2026),
    (at(2026, 10, 25, 0, 59), 10, 2026),
    (at(2026, 2, 28, 23, 0), 3, 2026),  # 1 March 00:00 in Paris (2026 is not a leap year)
    (at(2026, 2, 28, 22, 59), 3, 2025),
])
def test_a_season_starts_at_midnight_in_paris(when, start_month, season):
    assert season_index(when, start_month) == season


@pytest.mark.parametrize("today, level", [
    (at(2026, 8, 31, 21, 59), "new"),        # 31 August 23:59 in Paris: still the first season
    (at(2026, 8, 31, 22, 0), "confirmed"),   # 1 September in Paris: a new season has begun
])
def test_seniority_changes_when_the_season_changes_in_paris(db, person, today, level):
    contact = person("Shapira", "Michel")
    contact.customer_since = at(2025, 9, 1, 8)  # first purchase in season 2025
    config = {"CONTACTS_SEASON_START_MONTH": 9}
    with clock(lambda: today):
        assert recompute_indicators(db, contact, config)["seniority"].level == level


@pytest.mark.parametrize("today, seasons", [
    (at(2026, 12, 31, 22, 59), 5),  # 31 December in Paris
    (at(2026, 12, 31, 23, 0), 6),   # 1 January in Paris, seasons starting in January
])
def test_seniority_at_the_turn_of_the_year(db, person, today, seasons):
    contact = person("Shapira", "Michel")
    contact.customer_since = at(2021, 1, 1, 12)
    with clock(lambda: today):
        assert recompute_indicators(db, contact, {"CONTACTS_SEASON_START_MONTH": 1})["seniority"].value == seasons


@pytest.mark.parametrize("now, active", [
    (at(2026, 11, 30, 22, 59), False),  # 30 November 23:59 in Paris
    (at(2026, 11, 30, 23, 0), True),    # 1 December 00:00 in Paris, 23:00 UTC the day before
])
def test_a_link_starts_on_the_paris_day(db, person, structure, now, active):
    member = person("Dupont", "Chantal")
    school = structure("ECOLE JULES FERRY")
    add_link(db, member, "member_of", school, start_date=date(2026, 12, 1))
    with clock(lambda: now):
        assert [v.active for v in links_of(db, member)] == [active]
        assert compute_role(db, member) == ("member" if active else "public")


@pytest.mark.parametrize("now, active", [
    (at(2026, 3, 31, 21, 59), True),   # 31 March 23:59 in Paris (summer time): the last day
    (at(2026, 3, 31, 22, 0), False),   # 1 April in Paris
])
def test_a_link_ends_on_the_paris_day_after_the_spring_change(db, person, structure, now, active):
    member = person("Dupont", "Chantal")
    school = structure("ECOLE JULES FERRY")
    add_link(db, member, "member_of", school, start_date=date(2026, 1, 1), end_date=date(2026, 3, 31))
    with clock(lambda: now):
        assert [v.active for v in links_of(db, member)] == [active]


def test_birth_dates_and_age_follow_the_paris_day():
    new_year = at(2026, 12, 31, 23, 30)  # 1 January 2027 00:30 in Paris
    with clock(lambda: new_year):
        assert parse_birth_date("2027-01-01") == date(2027, 1, 1)  # born today: not in the future
        with pytest.raises(ValueError):
            parse_birth_date("2027-01-02")
        assert age(date(2000, 1, 1)) == 27  # a birthday on New Year's day counts from Paris midnight
    with clock(lambda: at(2026, 12, 31, 22, 30)):  # 23:30 in Paris, still 2026
        assert age(date(2000, 1, 1)) == 26
        with pytest.raises(ValueError):
            parse_birth_date("2027-01-01")


@pytest.mark.parametrize("now, months, cutoff", [
    # end of a longer month → end of the shorter one, same wall-clock time in Paris
    (at(2026, 3, 31, 10, 0), 1, at(2026, 2, 28, 11, 0)),     # 12:00 CEST → 12:00 CET
    (at(2028, 3, 31, 10, 0), 1, at(2028, 2, 29, 11, 0)),     # leap year
    # the year before, across New Year in Paris (1 January 00:30 in Paris, still 31 December in UTC)
    (at(2026, 12, 31, 23, 30), 36, at(2023, 12, 31, 23, 30)),
    (at(2027, 1, 31, 12, 0), 13, at(2025, 12, 31, 12, 0)),
    # across the daylight-saving changes: the Paris hour is kept, the UTC one moves
    (at(2026, 4, 15, 8, 0), 1, at(2026, 3, 15, 9, 0)),       # 10:00 CEST → 10:00 CET
    (at(2026, 11, 15, 9, 0), 1, at(2026, 10, 15, 8, 0)),     # 10:00 CET → 10:00 CEST
    (at(2026, 6, 1, 0, 0), 36, at(2023, 6, 1, 0, 0)),
])
def test_the_purge_cutoff_counts_calendar_months_in_paris(now, months, cutoff):
    assert pd.cutoff_for(months, now) == cutoff


def test_the_purge_takes_a_contact_only_once_the_retention_has_run_out(db, person):
    now = at(2026, 3, 31, 10, 0)  # after the spring change; cutoff 2026-02-28 11:00 UTC
    cutoff = pd.cutoff_for(36, now)
    assert cutoff == at(2023, 3, 31, 10, 0)
    old = person("ANCIEN", "Paul")
    recent = person("RECENT", "Anne")
    for contact, touched in ((old, cutoff - timedelta(seconds=1)), (recent, cutoff)):
        db.execute(update(Contact).where(Contact.id == contact.id).values(updated_at=touched))
    db.commit()
    report = pd.purge(db, 36, simulate=True, now=now)
    assert report.deleted == [old.number]
    with clock(lambda: now):  # the same without ``now``: the host's clock
        assert pd.purge(db, 36, simulate=True).deleted == [old.number]
