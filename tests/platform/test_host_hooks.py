"""The host hooks a plugin uses for configuration, pages, REST endpoints and templates, seen from the
outside: what an operator, an API client or the configuration gets (docs/hooks.md)."""
from __future__ import annotations

from flask import Blueprint, render_template_string
from marshmallow import Schema, fields

from coulisses import NotFoundError, Permission
from coulisses.web.auth import permission_required
from tests.conftest import login
from tests.platform.conftest import make_plugin


def test_coulisses_config_defaults_are_overridden_by_the_environment_then_by_create_app(
        make_app, register_plugin, monkeypatch):
    register_plugin(make_plugin("tp_conf", hooks={
        "coulisses_config_defaults": lambda: {"TP_CONF_LIMIT": 3, "TP_CONF_STRICT": False, "TP_CONF_NAME": "x"}}))
    app = make_app(["tp_conf"])
    assert (app.config["TP_CONF_LIMIT"], app.config["TP_CONF_STRICT"], app.config["TP_CONF_NAME"]) == (3, False, "x")

    monkeypatch.setenv("COULISSES_TP_CONF_LIMIT", "7")
    monkeypatch.setenv("COULISSES_TP_CONF_STRICT", "yes")
    app = make_app(["tp_conf"])
    assert (app.config["TP_CONF_LIMIT"], app.config["TP_CONF_STRICT"]) == (7, True)  # typed like the default

    app = make_app(["tp_conf"], TP_CONF_LIMIT=12)
    assert app.config["TP_CONF_LIMIT"] == 12


def _pages_plugin():
    bp = Blueprint("tp_pages", __name__, url_prefix="/tp-pages")

    @bp.route("/hello")
    @permission_required("tp_pages.view")
    def hello():
        return render_template_string("Bonjour {{ tp_pages_greeting }} ({{ money(amount) }})", amount=2420)

    return make_plugin("tp_pages", hooks={
        "coulisses_permissions": lambda: [Permission("tp_pages.view", "See the page")],
        "coulisses_blueprints": lambda: [bp],
        "coulisses_template_context": lambda: {"tp_pages_greeting": "depuis le plugin"},
    })


def test_coulisses_blueprints_pages_need_their_permission(make_app, register_plugin, make_operator):
    register_plugin(_pages_plugin())
    app = make_app(["tp_pages"])
    anonymous = app.test_client().get("/tp-pages/hello")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    make_operator("without", roles=[], permissions=[])
    client = app.test_client()
    login(client, "without")
    assert client.get("/tp-pages/hello").status_code == 403


def test_coulisses_template_context_values_reach_the_plugins_templates(make_app, register_plugin, make_operator):
    register_plugin(_pages_plugin())
    app = make_app(["tp_pages"])
    make_operator("with", roles=[], permissions=["tp_pages.view"])
    client = app.test_client()
    login(client, "with")
    page = client.get("/tp-pages/hello")
    assert page.status_code == 200
    assert page.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ") == \
        "Bonjour depuis le plugin (2 420,00 €)"


class ThingSchema(Schema):
    code = fields.String()
    price = fields.Decimal(as_string=True)


def _api_plugin():
    from decimal import Decimal

    things = {"a": {"code": "a", "price": Decimal("2420.00")}}

    def routes(api):
        @api.route("/tp-api/things/<code>", permission="tp_api.view", response=ThingSchema, summary="A thing")
        def get_thing(code):
            if code not in things:
                raise NotFoundError(f"no thing '{code}'")
            return things[code]

    return make_plugin("tp_api", hooks={
        "coulisses_permissions": lambda: [Permission("tp_api.view", "See things")],
        "coulisses_api_routes": routes,
    })


def test_coulisses_api_routes_are_served_checked_and_described(make_app, register_plugin, make_operator, token_for):
    register_plugin(_api_plugin())
    app = make_app(["tp_api"])
    make_operator("reader", roles=[], permissions=["tp_api.view", "core.api.docs"])
    make_operator("other", roles=[], permissions=[])
    client = app.test_client()

    assert client.get("/api/v1/tp-api/things/a").status_code == 401
    ok = client.get("/api/v1/tp-api/things/a", headers={"Authorization": f"Bearer {token_for('reader')}"})
    assert ok.status_code == 200 and ok.get_json() == {"code": "a", "price": "2420.00"}
    missing = client.get("/api/v1/tp-api/things/zz", headers={"Authorization": f"Bearer {token_for('reader')}"})
    assert missing.status_code == 404
    assert missing.get_json()["error"] == {"code": "not_found", "message": "no thing 'zz'"}
    refused = client.get("/api/v1/tp-api/things/a", headers={"Authorization": f"Bearer {token_for('other')}"})
    assert refused.status_code == 403

    doc = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token_for('reader')}"}).get_json()
    operation = doc["paths"]["/tp-api/things/{code}"]["get"]
    assert operation["operationId"] == "tp_api_get_thing"
    assert operation["tags"] == ["tp_api"] and operation["x-permission"] == "tp_api.view"
