"""Likely duplicates: the French phonetic key, the detection run, false positives, the merge (service,
REST, screen, CLI)."""
from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from coulisses import ConflictError, InvalidError
from coulisses import plugins as cplugins
from plugins.contacts.models import Address, Contact, DuplicatePair, MergeLog, Note
from plugins.contacts.registry import ContactReference, Registry, use_registry
from plugins.contacts.services import duplicates as dup
from plugins.contacts.services.normalize import phonetic_fr
from plugins.contacts.services.search import quick_search
from tests.conftest import app_session, csrf_token_of
from tests.platform.conftest import make_plugin


@pytest.mark.parametrize("a, b", [
    ("DUPONT", "Dupond"), ("Dupont-Rougier", "DUPONT ROUGIER"), ("Céline", "Seline"), ("Gauthier", "Gotié"),
    ("Renault", "Renaud"), ("Lefebvre", "Lefèvre"), ("Schmitt", "Chmit"), ("Robin", "Robain"),
    ("Lemaire", "Lemerre"), ("Philippe", "Filipe"), ("Thomas", "Tomas"), ("Chevallier", "Chevalier"),
])
def test_phonetic_key_is_french_aware(a, b):
    assert phonetic_fr(a) == phonetic_fr(b) != ""


@pytest.mark.parametrize("a, b", [("Dupont", "Dupuis"), ("Martin", "Martel"), ("Fontaine", "Fontan"),
                                  ("Rosier", "Rossier"), ("Petit", "Pierre")])
def test_phonetic_key_keeps_different_names_apart(a, b):
    assert phonetic_fr(a) != phonetic_fr(b)


def _pairs(db):
    return db.scalars(select(DuplicatePair).order_by(DuplicatePair.id)).all()


def test_detection_pairs_same_sounding_names_at_the_same_address_once(db, person):
    a = person("DUPONT", "Jean", "75012", line1="12 rue de la Paix")
    b = person("Dupond", "jean", "75012", line1="12, Rue de la paix")
    person("DUPONT", "Jean", "75013", line1="12 rue de la Paix")  # other postal code
    person("DUPONT", "Marc", "75012", line1="12 rue de la Paix")  # other first name
    person("DUPUIS", "Jean", "75012", line1="12 rue de la Paix")  # other name
    db.commit()
    result = dup.detect(db)
    assert (result.new_pairs, result.open_pairs) == (1, 1)
    [pair] = _pairs(db)
    assert {pair.contact_a_id, pair.contact_b_id} == {a.id, b.id} and pair.status == "open"
    again = dup.detect(db)
    assert again.new_pairs == 0 and again.known_pairs == 1 and len(_pairs(db)) == 1


def test_detection_uses_the_email_when_there_is_no_address(db):
    from plugins.contacts.services.contacts import create_contact

    a = create_contact(db, {"type_code": "individual", "last_name": "Lefebvre", "first_name": "Anne",
                            "email": "anne.l@example.org"})
    b = create_contact(db, {"type_code": "individual", "last_name": "LEFÈVRE", "first_name": "Anne",
                            "email": "Anne.L@example.org"})
    create_contact(db, {"type_code": "individual", "last_name": "Lefebvre", "first_name": "Anne",
                        "email": "other@example.org"})
    assert dup.detect(db).new_pairs == 1
    [pair] = _pairs(db)
    assert {pair.contact_a_id, pair.contact_b_id} == {a.id, b.id}


def test_a_false_positive_is_never_proposed_again(db, person):
    person("Renault", "Paul", "69003", line1="3 cours Gambetta")
    person("RENAUD", "Paul", "69003", line1="3 Cours Gambetta")
    dup.detect(db)
    [pair] = _pairs(db)
    dup.mark_false_positive(db, pair)
    with pytest.raises(ConflictError):
        dup.mark_false_positive(db, pair)
    result = dup.detect(db)
    assert result.new_pairs == 0 and result.open_pairs == 0
    assert dup.open_pairs(db)[1] == 0


def test_merge_moves_every_reference_deactivates_the_other_and_logs_it(db, person, operator_id):
    from plugins.contacts.services import details
    from plugins.contacts.services.accounts import create_internet_account

    head = person("DUPONT", "Jean", "75012", line1="12 rue de la Paix", email="jean@old.fr")
    other = person("DUPOND", "Jean", "75012", line1="12 rue de la Paix", email="jean.dupont@new.fr",
                   mobile_phone="06 12 34 56 78")
    details.add_note(db, other, "Préfère le balcon")
    details.create_criterion(db, "vip", "VIP")
    details.create_criterion(db, "press", "Presse")
    details.set_criteria(db, other, ["vip", "press"])
    details.set_criteria(db, head, ["vip"])
    details.set_consent(db, other, "email", True)
    details.set_consent(db, head, "email", False)
    create_internet_account(db, other)
    db.commit()
    dup.detect(db)
    [pair] = _pairs(db)
    head_number, other_number = head.number, other.number
    log = dup.merge_pair(db, pair, head_number, {"email": "other"})
    db.commit()
    db.expire_all()
    head = db.get(Contact, head.id)
    other = db.get(Contact, other.id)
    # field choices: the e-mail of the other, the mobile the head did not have
    assert head.email == "jean.dupont@new.fr" and head.mobile_phone == "+33612345678"
    # references moved; duplicates of unique rows dropped (criterion vip, consent email)
    assert [n.text for n in details.notes_of(db, head)] == ["Préfère le balcon"]
    assert sorted(c.code for c in details.criteria_of(db, head)) == ["press", "vip"]
    assert details.consents_of(db, head)["email"] is False
    assert head.internet_account is not None
    assert db.scalar(select(func.count()).select_from(Address).where(Address.contact_id == other.id)) == 0
    assert db.scalar(select(func.count()).select_from(Note).where(Note.contact_id == other.id)) == 0
    # the other: deactivated, its number kept (never reused), hidden from search
    assert other is not None and other.valid is False and f"{head_number}" in other.invalid_reason
    assert [h.number for h in quick_search(db, "dupon")] == [head_number]
    assert dup.merged_into(db, other_number) == head_number
    from plugins.contacts.services.contacts import create_quick

    fresh = create_quick(db, {"civility": "M", "last_name": "NEUF", "first_name": "Paul", "country": "FR",
                              "postal_code": "75001", "city": "PARIS"})
    assert fresh.number > max(head_number, other_number)
    # the audit trail
    log = db.scalar(select(MergeLog))
    assert (log.head_number, log.merged_number, log.created_by_id) == (head_number, other_number, operator_id)
    assert log.snapshot["email"] == "jean.dupont@new.fr" and log.snapshot["number"] == other_number
    assert log.snapshot["addresses"][0]["line1"] == "12 rue de la Paix"
    assert log.moved["contacts_note.contact_id"] == 1 and log.choices["email"] == "other"
    assert db.get(DuplicatePair, pair.id).status == "merged"


def test_merge_refuses_a_structure_into_an_individual_and_a_closed_pair(db, person, structure):
    p = person("DUPONT", "Jean")
    s = structure("DUPONT")
    with pytest.raises(InvalidError):
        dup.merge(db, None, p, s)
    with pytest.raises(InvalidError):
        dup.merge(db, None, p, p)


def test_merge_moves_the_references_other_plugins_declare(db, person, register_plugin):
    """A plugin's table (here reflected from the database: its models are not imported) follows."""
    from sqlalchemy import text

    db.execute(text("CREATE TABLE tp_batch_order (id INTEGER PRIMARY KEY, "
                    "contact_id INTEGER REFERENCES contacts_contact (id), ref VARCHAR(20))"))
    db.commit()
    orders = Table("tp_batch_order", MetaData(), Column("id", Integer, primary_key=True),
                   Column("contact_id", Integer), Column("ref", String(20)))
    head = person("MARTIN", "Léa", "33000", line1="1 rue Sainte-Catherine")
    other = person("MARTIN", "Lea", "33000", line1="1 rue Ste Catherine")
    db.execute(orders.insert(), [{"id": 1, "contact_id": other.id, "ref": "D-1"}, {"id": 2, "contact_id": other.id, "ref": "D-2"}])
    register_plugin(make_plugin("tp_batch", depends=["contacts"], hooks={
        "contacts_references": lambda: [ContactReference("tp_batch_order", "contact_id", "Dossiers")]}))
    infos = cplugins.discover()
    registry = Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_batch"])))
    with use_registry(registry):
        log = dup.merge(db, None, head, other)
    assert db.execute(select(orders.c.contact_id)).scalars().all() == [head.id, head.id]
    assert log.moved["tp_batch_order.contact_id"] == 2


# --------------------------------------------------------------------------- REST, screen, CLI


@pytest.fixture
def two_duponts(app):
    from plugins.contacts.services.contacts import create_quick

    with app_session(app) as s:
        a = create_quick(s, {"civility": "M", "last_name": "DUPONT", "first_name": "Jean", "country": "FR",
                             "postal_code": "75012", "city": "PARIS", "line1": "12 rue de la Paix"})
        b = create_quick(s, {"civility": "M", "last_name": "DUPOND", "first_name": "Jean", "country": "FR",
                             "postal_code": "75012", "city": "PARIS", "line1": "12 rue de la Paix",
                             "email": "jd@example.org"})
        s.commit()
        return a.number, b.number


def test_rest_lists_merges_and_marks_false_positive(app, api, two_duponts):
    a, b = two_duponts
    assert api("operator").get("/api/v1/contacts/duplicates").status_code == 403
    client = api("supervisor")
    detected = client.post("/api/v1/contacts/duplicates/detect").get_json()
    assert detected["new_pairs"] == 1
    listing = client.get("/api/v1/contacts/duplicates").get_json()
    assert listing["total"] == 1
    pair = listing["items"][0]
    assert {pair["a"]["number"], pair["b"]["number"]} == {a, b}
    assert any(f["field"] == "email" and f["differ"] for f in pair["fields"])
    bad = client.post(f"/api/v1/contacts/duplicates/{pair['id']}/merge", json={"head": 999999})
    assert bad.status_code == 422
    merged = client.post(f"/api/v1/contacts/duplicates/{pair['id']}/merge", json={"head": a, "choices": {"email": "other"}})
    assert merged.status_code == 200, merged.get_json()
    assert (merged.get_json()["head_number"], merged.get_json()["merged_number"]) == (a, b)
    sheet = client.get(f"/api/v1/contacts/{a}").get_json()
    assert "jd@example.org" in str(sheet)
    again = client.post(f"/api/v1/contacts/duplicates/{pair['id']}/false-positive")
    assert again.status_code == 409


def test_screen_merge_with_a_radio_per_field(app, make_operator, client_for, two_duponts):
    a, b = two_duponts
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    page = client.get("/admin/contacts/duplicates/")
    assert page.status_code == 200 and re.search(r"\b0 paires? à traiter", page.get_data(as_text=True))
    token = csrf_token_of(page.get_data(as_text=True))
    client.post("/admin/contacts/duplicates/detect", data={"csrf_token": token})
    page = client.get("/admin/contacts/duplicates/").get_data(as_text=True)
    assert "1 paire à traiter" in page and f"[{a}]" in page and f"[{b}]" in page
    with app_session(app) as s:
        pair_id = s.scalar(select(DuplicatePair.id))
    form = client.get(f"/admin/contacts/duplicates/{pair_id}/").get_data(as_text=True)
    assert 'name="field_email"' in form and "jd@example.org" in form
    done = client.post(f"/admin/contacts/duplicates/{pair_id}/merge",
                       data={"csrf_token": token, "head": "a", "field_email": "b"}, follow_redirects=True)
    assert f"fusionné dans le contact" in done.get_data(as_text=True)
    with app_session(app) as s:
        kept = s.scalar(select(Contact).where(Contact.number == a))
        assert kept.email == "jd@example.org"


def test_screen_refused_without_contacts_merge(app, make_operator, client_for):
    make_operator("guichet", roles=["operator"])
    assert client_for("guichet").get("/admin/contacts/duplicates/").status_code == 403


def test_cli_detect_prints_counts(app, two_duponts, database_url):
    from coulisses.cli import main

    result = CliRunner().invoke(main, ["contacts", "duplicates", "detect"], env={
        "COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
        "COULISSES_INSTANCE_PATH": str(app.instance_path)})
    assert result.exit_code == 0, result.output
    assert "Nouvelles paires : 1" in result.output and "Paires ouvertes à traiter : 1" in result.output


def test_screen_shows_the_detection_time_in_paris_time(app, make_operator, client_for, two_duponts):
    """Issue 14: "Détectée le …" is local (Europe/Paris), as every other screen, not UTC."""
    from datetime import datetime, timezone

    from sqlalchemy import update

    make_operator("chef2", roles=["supervisor"])
    client = client_for("chef2")
    token = csrf_token_of(client.get("/admin/contacts/duplicates/").get_data(as_text=True))
    client.post("/admin/contacts/duplicates/detect", data={"csrf_token": token})
    with app_session(app) as s:  # 23:30 UTC on 31 July is 01:30 on 1 August in Paris (summer time)
        s.execute(update(DuplicatePair).values(detected_at=datetime(2026, 7, 31, 23, 30, tzinfo=timezone.utc)))
        s.commit()
    page = client.get("/admin/contacts/duplicates/").get_data(as_text=True)
    assert "01.08.2026 01:30" in page and "31.07.2026" not in page
