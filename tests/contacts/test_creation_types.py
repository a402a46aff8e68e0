"""The creation screen can be extended by a plugin (issue 16): the contact type is chosen up front,
the type's own fields are on the page for it (no failed save needed to see them), a structure type
asks for the structure's name instead of a person's, and what was typed is kept on a refusal."""
from __future__ import annotations

import pytest

from coulisses.web.extensions import db
from tests.conftest import csrf_token_of, login
from tests.platform.conftest import make_plugin

URL = "/admin/contacts/new/"


def school_types():
    from plugins.contacts.registry import ContactType, ExtraField

    def validate(data):
        uai = str(data.get("uai") or "")
        return {} if len(uai) == 8 else {"uai": "UAI : 7 chiffres et une lettre"}

    return [
        ContactType("school", "École", "structure", fields=(
            ExtraField("uai", "Numéro UAI", required=True, searchable=True, help="0751234A"),
            ExtraField("public", "Établissement public", type="bool")), validate=validate, position=50),
        ContactType("teacher", "Enseignant", "individual", fields=(
            ExtraField("subject", "Discipline", type="choice", choices=(("math", "Mathématiques"), ("fr", "Français"))),),
            position=60),
    ]


@pytest.fixture
def school_app(register_plugin, make_app, make_operator):
    register_plugin(make_plugin("tp_school", depends=["contacts"], hooks={"contacts_types": school_types}))
    app = make_app(["tp_school"])
    make_operator("guichet", roles=["operator"])
    return app


@pytest.fixture
def client(school_app):
    client = school_app.test_client()
    assert login(client, "guichet").status_code == 302
    return client


ADDRESS = {"country": "FR", "postal_code": "75005", "city": "Paris", "line1": "12 rue des Écoles"}


def test_the_type_is_chosen_first_and_every_type_brings_its_fields(client):
    html = client.get(URL).get_data(as_text=True)
    select = html.index('id="f-type_code"')
    assert select < html.index('id="f-civility"')  # up front
    assert '<option value="school" data-kind="structure">École</option>' in html
    assert '<option value="individual" data-kind="individual" selected>' in html
    # the fields of every type are in the page, ready to show when it is picked
    assert '<template data-type-fields="school">' in html and 'name="extra.uai"' in html
    assert '<template data-type-fields="teacher">' in html and 'name="extra.subject"' in html
    # a type chosen in the link (?type_code=school): its fields and the structure's name are shown
    html = client.get(URL + "?type_code=school").get_data(as_text=True)
    shown = html.split('id="type-fields"', 1)[1].split("<template", 1)[0]
    assert "Champs du type École" in shown and 'for="f-extra-uai"' in shown
    assert 'data-kind-only="individual" hidden disabled' in html


def test_a_structure_of_a_plugin_type_is_created_from_the_form(client, school_app):
    from plugins.contacts.models import Contact

    page = client.get(URL + "?type_code=school").get_data(as_text=True)
    data = {"csrf_token": csrf_token_of(page), "type_code": "school", "structure_name": "École Jules Ferry",
            "extra.uai": "0751234", "extra.public": "1", **ADDRESS}
    refused = client.post(URL, data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "UAI : 7 chiffres et une lettre" in html and 'value="0751234"' in html
    assert 'value="École Jules Ferry"' in html and "Champs du type École" in html
    done = client.post(URL, data={**data, "extra.uai": "0751234A", "create_internet_account": ""})
    assert done.status_code == 302, done.get_data(as_text=True)
    with school_app.app_context():
        contact = db.session.query(Contact).filter_by(type_code="school").one()
        assert (contact.kind, contact.structure_name) == ("structure", "École Jules Ferry")
        assert contact.extra == {"uai": "0751234A", "public": True}
        assert contact.main_address.city.upper() == "PARIS"


def test_an_individual_of_a_plugin_type_is_created_with_its_fields(client, school_app):
    from plugins.contacts.models import Contact

    page = client.get(URL).get_data(as_text=True)
    done = client.post(URL, data={"csrf_token": csrf_token_of(page), "type_code": "teacher", "civility": "MME",
                                  "last_name": "Curie", "first_name": "Marie", "extra.subject": "math",
                                  "force": "1", **ADDRESS})
    assert done.status_code == 302, done.get_data(as_text=True)
    with school_app.app_context():
        contact = db.session.query(Contact).filter_by(type_code="teacher").one()
        assert contact.extra == {"subject": "math"} and contact.last_name == "CURIE"


def test_a_structure_type_needs_its_name(client):
    page = client.get(URL).get_data(as_text=True)
    refused = client.post(URL, data={"csrf_token": csrf_token_of(page), "type_code": "school",
                                     "extra.uai": "0751234A", **ADDRESS})
    assert refused.status_code == 422
    assert "Nom de la structure : obligatoire" in refused.get_data(as_text=True)
