"""Plugin-management errors and click's own words in the reader's language (issue 7): French by
default, English and Spanish on the plugins screen (the operator's language), in the API
(``Accept-Language``) and in the CLI (``COULISSES_LOCALE``); the OpenAPI document has one schema per
name."""
from __future__ import annotations

import gettext
import os
import warnings
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from coulisses import PluginError, Permission, security
from coulisses import plugins as cplugins
from coulisses.cli_help import CLICK_TRANSLATIONS
from coulisses.i18n import use_locale
from tests.conftest import PASSWORD, app_session, csrf_token_of, login
from tests.platform.conftest import make_plugin

DISABLE_REFUSED = {
    "fr": "plugin « tp_base » : ne peut pas être désactivé : « tp_top » en dépend(ent)",
    "en": "plugin 'tp_base': cannot be disabled: 'tp_top' depend(s) on it",
    "es": "plugin «tp_base»: no se puede desactivar: «tp_top» depende(n) de él",
}
NOT_ENABLED = {
    "fr": "plugin « tp_nope » : n'est pas activé",
    "en": "plugin 'tp_nope': is not enabled",
    "es": "plugin «tp_nope»: no está activado",
}


def test_a_plugin_error_is_put_together_in_the_language_it_is_shown_in():
    error = PluginError("tp_x", cplugins.hook_failed("coulisses_startup", RuntimeError("no printer")))
    assert str(error) == "plugin « tp_x » : coulisses_startup a échoué : RuntimeError: no printer"
    with use_locale("en"):
        assert str(error) == "plugin 'tp_x': coulisses_startup failed: RuntimeError: no printer"
    with use_locale("es"):
        assert str(error) == "plugin «tp_x»: coulisses_startup ha fallado: RuntimeError: no printer"


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def two_plugins(register_plugin):
    register_plugin(make_plugin("tp_base"))
    register_plugin(make_plugin("tp_top", depends=["tp_base"]))


@pytest.mark.parametrize("language, prefix", [("fr", "Erreur : "), ("en", "Error: "), ("es", "Error: ")])
def test_the_cli_refuses_in_coulisses_locale(cli, two_plugins, language, prefix):
    env = {"COULISSES_LOCALE": language}
    assert cli("db", "upgrade", env=env).exit_code == 0
    assert cli("plugins", "enable", "tp_top", env=env).exit_code == 0
    refused = cli("plugins", "disable", "tp_base", env=env)
    assert refused.exit_code == 1
    assert refused.output.strip() == prefix + DISABLE_REFUSED[language]


@pytest.mark.parametrize("language, words, absent", [
    ("fr", ["Utilisation : coulisses [OPTIONS]", "Options:", "Afficher ce message et quitter.", "Commandes:"],
     ["Usage:", "Show this message and exit."]),
    ("es", ["Uso: coulisses [OPTIONS]", "Opciones:", "Mostrar este mensaje y salir.", "Comandos:"],
     ["Usage:", "Show this message and exit."]),
    ("en", ["Usage: coulisses [OPTIONS]", "Options:", "Show this message and exit.", "Commands:"],
     ["Utilisation", "Afficher ce message"]),
])
def test_click_s_own_words_follow_coulisses_locale(cli, language, words, absent):
    result = cli("--help", env={"COULISSES_LOCALE": language})
    assert result.exit_code == 0, result.output
    for word in words:
        assert word in result.output, (language, word)
    for word in absent:
        assert word not in result.output, (language, word)


@pytest.mark.parametrize("language, lines", [
    ("fr", ["Utilisation : coulisses plugins [OPTIONS] COMMAND [ARGS]...",
            "Essayez « coulisses plugins --help » pour l'aide.",
            "Erreur : Commande inconnue 'lis'. Vouliez-vous dire 'list' ?"]),
    ("es", ["Uso: coulisses plugins [OPTIONS] COMMAND [ARGS]...",
            "Pruebe «coulisses plugins --help» para la ayuda.",
            "Error: Comando desconocido 'lis'. ¿Quería decir 'list'?"]),
    ("en", ["Usage: coulisses plugins [OPTIONS] COMMAND [ARGS]...",
            "Try 'coulisses plugins --help' for help.",
            "Error: No such command 'lis'. Did you mean 'list'?"]),
])
def test_a_usage_error_is_in_coulisses_locale(cli, language, lines):
    result = cli("plugins", "lis", env={"COULISSES_LOCALE": language})
    assert result.exit_code == 2
    assert [line for line in result.output.splitlines() if line.strip()] == lines


def test_a_missing_argument_is_in_coulisses_locale(cli):
    result = cli("plugins", "enable", env={"COULISSES_LOCALE": "es"})
    assert result.exit_code == 2
    assert "Error: Falta el argumento 'NAME'." in result.output or "Error: Falta un argumento" in result.output


def test_the_command_leaves_the_process_gettext_as_it_found_it(cli):
    domain, language = gettext.textdomain(), os.environ.get("LANGUAGE")
    assert cli("--help", env={"COULISSES_LOCALE": "es"}).exit_code == 0
    assert (gettext.textdomain(), os.environ.get("LANGUAGE")) == (domain, language)


def _strings(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def _click_messages() -> set:
    found = set()
    folder = Path(click.__file__).parent
    for path in folder.glob("*.py"):
        for _line, message, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2)}):
            found.add(message)
    return found


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_click_catalogue_is_complete_compiled_and_speaks_the_installed_click(language):
    folder = CLICK_TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / "click.po", "rb") as f:
        catalogue = read_po(f)
    with open(folder / "click.mo", "rb") as f:
        compiled = read_mo(f)
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 50
    for message in messages:
        assert message.string and all(message.string if isinstance(message.string, tuple) else [message.string]), \
            message.id
        found = compiled.get(message.id)
        assert found is not None and _strings(found.string) == _strings(message.string), message.id
    # every message of the catalogue is one the installed click still says (a new click release that
    # rewords a message fails here instead of going back to English unnoticed)
    known = _click_messages()
    assert [m.id for m in messages if m.id not in known] == []
    for word in ("Usage:", "Options", "Commands", "Error: {message}", "Show this message and exit.",
                 "No such command {name!r}.", "Missing argument"):
        assert any(m.id == word for m in messages), word


# --------------------------------------------------------------------------- the plugins screen


def _administrator(cli, make_app, language, plugins=""):
    """A client logged in as an administrator whose language is ``language``."""
    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": plugins}).exit_code == 0
    assert cli("operators", "create", "boss", "--role", "administrator", "--password", PASSWORD).exit_code == 0
    app = make_app(plugins=[], schema=False)
    with app_session(app) as s:
        security.get_operator(s, "boss").locale = language
        s.commit()
    client = app.test_client()
    assert login(client, "boss").status_code == 302
    return client


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_plugins_screen_refuses_in_the_operator_s_language(keep_plugin, cli, make_app, language):
    client = _administrator(cli, make_app, language, plugins="tp_keep")
    confirm = client.get("/admin/core_plugins/disable/tp_base").get_data(as_text=True)
    refused = client.post("/admin/core_plugins/disable/tp_base", data={"csrf_token": csrf_token_of(confirm)},
                          follow_redirects=True).get_data(as_text=True)
    expected = {"en": "Refused: plugin &#39;tp_base&#39;: cannot be disabled: &#39;tp_keep&#39; depend(s) on it",
                "es": "Rechazado: plugin «tp_base»: no se puede desactivar: «tp_keep» depende(n) de él"}[language]
    assert expected in refused
    assert "ne peut pas être désactivé" not in refused


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_cause_of_a_plugin_that_cannot_load_is_shown_in_the_operator_s_language(register_plugin, cli, make_app,
                                                                                     language):
    register_plugin(make_plugin("tp_orphan_dep", depends=["tp_absent"]))
    client = _administrator(cli, make_app, language)
    page = client.get("/admin/core_plugins/").get_data(as_text=True)
    expected = {"en": "plugin &#39;tp_orphan_dep&#39;: depends on &#39;tp_absent&#39;, which is not installed",
                "es": "plugin «tp_orphan_dep»: depende de «tp_absent», que no está instalado"}[language]
    assert expected in page


# --------------------------------------------------------------------------- the API


def _api_routes(api):
    from flask import current_app

    from coulisses.web.extensions import db

    @api.route("/tp_plugin_admin/disable/<name>", methods=["POST"], permission="tp_plugin_admin.manage",
               summary="Disable a plugin")
    def disable(name):
        cplugins.record_disabled(db.session, current_app.extensions["coulisses"].infos, name, "api")
        return {}


@pytest.mark.parametrize("header, language", [(None, "fr"), ("en-GB,en;q=0.9", "en"), ("es", "es")])
def test_the_api_answers_a_plugin_error_in_the_accept_language(make_app, register_plugin, make_operator, token_for,
                                                             header, language):
    register_plugin(make_plugin("tp_plugin_admin", hooks={
        "coulisses_permissions": lambda: [Permission("tp_plugin_admin.manage", "Manage", ())],
        "coulisses_api_routes": _api_routes,
    }))
    app = make_app(plugins=["tp_plugin_admin"])
    make_operator("root", roles=["administrator"])
    headers = {"Authorization": f"Bearer {token_for('root')}"}
    if header:
        headers["Accept-Language"] = header
    answer = app.test_client().post("/api/v1/tp_plugin_admin/disable/tp_nope", headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["message"] == NOT_ENABLED[language]


# --------------------------------------------------------------------------- OpenAPI


def test_the_openapi_document_of_every_plugin_has_one_schema_per_name(make_app):
    builtin = sorted(ep.name for ep in entry_points(group="coulisses.plugins")
                     if ep.dist is not None and ep.dist.name == "coulisses")
    app = make_app(plugins=builtin)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with app.test_request_context():
            document = app.extensions["coulisses"].api.openapi()
    duplicates = [str(w.message) for w in caught if "Multiple schemas resolved to the name" in str(w.message)]
    assert duplicates == []
    schemas = document["components"]["schemas"]
    # the ones that shared a name each keep their own fields
    assert {"PendingPaymentResolve", "DeviceJobResolve", "BasketSettle", "AccountSettle", "OrderDocument",
            "ReportDocument"} <= set(schemas)
    assert "note" in schemas["PendingPaymentResolve"]["properties"]
    assert set(schemas["DeviceJobResolve"]["properties"]) == {"outcome"}
    assert "object_label" in schemas["ReportDocument"]["properties"]
    assert "type_label" in schemas["OrderDocument"]["properties"]
