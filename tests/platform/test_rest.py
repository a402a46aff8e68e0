"""The REST base: OpenAPI document, JSON errors, Idempotency-Key, CSRF only for browser sessions."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from coulisses import ConflictError, InvalidError, NotFoundError, Permission
from coulisses.db import Base, Money
from tests.conftest import app_session, csrf_token_of, login
from tests.platform.conftest import make_plugin


class Widget(Base):
    __tablename__ = "tp_rest_widget"
    __plugin__ = "tp_rest"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    price: Mapped[Decimal] = mapped_column(Money)


class WidgetSchema(Schema):
    id = fields.Integer(dump_only=True)
    label = fields.String(required=True, validate=validate.Length(min=1, max=80))
    price = fields.Decimal(required=True, places=2, as_string=True)


class SearchSchema(Schema):
    q = fields.String(load_default="")


def api_routes(api):
    from coulisses.web.extensions import db

    @api.route("/tp_rest/widgets", permission="tp_rest.view", query=SearchSchema, response=WidgetSchema,
               many=True, summary="Search widgets")
    def search(args):
        return list(db.session.scalars(select(Widget).where(Widget.label.contains(args["q"])).order_by(Widget.id)))

    @api.route("/tp_rest/widgets/<int:widget_id>", permission="tp_rest.view", response=WidgetSchema,
               summary="One widget")
    def get_widget(widget_id):
        widget = db.session.get(Widget, widget_id)
        if widget is None:
            raise NotFoundError(f"no widget {widget_id}")
        return widget

    @api.route("/tp_rest/widgets", methods=["POST"], permission="tp_rest.sell", body=WidgetSchema,
               response=WidgetSchema, status=201, idempotent=True, summary="Sell a widget")
    def create_widget(body):
        if body["label"] == "taken":
            raise ConflictError("this widget is already sold")
        if body["price"] <= 0:
            raise InvalidError("The price must be positive", {"price": ["must be positive"]})
        widget = Widget(**body)
        db.session.add(widget)
        db.session.flush()
        return widget


@pytest.fixture
def rest_app(make_app, register_plugin, make_operator):
    register_plugin(make_plugin("tp_rest", hooks={
        "coulisses_permissions": lambda: [
            Permission("tp_rest.view", "See widgets", ("readonly", "operator")),
            Permission("tp_rest.sell", "Sell widgets", ("operator",)),
        ],
        "coulisses_api_routes": api_routes,
    }))
    app = make_app(plugins=["tp_rest"])
    make_operator("seller", roles=["operator"])
    make_operator("reader", roles=["readonly"])
    return app


@pytest.fixture
def seller(rest_app, token_for):
    return {"Authorization": f"Bearer {token_for('seller')}"}


def widget_count(app) -> int:
    with app_session(app) as s:
        return s.scalar(select(func.count()).select_from(Widget))


# --------------------------------------------------------------------------- OpenAPI


def test_openapi_document(rest_app, seller):
    response = rest_app.test_client().get("/api/v1/openapi.json", headers=seller)
    assert response.status_code == 200
    doc = response.get_json()
    assert re.match(r"3\.\d+\.\d+$", doc["openapi"])
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    paths = doc["paths"]
    state = rest_app.extensions["coulisses"]
    assert state.api.routes, "the throwaway plugin's routes are registered"
    for route in state.api.routes:
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", route.rule)
        for method in route.methods:
            op = paths[path][method.lower()]
            assert op["x-permission"] == route.permission
            assert op["operationId"] == route.endpoint
            assert op["summary"]
            assert op["security"] == [{"bearer": []}]
            assert {"401", "403"} <= set(op["responses"])
    # every path parameter is declared; every $ref resolves
    op = paths["/tp_rest/widgets/{widget_id}"]["get"]
    assert op["parameters"] == [{"in": "path", "name": "widget_id", "required": True,
                                 "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}]
    assert set(op["responses"]) == {"200", "401", "403", "404", "422", "429"}
    post = paths["/tp_rest/widgets"]["post"]
    # every status a write can answer, 409 (conflict, concurrent change) and 503 (busy) included
    assert set(post["responses"]) == {"201", "400", "401", "403", "409", "413", "422", "429", "503"}
    assert post["responses"]["503"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    key = next(p for p in post["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key")
    assert key["schema"]["maxLength"] == 200 and key["schema"]["minLength"] == 1
    search = paths["/tp_rest/widgets"]["get"]
    assert {"in": "query", "name": "q", "required": False, "schema": {"type": "string", "default": ""}} in search["parameters"]
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    widget = doc["components"]["schemas"]["Widget"]
    assert set(widget["required"]) == {"label", "price"}
    assert widget["properties"]["id"]["readOnly"] is True


def test_openapi_needs_the_api_docs_permission(rest_app, make_operator, token_for):
    make_operator("nobody", roles=[])
    client = rest_app.test_client()
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token_for('nobody')}"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/openapi.json",
                      headers={"Authorization": f"Bearer {token_for('reader')}"}).status_code == 200


# --------------------------------------------------------------------------- errors


def test_a_resource_that_does_not_exist_is_a_json_404(rest_app, seller):
    response = rest_app.test_client().get("/api/v1/tp_rest/widgets/999", headers=seller)
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "no widget 999"}}


def test_an_unknown_api_url_is_a_json_404(rest_app, seller):
    response = rest_app.test_client().get("/api/v1/nothing/here", headers=seller)
    assert response.status_code == 404
    assert response.is_json
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("language, message, required, too_long, missing", [
    ("fr", "La requête contient des champs invalides", "Champ obligatoire.",
     "La longueur doit être comprise entre 1 et 80.", "Cette adresse n'existe pas."),
    ("en", "The request has invalid fields", "Required field.",
     "The length must be between 1 and 80.", "This address does not exist."),
    ("es-ES,es;q=0.9", "La solicitud contiene campos no válidos", "Campo obligatorio.",
     "La longitud debe estar entre 1 y 80.", "Esta dirección no existe."),
])
def test_the_api_answers_in_the_language_the_client_asks(rest_app, seller, language, message, required,
                                                         too_long, missing):
    """The host's messages and marshmallow's own (fields, validators) follow Accept-Language."""
    client = rest_app.test_client()
    headers = {**seller, "Accept-Language": language}
    error = client.post("/api/v1/tp_rest/widgets", json={"price": "1.00"}, headers=headers).get_json()["error"]
    assert (error["message"], error["fields"]) == (message, {"label": [required]})
    error = client.post("/api/v1/tp_rest/widgets", json={"label": "x" * 81, "price": "1.00"},
                        headers=headers).get_json()["error"]
    assert error["fields"] == {"label": [too_long]}
    assert client.get("/api/v1/nothing/here", headers=headers).get_json()["error"]["message"] == missing


def test_a_wrong_method_is_a_json_405(rest_app, seller):
    response = rest_app.test_client().delete("/api/v1/tp_rest/widgets", headers=seller)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_invalid_fields_are_a_422_naming_them(rest_app, seller):
    client = rest_app.test_client()
    response = client.post("/api/v1/tp_rest/widgets", json={"price": "abc"}, headers=seller)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert set(error["fields"]) == {"label", "price"}
    assert error["fields"]["label"] == ["Champ obligatoire."]  # marshmallow's message, in French
    # the service's own validation: same shape
    response = client.post("/api/v1/tp_rest/widgets", json={"label": "Free", "price": "0.00"}, headers=seller)
    assert response.status_code == 422
    assert response.get_json() == {"error": {"code": "invalid", "message": "The price must be positive",
                                             "fields": {"price": ["must be positive"]}}}
    assert widget_count(rest_app) == 0


def test_a_conflict_is_a_409_and_rolls_back(rest_app, seller):
    response = rest_app.test_client().post("/api/v1/tp_rest/widgets", json={"label": "taken", "price": "1.00"},
                                           headers=seller)
    assert response.status_code == 409
    assert response.get_json()["error"] == {"code": "conflict", "message": "this widget is already sold"}


def test_a_body_that_is_not_json_is_a_400(rest_app, seller):
    response = rest_app.test_client().post("/api/v1/tp_rest/widgets", data="label=x", headers=seller)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_permission_is_checked_per_route(rest_app, token_for):
    reader = {"Authorization": f"Bearer {token_for('reader')}"}
    client = rest_app.test_client()
    assert client.get("/api/v1/tp_rest/widgets", headers=reader).status_code == 200
    response = client.post("/api/v1/tp_rest/widgets", json={"label": "A", "price": "1.00"}, headers=reader)
    assert response.status_code == 403
    assert response.get_json()["error"] == {"code": "forbidden", "message": "La permission « tp_rest.sell » est requise"}
    assert widget_count(rest_app) == 0


def test_query_arguments_and_money_as_strings(rest_app, seller):
    client = rest_app.test_client()
    for label, price in [("Programme", "5.00"), ("Affiche", "2420.50")]:
        assert client.post("/api/v1/tp_rest/widgets", json={"label": label, "price": price},
                           headers=seller).status_code == 201
    response = client.get("/api/v1/tp_rest/widgets?q=Aff", headers=seller)
    assert response.get_json() == [{"id": 2, "label": "Affiche", "price": "2420.50"}]


# --------------------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_creates_one_row_and_replays_the_response(rest_app, seller):
    client = rest_app.test_client()
    headers = {**seller, "Idempotency-Key": "order-42"}
    first = client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"}, headers=headers)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    second = client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"}, headers=headers)
    assert second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.get_json() == first.get_json() == {"id": 1, "label": "Billet", "price": "35.00"}
    assert widget_count(rest_app) == 1
    # another key is another sale
    third = client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"},
                        headers={**seller, "Idempotency-Key": "order-43"})
    assert third.get_json()["id"] == 2
    # no key: no protection, each request counts
    client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"}, headers=seller)
    assert widget_count(rest_app) == 3


def test_the_same_key_with_another_body_is_refused(rest_app, seller):
    client = rest_app.test_client()
    headers = {**seller, "Idempotency-Key": "order-42"}
    assert client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"},
                       headers=headers).status_code == 201
    response = client.post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "70.00"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert widget_count(rest_app) == 1


def test_a_failed_request_does_not_burn_its_key(rest_app, seller):
    client = rest_app.test_client()
    headers = {**seller, "Idempotency-Key": "order-7"}
    assert client.post("/api/v1/tp_rest/widgets", json={"label": "taken", "price": "1.00"},
                       headers=headers).status_code == 409
    assert client.post("/api/v1/tp_rest/widgets", json={"label": "taken", "price": "1.00"},
                       headers=headers).status_code == 409  # not replayed: tried again
    widget = {"label": "Billet", "price": "35.00"}
    assert client.post("/api/v1/tp_rest/widgets", json=widget, headers={**seller, "Idempotency-Key": "k"}
                       ).status_code == 201


def test_idempotency_keys_are_per_operator(rest_app, seller, make_operator, token_for):
    make_operator("other", roles=["operator"])
    other = {"Authorization": f"Bearer {token_for('other')}", "Idempotency-Key": "same"}
    client = rest_app.test_client()
    a = client.post("/api/v1/tp_rest/widgets", json={"label": "A", "price": "1.00"},
                    headers={**seller, "Idempotency-Key": "same"})
    b = client.post("/api/v1/tp_rest/widgets", json={"label": "A", "price": "1.00"}, headers=other)
    assert a.get_json()["id"] != b.get_json()["id"]
    assert "Idempotent-Replayed" not in b.headers


# --------------------------------------------------------------------------- CSRF and the API


def test_bearer_requests_need_no_csrf_token_but_session_requests_do(rest_app):
    client = rest_app.test_client()
    assert login(client, "seller").status_code == 302
    widget = {"label": "Billet", "price": "35.00"}
    refused = client.post("/api/v1/tp_rest/widgets", json=widget)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "bad_request"
    assert "CSRF" in refused.get_json()["error"]["message"]
    assert widget_count(rest_app) == 0
    # a stray Authorization header does not exempt a cookie session
    assert client.post("/api/v1/tp_rest/widgets", json=widget,
                       headers={"Authorization": "Bearer not-a-token"}).status_code == 400
    assert widget_count(rest_app) == 0
    token = csrf_token_of(client.get("/admin/").get_data(as_text=True))
    accepted = client.post("/api/v1/tp_rest/widgets", json=widget, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    # GET with the session works without a token
    assert client.get("/api/v1/tp_rest/widgets/1").status_code == 200


def test_bearer_post_without_csrf(rest_app, seller):
    response = rest_app.test_client().post("/api/v1/tp_rest/widgets", json={"label": "Billet", "price": "35.00"},
                                           headers=seller)
    assert response.status_code == 201
    assert widget_count(rest_app) == 1


def test_openapi_document_of_every_built_in_plugin_is_valid_openapi_3(make_app, make_operator, token_for):
    """The whole document, with every built-in plugin's endpoints, passes a real OpenAPI 3 validator."""
    from importlib.metadata import entry_points

    from openapi_spec_validator import validate

    builtins = sorted(ep.name for ep in entry_points(group="coulisses.plugins")
                      if ep.dist is not None and ep.dist.name == "coulisses")
    app = make_app(builtins)
    make_operator("docs", roles=["readonly"])
    response = app.test_client().get("/api/v1/openapi.json",
                                     headers={"Authorization": f"Bearer {token_for('docs')}"})
    assert response.status_code == 200
    document = response.get_json()
    validate(document)  # raises with the first error
    assert any(path.startswith("/contacts") for path in document["paths"]) == ("contacts" in builtins)
