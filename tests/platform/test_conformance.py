"""The conformance helper any plugin calls in its own tests (coulisses.testing.assert_plugin_conforms):
it passes for a plugin that keeps the host's rules and names each rule a plugin breaks."""
from __future__ import annotations

import pytest
from flask import Blueprint

import coulisses
from coulisses import Permission
from coulisses.conformance import problems
from coulisses.testing import assert_plugin_conforms


def test_the_devices_and_reports_plugins_conform(make_app):
    app = make_app(["devices", "reports"])
    assert_plugin_conforms(app, "devices")
    assert_plugin_conforms(app, "reports", api_prefixes=("/reports", "/documents"))


class Sloppy:
    """A plugin that breaks several rules at once."""

    MANIFEST = coulisses.Manifest(name="tp_sloppy", version="1.0", label="Sloppy")

    @staticmethod
    @coulisses.hookimpl
    def coulisses_permissions():
        return [Permission("tp_sloppy.view", "Voir"), Permission("tp_sloppy.unused", "Jamais vérifiée")]

    @staticmethod
    @coulisses.hookimpl
    def coulisses_api_routes(api):
        @api.route("/sloppy-things", permission="tp_sloppy.view", summary="Things")
        def things():
            return []

    @staticmethod
    @coulisses.hookimpl
    def coulisses_blueprints():
        bp = Blueprint("tp_sloppy_pages", __name__, url_prefix="/sloppy")
        bp.add_url_rule("/open", "open", lambda: "anyone sees this")
        return [bp]

    @staticmethod
    def coulisses_startup(app):  # forgot @hookimpl
        pass


def test_a_plugin_that_breaks_the_rules_is_told_each_one(make_app, register_plugin):
    register_plugin(Sloppy())
    app = make_app(["tp_sloppy"])
    found = problems(app, "tp_sloppy")
    assert "API route /sloppy-things is not under /api/v1/tp_sloppy" in found
    assert ("permission 'tp_sloppy.unused' is declared but no screen, route or code of the plugin checks it"
            in found)
    assert "GET /sloppy/open answers 200 to an anonymous visitor" in found
    assert any(p.startswith("plugin 'tp_sloppy' : la fonction 'coulisses_startup'") for p in found)
    assert len(found) == 4, found
    with pytest.raises(AssertionError) as failed:
        assert_plugin_conforms(app, "tp_sloppy", public=["/sloppy/open"])
    assert "GET /sloppy/open" not in str(failed.value)  # a page declared public is left alone
    assert "- API route /sloppy-things is not under /api/v1/tp_sloppy" in str(failed.value)
