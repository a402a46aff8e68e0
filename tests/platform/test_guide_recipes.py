"""The recipes of docs/plugin-guide.md §15, run as written: a structure type of one's own ("École",
with a validated, normalised, searchable UAI number), created in code, through the API and on screen."""
from __future__ import annotations

import re

import pytest

from coulisses.testing import app_session, csrf_token_of
from tests.platform.conftest import make_plugin

UAI = re.compile(r"^[0-9]{7}[A-Z]$")


def school_types():
    from plugins.contacts.registry import ContactType, ExtraField

    def validate_school(data):
        uai = data.get("uai")
        if uai is not None and not UAI.match(uai.upper()):
            return {"uai": f"UAI : 7 chiffres et une lettre, par exemple 0751234A (reçu {uai})"}
        return {}

    return [ContactType(
        code="school", label="École", kind="structure",
        fields=(ExtraField("uai", "Numéro UAI", "str", required=True, max_length=8, searchable=True,
                           help="7 chiffres et une lettre, par exemple 0751234A"),),
        validate=validate_school, description="Établissement scolaire", position=90)]


def upper_uai(session, contact, changed=None):
    """The guide's normalisation: the stored UAI is always upper-case."""
    uai = (contact.extra or {}).get("uai")
    if uai and uai != uai.upper():
        contact.extra = {**contact.extra, "uai": uai.upper()}


@pytest.fixture
def app(make_app, register_plugin):
    register_plugin(make_plugin("tp_school", depends=["contacts"], hooks={
        "contacts_types": school_types,
        "contacts_contact_created": lambda session, contact: upper_uai(session, contact),
        "contacts_contact_updated": lambda session, contact, changed: upper_uai(session, contact, changed),
    }))
    return make_app(["tp_school"])


def test_a_school_is_created_in_code_normalised_and_validated(app):
    from coulisses import InvalidError
    from plugins.contacts.services.contacts import create_contact, update_contact

    with app_session(app) as session:
        school = create_contact(session, {"type_code": "school", "structure_name": "École Jules Ferry",
                                          "extra": {"uai": " 0751234a "}})
        session.commit()
        assert school.kind == "structure" and school.extra == {"uai": "0751234A"}
        with pytest.raises(InvalidError) as bad:
            create_contact(session, {"type_code": "school", "structure_name": "École X", "extra": {"uai": "75"}})
        assert bad.value.fields == {"extra.uai": "UAI : 7 chiffres et une lettre, par exemple 0751234A (reçu 75)"}
        session.rollback()
        update_contact(session, school, {"extra": {"uai": "0759999b"}})
        session.commit()
        assert school.extra == {"uai": "0759999B"}


def test_a_school_is_created_through_the_api_and_found_by_its_uai(app, make_operator, token_for):
    make_operator("caisse", roles=["supervisor"])
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('caisse')}"}
    created = client.post("/api/v1/contacts", json={
        "type_code": "school", "structure_name": "École Jules Ferry", "extra": {"uai": "0751234a"},
        "line1": "12 rue des Écoles", "postal_code": "75005", "city": "Paris", "country": "FR"}, headers=auth)
    assert created.status_code == 201, created.get_json()
    found = client.get("/api/v1/contacts?extra.uai=0751234A", headers=auth).get_json()
    assert [c["number"] for c in found["items"]] == [created.get_json()["number"]]


def test_a_structure_becomes_a_school_on_its_sheet(app, make_operator, client_for):
    """On screen: create the structure, then pick the type École on its sheet and fill its fields."""
    from plugins.contacts.services.contacts import create_contact

    with app_session(app) as session:
        number = create_contact(session, {"type_code": "structure", "structure_name": "École Jules Ferry"}).number
        session.commit()
    make_operator("superviseur", roles=["supervisor"])
    client = client_for("superviseur")
    sheet = client.get(f"/admin/contacts/sheet/{number}/?tab=general")
    assert sheet.status_code == 200
    page = sheet.get_data(as_text=True)
    assert '<option value="school">École</option>' in page  # the type is offered for a structure
    form = {"csrf_token": csrf_token_of(page), "structure_name": "École Jules Ferry", "language": "fr"}
    # picking the type without its required field: the form comes back with the type's fields
    first = client.post(f"/admin/contacts/sheet/{number}/general", data={**form, "type_code": "school"})
    assert first.status_code == 422
    assert 'name="extra.uai"' in first.get_data(as_text=True) and "Numéro UAI : obligatoire" in first.get_data(as_text=True)
    saved = client.post(f"/admin/contacts/sheet/{number}/general",
                        data={**form, "type_code": "school", "extra.uai": "0751234a"})
    assert saved.status_code in (200, 302), saved.get_data(as_text=True)[:2000]
    with app_session(app) as session:
        from plugins.contacts.models import Contact
        from sqlalchemy import select

        contact = session.scalar(select(Contact).where(Contact.number == number))
        assert contact.type_code == "school" and contact.extra == {"uai": "0751234A"}
