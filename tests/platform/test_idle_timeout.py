"""An operator session ends after COULISSES_SESSION_IDLE_MINUTES without a request (shared
box-office workstations): the next page asks for the login with a message and comes back where it
was. API tokens are unaffected. "Change operator" at the till keeps the screen and logs the next
operator in. The host clock is set: no sleeps."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from coulisses.security_events import SecurityEvent
from tests.conftest import PASSWORD, app_session, csrf_token_of, login


def last_events(app, kind):
    with app_session(app) as s:
        return [(e.login, e.actor_login, e.detail) for e in
                s.scalars(select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id))]


def test_a_session_idle_for_longer_than_the_setting_ends_and_comes_back_after_login(app, make_operator, clock):
    make_operator("marie", roles=["administrator"])
    client = app.test_client()
    assert login(client, "marie").status_code == 302
    clock.advance(minutes=29)
    assert client.get("/admin/core_role/").status_code == 200  # activity: the idle time starts again
    clock.advance(minutes=29)
    assert client.get("/admin/core_role/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    expired = client.get("/admin/core_role/?page=1")
    assert expired.status_code == 302
    target = urlsplit(expired.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/admin/core_role/?page=1"]
    page = client.get(expired.headers["Location"]).get_data(as_text=True)
    assert "Votre session a expiré après 30 minutes sans activité : reconnectez-vous." in page
    token = csrf_token_of(page)
    back = client.post(expired.headers["Location"], data={"login": "marie", "password": PASSWORD, "csrf_token": token})
    assert back.headers["Location"] == "/admin/core_role/?page=1"
    assert client.get("/admin/core_role/").status_code == 200
    assert last_events(app, "session_expired") == [("marie", "marie", "30min")]


def test_a_form_sent_after_the_expiry_goes_to_the_login_and_back_to_its_page(app, make_operator, clock):
    make_operator("marie", roles=["administrator"])
    client = app.test_client()
    login(client, "marie")
    token = csrf_token_of(client.get("/admin/core_role/new/").get_data(as_text=True))
    clock.advance(hours=1)
    response = client.post("/admin/core_role/new/", data={"code": "late", "name": "Trop tard", "csrf_token": token},
                           headers={"Referer": "http://localhost/admin/core_role/new/"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/admin/core_role/new/"]
    with app_session(app) as s:
        from coulisses.security import Role

        assert s.scalar(select(Role).where(Role.code == "late")) is None


def test_the_screens_own_api_calls_get_401_after_the_expiry(app, make_operator, clock):
    make_operator("marie", roles=["administrator"])
    client = app.test_client()
    login(client, "marie")
    assert client.get("/api/v1/openapi.json").status_code == 200  # the session cookie is enough
    clock.advance(minutes=31)
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthenticated"


def test_api_tokens_are_not_affected(app, make_operator, token_for, clock):
    make_operator("robot", roles=["readonly"])
    token = token_for("robot")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    clock.advance(hours=5)
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200


@pytest.mark.parametrize("minutes, idle, expires", [(5, 4, False), (5, 6, True), (0, 60 * 24, False)])
def test_the_idle_time_is_configurable_and_zero_turns_it_off(make_app, minutes, idle, expires, clock):
    from coulisses import security

    app = make_app([], SESSION_IDLE_MINUTES=minutes)
    with app_session(app) as s:
        security.create_operator(s, "marie", PASSWORD, roles=["administrator"])
        s.commit()
    client = app.test_client()
    login(client, "marie")
    clock.advance(minutes=idle)
    assert client.get("/admin/").status_code == (302 if expires else 200)


# --------------------------------------------------------------------------- change operator


def test_change_operator_logs_the_next_operator_in_without_leaving_the_page(app, make_operator):
    make_operator("anne", roles=["operator"])
    make_operator("bruno", roles=["operator"])
    client = app.test_client()
    login(client, "anne")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-testid="change-operator"' in page and 'id="change-operator-form"' in page
    old_token = csrf_token_of(page)
    refused = client.post("/change-operator", data={"login": "bruno", "password": "wrong", "csrf_token": old_token})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["message"]
    assert 'data-operator-name>Anne<' in client.get("/admin/").get_data(as_text=True)  # still Anne
    changed = client.post("/change-operator", data={"login": "bruno", "password": PASSWORD, "csrf_token": old_token})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["login"], body["name"]) == ("bruno", "Bruno")
    assert body["message"] == "Opérateur : Bruno"
    assert body["csrf_token"] and body["csrf_token"] != old_token
    # a new session: the page's old token no longer works, the new one does
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 400
    assert 'data-operator-name>Bruno<' in client.get("/admin/").get_data(as_text=True)
    assert last_events(app, "operator_changed") == [("bruno", "anne", "anne bruno")]


def test_change_operator_needs_the_page_csrf_token_and_is_throttled(app, make_operator, clock):
    make_operator("anne")
    make_operator("bruno")
    client = app.test_client()
    login(client, "anne")
    token = csrf_token_of(client.get("/admin/").get_data(as_text=True))
    assert client.post("/change-operator", data={"login": "bruno", "password": PASSWORD}).status_code == 400
    statuses = [client.post("/change-operator", data={"login": "bruno", "password": "wrong", "csrf_token": token}
                            ).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    late = client.post("/change-operator", data={"login": "bruno", "password": PASSWORD, "csrf_token": token})
    assert late.status_code == 429 and late.headers["Retry-After"]
    clock.advance(seconds=2)
    assert client.post("/change-operator", data={"login": "bruno", "password": PASSWORD, "csrf_token": token}
                       ).status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "/\\/evil.example/", "https://evil.example/"])
def test_the_way_back_after_login_stays_on_the_site(app, make_operator, target):
    make_operator("marie")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", query_string={"next": target},
                           data={"login": "marie", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/admin/"
