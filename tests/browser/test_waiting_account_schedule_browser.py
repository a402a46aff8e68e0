"""Paying an order's balance on the waiting account with instalments, in a real browser: the panel
under the payment rows shows what the structure owes now and after the sale and the proposed schedule;
the operator changes an amount (the gap is shown), fixes it, pays; the order detail shows the schedule
and the outstanding after the sale. The due dates are the product's date picker, in the operator's date
pattern, edited by keyboard. axe-core audit; keyboard where the operator types; screenshots in French,
English and Spanish in /tmp."""
from __future__ import annotations

import re

import pytest
from babel.dates import get_month_names
from playwright.sync_api import expect

from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import audit
from tests.conftest import PASSWORD
from tests.sales.conftest import catalogue, line, operator_id, person  # noqa: F401 - fixtures
from tests.waiting_account.conftest import buyer, db, pm, structure  # noqa: F401


@pytest.fixture
def app(live_server):
    return live_server(["waiting_account"])


def _reserved(db, catalogue, buyer, structure):
    from plugins.sales.services import orders

    c = catalogue
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 3)], payer=structure)
    db.commit()
    return order.number


@pytest.mark.parametrize("locale, words", [
    ("fr-FR", {"gap": "Écart de", "title": "Compte d'attente : échéancier", "after": "Encours après cette vente"}),
    ("en-GB", {"gap": "Difference of", "title": "Waiting account: schedule", "after": "Outstanding after this sale"}),
    ("es-ES", {"gap": "Diferencia de", "title": "Cuenta de espera: calendario de plazos",
               "after": "Saldo pendiente después de esta venta"}),
])
def test_the_operator_adjusts_the_schedule_before_paying_on_account(app, db, catalogue, buyer, structure,
                                                                    make_operator, browser, locale, words):
    number = _reserved(db, catalogue, buyer, structure)
    make_operator("guichet", roles=["operator"])
    context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 1000}, bypass_csp=True,
                                  reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = app.config["LIVE_URL"]
    lang = locale[:2]
    try:
        browser_login(page, base, "guichet", PASSWORD)
        page.goto(f"{base}/admin/sales/orders/{number}/")
        page.wait_for_load_state()
        amount = page.locator("#pay-ATTENTE_SUIVI")
        amount.focus()
        expect(amount).to_be_focused()
        page.keyboard.type("330,00")
        panel = page.get_by_test_id("wa-panel-ATTENTE_SUIVI")
        expect(panel).to_be_visible()
        expect(page.get_by_test_id("wa-amount-ATTENTE_SUIVI-3")).to_have_value("110.00")
        expect(page.get_by_test_id("wa-outstanding-ATTENTE_SUIVI")).to_contain_text("UNIVERSITY PARIS")
        first = page.get_by_test_id("wa-amount-ATTENTE_SUIVI-1")
        first.focus()
        expect(first).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("150.00")
        expect(page.get_by_test_id("wa-sum-ATTENTE_SUIVI")).to_contain_text(words["gap"])
        page.screenshot(path=f"/tmp/waiting_account_schedule_gap_{lang}.png", full_page=True)
        found = audit(page)
        assert found == [], found
        # the due dates: the operator's pattern, the product's date picker, typed over by keyboard
        due = page.get_by_test_id("wa-due-ATTENTE_SUIVI-2")
        shown = {"fr": r"^05\.\d\d\.\d{4}$", "en": r"^05/\d\d/\d{4}$", "es": r"^05/\d\d/\d{4}$"}[lang]
        expect(due).to_have_value(re.compile(shown))
        expect(due).to_have_attribute("placeholder", {"fr": "jj.mm.aaaa", "en": "dd/mm/yyyy", "es": "dd/mm/aaaa"}[lang])
        edited = "20" + due.input_value()[2:]
        due.focus()
        expect(due).to_be_focused()
        picker = page.locator(".daterangepicker").filter(has=page.locator("td.available")).locator("visible=true")
        expect(picker).to_have_count(1)  # its calendar opens, in the operator's language
        month = get_month_names("wide", locale=lang)[int(edited[3:5])]  # the due date's month, in the language
        expect(picker.locator("th.month").first).to_contain_text(re.compile(month, re.I))
        expect(picker.locator("thead tr").nth(1).locator("th").first).to_have_text(
            re.compile({"fr": "lun", "en": "Mon", "es": "lun"}[lang], re.I))  # Monday first
        page.keyboard.press("Control+A")
        page.keyboard.type(edited)
        page.keyboard.press("Escape")
        expect(due).to_have_value(edited)  # the text typed is never rewritten
        expect(page.locator("#pay-ATTENTE_SUIVI-schedule")).to_have_value(re.compile(re.escape(edited)))
        third = page.get_by_test_id("wa-amount-ATTENTE_SUIVI-3")
        third.focus()
        expect(third).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("70.00")
        expect(page.get_by_test_id("wa-sum-ATTENTE_SUIVI")).not_to_contain_text(words["gap"])
        page.get_by_test_id("pay-rest").click()
        page.wait_for_load_state()
        block = page.get_by_test_id("order-block-waiting_account")
        expect(block).to_contain_text(words["title"])
        expect(block).to_contain_text(words["after"])
        rows = page.get_by_test_id("order-block-waiting_account-table").locator("tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("150")
        expect(rows.nth(2)).to_contain_text("70")
        expect(rows.nth(1)).to_contain_text(edited)  # the date as edited
        page.screenshot(path=f"/tmp/waiting_account_order_schedule_{lang}.png", full_page=True)
        found = audit(page)
        assert found == [], found
    finally:
        context.close()
