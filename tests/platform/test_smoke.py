"""The host alone starts, serves a login page, and an administrator logs in and sees the plugins."""
from tests.conftest import login


def test_login_page_is_served(app):
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.get_data(as_text=True)


def test_root_sends_anonymous_to_login(app):
    client = app.test_client()
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_administrator_logs_in_and_sees_the_plugin_list(app, make_operator):
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    response = login(client, "boss")
    assert response.status_code == 302
    home = client.get("/admin/")
    assert home.status_code == 200
    assert "Boss" in home.get_data(as_text=True)
    page = client.get("/admin/core_plugins/")
    assert page.status_code == 200
    assert 'data-testid="plugins-table"' in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_a_message(app, make_operator):
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    response = login(client, "boss", "not the password")
    assert response.status_code == 401
    assert "wrong password" in response.get_data(as_text=True).lower() or "mot de passe" in response.get_data(as_text=True).lower()
