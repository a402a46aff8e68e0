"""The contacts screens without a mouse (issue 8): the contact search's combobox, the focus after a
search, a structure chosen with Tab, and the contact sheet's tabs; the focus is asserted after each
step. Keys only: no click, no focus() call."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_login
from tests.browser.test_contacts_browser import _people
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app(live_server):
    return live_server(["contacts"])


@pytest.fixture
def boss_page(app, make_operator, page):
    make_operator("boss", roles=["administrator"])
    _people(app)
    browser_login(page, app.config["LIVE_URL"], "boss", PASSWORD)
    return page


def _same(page, locator) -> bool:
    """Whether ``locator`` has the focus, told by its id or data-testid (no script run in the page)."""
    focused = page.locator(":focus")
    if not focused.count():
        return False
    for attribute in ("id", "data-testid"):
        mine = locator.get_attribute(attribute)
        if mine:
            return focused.first.get_attribute(attribute) == mine
    return False


def _tab_until(page, locator, limit=80, key="Tab"):
    """Press Tab until ``locator`` (which has an id or a data-testid) has the focus, at most ``limit`` times: reached by
    keys alone."""
    for _ in range(limit):
        if _same(page, locator):
            break
        page.keyboard.press(key)
    expect(locator).to_be_focused()


def test_contact_search_with_the_keyboard(app, boss_page):
    page, base = boss_page, app.config["LIVE_URL"]
    page.goto(base + "/admin/contacts/")
    box = page.locator("#quick-search")
    expect(box).to_be_focused()  # the page opens on the quick search box
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")

    page.keyboard.type("dup", delay=40)
    listbox = page.locator(".contacts-quick [role=listbox]")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    expect(box).to_be_focused()  # typing never moves the focus into the list
    expect(page.locator("#coulisses-announce")).to_contain_text("5")  # the list is announced

    page.keyboard.press("ArrowDown")
    first = listbox.locator("[role=option]").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    expect(box).to_be_focused()
    assert listbox.locator("[role=option][tabindex], a").count() == 0  # options are never Tab stops

    page.keyboard.press("Escape")  # closes the list, the focus stays in the box
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()

    page.keyboard.press("ArrowDown")  # opens it again on the first entry
    expect(listbox).to_be_visible()
    expect(first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Tab")  # leaves the quick search: the list closes, nothing opens, the focus goes on
    expect(listbox).to_be_hidden()
    expect(page.locator("#advanced-toggle")).to_be_focused()
    assert page.url.rstrip("/").endswith("/admin/contacts")

    page.keyboard.press("Shift+Tab")
    expect(box).to_be_focused()
    page.keyboard.press("Enter")  # the full search
    page.wait_for_url(re.compile(r".*q=dup.*"))
    heading = page.get_by_test_id("results-heading")
    expect(heading).to_be_focused()  # after a search, the focus is on the results
    expect(heading).to_have_text("5 contacts trouvés")
    page.keyboard.press("Tab")
    expect(page.locator("a", has_text="+ NOUVEAU").first).to_be_focused()

    # back to the box, choose the second entry with the arrows: Enter opens its sheet
    _tab_until(page, box, key="Shift+Tab")
    page.keyboard.press("End")
    page.keyboard.type("ont, mar", delay=40)  # "dupont, mar"
    expect(listbox.locator("[role=option][data-number]")).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/admin/contacts/sheet/\d+/$"))
    expect(page.get_by_test_id("sheet-header")).to_contain_text("Marie DUPONT")


def test_a_structure_chosen_with_tab_and_errors_tied_to_their_fields(app, boss_page):
    page, base = boss_page, app.config["LIVE_URL"]
    page.goto(base + "/admin/contacts/new/")
    structure = page.locator("#f-structure")
    _tab_until(page, structure)
    page.keyboard.type("univ", delay=40)
    listbox = page.locator("#structure-existing [role=listbox]")
    expect(listbox.locator("[role=option]").first).to_be_visible()
    expect(structure).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # Tab leaves the box with the highlighted structure chosen
    expect(page.locator("#new-structure-btn")).to_be_focused()
    expect(listbox).to_be_hidden()
    assert page.input_value("#f-structure_number") != ""
    assert page.input_value("#f-structure").startswith("University Paris")
    expect(page.locator("#coulisses-announce")).to_contain_text("University Paris")

    # sent incomplete: the first field in error has the focus, its message is tied to it
    validate = page.get_by_test_id("validate")
    _tab_until(page, validate)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=form-errors]")
    civility = page.locator("#f-civility")
    expect(civility).to_be_focused()
    expect(civility).to_have_attribute("aria-invalid", "true")
    expect(civility).to_have_attribute("aria-describedby", "f-civility-error")
    expect(page.locator("#f-civility-error")).to_be_visible()
    expect(page.get_by_test_id("form-errors")).to_have_attribute("role", "alert")


def test_sheet_tab_change_with_the_keyboard(app, boss_page):
    page, base = boss_page, app.config["LIVE_URL"]
    page.goto(base + "/admin/contacts/?q=dupont")
    expect(page.get_by_test_id("results-heading")).to_be_focused()
    first_link = page.locator("[data-testid=results] tbody tr td:nth-child(2) a").first
    number = first_link.inner_text().strip()
    _tab_until(page, page.locator("#check-all"))
    page.keyboard.press("Tab")  # the first row's checkbox
    page.keyboard.press("Tab")  # the first row's number: a link to the sheet
    expect(first_link).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf".*/admin/contacts/sheet/{number}/$"))

    tablist = page.get_by_role("tablist")
    tabs = tablist.get_by_role("tab")
    expect(tabs).to_have_count(6)
    summary = page.locator("#tab-summary")
    expect(summary).to_have_attribute("aria-selected", "true")
    expect(page.locator("[role=tablist] [tabindex='0']")).to_have_count(1)  # one Tab stop for the list
    assert page.locator("[role=tablist] li, [role=tablist] ul").count() == 0  # no list items outside a list
    panel = page.get_by_role("tabpanel")
    expect(panel).to_have_attribute("aria-labelledby", "tab-summary")
    expect(summary).to_have_attribute("aria-controls", panel.get_attribute("id"))

    _tab_until(page, summary)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-general")).to_be_focused()
    expect(summary).to_have_attribute("aria-selected", "true")  # moving is not choosing
    page.keyboard.press("End")
    expect(page.locator("#tab-administration")).to_be_focused()
    page.keyboard.press("ArrowRight")  # wraps
    expect(summary).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-administration")).to_be_focused()
    page.keyboard.press("Home")
    expect(summary).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")  # opens Général; the focus comes back to its tab
    page.wait_for_url(re.compile(r".*tab=general#tab-general$"))
    general = page.locator("#tab-general")
    expect(general).to_be_focused()
    expect(general).to_have_attribute("aria-selected", "true")
    expect(general).to_have_attribute("tabindex", "0")
    expect(page.get_by_test_id("tab-general")).to_be_visible()

    page.keyboard.press("Tab")  # out of the tab list, into the panel
    expect(page.get_by_role("tabpanel")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(general).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-marketing")).to_be_focused()
    page.keyboard.press(" ")  # Space opens a tab too
    page.wait_for_url(re.compile(r".*tab=marketing#tab-marketing$"))
    expect(page.locator("#tab-marketing")).to_be_focused()
    expect(page.locator("#tab-marketing")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("tab-marketing")).to_contain_text("consentements")
