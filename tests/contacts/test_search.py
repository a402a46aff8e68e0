"""Quick search (the seeds' tips) and advanced search (every field of the seeds' form)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from coulisses import InvalidError
from plugins.contacts.models import Address, Contact
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.activity import record_purchase
from plugins.contacts.services.details import add_criterion, create_criterion
from plugins.contacts.services.search import _quick_branches, advanced_search, quick_search, quick_search_page, sort_key

# The autocomplete list of the seed ("dupon|"), with their numbers and postal codes.
SEED_DUPONTS = [
    ("DUPONT", "Chantal", "75012", 7611), ("DUPONT", "Chrysoline", "75006", 10068),
    ("DUPONT", "Frederic", "67600", 2301), ("DUPONT", "Frederic", None, 2311),
    ("DUPONT", "Isabelle", "93500", 5216), ("DUPONT", "Manuel", "61100", 8632),
    ("DUPONT", "Marie", "92160", 1469), ("DUPONT", "Nicolas", "51100", 275),
    ("DUPONT", "Orlane", "75015", 9585), ("DUPONT SADIER", "Michele", "94230", 10162),
    ("DUPONT-ROUGIER", "Vincent", "92700", 2398),
]


@pytest.fixture
def duponts(db):
    for last, first, postal, number in SEED_DUPONTS:
        contact = svc.create_contact(db, {"type_code": "individual", "civility": "M", "last_name": last,
                                          "first_name": first, "number": number})
        contact.addresses.append(Address(usage="main", country="FR", postal_code=postal or "", city="X"))
    for last, first in (("Dupuis", "Jean"), ("Lafont", "Céline"), ("CELINE", "Louis"), ("Pontet", "Marc"),
                        ("Martin", "celine"), ("Dumont", "Jacques"), ("Dupont", "Jules")):
        svc.create_contact(db, {"type_code": "individual", "last_name": last, "first_name": first})
    db.flush()


def labels(hits):
    return [h.label for h in hits]


def test_dupon_gives_the_seed_list(db, duponts):
    hits = quick_search(db, "dupon", limit=50)
    seed = [f"{last}, {first} | FR-{postal or '-'} [{number}]" for last, first, postal, number in SEED_DUPONTS]
    jules = db.scalar(select(Contact.number).where(Contact.first_name == "Jules"))
    found = labels(hits)
    assert f"DUPONT, Jules | -- [{jules}]" in found  # no address at all
    found.remove(f"DUPONT, Jules | -- [{jules}]")
    assert sorted(found) == sorted(seed)
    assert "DUPONT, Frederic | FR-- [2311]" in found
    # sorted by name, first name, then number
    assert found[:4] == ["DUPONT, Chantal | FR-75012 [7611]", "DUPONT, Chrysoline | FR-75006 [10068]",
                         "DUPONT, Frederic | FR-67600 [2301]", "DUPONT, Frederic | FR-- [2311]"]


def test_the_seed_order_a_space_sorts_before_a_hyphen(db, duponts):
    """The seed lists "DUPONT SADIER" before "DUPONT-ROUGIER", after every plain DUPONT."""
    found = [h.label for h in quick_search(db, "dupon", limit=50) if h.first_name != "Jules"]
    assert found == [f"{last}, {first} | FR-{postal or '-'} [{number}]" for last, first, postal, number in SEED_DUPONTS]
    assert sort_key("Dupont Sadier") < sort_key("DUPONT-ROUGIER") < sort_key("Dupontel")
    assert sort_key("Dupont") < sort_key("Dupont Sadier")
    assert sort_key("Élise") == sort_key("ELISE")


def test_the_seed_order_is_stored_and_every_list_follows_it(db, duponts):
    """The sort columns are stored on save; the quick search paged one by one, the advanced search
    (the result list and the API's list) and the export give the seed's DUPONT order."""
    seed = [number for _last, _first, _postal, number in SEED_DUPONTS]
    sadier = db.scalar(select(Contact).where(Contact.number == 10162))
    rougier = db.scalar(select(Contact).where(Contact.number == 2398))
    assert (sadier.sort_last, sadier.sort_first) == ("dupont sadier", "michele")
    assert rougier.sort_last == "dupont-rougier" and sadier.sort_last < rougier.sort_last
    one_by_one = []
    for offset in range(12):
        page, total = quick_search_page(db, "dupon", limit=1, offset=offset)
        assert total == 12
        one_by_one += [h.number for h in page if h.first_name != "Jules"]
    assert one_by_one == seed
    rows = advanced_search(db, {"name": "dupon"}, limit=50).rows
    assert [r.number for r in rows if not r.name.endswith("Jules")] == seed
    paged = [advanced_search(db, {"name": "dupon"}, limit=1, offset=i).rows[0].number for i in range(12)]
    assert [n for n in paged if n in seed] == seed
    # the stored key follows a change of name
    svc.update_contact(db, rougier, {"last_name": "Dupont Aaron"})
    db.flush()
    assert rougier.sort_last == "dupont aaron"
    assert [h.number for h in quick_search(db, "dupont ", limit=50)][-2:] == [2398, 10162]


def test_the_migration_fills_the_sort_columns(db, duponts):
    """contacts_0003 fills the sort columns of contacts saved before it, in batches."""
    from importlib import import_module

    migration = import_module("plugins.contacts.migrations.contacts_0003_sort_columns")
    db.execute(text("UPDATE contacts_contact SET sort_last = '', sort_first = ''"))
    written = migration.backfill(db.connection())
    assert written == db.scalar(select(func.count()).select_from(Contact))
    db.expire_all()
    found = [h.number for h in quick_search(db, "dupon", limit=50) if h.first_name != "Jules"]
    assert found == [number for _last, _first, _postal, number in SEED_DUPONTS]
    assert db.scalar(select(Contact.sort_last).where(Contact.number == 2398)) == "dupont-rougier"


def test_star_text_gives_names_ending_with_it_first(db, duponts):
    for last in ("Schmit Delapont", "Pontarlier", "Lepont"):
        svc.create_contact(db, {"type_code": "individual", "last_name": last, "first_name": "A"})
    db.flush()
    names = [h.name for h in quick_search(db, "*pont", limit=50)]
    ends = ["DUPONT"] * 10 + ["LEPONT", "SCHMIT DELAPONT"]
    assert names[:len(ends)] == ends
    assert names[len(ends):] == ["DUPONT SADIER", "DUPONT-ROUGIER", "PONTARLIER", "PONTET"]


def test_quick_search_pages_with_offset_and_total(db, duponts):
    everything, total = quick_search_page(db, "*pont", limit=50)
    assert total == len(everything) == 13
    pages = []
    for offset in range(0, total, 5):
        page, page_total = quick_search_page(db, "*pont", limit=5, offset=offset)
        assert page_total == total
        pages.extend(h.number for h in page)
    assert pages == [h.number for h in everything]  # every match reachable, in the same order, once
    assert quick_search_page(db, "*pont", limit=5, offset=13) == ([], 13)
    assert len(quick_search(db, "*pont", limit=1000)) == 13


def test_prefix_completion_finds_every_name_starting_with_it(db, duponts):
    names = {h.name for h in quick_search(db, "dup", limit=50)}
    assert names == {"DUPONT", "DUPONT SADIER", "DUPONT-ROUGIER", "DUPUIS"}


def test_case_and_accents_do_not_matter(db, duponts):
    expected = {("LAFONT", "Céline"), ("CELINE", "Louis"), ("MARTIN", "Celine")}
    for q in ("celine", "CELINE", "Céline", "céLINE"):
        assert {(h.name, h.first_name) for h in quick_search(db, q)} == expected
    assert [h.name for h in quick_search(db, "dupont rougier")] == ["DUPONT-ROUGIER"]
    assert [h.name for h in quick_search(db, "DUPONT-ROU")] == ["DUPONT-ROUGIER"]


def test_star_is_a_wildcard(db, duponts):
    names = {h.name for h in quick_search(db, "*pont", limit=50)}
    assert names == {"DUPONT", "DUPONT SADIER", "DUPONT-ROUGIER", "PONTET"}
    assert {h.name for h in quick_search(db, "du*t", limit=50)} == {"DUPONT", "DUPONT SADIER", "DUPONT-ROUGIER", "DUMONT"}
    assert {h.name for h in quick_search(db, "*sadier")} == {"DUPONT SADIER"}
    assert quick_search(db, "*") == []


def test_name_comma_first_name_narrows(db, duponts):
    assert {h.first_name for h in quick_search(db, "Dupont, j")} == {"Jules"}
    assert {h.first_name for h in quick_search(db, "dupont, FRED")} == {"Frederic"}
    assert len(quick_search(db, "Dupont, fred")) == 2
    assert {h.name for h in quick_search(db, "*pont, m", limit=50)} == {"DUPONT", "DUPONT SADIER", "PONTET"}
    # without the comma, "last first" and "first last" are tried too
    assert [h.number for h in quick_search(db, "dupont chantal")] == [7611]
    assert [h.number for h in quick_search(db, "chantal dupont")] == [7611]


def test_number_and_email(db, duponts, person):
    assert [h.label for h in quick_search(db, "7611")] == ["DUPONT, Chantal | FR-75012 [7611]"]
    assert quick_search(db, "99999") == []
    person("Shapira", "Michel", email="michel.shapira@gmail.com")
    assert [h.name for h in quick_search(db, "Michel.Shapira@")] == ["SHAPIRA"]
    assert [h.name for h in quick_search(db, "michel.shapira@gmail.com")] == ["SHAPIRA"]


def test_the_limit_is_honoured_and_blank_queries_find_nothing(db, duponts):
    assert len(quick_search(db, "dup", limit=3)) == 3
    assert quick_search(db, "") == [] and quick_search(db, "  , ") == []


def test_structures_are_found_by_name_and_by_type(db, duponts, structure):
    structure("Théâtre du Pont-Neuf", type_code="partner")
    assert [h.label.split(" [")[0] for h in quick_search(db, "theatre")] == ["Théâtre du Pont-Neuf | FR-75005"]
    assert quick_search(db, "theatre", kind="individual") == []
    assert len(quick_search(db, "theatre", type_code="partner")) == 1


def test_quick_search_walks_the_name_index(db, duponts, is_postgres):
    """Each branch is a range on a btree index (no LIKE scan), on both databases; a last-name prefix
    walks the display-order index, which gives the rows already sorted (no sort step)."""
    [(cond, order), *_] = _quick_branches("dup")
    stmt = select(Contact.id).where(cond, Contact.valid.is_(True)).order_by(*order).limit(20)
    sql = str(stmt.compile(db.get_bind(), compile_kwargs={"literal_binds": True}))
    if is_postgres:
        db.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = stmt.compile(db.get_bind())
        plan = "\n".join(row[0] for row in db.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
        assert "ix_contacts_contact_sort_name" in plan
        assert "Sort" not in plan.split("Index")[0]  # the index gives the order
    else:
        plan = " ".join(str(row[-1]) for row in db.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "USING INDEX ix_contacts_contact_sort_name (sort_last>? AND sort_last<?)" in plan
        assert "TEMP B-TREE" not in plan


def test_wildcard_search_uses_the_trigram_index_on_postgresql(db, duponts, is_postgres):
    if not is_postgres:
        pytest.skip("the trigram index exists on PostgreSQL only")
    # enough rows for the planner to prefer an index over a scan of the whole table
    db.execute(text(
        "INSERT INTO contacts_contact (number, type_code, kind, role, last_name, first_name, structure_name, "
        "language, valid, ambassador, extra, search_last, search_first, phonetic_name, sort_last, sort_first, "
        "created_at, updated_at) "
        "SELECT 100000 + i, 'individual', 'individual', 'public', 'X', 'Y', '', 'fr', true, false, '{}', "
        "md5(i::text), 'y', '', md5(i::text), 'y', now(), now() FROM generate_series(1, 20000) AS i"))
    db.execute(text("ANALYZE contacts_contact"))
    [(cond, _order)] = _quick_branches("*pont")
    compiled = select(Contact.id).where(cond).compile(db.get_bind())
    plan = "\n".join(row[0] for row in db.connection().exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
    assert "Index Scan on ix_contacts_contact_search_last_trgm" in plan
    assert {h.name for h in quick_search(db, "*pont", limit=50)} == {"DUPONT", "DUPONT SADIER", "DUPONT-ROUGIER", "PONTET"}


# --------------------------------------------------------------------------- advanced search


@pytest.fixture
def town(db, person, structure):
    univ = structure("UNIVERSITY PARIS", postal_code="75005", administrative_number="73282932000074")
    akoka = svc.create_quick(db, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane",
                                  "structure_number": univ.number, "use_structure_address": True,
                                  "mobile_phone": "06 11 22 33 44", "email": "v.akoka@univ.example"})
    shapira = person("Shapira", "Michel", postal_code="07000", city="Freyssenet", phone="04 75 12 34 56")
    svc.update_contact(db, shapira, {"iban": "FR7630006000011234567890189", "reference_code": "ABO-17",
                                     "ambassador": True, "phone": "04 75 12 34 56"})
    record_purchase(db, shapira, datetime(2015, 9, 21, tzinfo=timezone.utc))
    lyon = person("Bernard", "Lucie", postal_code="69001", city="Lyon")
    gva = person("Müller", "Hans", postal_code="1204", city="Genève", country="CH")
    invalid = person("Shapiro", "Michel", postal_code="07000", city="Freyssenet")
    svc.set_validity(db, invalid, False, "Doublon de Shapira")
    create_criterion(db, "dance", "Danse", "individual", "Centres d'intérêt")
    create_criterion(db, "school", "Établissement scolaire", "structure")
    add_criterion(db, shapira, "dance")
    add_criterion(db, univ, "school")
    return {"univ": univ, "akoka": akoka, "shapira": shapira, "lyon": lyon, "gva": gva, "invalid": invalid}


def names(criteria, db):
    return [r.name for r in advanced_search(db, criteria).rows]


@pytest.mark.parametrize("criteria, expected", [
    ({"name": "shap"}, ["SHAPIRA, Michel"]),
    ({"name": "shap", "with_invalid": True}, ["SHAPIRA, Michel", "SHAPIRO, Michel"]),
    ({"name": "*ller"}, ["MÜLLER, Hans"]),
    ({"name": "akoka, v"}, ["AKOKA, Viviane"]),
    ({"nature": "structure"}, ["UNIVERSITY PARIS"]),
    ({"type_code": "structure"}, ["UNIVERSITY PARIS"]),
    ({"phone": "06 11 22 33 44"}, ["AKOKA, Viviane"]),
    ({"phone": "+33475123456"}, ["SHAPIRA, Michel"]),
    ({"email": "V.AKOKA@"}, ["AKOKA, Viviane"]),
    ({"country": "ch"}, ["MÜLLER, Hans"]),
    ({"postal_code": "750"}, ["AKOKA, Viviane", "UNIVERSITY PARIS"]),
    ({"city": "geneve"}, ["MÜLLER, Hans"]),
    ({"with_prospects": False}, ["SHAPIRA, Michel"]),
    ({"with_relays": False, "postal_code": "75005"}, ["UNIVERSITY PARIS"]),
    ({"administrative_number": "732 829 320 00074"}, ["UNIVERSITY PARIS"]),
    ({"criterion": "dance"}, ["SHAPIRA, Michel"]),
    ({"criterion": "school"}, ["UNIVERSITY PARIS"]),
    ({"iban": "yes"}, ["SHAPIRA, Michel"]),
    ({"iban": "FR76 3000 6000 0112 3456 7890 189"}, ["SHAPIRA, Michel"]),
    ({"reference_code": "abo-17"}, ["SHAPIRA, Michel"]),
    ({"ambassadors_only": True}, ["SHAPIRA, Michel"]),
    ({"relay": "akoka"}, ["UNIVERSITY PARIS"]),
    ({"connection_type": "relay_of"}, ["AKOKA, Viviane", "UNIVERSITY PARIS"]),
    ({"q": "michel", "postal_code": "07"}, ["SHAPIRA, Michel"]),
])
def test_advanced_search_fields(db, town, criteria, expected):
    assert names(criteria, db) == expected


def test_advanced_search_number_and_result_columns(db, town):
    page = advanced_search(db, {"number": str(town["akoka"].number)})
    assert page.total == 1
    [row] = page.rows
    assert (row.number, row.role, row.role_label, row.name, row.relay_contact, row.city, row.address) == \
        (town["akoka"].number, "relay", "Relais", "AKOKA, Viviane", "UNIVERSITY PARIS", "PARIS", "75005 PARIS")
    all_rows = advanced_search(db, {}, limit=2)
    assert all_rows.total == 5 and len(all_rows.rows) == 2


def test_advanced_search_refuses_unknown_or_malformed_criteria(db, town):
    with pytest.raises(InvalidError) as exc:
        advanced_search(db, {"colour": "blue", "number": "abc", "phone": "12", "nature": "robot"})
    assert set(exc.value.fields) == {"colour", "number", "phone", "nature"}


def test_the_advanced_search_also_gives_names_ending_with_the_text_first(db, duponts):
    svc.create_contact(db, {"type_code": "individual", "last_name": "Schmit Delapont", "first_name": "A"})
    db.flush()
    page = advanced_search(db, {"q": "*pont", "with_relays": True}, limit=50)
    names = [r.name.split(",")[0] for r in page.rows]
    assert names[:11] == ["DUPONT"] * 10 + ["SCHMIT DELAPONT"] and set(names[11:]) == {
        "DUPONT SADIER", "DUPONT-ROUGIER", "PONTET"}
    assert page.total == 14
    second = advanced_search(db, {"name": "*pont"}, limit=5, offset=10)
    assert [r.name.split(",")[0] for r in second.rows][:1] == ["SCHMIT DELAPONT"]
