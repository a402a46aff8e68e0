"""The creation screen extended by a plugin's contact types, in Chromium (issue 16): picking a type
shows its fields at once (no save), switching to a structure type swaps the person's fields for the
structure's name, all by keyboard; the screen passes the WCAG audit in that state."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import audit, audited  # noqa: F401 - the fixture
from tests.conftest import PASSWORD
from tests.contacts.test_creation_types import school_types
from tests.platform.conftest import make_plugin

pytestmark = pytest.mark.browser


def test_picking_a_type_shows_its_fields_at_once_and_creates_it(live_server, make_operator, register_plugin, audited):
    page = audited  # axe-core is injected: the page ignores the CSP (the audit's own context)
    register_plugin(make_plugin("tp_school", depends=["contacts"], hooks={"contacts_types": school_types}))
    app = live_server(["tp_school"])
    make_operator("guichet", roles=["operator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "guichet", PASSWORD)
    page.goto(base + "/admin/contacts/new/")
    expect(page.locator("#f-civility")).to_be_visible()
    expect(page.get_by_label("Numéro UAI")).to_have_count(0)

    page.locator("#f-type_code").focus()
    page.select_option("#f-type_code", label="École")
    expect(page.get_by_label("Numéro UAI")).to_be_visible()
    expect(page.get_by_text("Champs du type École")).to_be_visible()
    expect(page.locator("#f-civility")).to_be_hidden()
    expect(page.get_by_label("Nom de la structure")).to_be_visible()
    assert audit(page) == []

    page.select_option("#f-type_code", label="Enseignant")  # another type: its own fields instead
    expect(page.get_by_label("Discipline")).to_be_visible()
    expect(page.get_by_label("Numéro UAI")).to_have_count(0)
    expect(page.locator("#f-civility")).to_be_visible()

    page.select_option("#f-type_code", label="École")
    page.get_by_label("Nom de la structure").fill("École Jules Ferry")
    page.get_by_label("Numéro UAI").fill("0751234A")
    page.locator("#f-create_internet_account").focus()
    page.keyboard.press("Space")  # untick "Créer un compte internet" (no e-mail for this school)
    expect(page.locator("#f-create_internet_account")).not_to_be_checked()
    page.fill("#f-postal_code", "75005")
    page.fill("#f-city", "Paris")
    page.get_by_test_id("validate").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/contacts/\?q=\d+"))
    expect(page.locator("body")).to_contain_text("École Jules Ferry")


def test_the_sell_screen_dialog_creates_a_contact_of_a_plugin_type(live_server, make_operator, register_plugin, page):
    """"+ NOUVEAU" on the sell screen: the type chosen in the dialog shows its fields at once; the
    school is created with them and chosen as the buyer."""
    from tests.browser.test_sales_browser import _shop

    register_plugin(make_plugin("tp_school", depends=["contacts"], hooks={"contacts_types": school_types}))
    app = live_server(["sales", "tp_school"])
    make_operator("STX_BDD", roles=["operator"])
    _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.locator("#new-contact-btn").click()
    page.wait_for_selector("#new-contact-modal.show")
    dialog = page.get_by_test_id("new-contact-modal")
    expect(dialog.get_by_label("Numéro UAI")).to_have_count(0)
    page.select_option("#nc-type_code", label="École")
    expect(dialog.get_by_label("Numéro UAI")).to_be_visible()
    expect(page.locator("#nc-civility")).to_be_hidden()
    page.fill("#nc-structure_name", "Lycée Ampère")
    page.fill("#nc-postal_code", "69002")
    page.fill("#nc-city", "Lyon")
    dialog.get_by_label("Numéro UAI").fill("0691234")  # one character short: refused beside the field
    page.get_by_test_id("nc-submit").click()
    expect(page.locator("#nc-error")).to_be_visible()
    expect(dialog.get_by_label("Numéro UAI")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#nc-extra\\.uai-error")).to_have_text("UAI : 7 chiffres et une lettre")
    dialog.get_by_label("Numéro UAI").fill("0691234B")
    page.get_by_test_id("nc-submit").click()
    page.wait_for_selector("#new-contact-modal", state="hidden")
    assert re.match(r"Lycée Ampère", page.input_value("#buyer-search")), page.input_value("#buyer-search")
    assert page.input_value("#buyer")
