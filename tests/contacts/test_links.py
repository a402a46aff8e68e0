"""Roles and links: typed, reversible, dated, validated; the role follows from the links."""
from datetime import date, datetime, timedelta, timezone

import pytest

from coulisses import ConflictError, InvalidError
from coulisses.db import clock, utcnow
from coulisses.i18n import local_time
from plugins.contacts.services.links import add_link, links_of, refresh_all_roles, relay_contact, remove_link, update_link
from plugins.contacts.services.search import advanced_search


@pytest.fixture
def cast(person, structure):
    return {
        "akoka": person("Akoka", "Viviane"),
        "leo": person("Akoka", "Léo"),
        "anne": person("Durand", "Anne"),
        "univ": structure("UNIVERSITY PARIS"),
        "sorbonne": structure("SORBONNE LETTRES"),
        "group": structure("GROUPE UNIVERSITAIRE"),
    }


def test_a_link_reads_from_both_sides(db, cast):
    add_link(db, cast["akoka"], "relay_of", cast["univ"])
    [mine] = links_of(db, cast["akoka"])
    assert (mine.label, mine.other.display_name, mine.direction) == ("Relais de", "UNIVERSITY PARIS", "out")
    [theirs] = links_of(db, cast["univ"])
    assert (theirs.label, theirs.other.display_name, theirs.direction) == ("A pour relais", "AKOKA, Viviane", "in")
    assert relay_contact(db, cast["univ"]) is cast["akoka"]
    assert relay_contact(db, cast["akoka"]) is cast["univ"]


def test_roles_follow_the_links(db, cast):
    assert cast["akoka"].role == "public" and cast["univ"].role == "public"
    add_link(db, cast["leo"], "child_of", cast["akoka"])
    assert cast["leo"].role == "child"
    add_link(db, cast["anne"], "member_of", cast["univ"])
    assert cast["anne"].role == "member"
    add_link(db, cast["anne"], "relay_of", cast["sorbonne"])
    assert cast["anne"].role == "relay"  # relay wins over member
    add_link(db, cast["sorbonne"], "subsidiary_of", cast["group"])
    assert cast["sorbonne"].role == "subsidiary" and cast["group"].role == "public"
    link = next(lv.link for lv in links_of(db, cast["anne"]) if lv.kind == "relay_of")
    remove_link(db, link)
    assert cast["anne"].role == "member"


@pytest.mark.parametrize("src, kind, dst, field", [
    ("univ", "relay_of", "sorbonne", "from"),     # a structure cannot be a relay
    ("akoka", "relay_of", "leo", "to"),           # relay of an individual
    ("akoka", "member_of", "anne", "to"),
    ("univ", "child_of", "akoka", "from"),        # a structure is nobody's child
    ("akoka", "child_of", "univ", "to"),          # an individual cannot be the parent structure of anything
    ("akoka", "subsidiary_of", "univ", "from"),
    ("univ", "subsidiary_of", "akoka", "to"),     # no individual parent structure
])
def test_link_kinds_join_the_right_kinds_of_contact(db, cast, src, kind, dst, field):
    with pytest.raises(InvalidError) as exc:
        add_link(db, cast[src], kind, cast[dst])
    assert field in exc.value.fields


def test_no_cycles_in_parent_chains_and_no_self_links(db, cast, structure):
    add_link(db, cast["sorbonne"], "subsidiary_of", cast["univ"])
    add_link(db, cast["univ"], "subsidiary_of", cast["group"])
    with pytest.raises(ConflictError, match="cycle"):
        add_link(db, cast["group"], "subsidiary_of", cast["sorbonne"])
    add_link(db, cast["leo"], "child_of", cast["akoka"])
    with pytest.raises(ConflictError, match="cycle"):
        add_link(db, cast["akoka"], "child_of", cast["leo"])
    with pytest.raises(InvalidError):
        add_link(db, cast["akoka"], "child_of", cast["akoka"])


def test_duplicate_links_and_two_parent_structures_at_once_are_refused(db, cast):
    add_link(db, cast["akoka"], "relay_of", cast["univ"])
    with pytest.raises(ConflictError, match="existe déjà"):
        add_link(db, cast["akoka"], "relay_of", cast["univ"])
    add_link(db, cast["sorbonne"], "subsidiary_of", cast["univ"], end_date=date(2020, 12, 31))
    with pytest.raises(ConflictError, match="déjà filiale"):
        add_link(db, cast["sorbonne"], "subsidiary_of", cast["group"], start_date=date(2020, 6, 1))
    add_link(db, cast["sorbonne"], "subsidiary_of", cast["group"], start_date=date(2021, 1, 1))


@pytest.fixture
def new_years_eve():
    """23:30 UTC on 31 December: already 1 January in Paris, the day links are read on."""
    with clock(lambda: datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)):
        yield local_time(utcnow()).date()


def test_links_are_dated_and_an_ended_link_gives_no_role(db, cast, new_years_eve):
    today = new_years_eve
    assert today == date(2027, 1, 1)
    link = add_link(db, cast["akoka"], "relay_of", cast["univ"], start_date=today - timedelta(days=400),
                    end_date=today + timedelta(days=1))
    assert cast["akoka"].role == "relay"
    with pytest.raises(InvalidError) as exc:
        update_link(db, link, end_date=today - timedelta(days=500))
    assert "end_date" in exc.value.fields
    update_link(db, link, end_date=today - timedelta(days=1))
    assert cast["akoka"].role == "public"
    [view] = links_of(db, cast["akoka"])
    assert view.active is False
    assert links_of(db, cast["akoka"], active_only=True) == []


def test_the_nightly_role_refresh_catches_links_that_ended(db, cast, new_years_eve):
    today = new_years_eve
    link = add_link(db, cast["akoka"], "relay_of", cast["univ"], end_date=today + timedelta(days=2))
    assert cast["akoka"].role == "relay"
    link.end_date = today - timedelta(days=1)  # time passed
    db.flush()
    assert refresh_all_roles(db) == 1
    assert cast["akoka"].role == "public"


def test_search_by_relay_and_by_connection(db, cast):
    add_link(db, cast["akoka"], "relay_of", cast["univ"])
    add_link(db, cast["leo"], "child_of", cast["akoka"])
    page = advanced_search(db, {"relay": "akoka"})
    assert [r.name for r in page.rows] == ["UNIVERSITY PARIS"]
    assert page.rows[0].relay_contact == "AKOKA, Viviane"
    assert [r.name for r in advanced_search(db, {"relay": "university"}).rows] == ["AKOKA, Viviane"]
    rows = advanced_search(db, {"connection_type": "child_of", "connection_with": cast["akoka"].number}).rows
    assert [r.name for r in rows] == ["AKOKA, Léo"]
    rows = advanced_search(db, {"connection_with": cast["akoka"].number}).rows
    assert {r.name for r in rows} == {"AKOKA, Léo", "UNIVERSITY PARIS"}
    # "with relays" unticked leaves relays out
    assert "AKOKA, Viviane" not in [r.name for r in advanced_search(db, {"name": "akoka", "with_relays": False}).rows]
