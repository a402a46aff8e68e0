"""Plugin settings edited on the plugins screen from the schema a plugin declares
(``coulisses_settings_schema``, issue 16): stored in the database, read through ``coulisses.config``
the same in the web app, the CLI and the tasks, recorded in the security journal; a value fixed by
the environment is shown, not changed; a refused value keeps what was typed."""
from __future__ import annotations

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import PluginError, plugin_settings
from coulisses import db as cdb
from coulisses import plugins as cplugins
from coulisses.security_events import SecurityEvent
from tests.conftest import PASSWORD, csrf_token_of, login
from tests.platform.conftest import make_plugin

URL = "/admin/core_plugins/"
PAGE = URL + "settings/contacts"


@pytest.fixture
def contacts_db(cli):
    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "contacts"}).exit_code == 0
    for name, role in (("boss", "administrator"), ("sup", "supervisor")):
        assert cli("operators", "create", name, "--role", role, "--password", PASSWORD).exit_code == 0


def _client(app, name="boss"):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def _events(database_url):
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        rows = [(e.detail, e.actor_login) for e in s.scalars(
            select(SecurityEvent).where(SecurityEvent.kind == "plugin_settings_changed").order_by(SecurityEvent.id))]
    engine.dispose()
    return rows


def test_an_administrator_changes_a_setting_seen_by_the_app_the_cli_and_the_tasks(contacts_db, make_app, cli,
                                                                                 database_url):
    app = make_app(["contacts"], schema=False)
    assert app.config["CONTACTS_PURGE_ENABLED"] is False and app.config["CONTACTS_INACTIVITY_MONTHS"] == 36
    client = _client(app)
    listing = client.get(URL).get_data(as_text=True)
    assert f'href="{PAGE}"' in listing and "Réglages…" in listing
    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<label class="form-check-label" for="setting-CONTACTS_PURGE_ENABLED">Purge des données personnelles active' in html
    assert '<label for="setting-CONTACTS_INACTIVITY_MONTHS">Mois d&#39;inactivité avant la purge</label>' in html
    assert 'value="36"' in html
    assert client.post(PAGE, data={"CONTACTS_PURGE_ENABLED": "1"}).status_code == 400  # no CSRF token
    done = client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_PURGE_ENABLED": "1",
                                   "CONTACTS_INACTIVITY_MONTHS": "24"}, follow_redirects=True)
    assert "Réglages enregistrés : CONTACTS_PURGE_ENABLED, CONTACTS_INACTIVITY_MONTHS." in done.get_data(as_text=True)
    assert "écran Réglages" in done.get_data(as_text=True)  # where the value now comes from
    assert app.config["CONTACTS_PURGE_ENABLED"] is True and app.config["CONTACTS_INACTIVITY_MONTHS"] == 24
    assert _events(database_url) == [("contacts CONTACTS_PURGE_ENABLED false -> true", "boss"),
                                     ("contacts CONTACTS_INACTIVITY_MONTHS 36 -> 24", "boss")]
    # the contacts services read it (their registry sees the live configuration)
    with app.app_context():
        from plugins.contacts.registry import get_registry
        from plugins.contacts.services.personal_data import inactivity_months, purge_enabled

        assert purge_enabled(get_registry().config) is True and inactivity_months() == 24
    # another process: a new app, and the weekly task run from the command line
    assert make_app(["contacts"], schema=False).config["CONTACTS_INACTIVITY_MONTHS"] == 24
    result = cli("tasks", "run", "contacts.personal_data", env={"COULISSES_PLUGINS": "contacts"})
    assert result.exit_code == 0, result.output
    assert "'enabled': True" in result.output and "'months': 24" in result.output
    # saving the same values again changes (and records) nothing
    html = client.get(PAGE).get_data(as_text=True)
    again = client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_PURGE_ENABLED": "1",
                                    "CONTACTS_INACTIVITY_MONTHS": "24"}, follow_redirects=True)
    assert "Aucun réglage n&#39;a changé." in again.get_data(as_text=True) and len(_events(database_url)) == 2
    # unticking the box is saved too (an unchecked checkbox sends nothing)
    client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_INACTIVITY_MONTHS": "24"})
    assert app.config["CONTACTS_PURGE_ENABLED"] is False


def test_a_refused_value_keeps_what_was_typed_and_changes_nothing(contacts_db, make_app, database_url):
    app = make_app(["contacts"], schema=False)
    client = _client(app)
    html = client.get(PAGE).get_data(as_text=True)
    response = client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_PURGE_ENABLED": "1",
                                       "CONTACTS_INACTIVITY_MONTHS": "trois"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="trois"' in html and 'aria-invalid="true"' in html
    assert "Ce n&#39;est pas un nombre entier." in html
    assert 'id="setting-CONTACTS_PURGE_ENABLED" name="CONTACTS_PURGE_ENABLED" value="1"\n             checked' in html
    assert app.config["CONTACTS_PURGE_ENABLED"] is False and _events(database_url) == []
    response = client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_INACTIVITY_MONTHS": "0"})
    assert response.status_code == 422 and app.config["CONTACTS_INACTIVITY_MONTHS"] == 36


def test_a_setting_fixed_by_the_environment_is_shown_not_changed(contacts_db, make_app, monkeypatch, database_url):
    monkeypatch.setenv("COULISSES_CONTACTS_PURGE_ENABLED", "true")
    app = make_app(["contacts"], schema=False)
    client = _client(app)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Fixé par l'environnement ou le fichier de configuration" in html
    assert 'name="CONTACTS_PURGE_ENABLED" value="1"\n             checked\n             disabled' in html
    client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_INACTIVITY_MONTHS": "12"})
    assert app.config["CONTACTS_PURGE_ENABLED"] is True and app.config["CONTACTS_INACTIVITY_MONTHS"] == 12
    assert _events(database_url) == [("contacts CONTACTS_INACTIVITY_MONTHS 36 -> 12", "boss")]


def test_a_change_made_by_another_process_is_picked_up(contacts_db, make_app, monkeypatch):
    first, second = make_app(["contacts"], schema=False), make_app(["contacts"], schema=False)
    client = _client(first)
    html = client.get(PAGE).get_data(as_text=True)
    client.post(PAGE, data={"csrf_token": csrf_token_of(html), "CONTACTS_INACTIVITY_MONTHS": "48"})
    assert second.config["CONTACTS_INACTIVITY_MONTHS"] == 36  # not looked yet
    monkeypatch.setattr(plugin_settings, "REFRESH_SECONDS", 0)
    other = second.test_client()
    other.get("/health")
    assert second.config["CONTACTS_INACTIVITY_MONTHS"] == 48


def test_editing_settings_needs_the_permission(contacts_db, make_app):
    app = make_app(["contacts"], schema=False)
    client = _client(app, "sup")
    assert client.get(PAGE).status_code == 403
    assert "plugin-settings-link" not in client.get(URL).get_data(as_text=True)
    assert _client(app).get(URL + "settings/nosuchplugin").status_code == 404


def test_a_settings_schema_must_name_its_plugin_keys(register_plugin):
    class Wrong(Schema):
        PURGE = fields.Boolean(load_default=False)

    register_plugin(make_plugin("tp_set", hooks={"coulisses_settings_schema": lambda: Wrong}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="réglage « PURGE » : le code doit commencer par « TP_SET_ »"):
        plugin_settings.schemas(cplugins.build_manager(infos, ["tp_set"]))
    register_plugin(make_plugin("tp_set2", hooks={"coulisses_settings_schema": lambda: {"TP_SET2_X": 1}}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="doit renvoyer une classe Schema de marshmallow"):
        plugin_settings.schemas(cplugins.build_manager(infos, ["tp_set2"]))
