"""Plugin configuration outside the web app, the CSRF-expired page, the session at login, proxies."""
from coulisses.config import current_config, use_config
from coulisses.tasks import Task
from tests.conftest import csrf_token_of, login
from tests.platform.conftest import make_plugin
from tests.platform.test_cli import engine, upgraded  # noqa: F401 - fixtures


def _plugin_reading_its_setting(seen):
    def purge(session):
        seen.append(current_config()["TP_CONF_MONTHS"])
        return f"months={current_config()['TP_CONF_MONTHS']}"

    return make_plugin("tp_conf", hooks={
        "coulisses_config_defaults": lambda: {"TP_CONF_MONTHS": 36},
        "coulisses_periodic_tasks": lambda: [Task("tp_conf.purge", "weekly", purge)],
    })


def test_a_task_run_from_the_cli_sees_the_plugin_default(cli, register_plugin, upgraded):  # noqa: F811
    seen = []
    register_plugin(_plugin_reading_its_setting(seen))
    assert cli("plugins", "enable", "tp_conf").exit_code == 0
    result = cli("tasks", "run", "tp_conf.purge")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "tp_conf.purge : months=36"
    assert seen == [36]


def test_the_environment_overrides_a_plugin_default_in_the_cli(cli, register_plugin, upgraded):  # noqa: F811
    seen = []
    register_plugin(_plugin_reading_its_setting(seen))
    cli("plugins", "enable", "tp_conf")
    result = cli("tasks", "run", "tp_conf.purge", env={"COULISSES_TP_CONF_MONTHS": "12"})
    assert result.output.strip() == "tp_conf.purge : months=12"
    assert seen == [12]  # an int, like the default


def test_the_web_app_and_use_config_give_the_same_view(make_app, register_plugin):
    register_plugin(make_plugin("tp_conf", hooks={"coulisses_config_defaults": lambda: {"TP_CONF_MONTHS": 36}}))
    app = make_app(["tp_conf"], TP_CONF_MONTHS=6)
    with app.app_context():
        assert current_config()["TP_CONF_MONTHS"] == 6  # explicit configuration wins
    with use_config({"TP_CONF_MONTHS": 3}):
        assert current_config()["TP_CONF_MONTHS"] == 3


def test_an_expired_form_gets_a_page_that_says_what_to_do(admin_client):
    response = admin_client.post("/admin/core_role/new/", data={"code": "x", "name": "X"},
                                 headers={"Referer": "http://localhost/admin/core_role/new/"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Ce formulaire a expiré" in page
    assert 'href="http://localhost/admin/core_role/new/"' in page  # the way back


def test_logging_in_starts_a_new_session(app, make_operator):
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, "boss")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("_user_id")


def _probe(app):
    from flask import request

    app.add_url_rule("/probe", "probe", lambda: f"{request.url} {request.remote_addr}")
    return app.test_client()


def test_behind_a_proxy_the_forwarded_scheme_host_and_address_are_used(make_app):
    client = _probe(make_app([], PROXY_COUNT=1))
    body = client.get("/probe", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "billetterie.example",
                                         "X-Forwarded-For": "203.0.113.7"}).get_data(as_text=True)
    assert body == "https://billetterie.example/probe 203.0.113.7"


def test_without_proxy_configuration_forwarded_headers_are_ignored(make_app):
    client = _probe(make_app([]))
    body = client.get("/probe", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example",
                                         "X-Forwarded-For": "203.0.113.7"}).get_data(as_text=True)
    assert body == "http://localhost/probe 127.0.0.1"
