"""POST /documents: a document type or an object that names nothing is a 422 naming the field (not a
404 on a collection); the 200 of a document generated before is in the OpenAPI document."""


def test_an_unknown_document_type_is_a_422_naming_it_and_the_200_is_documented(make_app, make_operator, token_for):
    app = make_app(["reports"])
    make_operator("boss", roles=["administrator"])
    headers = {"Authorization": f"Bearer {token_for('boss')}"}
    client = app.test_client()
    response = client.post("/api/v1/documents", json={"type": "nope", "object": "1"}, headers=headers)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["type"]
    response = client.post("/api/v1/documents", json={"type": "", "object": "1"}, headers=headers)
    assert response.status_code == 422
    operation = client.get("/api/v1/openapi.json", headers=headers).get_json()["paths"]["/documents"]["post"]
    assert set(operation["responses"]) == {"200", "201", "400", "401", "403", "409", "413", "422", "429", "503"}
    assert operation["responses"]["200"]["content"] == operation["responses"]["201"]["content"]
