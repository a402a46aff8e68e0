"""Security: nothing is served to an anonymous client but the login page, static files and the
health check; the API answers 401/403 as JSON; CSRF on every form; production needs a secret key;
inactive operators are out; read-only operators read; passwords are scrypt hashes."""
from __future__ import annotations

from decimal import Decimal

import pytest
from flask_admin.model.base import BaseModelView
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash

from coulisses import Permission, security
from coulisses.db import Base, Money
from coulisses.web.admin import SecuredView
from tests.conftest import PASSWORD, app_session, csrf_token_of, login
from tests.platform.conftest import make_plugin
from tests.platform.test_packaging import builtin_plugin_names

BUILTIN = builtin_plugin_names()
STATIC_FILES = {
    "static": "coulisses/coulisses.css",
    "admin.static": "bootstrap/bootstrap4/css/bootstrap.min.css",
}
PUBLIC = {"/login", "/health", "/static/coulisses/coulisses.css",
          "/admin/static/bootstrap/bootstrap4/css/bootstrap.min.css",
          "/portal/login"}  # the customers' portal (waiting_account): its own login, its own population
PORTAL = "/portal/"


def login_page_of(url: str) -> str:
    """Where an anonymous client is sent: the customers' portal has its own login page."""
    return "/portal/login" if url.startswith(PORTAL) else "/login"
# Public redirects: /favicon.ico → the host's icon (a static file)
PUBLIC_REDIRECTS = {"/favicon.ico": "/static/coulisses/favicon.svg"}


def url_for_rule(app, rule, method="GET") -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        values[arg] = 1 if type(converter).__name__ in ("IntegerConverter", "NumberConverter") else "x"
    if rule.endpoint in STATIC_FILES:
        values["filename"] = STATIC_FILES[rule.endpoint]
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method, force_external=False)


@pytest.fixture
def full_app(make_app):
    """The host with every built-in plugin."""
    return make_app(plugins=BUILTIN)


def test_anonymous_gets_nothing_but_the_login_page_static_files_and_health(full_app):
    client = full_app.test_client()
    answered = {}
    for rule in full_app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = url_for_rule(full_app, rule)
        response = client.get(url)
        answered[url] = response
        if url == "/health/ready":  # public too: 503 here, the test schema is not made by the migrations
            assert response.status_code in (200, 503) and "status" in response.get_json()
            continue
        if url in PUBLIC_REDIRECTS:
            assert response.status_code == 301 and response.headers["Location"] == PUBLIC_REDIRECTS[url]
        elif url not in PUBLIC:
            assert response.status_code in (302, 401, 403, 404), f"{url} answered {response.status_code}"
            if response.status_code == 302:
                location = response.headers["Location"]
                assert location.startswith(login_page_of(url)) or (url == "/" and location == "/admin/"), (url, location)
    assert len(answered) > 10
    assert sorted(url for url, r in answered.items() if r.status_code == 200) == sorted(PUBLIC)
    assert answered["/health"].get_json() == {"status": "ok"}


def test_anonymous_posts_are_refused_everywhere(full_app):
    client = full_app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))  # a valid token, no login
    for rule in full_app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in ("auth.login", "auth.set_locale",
                                                           "waiting_account_portal.login"):
            continue  # logging in (operators, the portal's customers), and choosing the login page's language
        url = url_for_rule(full_app, rule, "POST")
        response = client.post(url, data={"csrf_token": token})
        assert response.status_code in (302, 401, 403, 404), f"POST {url} answered {response.status_code}"
        if response.status_code == 302:
            assert response.headers["Location"].startswith(login_page_of(url)), url


def test_every_admin_view_and_api_route_names_a_permission(full_app):
    state = full_app.extensions["coulisses"]
    for view in state.admin._views:
        if view.endpoint == "admin":
            continue  # the home page: any logged-in operator
        assert isinstance(view, SecuredView), f"{view.endpoint} is not a secured view"
        assert view.permission, f"admin view {view.endpoint} checks no permission"
        if isinstance(view, BaseModelView):
            assert view.permission in state.permissions, f"{view.endpoint}: undeclared {view.permission}"
    for route in state.api.routes:
        assert route.permission, f"API route {route.rule} checks no permission"
        assert route.permission in state.permissions, f"{route.rule}: undeclared {route.permission}"


def test_api_answers_401_then_403_as_json(full_app, make_operator, token_for):
    make_operator("nobody", roles=[])
    token = token_for("nobody")
    client = full_app.test_client()
    checked = 0
    for rule in full_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = url_for_rule(full_app, rule, method)
            anonymous = client.open(url, method=method, json={})
            assert anonymous.status_code == 401, f"{method} {url}"
            assert anonymous.is_json
            assert anonymous.get_json()["error"]["code"] == "unauthenticated"
            assert anonymous.get_json()["error"]["message"]
            assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
            forbidden = client.open(url, method=method, json={}, headers={"Authorization": f"Bearer {token}"})
            assert forbidden.status_code == 403, f"{method} {url}"
            assert forbidden.get_json()["error"]["code"] == "forbidden"
            checked += 1
    assert checked >= 1


def test_a_revoked_or_unknown_token_is_401(app, make_operator, token_for):
    make_operator("reader", roles=["readonly"])
    token = token_for("reader")
    client = app.test_client()
    assert client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app_session(app) as s:
        security.revoke_tokens(s, security.get_operator(s, "reader"))
        s.commit()
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


# --------------------------------------------------------------------------- CSRF


def role_codes(app):
    with app_session(app) as s:
        return sorted(s.scalars(select(security.Role.code)))


def test_csrf_on_the_admin_create_form(app, admin_client):
    page = admin_client.get("/admin/core_role/new/")
    assert page.status_code == 200
    token = csrf_token_of(page.get_data(as_text=True))
    before = role_codes(app)
    refused = admin_client.post("/admin/core_role/new/", data={"code": "cashier", "name": "Caissier"})
    assert refused.status_code == 400
    assert role_codes(app) == before
    forged = admin_client.post("/admin/core_role/new/", data={"code": "cashier", "name": "Caissier",
                                                              "csrf_token": "forged"})
    assert forged.status_code == 400
    accepted = admin_client.post("/admin/core_role/new/", data={"code": "cashier", "name": "Caissier",
                                                                "csrf_token": token})
    assert accepted.status_code == 302
    assert role_codes(app) == sorted(before + ["cashier"])


@pytest.fixture
def cashier_role(app):
    with app_session(app) as s:
        role = security.Role(code="cashier", name="Caissier")
        s.add(role)
        s.commit()
        return role.id


def test_csrf_on_the_admin_delete_form(app, admin_client, cashier_role):
    listing = admin_client.get("/admin/core_role/").get_data(as_text=True)
    assert 'action="/admin/core_role/delete/"' in listing
    token = csrf_token_of(listing)
    refused = admin_client.post("/admin/core_role/delete/", data={"id": str(cashier_role)})
    assert refused.status_code == 400
    assert "cashier" in role_codes(app)
    accepted = admin_client.post("/admin/core_role/delete/", data={"id": str(cashier_role), "csrf_token": token})
    assert accepted.status_code == 302
    assert "cashier" not in role_codes(app)


def test_csrf_on_the_admin_bulk_action_form(app, admin_client, cashier_role):
    listing = admin_client.get("/admin/core_role/").get_data(as_text=True)
    assert 'action="/admin/core_role/action/"' in listing
    token = csrf_token_of(listing)
    data = {"action": "delete", "rowid": [str(cashier_role)], "url": "/admin/core_role/"}
    refused = admin_client.post("/admin/core_role/action/", data=data)
    assert refused.status_code == 400
    assert "cashier" in role_codes(app)
    accepted = admin_client.post("/admin/core_role/action/", data={**data, "csrf_token": token})
    assert accepted.status_code == 302
    assert "cashier" not in role_codes(app)


def test_csrf_on_the_logout_form(app, admin_client):
    home = admin_client.get("/admin/").get_data(as_text=True)
    assert 'action="/logout"' in home
    token = csrf_token_of(home)
    assert admin_client.post("/logout").status_code == 400
    assert admin_client.get("/admin/").status_code == 200  # still logged in
    response = admin_client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert admin_client.get("/admin/").status_code == 302  # logged out


def test_csrf_on_the_login_form(app, make_operator):
    make_operator("marie")
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"login": "marie", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


# --------------------------------------------------------------------------- configuration


def test_production_refuses_to_start_without_a_secret_key(make_app, monkeypatch):
    from coulisses.web.app import ConfigError

    monkeypatch.delenv("COULISSES_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as excinfo:
        make_app(ENV="production", SECRET_KEY=None)
    assert "COULISSES_SECRET_KEY" in str(excinfo.value)
    app = make_app(ENV="production", SECRET_KEY="a1b2c3d4e5f6" * 4)
    assert app.secret_key == "a1b2c3d4e5f6" * 4
    assert not app.testing and not app.debug


def test_production_without_a_secret_key_through_the_command(cli):
    assert cli("db", "upgrade").exit_code == 0  # the database commands sign nothing
    result = cli("routes", env={"COULISSES_ENV": "production"})
    assert result.exit_code == 1
    assert "COULISSES_SECRET_KEY n'est pas défini" in result.output
    assert "Traceback" not in result.output


def test_development_keeps_its_secret_key_across_restarts(make_app, tmp_path):
    first = make_app(ENV="development", SECRET_KEY=None)
    second = make_app(ENV="development", SECRET_KEY=None, schema=False)
    assert first.secret_key and len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key  # sessions survive a restart


# --------------------------------------------------------------------------- operators


def test_an_inactive_operator_cannot_log_in(app, make_operator):
    make_operator("gone", active=False)
    client = app.test_client()
    response = login(client, "gone")
    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302


def test_an_operator_deactivated_while_logged_in_is_logged_out(app, make_operator, token_for):
    make_operator("marie", roles=["administrator"])
    token = token_for("marie")
    client = app.test_client()
    assert login(client, "marie").status_code == 302
    assert client.get("/admin/").status_code == 200
    with app_session(app) as s:
        security.get_operator(s, "marie").active = False
        s.commit()
    assert client.get("/admin/").status_code == 302
    assert app.test_client().get("/api/v1/openapi.json",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_login_page_does_not_tell_unknown_logins_from_wrong_passwords(app, make_operator):
    make_operator("marie")
    unknown = login(app.test_client(), "nobody", PASSWORD)
    wrong = login(app.test_client(), "marie", "not the password")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda r: r.get_data(as_text=True).split('name="csrf_token"')[0]  # noqa: E731
    assert strip(unknown) == strip(wrong)


def test_login_redirects_only_inside_the_site(app, make_operator):
    make_operator("marie")
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    data = {"login": "marie", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login?next=https://evil.example/", data=data).headers["Location"] == "/admin/"
    client = app.test_client()
    token = csrf_token_of(client.get("/login").get_data(as_text=True))
    data["csrf_token"] = token
    assert client.post("/login?next=/admin/core_role/", data=data).headers["Location"] == "/admin/core_role/"


class Ledger(Base):
    __tablename__ = "tp_sec_ledger"
    __plugin__ = "tp_sec"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Money)


@pytest.fixture
def ledger_app(make_app, register_plugin):
    from coulisses.web.admin import ModelView

    register_plugin(make_plugin("tp_sec", hooks={
        "coulisses_permissions": lambda: [
            Permission("tp_sec.view", "See the ledger", ("readonly", "operator", "supervisor")),
            Permission("tp_sec.manage", "Change the ledger", ("supervisor",)),
        ],
        "coulisses_admin_views": lambda admin: [
            ModelView(Ledger, permission="tp_sec.view", permission_edit="tp_sec.manage", name="Ledger",
                      endpoint="tp_sec_ledger")],
    }))
    app = make_app(plugins=["tp_sec"])
    with app_session(app) as s:
        s.add(Ledger(label="Recette du soir", amount=Decimal("2420.00")))
        s.commit()
    return app


def ledger_count(app) -> int:
    with app_session(app) as s:
        return s.scalar(select(func.count()).select_from(Ledger))


def test_a_read_only_operator_sees_lists_but_cannot_change_them(ledger_app, make_operator):
    make_operator("reader", roles=["readonly"])
    client = ledger_app.test_client()
    assert login(client, "reader").status_code == 302
    listing = client.get("/admin/tp_sec_ledger/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "Recette du soir" in html
    assert "/admin/tp_sec_ledger/new/" not in html
    assert "/admin/tp_sec_ledger/edit/" not in html
    assert 'action="/admin/tp_sec_ledger/delete/"' not in html
    token = csrf_token_of(client.get("/admin/").get_data(as_text=True))
    assert client.get("/admin/tp_sec_ledger/new/").status_code == 403
    assert client.get("/admin/tp_sec_ledger/edit/?id=1").status_code == 403
    created = client.post("/admin/tp_sec_ledger/new/", data={"label": "Fraude", "amount": "1", "csrf_token": token})
    assert created.status_code == 403
    edited = client.post("/admin/tp_sec_ledger/edit/?id=1",
                         data={"label": "Fraude", "amount": "1", "csrf_token": token})
    assert edited.status_code == 403
    deleted = client.post("/admin/tp_sec_ledger/delete/", data={"id": "1", "csrf_token": token})
    assert deleted.status_code == 403
    assert ledger_count(ledger_app) == 1
    with app_session(ledger_app) as s:
        assert s.scalar(select(Ledger.label)) == "Recette du soir"
    # and the administration screens are not even listed
    assert client.get("/admin/core_operator/").status_code == 403
    assert "/admin/core_operator/" not in client.get("/admin/").get_data(as_text=True)


def test_a_supervisor_can_change_what_a_reader_only_reads(ledger_app, make_operator):
    make_operator("chef", roles=["supervisor"])
    client = ledger_app.test_client()
    login(client, "chef")
    page = client.get("/admin/tp_sec_ledger/new/")
    assert page.status_code == 200
    token = csrf_token_of(page.get_data(as_text=True))
    created = client.post("/admin/tp_sec_ledger/new/", data={"label": "Vente", "amount": "12,50",
                                                             "csrf_token": token})
    assert created.status_code == 302
    assert ledger_count(ledger_app) == 2


def test_an_operator_without_the_permission_gets_403(ledger_app, make_operator):
    make_operator("nobody", roles=[])
    client = ledger_app.test_client()
    login(client, "nobody")
    assert client.get("/admin/tp_sec_ledger/").status_code == 403
    assert client.get("/admin/").status_code == 200  # the home page is for everyone logged in


def test_passwords_are_stored_as_scrypt_hashes(app, admin_client):
    page = admin_client.get("/admin/core_operator/new/")
    token = csrf_token_of(page.get_data(as_text=True))
    response = admin_client.post("/admin/core_operator/new/", data={
        "login": "newbie", "full_name": "New Bie", "active": "y", "new_password": "a long enough secret",
        "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app_session(app) as s:
        hashes = dict(s.execute(select(security.Operator.login, security.Operator.password_hash)).all())
    for login_name, hashed in hashes.items():
        assert hashed.startswith("scrypt:"), login_name
    assert "a long enough secret" not in hashes["newbie"]
    assert check_password_hash(hashes["newbie"], "a long enough secret")
    assert check_password_hash(hashes["boss"], PASSWORD)
    assert hashes["boss"] != security.hash_password(PASSWORD)  # salted
    client = app.test_client()
    assert login(client, "newbie", "a long enough secret").status_code == 302


def test_an_administrator_grants_a_permission_through_the_role_form(ledger_app, make_operator):
    make_operator("boss", roles=["administrator"])
    make_operator("nobody", roles=[])
    admin = ledger_app.test_client()
    login(admin, "boss")
    token = csrf_token_of(admin.get("/admin/core_role/new/").get_data(as_text=True))
    response = admin.post("/admin/core_role/new/", data={
        "code": "auditor", "name": "Auditeur", "permission_codes": ["tp_sec.view"], "csrf_token": token})
    assert response.status_code == 302
    with app_session(ledger_app) as s:
        role = s.scalar(select(security.Role).where(security.Role.code == "auditor"))
        assert role.permission_codes == {"tp_sec.view"}
        nobody = security.get_operator(s, "nobody")
        nobody.roles.append(role)
        s.commit()
        role_id = role.id
    client = ledger_app.test_client()
    login(client, "nobody")
    assert client.get("/admin/tp_sec_ledger/").status_code == 200
    # the edit form shows what the role holds, and taking it away takes the access away
    edit = admin.get(f"/admin/core_role/edit/?id={role_id}").get_data(as_text=True)
    assert 'value="tp_sec.view" selected' in edit or 'selected value="tp_sec.view"' in edit
    response = admin.post(f"/admin/core_role/edit/?id={role_id}", data={
        "code": "auditor", "name": "Auditeur", "csrf_token": csrf_token_of(edit)})
    assert response.status_code == 302
    assert client.get("/admin/tp_sec_ledger/").status_code == 403


def test_default_roles_cannot_be_deleted_even_in_bulk(app, admin_client, cashier_role):
    listing = admin_client.get("/admin/core_role/").get_data(as_text=True)
    token = csrf_token_of(listing)
    with app_session(app) as s:
        ids = [str(i) for i in s.scalars(select(security.Role.id))]
    response = admin_client.post("/admin/core_role/action/", data={
        "action": "delete", "rowid": ids, "url": "/admin/core_role/", "csrf_token": token})
    assert response.status_code == 302
    assert role_codes(app) == ["administrator", "operator", "readonly", "supervisor"]  # cashier went
    page = admin_client.get("/admin/core_role/").get_data(as_text=True)
    assert "A default role cannot be deleted." in page or "Un rôle par défaut ne peut pas être supprimé." in page
