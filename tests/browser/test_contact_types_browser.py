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
