"""In real headless Chromium: the content security policy holds on the main screens (no violation is
reported, also when menus, filters, bulk actions and dialogs are used), and "change operator" at the
till keeps the sales screen's basket and records what follows in the new operator's name."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser_login
from tests.browser.test_sales_browser import _shop
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Every violation the page sees (the event fires for each refused script, handler or javascript: link)
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "") + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture
def app(live_server):
    return live_server(["sales"])


@pytest.fixture
def watched(page):
    """The page, with every CSP violation and console error collected."""
    page.add_init_script(WATCH_CSP)
    seen = []
    page.on("console", lambda m: seen.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(f"{page.url}: {e}"))
    page.csp_problems = seen

    def check():
        reported = page.evaluate("window.__csp || []")
        policy = [line for line in seen if "Content Security Policy" in line or "Refused to" in line]
        assert reported == [] and policy == [], reported + policy
        # JavaScript errors too: a script the policy broke would show up here
        errors = [line for line in seen if "favicon" not in line and "Failed to load resource" not in line]
        assert errors == [], errors
        seen.clear()

    page.check_csp = check
    return page


def test_the_main_screens_report_no_csp_violation(live_server, make_operator, watched):
    from tests.platform.test_packaging import builtin_plugin_names

    app = live_server(builtin_plugin_names())  # every built-in plugin's screens
    page = watched
    make_operator("boss", roles=["administrator"])
    number = _shop(app)
    base = app.config["LIVE_URL"]
    page.goto(base + "/login")
    page.check_csp()
    browser_login(page, base, "boss", PASSWORD)
    admin = app.extensions["coulisses"].admin
    urls = [view.url.rstrip("/") + "/" for view in admin._views]
    urls += [view.url.rstrip("/") + "/new/" for view in admin._views if getattr(view, "can_create", False)]
    urls += [f"/admin/contacts/sheet/{number}/", "/admin/sales/sell/"]
    for url in urls:
        response = page.goto(base + url)
        assert response.status == 200, url
        page.check_csp()
    assert len(urls) > 30

    # menus, filters, bulk actions, Flask-Admin's javascript: links, the inline forms, the dialog
    page.goto(base + "/admin/core_operator/")
    page.click("text=Ajouter un filtre")
    page.locator("a.filter").first.click()
    assert page.locator("table.filters tr").count() == 1
    page.click("text=Avec la sélection" if page.locator("text=Avec la sélection").count() else "text=With selected")
    page.click("a.nav-link.active")
    assert page.url.startswith(base + "/admin/core_operator/")
    page.check_csp()
    page.goto(base + "/admin/sales_venue/new/")
    page.click("[data-inline-add=areas]")
    assert page.locator("#areas .inline-field-list .inline-field, #areas > .inline-field").count() >= 1
    page.check_csp()
    page.goto(base + "/admin/")
    page.get_by_test_id("change-operator").click()
    page.wait_for_selector("#change-operator-dialog.show")
    page.keyboard.press("Escape")
    page.check_csp()


def test_a_confirmation_comes_from_data_confirm(app, make_operator, watched):
    page = watched
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/core_role/new/")
    page.fill("#code", "cashier")
    page.fill("#name", "Caissier")
    page.click("input[type=submit][value]")
    page.goto(base + "/admin/core_role/")
    row = page.locator("tr", has_text="cashier")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    row.locator("form[data-confirm] button").click()
    assert messages and page.locator("tr", has_text="cashier").count() == 1  # dismissed: kept
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("tr", has_text="cashier").locator("form[data-confirm] button").click()
    assert page.locator("tr", has_text="cashier").count() == 0
    page.check_csp()


def test_change_operator_at_the_till_keeps_the_basket(app, make_operator, watched):
    page = watched
    make_operator("ANNE", roles=["operator"])
    make_operator("BRUNO", roles=["operator"])
    number = _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "ANNE", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.wait_for_selector("[data-testid=sell-screen]")
    page.keyboard.type("akoka", delay=40)
    page.wait_for_selector("[data-testid=autocomplete] [role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#buyer") == str(number)
    page.keyboard.type("joy", delay=40)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    basket = page.locator("[data-testid=basket] tr.basket-line")
    assert basket.count() == 1
    assert re.search(r"220,00\s€", page.inner_text("[data-testid=basket-total]"))

    # the operator menu: another operator logs in, by the keyboard, in a dialog
    page.get_by_test_id("change-operator").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#change-operator-login:focus")  # the dialog gives the focus to the login
    page.keyboard.type("BRUNO")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=change-operator-error]:not(.d-none)")
    assert "Identifiant inconnu ou mot de passe erroné." in page.inner_text("[data-testid=change-operator-error]")
    assert page.evaluate("document.activeElement.id") == "change-operator-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#change-operator-dialog", state="hidden")
    assert page.inner_text("[data-testid=current-operator]").strip() == "Bruno"
    assert page.inner_text("[data-operator-login]").strip() == "BRUNO"
    assert page.inner_text("#coulisses-announce") == "Opérateur : Bruno"
    # the screen is as it was: buyer, basket, total
    assert page.input_value("#buyer") == str(number)
    assert basket.count() == 1 and "Joyaux - " in basket.inner_text()
    assert re.search(r"220,00\s€", page.inner_text("[data-testid=basket-total]"))

    page.fill("#pay-CASH", "220")
    with page.expect_navigation():
        page.get_by_test_id("pay").click()
    if page.locator("[data-testid=sale-error]").count():
        pytest.fail(page.inner_text("[data-testid=sale-error]"))
    page.wait_for_url(re.compile(r".*/admin/sales/orders/\d+/$"))
    assert re.search(r"Création \d\d\.\d\d\.\d{4} \d\d:\d\d par BRUNO", page.inner_text("[data-testid=order-audit]"))
    page.check_csp()
