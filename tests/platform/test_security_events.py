"""The journal of security events: every kind is recorded where it happens (screens, login, API, command
line), with who, about whom, from where; administrators read it in a read-only screen with filters."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from coulisses import security
from coulisses.db import Actor, acting_as
from coulisses.security_events import EVENT_KINDS, SecurityEvent, client_address, record_event
from tests.conftest import PASSWORD, app_session, csrf_token_of, login
from tests.platform.test_login_throttle import post_login


def journal(app):
    with app_session(app) as s:
        return [(e.kind, e.login, e.actor_login, e.address, e.detail)
                for e in s.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]


def of_kind(app, kind):
    return [e for e in journal(app) if e[0] == kind]


def form_post(client, url, data):
    token = csrf_token_of(client.get(url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def role_id(app, code):
    with app_session(app) as s:
        return s.scalar(select(security.Role.id).where(security.Role.code == code))


def operator_id(app, login_name):
    with app_session(app) as s:
        return security.get_operator(s, login_name).id


def test_every_kind_of_event_is_recorded_where_it_happens(app, make_operator, token_for, cli, clock, register_plugin):
    make_operator("boss", roles=["administrator"])
    make_operator("anne", roles=["operator"])
    boss = app.test_client()
    # logins: a failure, a success, a lock-out
    assert login(boss, "boss", "not the password").status_code == 401
    assert login(boss, "boss").status_code == 302
    for _ in range(12):
        post_login(app.test_client(), "ghost", "guess", address="192.0.2.66")
    # change operator at the till, logout, idle expiry
    till = app.test_client()
    login(till, "anne")
    token = csrf_token_of(till.get("/admin/").get_data(as_text=True))
    assert till.post("/change-operator", data={"login": "boss", "password": PASSWORD, "csrf_token": token}
                     ).status_code == 200
    token = csrf_token_of(till.get("/admin/").get_data(as_text=True))
    assert till.post("/logout", data={"csrf_token": token}).status_code == 302
    idle = app.test_client()
    login(idle, "anne")
    clock.advance(hours=1)
    assert idle.get("/admin/").status_code == 302
    clock.advance(hours=1)
    assert login(boss, "boss").status_code == 302  # boss's own session expired meanwhile too
    # operators: created, roles changed, deactivated, reactivated; a password changed (command line)
    created = form_post(boss, "/admin/core_operator/new/", {
        "login": "claire", "full_name": "Claire", "active": "y", "roles": [str(role_id(app, "operator"))],
        "new_password": PASSWORD})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]
    claire = operator_id(app, "claire")
    edited = form_post(boss, f"/admin/core_operator/edit/?id={claire}", {
        "login": "claire", "full_name": "Claire", "active": "y", "roles": [str(role_id(app, "supervisor"))]})
    assert edited.status_code == 302
    listing = boss.get("/admin/core_operator/").get_data(as_text=True)
    boss.post("/admin/core_operator/action/", data={"action": "deactivate", "rowid": [str(claire)],
                                                     "url": "/admin/core_operator/", "csrf_token": csrf_token_of(listing)})
    form_post(boss, f"/admin/core_operator/edit/?id={claire}", {
        "login": "claire", "full_name": "Claire", "active": "y", "roles": [str(role_id(app, "supervisor"))]})
    assert cli("operators", "set-password", "claire", input=f"{PASSWORD}2\n{PASSWORD}2\n").exit_code == 0
    # tokens: created (command line), refused, revoked (screen)
    result = cli("operators", "token", "anne", "--label", "caisse 2")
    assert result.exit_code == 0
    assert app.test_client().get("/api/v1/openapi.json", headers={"Authorization": "Bearer cou_forged"}).status_code == 401
    with app_session(app) as s:
        token_id = s.scalar(select(security.ApiToken.id).where(security.ApiToken.label == "caisse 2"))
    listing = boss.get("/admin/core_api_token/").get_data(as_text=True)
    boss.post("/admin/core_api_token/action/", data={"action": "revoke", "rowid": [str(token_id)],
                                                      "url": "/admin/core_api_token/", "csrf_token": csrf_token_of(listing)})
    # roles: created, permissions changed, deleted
    form_post(boss, "/admin/core_role/new/", {"code": "cashier", "name": "Caissier", "permission_codes": ["core.api.docs"]})
    cashier = role_id(app, "cashier")
    form_post(boss, f"/admin/core_role/edit/?id={cashier}", {"code": "cashier", "name": "Caissier",
                                                              "permission_codes": ["core.plugins.view"]})
    listing = boss.get("/admin/core_role/").get_data(as_text=True)
    boss.post("/admin/core_role/delete/", data={"id": str(cashier), "csrf_token": csrf_token_of(listing)})
    # plugins, from the command line
    assert cli("plugins", "enable", "contacts", "--no-upgrade").exit_code == 0
    assert cli("plugins", "disable", "contacts").exit_code == 0
    assert cli("plugins", "uninstall", "contacts", "--drop-data", "--yes").exit_code == 0

    # a plugin's setting changed (the plugins screen's service; a throwaway plugin declaring one)
    from marshmallow import Schema, fields as mfields

    from coulisses import plugin_settings
    from coulisses import plugins as cplugins
    from tests.platform.conftest import make_plugin

    class TpSettings(Schema):
        TP_SEC_LIMIT = mfields.Integer(load_default=5)

    register_plugin(make_plugin("tp_sec", hooks={"coulisses_settings_schema": lambda: TpSettings}))
    pm = cplugins.build_manager(cplugins.discover(), ["tp_sec"])
    with app_session(app) as s, acting_as(Actor(None, "boss")):
        assert plugin_settings.save(s, pm, "tp_sec", {"TP_SEC_LIMIT": "7"}, {"TP_SEC_LIMIT": 5}) == ["TP_SEC_LIMIT"]
        s.commit()

    # a webhook subscription: created, changed, its secret replaced (screen), deleted
    from coulisses import webhooks

    hook = {"url": "https://crm.example.org/hook", "events": ["*"], "description": "CRM", "active": "y"}
    assert form_post(boss, "/admin/core_webhook_subscription/new/", hook).status_code == 200  # the secret, once
    with app_session(app) as s:
        sub_id = s.scalar(select(webhooks.WebhookSubscription.id))
    edit = f"/admin/core_webhook_subscription/edit/?id={sub_id}"
    assert form_post(boss, edit, {**hook, "description": "CRM 2"}).status_code == 302
    assert form_post(boss, edit, {**hook, "description": "CRM 2", "rotate_secret": "y"}).status_code == 200
    listing = boss.get("/admin/core_webhook_subscription/").get_data(as_text=True)
    boss.post("/admin/core_webhook_subscription/delete/", data={"id": str(sub_id), "csrf_token": csrf_token_of(listing)})

    recorded = {e[0] for e in journal(app)}
    assert recorded == set(EVENT_KINDS), f"never recorded: {set(EVENT_KINDS) - recorded}"

    assert of_kind(app, "login_failed")[0][1:4] == ("boss", "", "127.0.0.1")
    assert ("login_succeeded", "boss", "boss", "127.0.0.1", "") in journal(app)
    assert [e[1] for e in of_kind(app, "locked_out")] == ["ghost"]
    assert [e[2:] for e in of_kind(app, "plugin_settings_changed")] == [("boss", "", "tp_sec TP_SEC_LIMIT 5 -> 7")]
    assert of_kind(app, "operator_changed") == [("operator_changed", "boss", "anne", "127.0.0.1", "anne boss")]
    assert [e[1:3] for e in of_kind(app, "logout")] == [("boss", "boss")]
    assert of_kind(app, "session_expired")[0][2:] == ("anne", "127.0.0.1", "30min")
    assert [e[1] for e in of_kind(app, "session_expired")] == ["anne", "boss"]
    assert of_kind(app, "operator_created")[-1][1:3] == ("claire", "boss")
    assert of_kind(app, "operator_created")[-1][4] == "operator"
    assert of_kind(app, "operator_roles_changed") == [
        ("operator_roles_changed", "claire", "boss", "127.0.0.1", "+supervisor -operator")]
    assert [e[1:3] for e in of_kind(app, "operator_deactivated")] == [("claire", "boss")]
    assert [e[1:3] for e in of_kind(app, "operator_reactivated")] == [("claire", "boss")]
    password = of_kind(app, "password_changed")
    assert password[0][1] == "claire" and password[0][2].startswith("cli") and password[0][3] == ""
    tokens = of_kind(app, "token_created")
    assert tokens[-1][1] == "anne" and tokens[-1][2].startswith("cli") and tokens[-1][4].endswith("caisse 2")
    assert of_kind(app, "token_revoked")[-1][1:3] == ("anne", "boss")
    assert of_kind(app, "token_refused")[-1][1:4] == ("", "", "127.0.0.1")
    assert of_kind(app, "role_created")[-1][2:] == ("boss", "127.0.0.1", "cashier core.api.docs")
    assert of_kind(app, "webhook_changed") == [("webhook_changed", "", "boss", "127.0.0.1",
                                                f"{sub_id} crm.example.org description")]
    assert [e[2:] for e in of_kind(app, "webhook_deleted")] == [("boss", "127.0.0.1", f"{sub_id} crm.example.org")]
    assert of_kind(app, "role_changed")[-1][2:] == ("boss", "127.0.0.1", "cashier +core.plugins.view -core.api.docs")
    assert of_kind(app, "role_deleted")[-1][4] == "cashier core.plugins.view"
    assert [e[4].split()[0] for e in of_kind(app, "plugin_enabled")] == ["contacts"]
    assert of_kind(app, "plugin_disabled")[0][2].startswith("cli") and of_kind(app, "plugin_disabled")[0][4].startswith("contacts ")
    assert of_kind(app, "plugin_uninstalled")[0][2].startswith("cli") and of_kind(app, "plugin_uninstalled")[0][4] == "contacts"


def test_permissions_granted_by_a_new_plugin_are_in_the_journal(make_app):
    app = make_app(["contacts"])
    changed = [e for e in journal(app) if e[0] in ("role_created", "role_changed")]
    assert {e[4].split()[0] for e in changed} == {"administrator", "supervisor", "operator", "readonly"}
    administrator = next(e for e in changed if e[4].startswith("administrator"))
    assert "contacts." in administrator[4] and "core.security.events" in administrator[4]


def test_record_event_refuses_an_unknown_kind_and_keeps_the_journal_on_one_line(app):
    with app_session(app) as s:
        with pytest.raises(ValueError, match="unknown security event kind 'login_ok'"):
            record_event(s, "login_ok")
        with acting_as(Actor(None, "portal")), client_address("192.0.2.7"):
            event = record_event(s, "login_failed", login="x\ny\x00z", scope="portal", detail="a\rb")
        s.commit()
        assert (event.login, event.detail, event.address, event.actor_login) == ("x?y?z", "a?b", "192.0.2.7", "portal")


# --------------------------------------------------------------------------- the journal screen


@pytest.fixture
def filled(app, make_operator, clock):
    make_operator("boss", roles=["administrator"])
    make_operator("anne", roles=["operator"])
    login(app.test_client(), "anne", "wrong password")
    clock.advance(days=2)
    login(app.test_client(), "anne")
    client = app.test_client()
    login(client, "boss")
    return client


def filter_url(app, name, operation, value) -> str:
    view = next(v for v in app.extensions["coulisses"].admin._views if v.endpoint == "core_security_event")
    index = next(i for i, f in enumerate(view._filters) if str(f.name) == name and str(f.operation()) == operation)
    return f"/admin/core_security_event/?flt0_{index}={value}"


def column(html: str, name: str) -> list[str]:
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(rf'<td class="col-{name}">(.*?)</td>', html, re.S)]


def test_administrators_read_the_journal_newest_first_with_labels(app, filled):
    page = filled.get("/admin/core_security_event/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Journal de sécurité" in html
    kinds = column(html, "kind")
    assert kinds.index("Connexion") < kinds.index("Échec de connexion")  # the newest first
    assert not set(kinds) & set(EVENT_KINDS)  # labels, not codes
    assert "/admin/core_security_event/" in filled.get("/admin/").get_data(as_text=True)  # in the menu


def test_the_journal_filters_by_type_operator_and_date(app, filled):
    def kinds(url, name="kind"):
        response = filled.get(url)
        assert response.status_code == 200
        return column(response.get_data(as_text=True), name)

    assert set(kinds(filter_url(app, "Type", "equals", "login_failed"))) == {"Échec de connexion"}
    assert set(kinds(filter_url(app, "Opérateur", "equals", "anne"), "login")) == {"anne"}
    assert "anne" in kinds(filter_url(app, "Opérateur", "contains", "ann"), "login")
    # 14 March 2026 (the clock's first day, local time) holds the failure; the 16th the logins
    first_day = kinds(filter_url(app, "Date", "le jour", "2026-03-14"))
    assert "Échec de connexion" in first_day and "Connexion" not in first_day
    later = kinds(filter_url(app, "Date", "depuis le", "16.03.2026"))
    assert "Échec de connexion" not in later and "Connexion" in later
    assert "Échec de connexion" not in kinds(filter_url(app, "Date", "jusqu'au", "2026-03-13"))
    assert "Échec de connexion" in kinds(filter_url(app, "Date", "jusqu'au", "14/03/2026"))


def test_the_journal_is_read_only_and_for_administrators(app, filled, make_operator, client_for):
    with app_session(app) as s:
        count = s.scalar(select(func.count()).select_from(SecurityEvent))
        first = s.scalar(select(SecurityEvent.id).order_by(SecurityEvent.id))
    html = filled.get("/admin/core_security_event/").get_data(as_text=True)
    assert "/admin/core_security_event/new/" not in html and "/admin/core_security_event/edit/" not in html
    assert 'action="/admin/core_security_event/delete/"' not in html
    token = csrf_token_of(html)
    filled.post("/admin/core_security_event/delete/", data={"id": str(first), "csrf_token": token})
    filled.post("/admin/core_security_event/new/", data={"kind": "logout", "csrf_token": token})
    assert filled.get(f"/admin/core_security_event/details/?id={first}").status_code == 200
    make_operator("sup", roles=["supervisor"])
    supervisor = client_for("sup")
    assert supervisor.get("/admin/core_security_event/").status_code == 403
    assert "/admin/core_security_event/" not in supervisor.get("/admin/").get_data(as_text=True)
    with app_session(app) as s:  # nothing removed or added by the screen; the supervisor created and logged in
        assert s.scalar(select(func.count()).select_from(SecurityEvent)) == count + 2
        assert s.get(SecurityEvent, first) is not None


@pytest.mark.parametrize("locale, failed, expired", [
    ("en", "Failed login", "Your session expired after 30 minutes without activity: please log in again."),
    ("es", "Inicio de sesión fallido", "Su sesión ha caducado tras 30 minutos sin actividad: vuelva a iniciar sesión."),
])
def test_the_journal_and_the_messages_speak_the_operators_language(app, filled, locale, failed, expired, clock):
    with app_session(app) as s:
        security.get_operator(s, "boss").locale = locale
        s.commit()
    html = filled.get("/admin/core_security_event/").get_data(as_text=True)
    assert failed in column(html, "kind")
    assert ("Security log" if locale == "en" else "Registro de seguridad") in html
    clock.advance(hours=1)
    page = filled.get(filled.get("/admin/").headers["Location"])  # the browser says nothing of its language
    assert expired in page.get_data(as_text=True)
