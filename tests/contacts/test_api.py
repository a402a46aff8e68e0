"""The contacts REST API, through the test client with bearer tokens."""
import pytest

from coulisses import security
from tests.conftest import app_session

QUICK = {"civility": "M", "last_name": "Shapira", "first_name": "Michel", "country": "FR",
         "postal_code": "07000", "city": "Freyssenet", "line1": "123 ELCA",
         "email": "michel.shapira@gmail.com", "mobile_phone": "06 12 34 56 78"}


@pytest.fixture
def op(api):
    return api("operator")


@pytest.fixture
def michel(op):
    response = op.post("/api/v1/contacts", json={**QUICK, "create_internet_account": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_default_roles_get_the_contacts_permissions(app):
    with app_session(app) as session:
        roles = {r.code: r.permission_codes for r in session.scalars(security.select(security.Role))}
    contacts = lambda codes: {c for c in codes if c.startswith("contacts.")}  # noqa: E731
    assert contacts(roles["operator"]) == {"contacts.view", "contacts.edit"}
    assert contacts(roles["readonly"]) == {"contacts.view"}
    assert contacts(roles["supervisor"]) == {"contacts.view", "contacts.edit", "contacts.delete", "contacts.merge",
                                             "contacts.import", "contacts.export"}
    assert "contacts.personal_data" in roles["administrator"]


def test_quick_creation_returns_the_sheet_and_the_password_once(op, michel):
    assert michel["header"] == f"{michel['number']} Monsieur Michel SHAPIRA (Prospect)"
    assert michel["general"]["mobile_phone"] == "+33612345678"
    assert michel["general"]["mobile_phone_display"] == "+33 6 12 34 56 78"
    assert michel["internet_account"]["login"] == "michel.shapira@gmail.com"
    assert len(michel["generated_password"]) >= 12
    again = op.get(f"/api/v1/contacts/{michel['number']}").get_json()
    assert "generated_password" not in again
    assert again["main_address"]["postal_code"] == "07000"
    assert [i["code"] for i in again["indicators"]][:2] == ["attendance", "member"]


def test_a_refused_creation_gives_every_field_error(op):
    response = op.post("/api/v1/contacts", json={"last_name": "Dupont", "country": "FR", "postal_code": "750",
                                                 "mobile_phone": "12"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"civility", "first_name", "city", "postal_code", "mobile_phone"}
    assert op.get("/api/v1/contacts?q=dupont").get_json()["items"] == []  # nothing half-created
    # a wrong type in the body is a 422 from the schema
    assert op.post("/api/v1/contacts", json={**QUICK, "structure_number": "abc"}).status_code == 422


def test_create_a_structure_then_a_relay_in_it(op):
    univ = op.post("/api/v1/contacts", json={"type_code": "structure", "structure_name": "UNIVERSITY PARIS",
                                             "country": "FR", "postal_code": "75005", "city": "Paris"})
    assert univ.status_code == 201, univ.get_json()
    assert univ.get_json()["kind"] == "structure"
    akoka = op.post("/api/v1/contacts", json={"civility": "MME", "last_name": "Akoka", "first_name": "Viviane",
                                              "structure_number": univ.get_json()["number"],
                                              "use_structure_address": True}).get_json()
    assert akoka["role_label"] == "Relais"
    assert akoka["links"][0]["label"] == "Relais de" and akoka["links"][0]["other_name"] == "UNIVERSITY PARIS"
    [hit] = op.get("/api/v1/contacts?q=akoka").get_json()["items"]
    assert hit["label"] == f"AKOKA, Viviane | UNIVERSITY PARIS / Relais [{akoka['number']}]"


def test_search_quick_and_advanced(op, michel):
    body = op.get("/api/v1/contacts?q=shap").get_json()
    assert body["mode"] == "quick"
    assert [i["label"] for i in body["items"]] == [f"SHAPIRA, Michel | FR-07000 [{michel['number']}]"]
    body = op.get("/api/v1/contacts?q=michel&postal_code=07&with_prospects=true").get_json()
    assert body["mode"] == "advanced" and body["total"] == 1
    assert body["items"][0]["address"] == "123 ELCA, 07000 FREYSSENET"
    assert op.get("/api/v1/contacts?with_prospects=false").get_json()["total"] == 0
    bad = op.get("/api/v1/contacts?colour=blue")
    assert bad.status_code == 422 and "colour" in bad.get_json()["error"]["fields"]
    assert op.get("/api/v1/contacts?nature=robot").status_code == 422


def test_patch_changes_fields_and_validity(op, michel):
    url = f"/api/v1/contacts/{michel['number']}"
    response = op.patch(url, json={"birth_date": "08.07.2000", "iban": "FR76 3000 6000 0112 3456 7890 189"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["general"]["birth_date"] == "2000-07-08"
    assert response.get_json()["general"]["iban_display"] == "FR76 3000 6000 0112 3456 7890 189"
    bad = op.patch(url, json={"email": "nope", "last_name": ""})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"email", "last_name"}
    assert op.patch(url, json={"valid": False}).status_code == 422  # a reason is needed
    assert op.patch(url, json={"valid": False, "invalid_reason": "Doublon"}).get_json()["valid"] is False
    assert op.get("/api/v1/contacts?q=shapira").get_json()["items"] == []
    assert op.get("/api/v1/contacts?q=shapira&with_invalid=true").get_json()["total"] == 1


def test_not_found_and_permissions(api, michel):
    reader = api("readonly")
    assert reader.get("/api/v1/contacts/999999").status_code == 404
    assert reader.get(f"/api/v1/contacts/{michel['number']}").status_code == 200
    assert reader.post("/api/v1/contacts", json=QUICK).status_code == 403
    assert reader.patch(f"/api/v1/contacts/{michel['number']}", json={"function": "x"}).status_code == 403
    assert api("operator").delete(f"/api/v1/contacts/{michel['number']}").status_code == 403
    assert api("supervisor").delete(f"/api/v1/contacts/{michel['number']}").status_code == 204
    assert reader.get(f"/api/v1/contacts/{michel['number']}").status_code == 404


def test_links_endpoints(op, michel):
    child = op.post("/api/v1/contacts", json={**QUICK, "first_name": "Léo", "email": None,
                                              "mobile_phone": None}).get_json()
    url = f"/api/v1/contacts/{michel['number']}/links"
    response = op.post(url, json={"kind": "child_of", "other_number": child["number"], "direction": "in"})
    assert response.status_code == 201, response.get_json()
    [link] = response.get_json()
    assert (link["label"], link["other_name"]) == ("Parent de", "SHAPIRA, Léo")
    assert op.get(f"/api/v1/contacts/{child['number']}").get_json()["role"] == "child"
    cycle = op.post(url, json={"kind": "child_of", "other_number": child["number"]})
    assert cycle.status_code == 409
    wrong = op.post(url, json={"kind": "relay_of", "other_number": child["number"]})
    assert wrong.status_code == 422 and "to" in wrong.get_json()["error"]["fields"]
    patched = op.patch(f"{url}/{link['id']}", json={"start_date": "2020-01-01"})
    assert patched.get_json()[0]["start_date"] == "2020-01-01"
    assert op.delete(f"{url}/{link['id']}").status_code == 204
    assert op.get(url).get_json() == []
    assert op.delete(f"{url}/{link['id']}").status_code == 404


def test_addresses_criteria_notes_consents_seats_alerts(op, michel):
    base = f"/api/v1/contacts/{michel['number']}"
    added = op.post(f"{base}/addresses", json={"usage": "billing", "country": "BE", "postal_code": "1000",
                                               "city": "Bruxelles"})
    assert added.status_code == 201 and added.get_json()["usage"] == "billing"
    bad = op.post(f"{base}/addresses", json={"country": "BE", "postal_code": "ABC", "city": "Bruxelles"})
    assert bad.status_code == 422 and "postal_code" in bad.get_json()["error"]["fields"]
    made_main = op.patch(f"{base}/addresses/{added.get_json()['id']}", json={"usage": "main"})
    assert made_main.status_code == 200
    assert [a["usage"] for a in op.get(f"{base}/addresses").get_json()] == ["main", "delivery"]

    assert op.post("/api/v1/contact-criteria", json={"code": "dance", "label": "Danse",
                                                     "applies_to": "individual"}).status_code == 201
    assert op.post("/api/v1/contact-criteria", json={"code": "school", "label": "École",
                                                     "applies_to": "structure"}).status_code == 201
    assert [c["code"] for c in op.get("/api/v1/contact-criteria?kind=individual").get_json()] == ["dance"]
    assert [c["code"] for c in op.put(f"{base}/criteria", json={"codes": ["dance"]}).get_json()] == ["dance"]
    assert op.put(f"{base}/criteria", json={"codes": ["school"]}).status_code == 422

    note = op.post(f"{base}/notes", json={"text": "Préfère le premier rang."})
    assert note.status_code == 201 and note.get_json()["created_by"] == "api_operator"
    assert [n["text"] for n in op.get(f"{base}/notes").get_json()] == ["Préfère le premier rang."]
    assert op.delete(f"{base}/notes/{note.get_json()['id']}").status_code == 204

    consents = op.put(f"{base}/consents", json={"email": True, "sms": False, "source": "guichet"}).get_json()
    assert {c["channel"]: c["opt_in"] for c in consents} == {"email": True, "sms": False, "post": None, "phone": None}
    assert op.put(f"{base}/consents", json={"fax": True}).status_code == 422

    seat = op.post(f"{base}/preferred-seats", json={"venue": "Grande salle", "row": "C", "seat": "12"})
    assert seat.status_code == 201
    alert = op.post(f"{base}/marketing-alerts", json={"type": "Grand public", "offer": "Package deux ballets -50%",
                                                      "availability": 100})
    assert alert.status_code == 201
    sheet = op.get(base).get_json()
    assert sheet["preferred_seats"][0]["seat"] == "12"
    assert sheet["marketing_alerts"][0]["availability"] == 100
    assert op.delete(f"{base}/preferred-seats/{seat.get_json()['id']}").status_code == 204
    assert op.delete(f"{base}/marketing-alerts/{alert.get_json()['id']}").status_code == 204


def test_indicators_account_histories_types_duplicates(op, michel):
    base = f"/api/v1/contacts/{michel['number']}"
    indicators = op.get(f"{base}/indicators").get_json()
    assert {i["code"]: i["level"] for i in indicators}["pmg"] == "none"
    assert op.post(f"{base}/indicators/recompute").status_code == 200
    first = michel["generated_password"]
    again = op.post(f"{base}/internet-account/password").get_json()
    assert again["login"] == "michel.shapira@gmail.com" and again["password"] != first
    assert op.post(f"{base}/internet-account").status_code == 409
    assert op.get(f"{base}/histories/purchases").get_json() == []
    assert op.get(f"{base}/histories/gossip").status_code == 422
    types = op.get("/api/v1/contact-types").get_json()
    assert [t["code"] for t in types][:2] == ["individual", "structure"]
    dups = op.post("/api/v1/contacts/likely-duplicates",
                   json={"last_name": "Chapira", "first_name": "M", "postal_code": "07000"}).get_json()
    assert [d["number"] for d in dups] == [michel["number"]]


def test_every_contacts_endpoint_is_in_the_openapi_document(op, app):
    spec = op.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    for path in ("/contacts", "/contacts/{number}", "/contacts/{number}/links", "/contacts/{number}/links/{link_id}",
                 "/contacts/{number}/addresses", "/contacts/{number}/criteria", "/contacts/{number}/notes",
                 "/contacts/{number}/histories/{kind}", "/contacts/likely-duplicates", "/contact-types"):
        assert path in paths, path
    assert paths["/contacts"]["post"]["x-permission"] == "contacts.edit"
    assert paths["/contacts/{number}"]["delete"]["x-permission"] == "contacts.delete"
    routes = [r for r in app.extensions["coulisses"].api.routes if r.plugin == "contacts"]
    assert routes and all(r.permission and r.permission.startswith("contacts.") for r in routes)


def test_no_internet_account_through_the_api_for_a_contact_without_email(op):
    created = op.post("/api/v1/contacts", json={**QUICK, "email": "", "last_name": "Sansmel"})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    refused = op.post(f"/api/v1/contacts/{number}/internet-account", json={"login": "sansmel@example.org"})
    assert refused.status_code == 422
    assert "obligatoire pour créer un compte internet" in refused.get_json()["error"]["fields"]["email"]
    assert op.get(f"/api/v1/contacts/{number}").get_json()["internet_account"] is None


def test_the_search_pages_and_says_how_many_match(op):
    numbers = set()
    for i in range(7):
        created = op.post("/api/v1/contacts", json={**QUICK, "last_name": f"Delapont{chr(65 + i)}",
                                                    "email": f"d{i}@example.org"})
        assert created.status_code == 201, created.get_json()
        numbers.add(created.get_json()["number"])
    first = op.get("/api/v1/contacts?q=*pont&limit=3").get_json()
    assert (first["total"], first["has_more"], first["offset"], first["limit"]) == (7, True, 0, 3)
    seen = [i["number"] for i in first["items"]]
    offset = 3
    while True:
        page = op.get(f"/api/v1/contacts?q=*pont&limit=3&offset={offset}").get_json()
        seen += [i["number"] for i in page["items"]]
        offset += 3
        if not page["has_more"]:
            break
    assert len(seen) == 7 and set(seen) == numbers
    advanced = op.get("/api/v1/contacts?q=*pont&limit=5&offset=5&city=Freyssenet").get_json()
    assert (advanced["total"], advanced["has_more"], len(advanced["items"])) == (7, False, 2)
    spec = op.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/contacts"]["get"]["parameters"]}
    assert params["limit"]["schema"]["maximum"] == 1000 and "offset" in params
    text = str(spec)
    assert "has_more" in text
