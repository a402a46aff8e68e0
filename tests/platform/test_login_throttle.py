"""Login throttling, kept in the database: after a few failures for one login or one address the next
attempts must wait (the answer says how long), then are refused for a while; a success resets the
login's counter; the same for API bearer tokens (429 with Retry-After) and the customers' portal
(the service's ``portal`` scope). The host clock is set: no sleeps."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from coulisses import security, throttle
from coulisses.security_events import SecurityEvent
from tests.conftest import PASSWORD, app_session, create_schema, csrf_token_of

def post_login(client, login, password, address="127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token_of(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                       environ_base=environ)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def events(app, kind=None):
    with app_session(app) as s:
        stmt = select(SecurityEvent).order_by(SecurityEvent.id)
        if kind:
            stmt = stmt.where(SecurityEvent.kind == kind)
        return [(e.kind, e.login, e.address, e.detail) for e in s.scalars(stmt)]


def test_sixty_wrong_passwords_lock_the_login_until_the_window_is_over(app, make_operator, clock, caplog):
    make_operator("marie")
    client = app.test_client()
    caplog.set_level(logging.WARNING, logger="coulisses.security")
    statuses = []
    for i in range(60):
        response = post_login(client, "marie", f"wrong password {i}")
        statuses.append(response.status_code)
        if i == 3:  # the fourth failure: still a wrong password, and the wait is announced
            assert response.status_code == 401
            assert "réessayez dans 1 seconde" in text_of(response)
        if i == 4:  # too early: refused without looking at the password
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "1"
            assert "Trop de tentatives de connexion : réessayez dans 1 seconde." in text_of(response)
    assert statuses[:4] == [401] * 4
    assert set(statuses[4:]) == {429}
    locked = post_login(client, "marie", PASSWORD)  # the right password, while locked
    assert locked.status_code == 429
    assert "la connexion est bloquée pendant 15 minutes" in text_of(locked)
    assert int(locked.headers["Retry-After"]) == 15 * 60
    assert client.get("/admin/").status_code == 302  # not logged in

    clock.advance(minutes=14, seconds=59)
    assert post_login(client, "marie", PASSWORD).status_code == 429
    clock.advance(seconds=1)
    assert post_login(client, "marie", PASSWORD).status_code == 302
    assert client.get("/admin/").status_code == 200

    assert len(events(app, "locked_out")) == 1
    kind, login, address, detail = events(app, "locked_out")[0]
    assert (login, address) == ("marie", "127.0.0.1") and detail.startswith("login 10 ")
    assert len(events(app, "login_failed")) == 10  # the ten counted; the refusals during the lock are only logged
    assert [e[1] for e in events(app, "login_succeeded")] == ["marie"]
    lines = [r.getMessage() for r in caplog.records if r.name == "coulisses.security"]
    assert "Coulisses login failure for 'marie' from 127.0.0.1 (scope operator)" in lines
    assert "Coulisses lock-out of login 'marie' from 127.0.0.1 for 900 seconds (scope operator)" in lines
    assert sum("Coulisses login refused (locked) for 'marie' from 127.0.0.1" in line for line in lines) == 52


def test_a_success_after_the_wait_resets_the_login(app, make_operator, clock):
    make_operator("marie")
    client = app.test_client()
    for i in range(4):
        post_login(client, "marie", "wrong password")
    assert post_login(client, "marie", PASSWORD).status_code == 429  # the wait of 1 second runs
    clock.advance(seconds=1)
    assert post_login(client, "marie", PASSWORD).status_code == 302
    other = app.test_client()
    for i in range(3):  # counting starts again from zero: three failures make no wait
        assert post_login(other, "marie", "wrong password").status_code == 401
    assert post_login(other, "marie", PASSWORD).status_code == 302


def test_the_wait_doubles_up_to_the_maximum(app, make_operator, clock):
    make_operator("marie")
    client = app.test_client()
    waits = []
    for i in range(9):
        response = post_login(client, "marie", "wrong password")
        assert response.status_code == 401
        if i >= 3:
            probe = post_login(client, "marie", "wrong password")  # too early, so refused, and counted
            waits.append(int(probe.headers["Retry-After"]))
            clock.advance(seconds=waits[-1])
            if len(waits) == 3:
                break
    assert waits == [1, 4, 16]  # 4th failure: 1 s; its early retry is the 5th; the 6th waits 4 s…


def test_unknown_logins_from_one_address_are_slowed_then_locked_while_other_addresses_are_not(app, make_operator, clock):
    make_operator("marie")
    client = app.test_client()
    for i in range(11):  # one failure per login, eleven for the address
        assert post_login(client, f"guess{i}", "wrong password", address="203.0.113.9").status_code == 401
    refused = post_login(client, "marie", PASSWORD, address="203.0.113.9")
    assert refused.status_code == 429  # the address waits, whichever login it tries
    assert "réessayez dans 1 seconde" in text_of(refused)
    assert post_login(app.test_client(), "marie", PASSWORD, address="198.51.100.4").status_code == 302
    for i in range(30):
        clock.advance(seconds=31)
        post_login(client, f"other{i}", "wrong password", address="203.0.113.9")
    locked = post_login(client, "marie", PASSWORD, address="203.0.113.9")
    assert locked.status_code == 429 and "bloquée" in text_of(locked)
    assert [e[1:3] for e in events(app, "locked_out")] == [("", "203.0.113.9")]


def test_the_counters_are_shared_by_every_worker(make_app, make_operator, clock):
    first = make_app([])
    second = make_app([], schema=False)  # another worker on the same database
    make_operator("marie")
    for i in range(3):
        post_login(first.test_client(), "marie", "wrong password")
    assert post_login(second.test_client(), "marie", "wrong password").status_code == 401
    response = post_login(first.test_client(), "marie", PASSWORD)
    assert response.status_code == 429 and "réessayez dans" in text_of(response)


def test_thresholds_are_configurable(make_app, make_operator, clock):
    app = make_app([], LOGIN_FREE_FAILURES=1, LOGIN_LOCK_FAILURES=2, LOGIN_LOCK_MINUTES=2)
    with app_session(app) as s:
        security.create_operator(s, "marie", PASSWORD)
        s.commit()
    client = app.test_client()
    assert post_login(client, "marie", "wrong password").status_code == 401
    locked = post_login(client, "marie", "wrong password")
    assert locked.status_code == 401 and "bloquée pendant 2 minutes" in text_of(locked)
    clock.advance(minutes=2)
    assert post_login(client, "marie", PASSWORD).status_code == 302


@pytest.mark.parametrize("key, value", [("SESSION_IDLE_MINUTES", "half an hour"), ("LOGIN_LOCK_FAILURES", "-1")])
def test_a_bad_setting_stops_the_start_with_a_message(make_app, key, value):
    from coulisses.web.app import ConfigError

    with pytest.raises(ConfigError) as excinfo:
        make_app([], **{key: value})
    assert f"COULISSES_{key} doit être un nombre entier" in str(excinfo.value)


# --------------------------------------------------------------------------- API tokens


def test_wrong_tokens_from_one_address_get_429_with_retry_after(app, make_operator, token_for, clock):
    make_operator("reader", roles=["readonly"])
    good = token_for("reader")
    client = app.test_client()

    def get(token, address="192.0.2.10"):
        return client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"},
                          environ_base={"REMOTE_ADDR": address})

    assert [get("cou_wrong").status_code for _ in range(10)] == [401] * 10  # an address's ten free failures
    waiting = get("cou_wrong")
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "1"
    assert waiting.get_json()["error"]["code"] == "too_many_requests"
    assert "réessayez dans 1 seconde" in waiting.get_json()["error"]["message"]
    assert get(good).status_code == 429  # the address waits, whatever it sends
    assert get(good, address="192.0.2.99").status_code == 200  # another address does not
    clock.advance(seconds=1)
    assert get(good).status_code == 200
    for _ in range(20):
        get("cou_wrong")
    locked = get(good)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 15 * 60
    assert "bloquée pendant 15 minutes" in locked.get_json()["error"]["message"]
    clock.advance(minutes=15)
    assert get(good).status_code == 200
    refused = events(app, "token_refused")
    assert refused and all(e[2] == "192.0.2.10" for e in refused)
    with app_session(app) as s:
        scopes = set(s.scalars(select(SecurityEvent.scope).where(SecurityEvent.kind == "token_refused")))
    assert scopes == {"api"}


# --------------------------------------------------------------------------- the service (portal scope)


@pytest.fixture
def db_session(session, database_url):
    create_schema(database_url, [])
    return session


def test_the_service_throttles_the_portal_scope_on_its_own(db_session, clock):
    policy = throttle.Policy(free_failures=2, lock_failures=4, lock_minutes=10)
    s = db_session
    kw = dict(login="client@example.org", address="192.0.2.1", policy=policy)
    assert throttle.before_attempt(s, "portal", **kw) is None
    assert throttle.failed(s, "portal", **kw) is None
    assert throttle.failed(s, "portal", **kw) is None
    wait = throttle.failed(s, "portal", **kw)
    assert (wait.retry_after, wait.locked, wait.subject) == (1, False, "login")
    s.commit()
    # the operators' login with the same name is another counter
    assert throttle.refusal(s, "operator", login="client@example.org") is None
    early = throttle.before_attempt(s, "portal", **kw)
    assert early is not None and early.locked is True  # the early attempt was the 4th failure
    assert throttle.refusal(s, "portal", login="CLIENT@example.org ").locked  # logins compare folded
    clock.advance(minutes=10)
    assert throttle.before_attempt(s, "portal", **kw) is None
    throttle.succeeded(s, "portal", login="client@example.org")
    s.commit()
    kinds = [(e.kind, e.scope) for e in s.scalars(select(SecurityEvent).order_by(SecurityEvent.id))
             if e.scope == "portal"]
    assert kinds == [("login_failed", "portal")] * 4 + [("locked_out", "portal")]


def test_an_administrator_unlocks_a_login_from_the_command_line(app, make_operator, clock, cli):
    make_operator("marie")
    client = app.test_client()
    for _ in range(12):
        post_login(client, "marie", "wrong password", address="192.0.2.50")
    assert post_login(client, "marie", PASSWORD, address="192.0.2.51").status_code == 429
    result = cli("operators", "unlock", "marie")
    assert result.exit_code == 0 and "marie : déverrouillé." in result.output
    assert post_login(client, "marie", PASSWORD, address="192.0.2.51").status_code == 302
    assert "n'était pas verrouillé" in cli("operators", "unlock", "marie").output


def test_the_api_description_lists_429_with_retry_after(make_app):
    app = make_app(["contacts"])
    with app.app_context():
        spec = app.extensions["coulisses"].api.openapi()
    operations = [op for path in spec["paths"].values() for op in path.values()]
    assert operations
    for op in operations:
        assert "Retry-After" in op["responses"]["429"]["headers"], op["operationId"]
