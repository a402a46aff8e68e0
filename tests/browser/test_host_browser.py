"""In a real browser: log in, see the home page and the plugin list, log out; switch language from the
menu; the product's own error pages."""
import re

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


def test_the_operator_switches_language_from_the_menu(live_server, make_operator, page):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/core_operator/")
    assert page.get_attribute("html", "lang") == "fr"
    menu = page.locator("header nav")
    assert menu.get_by_role("button", name="Se déconnecter").is_visible()
    switch = page.get_by_test_id("language-switch")
    assert switch.get_by_role("button", name="FR — Français").get_attribute("aria-pressed") == "true"

    switch.get_by_role("button", name=re.compile("^EN")).click()  # one click, back on the same screen
    page.wait_for_selector("html[lang=en]")
    assert page.url == base + "/admin/core_operator/"
    assert menu.get_by_role("button", name="Log out").is_visible()
    assert menu.get_by_role("link", name="Home").is_visible()
    assert page.title().startswith("Operators")
    assert page.get_by_test_id("language-switch").get_by_role(
        "button", name=re.compile("^EN")).get_attribute("aria-pressed") == "true"

    page.get_by_test_id("language-switch").get_by_role("button", name=re.compile("^ES")).click()
    page.wait_for_selector("html[lang=es]")
    assert menu.get_by_role("button", name="Cerrar sesión").is_visible()
    assert menu.get_by_role("link", name="Inicio").is_visible()
    assert menu.get_by_text("Administración").first.is_visible()
    # remembered for the operator: the next session is in Spanish
    menu.get_by_role("button", name="Cerrar sesión").click()
    page.wait_for_url(base + "/login")
    browser_login(page, base, "boss", PASSWORD)
    assert page.get_attribute("html", "lang") == "es"


def test_the_error_pages_are_the_products_own_in_the_operators_language(live_server, make_operator, page):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    response = page.goto(base + "/admin/nowhere/")
    assert response.status == 404
    assert page.get_attribute("html", "lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Page introuvable"
    assert page.title() == "Page introuvable (404) — Coulisses"
    assert page.get_by_role("main").get_by_role("link", name="Retour à l'accueil").is_visible()
    icon = page.get_attribute("link[rel=icon]", "href")
    assert page.request.get(base + icon).headers["content-type"].startswith("image/svg+xml")
    page.get_by_role("link", name="Retour à l'accueil").click()
    page.wait_for_url(base + "/admin/")
    assert page.get_attribute("link[rel=icon]", "href") == icon  # the admin pages link it too
