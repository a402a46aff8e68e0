"""The accessibility audit: axe-core (vendored, tests/browser/vendor/axe-core) in real headless Chromium
over every admin screen reachable from the menu — the list is read from the rendered menu, so a new
screen is audited as soon as it is in the menu — plus each list's creation form, the work screens in
their main states (the sell screen with a basket, the contact sheet, a contact search with results), the
login page and the error pages; in French and in English. Zero violations of the WCAG 2.0/2.1 A and AA
rules. docs/accessibility.md states what this audit covers (test_the_statement_matches_the_audit)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_login
from tests.browser.test_sales_browser import _shop
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
STATEMENT = Path(__file__).resolve().parents[2] / "docs" / "accessibility.md"
# The rule set: axe-core's rules tagged with the WCAG 2.0 and 2.1 levels A and AA
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
LANGUAGES = ("fr", "en")
# The lists' creation forms are audited in one language (the suite stays fast; their markup is the same)
CREATION_FORMS_LANGUAGE = "fr"
# The work screens and states not in the menu as such (relative to the live server; {number}: a contact)
WORK_SCREENS = (
    "/admin/contacts/sheet/{number}/",
    "/admin/contacts/?q=akoka",
    "/admin/sales/sell/ (basket)",
    "/login",
    "/admin/no-such-page (404)",
    "/admin/ (shortcuts panel)",
    "/admin/ (change operator dialog)",
)

# Violations still there, in markup being rewritten elsewhere: (screen, axe rule) → why. Listed in
# docs/accessibility.md ("Known exceptions"); the audit fails when one of them no longer occurs, so
# that the list and the statement are shortened as soon as it is fixed.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\\s+/g, " "))}));
}"""

# A basket posted to the sell screen (as its script posts it): one line, no buyer chosen yet, so the
# screen comes back with the basket and its error shown
POST_BASKET = """([action, fields]) => {
  const form = document.createElement("form");
  form.method = "post"; form.action = action;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = name; input.value = value; form.appendChild(input);
  }
  const token = document.querySelector("input[name=csrf_token]");
  form.appendChild(token.cloneNode());
  document.body.appendChild(form);
  form.submit();
}"""


def menu_screens(page, base: str) -> list[str]:
    """Every screen the rendered menu links to (dropdowns included), in menu order."""
    hrefs = page.eval_on_selector_all(
        "nav ul.navbar-nav a[href]", "links => links.map(a => a.getAttribute('href'))")
    seen: list[str] = []
    for href in hrefs:
        href = href.replace(base, "")
        if href.startswith("/admin") and href not in seen:
            seen.append(href)
    return seen


def switch_language(page, language: str) -> None:
    """The operator menu's language buttons (a POST /locale form), then back on the same screen."""
    if page.get_attribute("html", "lang") != language:
        with page.expect_navigation():
            page.click(f"[data-testid=language-switch] button[value={language}]")
    assert page.get_attribute("html", "lang") == language


def audit(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, list(WCAG_TAGS))


def _basket_fields(app) -> dict:
    from coulisses.testing import app_session
    from plugins.sales.models.catalogue import Price

    with app_session(app) as s:
        price = s.query(Price).order_by(Price.id).first()
        return {"line-0-performance": str(price.performance_id), "line-0-category": str(price.category_id),
                "line-0-tariff": str(price.tariff_id), "line-0-quantity": "2", "action": "reserve",
                "delivery_mode": "handed"}


@pytest.fixture
def audited(browser):
    """A page whose context ignores the content security policy, only so that axe-core can be injected
    (its script has no nonce); every other browser test keeps the policy."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True,
                                  reduced_motion="reduce")  # no fading: colours are measured once shown
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def test_every_screen_passes_the_wcag_21_aa_audit(live_server, make_operator, audited):
    from tests.platform.test_packaging import builtin_plugin_names

    app = live_server(builtin_plugin_names())
    make_operator("boss", roles=["administrator"])
    number = _shop(app)
    basket = _basket_fields(app)
    page, base = audited, app.config["LIVE_URL"]
    problems: dict[str, list] = {}
    audited_screens: list[str] = []

    expected = set()

    def check(label: str):
        language, screen = label.split(" ", 1)
        found = []
        for violation in audit(page):
            if (screen, violation["id"]) in KNOWN_EXCEPTIONS:
                expected.add((screen, violation["id"]))
            else:
                found.append(violation)
        audited_screens.append(label)
        if found:
            problems[label] = found

    page.goto(base + "/login")
    check("fr /login")
    browser_login(page, base, "boss", PASSWORD)
    # the host's dialogs, open (in French)
    page.keyboard.press("Alt+Shift+Slash")
    page.wait_for_selector("#coulisses-shortcuts[open]")
    check("fr /admin/ (shortcuts panel)")
    page.keyboard.press("Escape")
    page.get_by_test_id("change-operator").click()
    page.wait_for_selector("#change-operator-login:focus")  # shown: Bootstrap gives the focus once opened
    check("fr /admin/ (change operator dialog)")
    page.keyboard.press("Escape")
    for language in LANGUAGES:
        page.goto(base + "/admin/")
        switch_language(page, language)
        screens = menu_screens(page, base)
        assert len(screens) > 20, screens
        for url in screens:
            response = page.goto(base + url)
            assert response.status == 200, url
            check(f"{language} {url}")
            create = page.locator("ul.nav-tabs a[href*='/new/']")
            if create.count() and language == CREATION_FORMS_LANGUAGE:
                page.goto(base + create.first.get_attribute("href").replace(base, ""))
                check(f"{language} {url} (new)")
        for screen in WORK_SCREENS[:3]:
            if screen.endswith("(basket)"):
                page.goto(base + "/admin/sales/sell/")
                with page.expect_navigation():
                    page.evaluate(POST_BASKET, [base + "/admin/sales/sell/", basket])
                assert page.locator("[data-testid=basket] tr.basket-line").count() == 1
            else:
                assert page.goto(base + screen.format(number=number)).status == 200, screen
            check(f"{language} {screen}")
        assert page.goto(base + "/admin/no-such-page").status == 404
        check(f"{language} /admin/no-such-page (404)")

    report = "\n".join(f"{screen}: {v['id']} ({v['impact']}) {v['help']}\n    " + "\n    ".join(v["nodes"])
                       for screen, found in problems.items() for v in found)
    assert not problems, f"{len(problems)} of {len(audited_screens)} screens fail the audit:\n{report}"
    assert {screen for screen in WORK_SCREENS} <= {label.split(" ", 1)[1] for label in audited_screens}
    fixed = set(KNOWN_EXCEPTIONS) - expected
    assert not fixed, f"fixed: remove {sorted(fixed)} from KNOWN_EXCEPTIONS and docs/accessibility.md"


# --------------------------------------------------------------------------- the host's keyboard features


def _focused(page) -> str:
    return page.evaluate("document.activeElement ? (document.activeElement.getAttribute('data-testid') || "
                         "document.activeElement.id || document.activeElement.tagName) : ''")


def test_the_shortcuts_panel_lists_the_page_shortcuts_and_gives_the_focus_back(live_server, make_operator, page):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/core_operator/")
    # a screen's own shortcut, declared as plugins declare theirs: the standard aria-keyshortcuts
    page.evaluate("""() => {
      const b = document.createElement("button");
      b.type = "button"; b.id = "reserve"; b.textContent = "RÉSERVER"; b.setAttribute("aria-keyshortcuts", "Alt+R");
      document.querySelector("main").appendChild(b);
      const l = document.createElement("a");
      l.href = "#"; l.setAttribute("aria-label", "Chercher un contact"); l.setAttribute("aria-keyshortcuts", "Alt+C Alt+F");
      document.querySelector("main").appendChild(l);
    }""")
    page.focus("#reserve")
    dialog = page.get_by_test_id("shortcuts-dialog")
    expect(dialog).to_be_hidden()

    page.keyboard.press("Alt+Shift+Slash")  # Alt+? on a US layout
    expect(dialog).to_be_visible()
    assert dialog.get_attribute("role") == "dialog" and dialog.get_attribute("aria-modal") == "true"
    assert page.get_by_role("dialog", name="Raccourcis clavier").is_visible()
    rows = [" ".join(r.split()) for r in page.get_by_test_id("shortcuts-page").locator("tr").all_inner_texts()]
    assert rows == ["Alt + R RÉSERVER", "Alt + C / Alt + F Chercher un contact"]
    assert "Alt + ?" in page.get_by_test_id("shortcuts-host").inner_text()
    # the focus is in the dialog and stays there
    assert page.evaluate("document.getElementById('coulisses-shortcuts').contains(document.activeElement)")
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate("document.getElementById('coulisses-shortcuts').contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.getElementById('coulisses-shortcuts').contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _focused(page) == "reserve"  # back where it was

    # also from the menu's visible button, by the keyboard; closed by its button; the focus goes back
    page.get_by_test_id("shortcuts-open").focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Fermer").last.click()
    expect(dialog).to_be_hidden()
    assert _focused(page) == "shortcuts-open"

    # in the operator's language; a screen without shortcuts of its own says so
    page.click("[data-testid=language-switch] button[value=en]")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_load_state()  # the page's scripts listen for the shortcut once it has loaded
    page.keyboard.press("Alt+?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    expect(page.get_by_test_id("shortcuts-page").locator("tr")).to_have_count(0)
    expect(page.get_by_role("dialog").get_by_text("This screen has no shortcuts of its own.")).to_be_visible()


def test_a_skip_link_leads_to_the_main_content(live_server, make_operator, page):
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/core_operator/")
    assert page.title() == "Opérateurs — Administration — Coulisses"
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.is_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    assert _focused(page) == "main-content"
    assert page.locator("header nav").count() == 1 and page.locator("main").count() == 1
    # the focus ring: 3px, in a colour at 3:1 or more against the page
    page.keyboard.press("Tab")
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                            "return [s.outlineStyle, s.outlineWidth, s.outlineColor]; })()")
    assert outline == ["solid", "3px", "rgb(0, 86, 179)"]


def test_the_plugins_screen_and_its_confirmation_pass_the_audit_and_work_by_keyboard(
        live_server, make_operator, audited, register_plugin):
    from tests.platform.conftest import make_plugin

    register_plugin(make_plugin("tp_extra", hooks={"coulisses_config_defaults": lambda: {"TP_EXTRA_ON": True}}))
    app = live_server([])
    make_operator("boss", roles=["administrator"])
    page, base = audited, app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/core_plugins/")
    page.locator("[data-plugin=tp_extra] summary").focus()
    page.keyboard.press("Enter")  # the settings open from the keyboard
    assert page.locator("[data-plugin=tp_extra] [data-testid=plugin-settings]").is_visible()
    assert audit(page) == []
    page.get_by_role("link", name="Activer… tp_extra").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/enable/tp_extra")
    assert audit(page) == []
    page.get_by_test_id("plugin-confirm").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/admin/core_plugins/")
    assert "Activé : tp_extra" in page.content()
    assert page.locator("[data-plugin=tp_extra] [data-testid=restart-needed]").is_visible()
    assert audit(page) == []
