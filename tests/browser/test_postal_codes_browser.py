"""Issue 14: typing a French postal code proposes its cities (an ARIA combobox, keyboard only), in the
contact creation form and in the sell screen's "+ NOUVEAU" dialog; choosing a city fills the city."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
SHOTS = "/tmp"


@pytest.fixture
def app(live_server):
    return live_server(["sales"])


def _options(page, box):
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    return listbox.locator("[role=option][data-index]")


def test_the_contact_form_proposes_the_cities_of_a_postal_code(app, make_operator, page):
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    page.goto(base + "/admin/contacts/new/")
    box = page.locator("#f-postal_code")
    expect(box).to_have_attribute("role", "combobox")
    box.focus()
    box.press_sequentially("07000", delay=30)
    options = _options(page, box)
    expect(options.filter(has_text="07000 FREYSSENET")).to_have_count(1)
    expect(box).to_have_attribute("aria-expanded", "true")
    labels = options.all_inner_texts()
    position = labels.index("07000 FREYSSENET")
    for _ in range(position + 1):
        page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(position).get_attribute("id"))
    page.keyboard.press("Enter")
    expect(page.locator("#f-city")).to_have_value("FREYSSENET")
    expect(box).to_have_value("07000")
    expect(box).to_be_focused()
    expect(box).to_have_attribute("aria-expanded", "false")
    # a short prefix says there are more cities than listed
    box.fill("")
    box.press_sequentially("75", delay=30)
    expect(page.locator("[data-testid=autocomplete-more]").filter(has_text="tapez le code postal complet")).to_be_visible()
    page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.screenshot(path=f"{SHOTS}/contacts_postal_code.png")


def test_typing_on_cancels_the_request_in_flight_and_shows_only_the_latest_answer(app, make_operator, page):
    """Issue 17: the autocomplete's request for "750" is still running (its answer held back here) when
    the operator types on: it is cancelled, and the list is the one of what the box holds, 75012."""
    make_operator("boss", roles=["administrator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "boss", PASSWORD)
    held = []

    def slow_750(route):
        if "q=750&" in route.request.url:
            held.append(route)  # never answered while the operator types on
        else:
            route.continue_()

    page.route("**/api/v1/contacts/postal-codes?*", slow_750)
    page.goto(base + "/admin/contacts/new/")
    page.wait_for_load_state()
    box = page.locator("#f-postal_code")
    box.focus()
    expect(box).to_be_focused()
    with page.expect_request(lambda r: "q=750&" in r.url):
        box.press_sequentially("750", delay=30)
    with page.expect_event("requestfailed", lambda r: "q=750&" in r.url) as failed:
        box.press_sequentially("12", delay=30)
    assert failed.value.failure == "net::ERR_ABORTED"
    expect(_options(page, box)).to_have_text(["75012 PARIS (Paris 12e Arrondissement)"])
    expect(box).to_have_attribute("aria-expanded", "true")
    assert len(held) == 1


def test_the_sell_screen_new_contact_dialog_proposes_the_cities(app, make_operator, page):
    """The operator goes into the postal code box while the dialog is still opening and types at an
    ordinary pace: the end of the opening animation used to give the focus to the name field, so the
    box kept "750" (and its cities) and "12" went into the name (issue 14's "cities of an earlier
    prefix")."""
    from plugins.sales.services import settings
    from tests.conftest import app_session

    with app_session(app) as s:
        settings.install_defaults(s)
        s.commit()
    make_operator("STX_BDD", roles=["operator"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.wait_for_load_state()
    expect(page.locator("#buyer-search")).to_be_focused()
    page.keyboard.press("Alt+n")
    page.wait_for_selector("#new-contact-modal.show")  # shown, still opening (its animation lasts 300 ms)
    box = page.locator("#nc-postal_code")
    box.focus()
    expect(box).to_be_focused()
    box.press_sequentially("75012", delay=150)  # the typing goes on past the end of the opening
    expect(box).to_have_value("75012")
    expect(box).to_be_focused()
    expect(page.locator("#nc-last_name")).to_have_value("")
    options = _options(page, box)
    expect(options).to_have_text(["75012 PARIS (Paris 12e Arrondissement)"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # Tab keeps the highlighted city and goes on to the next field
    expect(page.locator("#nc-city")).to_have_value("PARIS")
    expect(page.locator("#nc-city")).to_be_focused()
    # Escape closes the list, not the dialog (and an answer still on its way does not reopen it)
    box.focus()
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially("0700", delay=30)
    expect(options.first).to_be_visible()
    page.keyboard.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#new-contact-modal")).to_have_class(__import__("re").compile(r"\bshow\b"))
    # another country: nothing is proposed
    page.select_option("#nc-country", "BE")
    box.focus()
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially("1000", delay=30)
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.screenshot(path=f"{SHOTS}/sales_new_contact_postal.png")
