"""The contacts API never answers 500 to the inputs that once did (issue 7): integers beyond 64 bits
in a path, a query or a body, lone surrogates and NUL in text, a JSON array nested 100,000 deep —
each is a 422 naming the field; and nothing is stored."""
import pytest

from tests.contacts.test_api import QUICK

BIG = 9223372036854775808  # 2^63


@pytest.fixture
def op(api):
    return api("operator")


@pytest.fixture
def michel(op):
    response = op.post("/api/v1/contacts", json=QUICK)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["number"]


def fields_of(response, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"].get("fields", {})


@pytest.mark.parametrize("url, field", [
    (f"/api/v1/contacts/{BIG}", "number"),
    (f"/api/v1/contacts/{BIG}/notes", "number"),
    (f"/api/v1/contacts?offset={BIG}&name=x", "offset"),
    (f"/api/v1/contacts?limit={BIG}", "limit"),
    ("/api/v1/contacts?offset=1.5&name=x", "offset"),
    ("/api/v1/contacts/duplicates?offset=-1", "offset"),
    ("/api/v1/contacts?q=Dup%00ont", "q"),
])
def test_numbers_and_text_beyond_their_range_in_paths_and_queries(api, url, field):
    assert field in fields_of(api("supervisor").get(url))


def test_a_contact_number_in_a_body_beyond_its_range(op, michel):
    response = op.post(f"/api/v1/contacts/{michel}/links", json={"kind": "member_of", "other_number": BIG})
    assert "other_number" in fields_of(response)
    response = op.post("/api/v1/contacts", json={**QUICK, "structure_number": 2**53, "link_kind": "member_of"})
    assert "structure_number" in fields_of(response)


@pytest.mark.parametrize("field, value", [("last_name", "Dup\u0000ont"), ("first_name", "\ud800"),
                                          ("city", "Paris\u001b"), ("last_name", "x" * 121)])
def test_text_that_cannot_be_stored_is_refused_at_creation(op, field, value):
    assert field in fields_of(op.post("/api/v1/contacts", json={**QUICK, field: value}))
    assert op.get("/api/v1/contacts?name=Shapira").get_json()["total"] == 0


def test_a_note_with_a_lone_surrogate_or_nul_is_refused_but_line_breaks_are_text(op, michel):
    assert "text" in fields_of(op.post(f"/api/v1/contacts/{michel}/notes", json={"text": "abc \ud800"}))
    assert "text" in fields_of(op.post(f"/api/v1/contacts/{michel}/notes", json={"text": "abc\u0000"}))
    assert op.get(f"/api/v1/contacts/{michel}/notes").get_json() == []
    response = op.post(f"/api/v1/contacts/{michel}/notes", json={"text": "Allergique :\n\t- arachides"})
    assert response.status_code == 201 and response.get_json()["text"] == "Allergique :\n\t- arachides"


def test_a_deeply_nested_body_is_a_422_not_a_recursion_error(op, michel):
    deep = "[" * 100_000 + "]" * 100_000
    response = op.post(f"/api/v1/contacts/{michel}/notes", data=deep, headers={"Content-Type": "application/json"})
    assert "_body" in fields_of(response)


def test_indicator_values_are_strings_as_the_document_says(api, michel):
    client = api("supervisor")
    doc = client.get("/api/v1/openapi.json").get_json()
    value = doc["components"]["schemas"]["Indicator"]["properties"]["value"]
    assert value["type"] == "string" and value["nullable"] is True
    assert client.post(f"/api/v1/contacts/{michel}/indicators/recompute").status_code == 200
    for indicator in client.get(f"/api/v1/contacts/{michel}/indicators").get_json():
        assert indicator["value"] is None or isinstance(indicator["value"], str)
