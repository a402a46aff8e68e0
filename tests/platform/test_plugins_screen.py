"""The plugins screen (issue 16): the real state and cause of each plugin (as `plugins list`), its
settings, and enabling / disabling with the CLI's checks, a confirmation, CSRF, a permission, a
security event naming who did it, and the restart it needs."""
from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses import plugins as cplugins
from coulisses.security_events import SecurityEvent
from tests.conftest import PASSWORD, csrf_token_of, login
from tests.platform.conftest import make_plugin
from tests.platform.test_plugin_checks import CLASH, clashing  # noqa: F401 - the fixture

URL = "/admin/core_plugins/"


def _operators(cli):
    for name, role in (("boss", "administrator"), ("sup", "supervisor")):
        result = cli("operators", "create", name, "--role", role, "--password", PASSWORD)
        assert result.exit_code == 0, result.output


def _client(app, name):
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def _states(database_url):
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        states = {r.name: r.state for r in s.scalars(select(cplugins.PluginState))}
    engine.dispose()
    return states


def _events(database_url, kind):
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        events = [(e.detail, e.actor_login) for e in s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind))]
    engine.dispose()
    return events


def test_enable_pulls_in_dependencies_after_a_confirmation_and_is_journalled(keep_plugin, cli, make_app,
                                                                             database_url):
    assert cli("db", "upgrade").exit_code == 0
    _operators(cli)
    app = make_app(plugins=[], schema=False)
    client = _client(app, "boss")
    page = client.get(URL).get_data(as_text=True)
    assert 'data-plugin="tp_keep"' in page and "Activer…" in page

    confirm = client.get(URL + "enable/tp_keep")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "<code>tp_base</code>" in html and "<code>tp_keep</code>" in html  # what will be switched on
    assert _states(database_url) == {}  # asking changes nothing

    assert client.post(URL + "enable/tp_keep").status_code == 400  # no CSRF token
    assert _states(database_url) == {}
    done = client.post(URL + "enable/tp_keep", data={"csrf_token": csrf_token_of(html)}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert "Activé : tp_base, tp_keep. Redémarrez le serveur pour l&#39;utiliser." in page
    assert _states(database_url) == {"tp_base": "enabled", "tp_keep": "enabled"}
    engine = cdb.make_engine(database_url)
    assert "tp_keep_item" in inspect(engine).get_table_names()  # its tables created, as the CLI does
    engine.dispose()
    assert page.count('data-testid="restart-needed"') == 2  # this server still runs without them
    assert "boss<br>" in page  # who changed it, and when
    assert sorted(_events(database_url, "plugin_enabled")) == [("tp_base 1.0", "boss"), ("tp_keep 1.0", "boss")]

    # after the restart, nothing more is needed
    page = _client(make_app(plugins=[], schema=False), "boss").get(URL).get_data(as_text=True)
    assert 'data-testid="restart-needed"' not in page


def test_disable_is_refused_while_a_dependant_is_enabled_then_allowed(keep_plugin, cli, make_app, database_url):
    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_keep"}).exit_code == 0
    _operators(cli)
    client = _client(make_app(plugins=[], schema=False), "boss")
    confirm = client.get(URL + "disable/tp_base").get_data(as_text=True)
    assert "ces plugins activés en dépendent : tp_keep" in confirm
    assert 'data-testid="plugin-confirm"' not in confirm
    refused = client.post(URL + "disable/tp_base", data={"csrf_token": csrf_token_of(confirm)},
                          follow_redirects=True).get_data(as_text=True)
    assert "Refusé : plugin « tp_base » : ne peut pas être désactivé : « tp_keep » en dépend(ent)" in refused
    assert _states(database_url)["tp_base"] == "enabled"

    confirm = client.get(URL + "disable/tp_keep").get_data(as_text=True)
    assert "Ses données sont conservées" in confirm
    page = client.post(URL + "disable/tp_keep", data={"csrf_token": csrf_token_of(confirm)},
                       follow_redirects=True).get_data(as_text=True)
    assert "Désactivé : tp_keep (ses données sont conservées). Redémarrez le serveur." in page
    assert _states(database_url) == {"tp_base": "enabled", "tp_keep": "disabled"}
    assert _events(database_url, "plugin_disabled") == [("tp_keep 1.0", "boss")]
    engine = cdb.make_engine(database_url)
    assert "tp_keep_item" in inspect(engine).get_table_names()  # disabling drops nothing
    engine.dispose()


def test_a_registry_clash_is_refused_with_the_start_s_message(clashing, cli, make_app, database_url):  # noqa: F811
    assert cli("db", "upgrade").exit_code == 0
    _operators(cli)
    assert cli("plugins", "enable", "tp_school_a").exit_code == 0
    client = _client(make_app(plugins=[], schema=False), "boss")
    page = client.get(URL).get_data(as_text=True)
    assert CLASH.replace("'", "&#39;") in page  # the real state and its cause, as `plugins list`
    confirm = client.get(URL + "enable/tp_school_b").get_data(as_text=True)
    assert CLASH.replace("'", "&#39;") in confirm and 'data-testid="plugin-confirm"' not in confirm  # told first
    refused = client.post(URL + "enable/tp_school_b", data={"csrf_token": csrf_token_of(confirm)},
                          follow_redirects=True).get_data(as_text=True)
    assert "Refusé : " + CLASH.replace("'", "&#39;") in refused
    assert _states(database_url).get("tp_school_b") is None


def test_managing_needs_the_permission(keep_plugin, cli, make_app, database_url):
    assert cli("db", "upgrade").exit_code == 0
    _operators(cli)
    client = _client(make_app(plugins=[], schema=False), "sup")
    page = client.get(URL)
    assert page.status_code == 200  # a supervisor sees the plugins…
    assert "Activer…" not in page.get_data(as_text=True)
    assert client.get(URL + "enable/tp_keep").status_code == 403  # …but cannot change them
    token = csrf_token_of(page.get_data(as_text=True))
    assert client.post(URL + "enable/tp_keep", data={"csrf_token": token}).status_code == 403
    assert _states(database_url) == {}


def test_the_cause_and_the_settings_are_shown(cli, make_app, register_plugin, database_url, monkeypatch):
    register_plugin(make_plugin("tp_typo", hooks={"coulisses_permisions": lambda: []}))
    register_plugin(make_plugin("tp_tuned", hooks={"coulisses_config_defaults": lambda: {
        "TP_TUNED_DELAY": 30, "TP_TUNED_MODE": "strict", "TP_TUNED_FLAG": False}}))
    monkeypatch.setenv("COULISSES_TP_TUNED_MODE", "lenient")
    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_tuned"}).exit_code == 0
    _operators(cli)
    client = _client(make_app(plugins=[], schema=False, TP_TUNED_DELAY=45), "boss")
    page = client.get(URL).get_data(as_text=True)
    assert "l&#39;implémentation de hook « coulisses_permisions » ne correspond à aucune spécification de hook" in page
    assert 'data-testid="plugin-settings"' in page
    assert "<code>COULISSES_TP_TUNED_DELAY</code></th><td><code>45</code></td><td>configuration</td>" in page
    assert "<code>COULISSES_TP_TUNED_MODE</code></th><td><code>lenient</code></td><td>variable d'environnement</td>" in page
    assert "<code>COULISSES_TP_TUNED_FLAG</code></th><td>non</td><td>valeur par défaut</td>" in page


def test_a_failed_schema_upgrade_says_what_to_do_never_a_server_error(keep_plugin, cli, make_app, database_url,
                                                                      monkeypatch):
    from coulisses import plugin_admin

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(plugin_admin, "install_enabled", fail)
    assert cli("db", "upgrade").exit_code == 0
    _operators(cli)
    client = _client(make_app(plugins=[], schema=False), "boss")
    confirm = client.get(URL + "enable/tp_keep").get_data(as_text=True)
    answer = client.post(URL + "enable/tp_keep", data={"csrf_token": csrf_token_of(confirm)}, follow_redirects=True)
    assert answer.status_code == 200
    assert ("Plugin activé, mais sa base n&#39;a pas pu être mise à jour : disk full. "
            "Lancez `coulisses db upgrade` avant de redémarrer.") in answer.get_data(as_text=True)
