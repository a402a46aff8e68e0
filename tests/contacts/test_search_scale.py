"""The quick search on many contacts: the capped count and ``has_more``, each branch's form (its few
matches sorted, or the display order walked), the SQLite trigram table kept in sync with the contacts,
and a session's API request that reads no operator once its identity is cached."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine

from coulisses import security
from plugins.contacts.models import TRIGRAM_TABLE, Contact
from plugins.contacts.services import contacts as svc
from plugins.contacts.services import duplicates, importing, search
from plugins.contacts.services.search import advanced_search, quick_search, quick_search_window
from tests.conftest import app_session
from tests.contacts.test_api import QUICK
from tests.contacts.test_search import duponts  # noqa: F401 - the seed's DUPONT list (fixture)


@pytest.fixture
def app(make_app):
    """The contacts app, counting at most 5 matches (the default is 1,000)."""
    return make_app(["contacts"], CONTACTS_SEARCH_COUNT_CAP=5)


# --------------------------------------------------------------------------- count and has_more


def test_the_count_stops_at_its_cap_and_says_so(db, duponts):  # noqa: F811
    everything = [h.number for h in quick_search(db, "dup", limit=1000)]
    assert len(everything) == 13
    exact = quick_search_window(db, "dup", limit=3, count_cap=None)
    assert (exact.total, exact.total_is_exact, exact.has_more) == (13, True, True)
    capped = quick_search_window(db, "dup", limit=3, count_cap=5)
    assert (capped.total, capped.total_is_exact, capped.has_more) == (5, False, True)
    assert [h.number for h in capped.hits] == everything[:3]
    at_cap = quick_search_window(db, "dup", limit=3, count_cap=13)
    assert (at_cap.total, at_cap.total_is_exact) == (13, True)
    deep = quick_search_window(db, "dup", limit=3, offset=6, count_cap=5)
    assert (deep.total, deep.total_is_exact, deep.has_more) == (10, False, True)  # at least what was seen, and more
    last = quick_search_window(db, "dup", limit=50, offset=10, count_cap=5)
    assert (last.total, last.total_is_exact, last.has_more) == (13, True, False)  # the last page tells the number
    assert [h.number for h in last.hits] == everything[10:]
    skipped = quick_search_window(db, "dup", limit=3, with_total=False)
    assert (skipped.total, skipped.has_more, len(skipped.hits)) == (None, True, 3)
    assert quick_search_window(db, "dup", limit=13, count_cap=5).has_more is False


def test_the_advanced_search_caps_its_count_too(db, duponts):  # noqa: F811
    exact = advanced_search(db, {"name": "dup"}, limit=3, count_cap=None)
    assert (exact.total, exact.total_is_exact, exact.has_more) == (13, True, True)
    capped = advanced_search(db, {"name": "dup"}, limit=3, count_cap=5)
    assert (capped.total, capped.total_is_exact, capped.has_more) == (5, False, True)
    assert [r.number for r in capped.rows] == [r.number for r in exact.rows]
    whole = advanced_search(db, {"name": "dup"}, limit=20, count_cap=5)
    assert (whole.total, whole.total_is_exact, whole.has_more) == (13, True, False)


def test_the_api_caps_its_total_and_the_autocomplete_skips_it(api):
    op = api("operator")
    for i in range(7):
        created = op.post("/api/v1/contacts", json={**QUICK, "last_name": f"Delapont{chr(65 + i)}",
                                                    "email": f"d{i}@example.org"})
        assert created.status_code == 201, created.get_json()
    first = op.get("/api/v1/contacts?q=*pont&limit=3").get_json()
    assert (first["total"], first["total_is_exact"], first["has_more"], len(first["items"])) == (5, False, True, 3)
    whole = op.get("/api/v1/contacts?q=*pont&limit=10").get_json()
    assert (whole["total"], whole["total_is_exact"], whole["has_more"]) == (7, True, False)
    quick = op.get("/api/v1/contacts?q=*pont&limit=3&with_total=false").get_json()
    assert (quick["total"], quick["total_is_exact"], quick["has_more"], len(quick["items"])) == (None, None, True, 3)
    advanced = op.get("/api/v1/contacts?q=*pont&limit=3&city=Freyssenet").get_json()
    assert (advanced["mode"], advanced["total"], advanced["total_is_exact"], advanced["has_more"]) == (
        "advanced", 5, False, True)
    refused = op.get("/api/v1/contacts?q=*pont&with_total=peut-etre")
    assert refused.status_code == 422 and "with_total" in refused.get_json()["error"]["fields"]
    spec = op.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/contacts"]["get"]["parameters"]}
    assert "with_total" in params
    assert "total_is_exact" in str(spec)


def test_the_result_list_says_1000_plus(app, make_operator, client_for, monkeypatch):
    from plugins.contacts import admin

    monkeypatch.setattr(admin, "PAGE_SIZE", 3)
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    with app_session(app) as session:
        for i in range(7):
            svc.create_contact(session, {"type_code": "individual", "last_name": f"Delapont{chr(65 + i)}",
                                         "first_name": "A"})
        session.commit()
    html = client.get("/admin/contacts/?q=*pont").get_data(as_text=True)
    assert "5+ contacts trouvés" in html and "5+ contacts — 1 à 3" in html and "Suivants" in html
    html = client.get("/admin/contacts/?q=*pont&offset=6").get_data(as_text=True)
    assert "7 contacts trouvés" in html and "7 contacts — 7 à 7" in html and "Suivants" not in html
    html = client.get("/admin/contacts/?q=delaponta").get_data(as_text=True)
    assert "1 contact trouvé" in html


# --------------------------------------------------------------------------- branch forms

QUERIES = ["dup", "dupont", "dupont sadier", "dupont rougier", "Dupont, c", "dupont chantal", "chantal dupont",
           "celine", "c", "*pont", "*pon", "*ont", "du*t", "*le pont", "*le-pont", "*", "Dupont, *r"]


@pytest.mark.parametrize("q", QUERIES)
def test_sorting_a_branch_or_walking_the_display_order_gives_the_same_pages(db, duponts, monkeypatch, q):  # noqa: F811
    """A branch with few matches sorts them; one with many walks the display-order index and tests
    each contact (on the sort columns where they answer the same). Both give the same pages, with
    or without the trigram table."""
    for last, first, valid in (("Le Pont", "Anne", True), ("Lepont", "Basile", True), ("Delapont-Vert", "Céline", True),
                               ("Chantal", "Dupont", True), ("Lepontin", "Zoé", False)):
        contact = svc.create_contact(db, {"type_code": "individual", "last_name": last, "first_name": first})
        if not valid:
            svc.set_validity(db, contact, False, "Doublon")
    db.flush()

    def pages(include_invalid):
        return [[h.number for h in quick_search_window(db, q, limit=limit, offset=offset,
                                                        include_invalid=include_invalid).hits]
                for limit, offset in ((50, 0), (3, 0), (3, 3), (2, 5))]

    results = []
    for probe_cap, fts in ((10 ** 6, True), (1, True), (10 ** 6, False), (1, False)):
        monkeypatch.setattr(search, "PROBE_CAP", probe_cap)
        if not fts:
            monkeypatch.setattr(search, "trigram_search_ready", lambda session: False)
        results.append((pages(False), pages(True)))
    assert all(r == results[0] for r in results), q
    monkeypatch.setattr(search, "PROBE_CAP", 1)
    parts = [(spec, 1) for spec in search._quick_branch_specs(q)]
    forms = search._branch_forms(db, parts, [], False) if parts else []
    for (spec, _flag), form in zip(parts, forms):  # with a probe's cap of 1, only a branch that finds nobody is sorted
        assert form != search.SPARSE or db.scalar(select(func.count()).where(search._sql(spec))) == 0
    assert search.DENSE in forms or search.ORDERED in forms or not parts


def test_a_wildcard_gives_names_ending_with_it_first_in_both_forms(db, duponts, monkeypatch):  # noqa: F811
    for last in ("Schmit Delapont", "Pontarlier", "Lepont"):
        svc.create_contact(db, {"type_code": "individual", "last_name": last, "first_name": "A"})
    db.flush()
    expected = ["DUPONT"] * 10 + ["LEPONT", "SCHMIT DELAPONT", "DUPONT SADIER", "DUPONT-ROUGIER", "PONTARLIER",
                                  "PONTET"]
    for probe_cap in (10 ** 6, 1):
        monkeypatch.setattr(search, "PROBE_CAP", probe_cap)
        assert [h.name for h in quick_search(db, "*pont", limit=50)] == expected


# --------------------------------------------------------------------------- SQLite trigram table


@pytest.fixture
def sqlite_only(is_postgres):
    if is_postgres:
        pytest.skip("the trigram table is SQLite's (PostgreSQL has its GIN trigram index)")


def in_sync(db) -> set[int]:
    """The trigram table agrees with the contacts table (FTS5's check against its content), and the
    ids it finds for "pont" are those whose name holds it."""
    db.execute(text(f"INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}, rank) VALUES ('integrity-check', 1)"))
    found = set(db.scalars(text(f"SELECT rowid FROM {TRIGRAM_TABLE} WHERE {TRIGRAM_TABLE} MATCH '\"pont\"'")))
    assert found == set(db.scalars(select(Contact.id).where(Contact.search_last.like("%pont%"))))
    return found


def test_the_trigram_table_follows_every_write(db, sqlite_only):
    lapontine = svc.create_contact(db, {"type_code": "individual", "last_name": "Lapontine", "first_name": "A"})
    other = svc.create_contact(db, {"type_code": "individual", "last_name": "Martin", "first_name": "B"})
    db.flush()
    assert in_sync(db) == {lapontine.id}
    svc.update_contact(db, other, {"last_name": "Dupont"})
    svc.update_contact(db, lapontine, {"first_name": "Anne"})  # the name unchanged: nothing to redo
    db.flush()
    assert in_sync(db) == {lapontine.id, other.id}
    svc.update_contact(db, lapontine, {"last_name": "Lafont"})
    db.flush()
    assert in_sync(db) == {other.id}
    assert [h.name for h in quick_search(db, "*pont")] == ["DUPONT"]
    # an import (Core inserts), a merge (the merged contact deleted), a deletion
    report = importing.import_file(db, io.BytesIO(
        "Nom;Prénom;Code postal;Ville;Pays\nDupontel;Albert;75012;Paris;FR\nPontet;Marc;75012;Paris;FR\n"
        .encode("utf-8")), filename="contacts.csv")
    db.flush()
    assert report.imported == 2
    imported = set(db.scalars(select(Contact.id).where(Contact.search_last.in_(["dupontel", "pontet"]))))
    assert in_sync(db) == {other.id, *imported}
    assert {h.name for h in quick_search(db, "*pont")} == {"DUPONT", "DUPONTEL", "PONTET"}
    head = db.get(Contact, min(imported))
    merged = db.get(Contact, max(imported))
    duplicates.merge(db, None, head, merged, {"last_name": "other"})  # the head takes the other's name
    db.flush()
    assert head.search_last == "pontet" and not merged.valid  # the merged contact stays, invalid
    assert in_sync(db) == {other.id, head.id, merged.id}
    assert {h.number for h in quick_search(db, "*pont")} == {other.number, head.number}
    svc.delete_contact(db, other)
    db.flush()
    assert in_sync(db) == {head.id, merged.id}


def test_the_trigram_table_is_rebuilt_from_the_contacts(db, sqlite_only):
    """A bulk load that went around the triggers is repaired by ``rebuild`` (what the migration does)."""
    from plugins.contacts.models import rebuild_trigram_search

    contact = svc.create_contact(db, {"type_code": "individual", "last_name": "Pontoise", "first_name": "A"})
    db.flush()
    db.execute(text("DROP TRIGGER contacts_contact_trigram_update"))
    db.execute(text("UPDATE contacts_contact SET search_last = 'dupontel' WHERE id = :id"), {"id": contact.id})
    with pytest.raises(Exception):
        in_sync(db)
    db.rollback()
    contact = svc.create_contact(db, {"type_code": "individual", "last_name": "Pontoise", "first_name": "A"})
    db.flush()
    db.execute(text(f"DELETE FROM {TRIGRAM_TABLE}_data WHERE id > 10"))  # the index lost (damaged)
    rebuild_trigram_search(db.connection())
    assert in_sync(db) == {contact.id}


# --------------------------------------------------------------------------- the autocomplete's session


def test_a_session_api_request_reads_no_operator_once_cached(app, make_operator, client_for):
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    assert client.get("/api/v1/contacts?q=dup&with_total=false").status_code == 200
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        answer = client.get("/api/v1/contacts?q=dup&with_total=false")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert answer.status_code == 200 and "Set-Cookie" not in answer.headers
    assert statements and not [s for s in statements if "core_operator" in s or "core_role" in s]
    assert client.get("/admin/contacts/").status_code == 200  # the screens still load the operator
    # a permission taken away, or the operator deactivated, counts at once (the cache is emptied)
    with app_session(app) as session:
        operator = security.get_operator(session, "guichet")
        operator.roles = []
        session.commit()
    assert client.get("/api/v1/contacts?q=dup").status_code == 403
    with app_session(app) as session:
        security.get_operator(session, "guichet").active = False
        session.commit()
    assert client.get("/api/v1/contacts?q=dup").status_code == 401
