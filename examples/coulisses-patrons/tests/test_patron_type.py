"""The contact type "patron" (mécène) this plugin adds to the contacts plugin: registered, validated,
shown and edited on the contact sheet, found by the search, and linked to the pledges."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner

from coulisses import InvalidError
from coulisses.testing import app_session, csrf_token_of
from plugins.contacts.services import contacts as contacts_svc
from plugins.contacts.services.search import advanced_search, quick_search

from coulisses_patrons import services
from coulisses_patrons.cli import patrons
from coulisses_patrons.contact_type import PATRON

ADDRESS = {"country": "FR", "postal_code": "75011", "city": "Paris"}


def visible(html: str) -> str:
    """The page's text without tags, one space between words (what a person reads)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&gt;", ">").replace("&#39;", "'")
    return text.replace("\u202f", " ").replace("\xa0", " ").strip()


def new_patron(session, last_name="Medicis", first_name="Laurent", level="gold", since=2015, **more):
    extra = {"level": level, **({"since": since} if since is not None else {})}
    return contacts_svc.create_contact(session, {"type_code": "patron", "civility": "M", "last_name": last_name,
                                                 "first_name": first_name, "extra": extra, **more},
                                       address=ADDRESS)


@pytest.fixture
def boss(app, make_operator, client_for):
    make_operator("boss", roles=["administrator"])
    return client_for("boss")


# --------------------------------------------------------------------------- registry


def test_the_type_is_registered_in_the_contacts_registry(app, make_operator, token_for):
    registry = app.extensions["contacts"]
    assert app.extensions["coulisses"].order == ["contacts", "patrons"]  # depends=["contacts"]
    assert registry.types["patron"] is PATRON and registry.owners["type:patron"] == "patrons"
    assert registry.types["patron"].kind == "individual"
    make_operator("lecteur", roles=["readonly"])
    types = app.test_client().get("/api/v1/contact-types",
                                  headers={"Authorization": f"Bearer {token_for('lecteur')}"}).get_json()
    patron = next(t for t in types if t["code"] == "patron")
    assert patron["label"] == "Mécène"
    assert [(f["name"], f["searchable"]) for f in patron["fields"]] == [("level", True), ("since", True)]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("extra, field, message", [
    ({"level": "platinum"}, "extra.level", "Niveau de mécénat : valeur attendue parmi : bronze, silver, gold"),
    ({}, "extra.level", "Niveau de mécénat : obligatoire"),
    ({"level": "gold", "since": "l'an dernier"}, "extra.since", "Mécène depuis : nombre entier attendu"),
    ({"level": "gold", "since": 1850}, "extra.since", "Mécène depuis : une année entre 1900 et"),
    ({"level": "gold", "since": date.today().year + 1}, "extra.since", "Mécène depuis : une année entre 1900 et"),
    ({"level": "gold", "shoe_size": 42}, "extra.shoe_size", "Champ inconnu pour le type Mécène"),
])
def test_a_wrong_value_is_refused_with_a_message_naming_the_field(app, extra, field, message):
    with app_session(app) as session:
        with pytest.raises(InvalidError) as err:
            contacts_svc.create_contact(session, {"type_code": "patron", "last_name": "Medicis", "extra": extra})
        assert list(err.value.fields) == [field]
        assert err.value.fields[field].startswith(message)


def test_the_rest_api_refuses_a_bad_level_with_the_message(app, make_operator, token_for):
    make_operator("caisse", roles=["operator"])
    response = app.test_client().post("/api/v1/contacts", headers={"Authorization": f"Bearer {token_for('caisse')}"},
                                      json={"type_code": "patron", "civility": "M", "last_name": "Medicis",
                                            "first_name": "Laurent", **ADDRESS, "extra": {"level": "platinum"}})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "extra.level": "Niveau de mécénat : valeur attendue parmi : bronze, silver, gold"}


# --------------------------------------------------------------------------- REST creation and search


def test_a_patron_created_through_the_rest_api_is_found_by_quick_and_advanced_search(app, make_operator, token_for):
    make_operator("caisse", roles=["operator"])
    headers = {"Authorization": f"Bearer {token_for('caisse')}"}
    client = app.test_client()
    created = client.post("/api/v1/contacts", headers=headers, json={
        "type_code": "patron", "civility": "MME", "last_name": "Duparc", "first_name": "Hélène", **ADDRESS,
        "extra": {"level": "silver", "since": "2019"}})
    assert created.status_code == 201, created.get_json()
    sheet = created.get_json()
    assert sheet["type_label"] == "Mécène"
    assert {(f["name"], f["value"], f["display"]) for f in sheet["general"]["extra"]} == {
        ("level", "silver", "Argent"), ("since", 2019, "2019")}
    number = sheet["number"]
    with app_session(app) as session:  # another patron and an ordinary contact of the same name
        new_patron(session, "Duparc", "Henri", level="bronze", since=2024)
        contacts_svc.create_contact(session, {"type_code": "individual", "last_name": "Duparc", "first_name": "Hugo"},
                                    address=ADDRESS)
        session.commit()

    quick = client.get("/api/v1/contacts?q=duparc, he", headers=headers).get_json()
    assert [item["label"] for item in quick["items"]] == [f"DUPARC, Hélène | FR-75011 [{number}]",
                                                          f"DUPARC, Henri | FR-75011 [{number + 1}]"]
    by_level = client.get("/api/v1/contacts?extra.level=silver", headers=headers).get_json()
    assert by_level["mode"] == "advanced" and [i["number"] for i in by_level["items"]] == [number]
    by_year = client.get("/api/v1/contacts?type_code=patron&extra.since=2024", headers=headers).get_json()
    assert [i["name"] for i in by_year["items"]] == ["DUPARC, Henri"]
    patrons_only = client.get("/api/v1/contacts?type_code=patron&name=duparc", headers=headers).get_json()
    assert patrons_only["total"] == 2
    with app_session(app) as session:  # the same through the services
        assert [h.first_name for h in quick_search(session, "duparc", type_code="patron")] == ["Hélène", "Henri"]
        assert [r.name for r in advanced_search(session, {"extra.level": "SILVER"}).rows] == ["DUPARC, Hélène"]


# --------------------------------------------------------------------------- the contact sheet


def test_the_sheet_shows_and_edits_the_patron_fields(app, boss):
    with app_session(app) as session:
        number = new_patron(session, level="silver", since=2015).number
        session.commit()
    summary = visible(boss.get(f"/admin/contacts/sheet/{number}/").get_data(as_text=True))
    assert "Mécène" in summary
    assert "Niveau de mécénat Argent" in summary and "Mécène depuis 2015" in summary

    page = boss.get(f"/admin/contacts/sheet/{number}/?tab=general").get_data(as_text=True)
    assert "Champs du type Mécène" in page
    assert '<option value="silver" selected>Argent</option>' in page and 'name="extra.since"' in page
    form = {"csrf_token": csrf_token_of(page), "civility": "M", "last_name": "MEDICIS", "first_name": "Laurent",
            "language": "fr", "type_code": "patron", "extra.level": "gold", "extra.since": "1850"}
    refused = boss.post(f"/admin/contacts/sheet/{number}/general", data=form)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'data-error-for="extra.since">Mécène depuis : une année entre 1900 et \d{4} \(reçu 1850\)<', html)
    assert 'value="1850"' in html  # what was typed is kept

    saved = boss.post(f"/admin/contacts/sheet/{number}/general", data={**form, "extra.since": "2012"})
    assert saved.status_code == 302
    summary = visible(boss.get(f"/admin/contacts/sheet/{number}/").get_data(as_text=True))
    assert "Niveau de mécénat Or" in summary and "Mécène depuis 2012" in summary


def test_the_advanced_search_screen_offers_the_patron_fields(app, boss):
    with app_session(app) as session:
        new_patron(session, "Medicis", "Laurent", level="gold")
        new_patron(session, "Sforza", "Ludovic", level="bronze")
        session.commit()
    page = boss.get("/admin/contacts/?adv=1").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="extra.level"', page)  # a list of the levels, not a free text
    assert '<option value="gold">Or</option>' in page and 'name="extra.since"' in page
    result = visible(boss.get("/admin/contacts/?searched=1&with_prospects=1&with_relays=1&extra.level=gold")
                     .get_data(as_text=True))
    assert "MEDICIS, Laurent" in result and "SFORZA" not in result and "1 contact" in result


# --------------------------------------------------------------------------- pledges of a patron contact


def test_a_pledge_is_recorded_against_a_patron_contact_only(app):
    with app_session(app) as session:
        patron = new_patron(session)
        other = contacts_svc.create_contact(session, {"type_code": "individual", "last_name": "Durand"})
        pledge = services.add_pledge(session, "", "2420.00", date(2026, 3, 2), contact_number=patron.number)
        assert (pledge.donor_name, pledge.contact_number) == ("MEDICIS, Laurent", patron.number)
        for number, message in ((other.number, f"Contact {other.number} is not a patron (its type is 'individual')."),
                                (999999, "There is no contact number 999999.")):
            with pytest.raises(InvalidError) as err:
                services.add_pledge(session, "X", "10.00", contact_number=number)
            assert err.value.fields == {"contact_number": message}


def test_the_patron_s_pledges_are_on_the_management_tab_and_in_the_api(app, boss, token_for):
    with app_session(app) as session:
        patron = new_patron(session)
        ordinary = contacts_svc.create_contact(session, {"type_code": "individual", "last_name": "Durand"})
        services.add_pledge(session, "", "2000.00", date(2026, 1, 15), "Saison 2026", contact_number=patron.number)
        services.add_pledge(session, "", "420.50", date(2026, 3, 2), contact_number=patron.number)
        session.commit()
        number, other = patron.number, ordinary.number
    tab = visible(boss.get(f"/admin/contacts/sheet/{number}/?tab=management").get_data(as_text=True))
    assert "Promesses de mécénat" in tab and "Total promis : 2 420,50 €" in tab
    assert "02.03.2026 420,50 €" in tab and "15.01.2026 2 000,00 € Saison 2026" in tab
    other_tab = boss.get(f"/admin/contacts/sheet/{other}/?tab=management").get_data(as_text=True)
    assert 'data-testid="section-patrons_pledges"' not in other_tab  # no section for a contact who is not a patron
    assert "Aucun module de gestion n'apporte d'information pour ce contact." in visible(other_tab)
    sheet = app.test_client().get(f"/api/v1/contacts/{number}",
                                  headers={"Authorization": f"Bearer {token_for('boss')}"}).get_json()
    section = next(s for s in sheet["sections"] if s["code"] == "patrons_pledges")
    assert section["tab"] == "management" and section["data"]["total"] == "2420.50"


def test_the_admin_form_takes_the_patron_s_number(app, boss):
    with app_session(app) as session:
        number = new_patron(session).number
        other = contacts_svc.create_contact(session, {"type_code": "individual", "last_name": "Durand"}).number
        session.commit()
    form = boss.get("/admin/patrons_patronage/new/")
    data = {"csrf_token": csrf_token_of(form.get_data(as_text=True)), "donor_name": "Laurent de Médicis",
            "patron_number": str(other), "amount": "1 500,00", "pledged_on": "2026-05-01", "note": ""}
    refused = boss.post("/admin/patrons_patronage/new/", data=data)
    assert refused.status_code == 200 and f"Contact {other} is not a patron" in refused.get_data(as_text=True)
    assert boss.post("/admin/patrons_patronage/new/", data={**data, "patron_number": str(number)}).status_code == 302
    listing = visible(boss.get("/admin/patrons_patronage/").get_data(as_text=True))
    assert f"Laurent de Médicis {number} 1 500,00 €" in listing
    with app_session(app) as session:
        assert [p.contact_number for p in services.list_pledges(session)] == [number]


def test_deleting_the_patron_keeps_the_pledge_and_the_references_are_declared(app):
    with app_session(app) as session:
        patron = new_patron(session)
        services.add_pledge(session, "", "100.00", contact_number=patron.number)
        refs = app.extensions["contacts"].references
        assert any((r.table, r.column) == ("patrons_patronage", "contact_id") for r in refs)  # merge moves it
        contacts_svc.delete_contact(session, patron)  # a prospect may be deleted
        session.commit()
        [pledge] = services.list_pledges(session)
        assert (pledge.donor_name, pledge.contact_id, pledge.amount) == ("MEDICIS, Laurent", None, Decimal("100.00"))


def test_the_add_command_takes_the_patron_s_number(app):
    with app_session(app) as session:
        number = new_patron(session).number
        session.commit()
    runner = CliRunner()
    with app.app_context():
        ok = runner.invoke(patrons, ["add", "", "500", "--contact", str(number)])
        assert ok.exit_code == 0, ok.output
        assert "MEDICIS, Laurent" in ok.output
        refused = runner.invoke(patrons, ["add", "X", "500", "--contact", "424242"])
        assert refused.exit_code == 1 and "There is no contact number 424242." in refused.output
