"""In a real browser: log in, see the home page and the plugin list, log out."""
import pytest

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_administrator_logs_in_sees_plugins_and_logs_out(live_server, make_operator, page, tmp_path):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    page.goto(base + "/admin/")
    assert "/login" in page.url  # anonymous users are sent to the login page
    browser_login(page, base, "boss", PASSWORD)
    assert page.get_by_test_id("current-operator").inner_text().strip() == "Boss"
    page.goto(base + "/admin/core_plugins/")
    assert page.get_by_test_id("plugins-table").is_visible()
    page.screenshot(path=str(tmp_path / "plugins.png"))
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(base + "/login")
    page.goto(base + "/admin/")
    assert "/login" in page.url


def test_wrong_password_keeps_the_login_typed(live_server, make_operator, page):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    page.goto(base + "/login")
    page.fill("#login", "boss")
    page.fill("#password", "wrong wrong wrong")
    page.keyboard.press("Enter")
    page.wait_for_selector(".alert-danger")
    assert page.input_value("#login") == "boss"
