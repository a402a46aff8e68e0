"""A whole sale in the sell screen without the mouse, the focus asserted after each step (issue 8):
the point of sale changed, the new-contact dialog opened and closed (the focus back on the buyer box),
the buyer chosen in the ARIA combobox (Tab leaves the list for the next field, the focus never lost),
the buyer's "fiche" link, a seated performance whose seats are chosen on the map with the arrow keys
(one Tab stop for the whole map), a basket line removed from the keyboard, the rest put in a payment,
ABANDONNER reachable, PAYER; then the order detail. Screenshots in /tmp/sales_keyboard_*.png."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coulisses.db import Actor, acting_as
from tests.browser.conftest import browser_login
from tests.conftest import PASSWORD, app_session
from tests.sales.conftest import next_month

pytestmark = pytest.mark.browser
SHOTS = "/tmp"


@pytest.fixture
def app(live_server):
    return live_server(["sales"])


def _shop(app) -> int:
    """Joyaux at the Opéra Garnier (unseated) and Don Giovanni in the Grande salle (seated: Balcon,
    row A 1, 3, 5 and row B 51S, 53S, 55S, all Cat 1 at 110,00); two points of sale; the buyer AKOKA
    Viviane, whose number is returned."""
    from plugins.contacts.services.contacts import create_quick
    from plugins.sales.models import SalesChannel
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import settings
    from sqlalchemy import select

    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        settings.install_defaults(s)
        channel = s.scalars(select(SalesChannel).order_by(SalesChannel.id)).first()
        settings.create_point_of_sale(s, "GUICHET2", "Guichet 2", channel)
        venue = cat.create_venue(s, "OPERA", "Opéra Garnier")
        hall = cat.create_venue(s, "SALLE", "Grande salle", seated=True)
        balcon = cat.add_area(s, hall, "BALC", "Balcon")
        cat1, cat2 = cat.create_category(s, "CAT1", "Cat 1", 1), cat.create_category(s, "CAT2", "Cat 2", 2)
        cat.add_seats(s, balcon, {"A": ["1", "3", "5"], "B": ["51S", "53S", "55S"]}, category=cat1)
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        full = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        joyaux = cat.create_event(s, "JOYAUX", "Joyaux")
        giovanni = cat.create_event(s, "GIOVANNI", "Don Giovanni")
        perf = cat.create_performance(s, joyaux, venue, next_month(20, 15), quotas={cat1: 40, cat2: 20})
        cat.set_price(s, perf, cat1, full, "110.00")
        seated = cat.create_performance(s, giovanni, hall, next_month(19, 30), quotas={cat1: 6})
        cat.set_price(s, seated, cat1, full, "110.00")
        buyer = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        s.commit()
        return buyer.number


def test_a_whole_sale_with_the_keyboard_only_the_focus_followed_at_each_step(app, make_operator, page):
    make_operator("STX_BDD", roles=["operator"])
    number = _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    buyer_box = page.locator("#buyer-search")
    expect(buyer_box).to_be_focused()

    # the point of sale: reachable (Shift+Tab), changed with the arrows, sent with its button
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#pos-change")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#pos-select")).to_be_focused()
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#pos-select option:checked").inner_text().split(" (")[0].strip()
    page.keyboard.press("Tab")
    expect(page.locator("#pos-change")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text(f"Vous vendez désormais sur le point de vente {chosen}.")).to_be_visible()
    assert page.locator("#pos-select option:checked").inner_text().startswith(chosen)
    assert chosen == "Guichet 2"  # ↓ chose the next point of sale
    expect(buyer_box).to_be_focused()

    # the new-contact dialog (Alt+N), closed with Escape: the focus comes back to the buyer box
    page.keyboard.press("Alt+n")
    expect(page.locator("#new-contact-modal.show")).to_be_visible()
    expect(page.locator("#nc-last_name")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#new-contact-modal")).to_be_hidden()
    expect(buyer_box).to_be_focused()

    # the buyer box is a combobox: the list is announced, Tab leaves it for the next field
    page.keyboard.type("akoka", delay=30)
    option = page.locator("[data-testid=autocomplete] [role=option]").first
    expect(option).to_be_visible()
    expect(buyer_box).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(page.locator("#new-contact-btn")).to_be_focused()
    expect(buyer_box).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Shift+Tab")
    expect(buyer_box).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first contact, highlighted (aria-activedescendant)
    expect(buyer_box).to_have_attribute("aria-activedescendant", re.compile(r".+"))
    page.keyboard.press("Enter")
    assert page.input_value("#buyer") == str(number)
    expect(page.locator("#perf-filter")).to_be_focused()
    expect(page.locator("#sale-announce")).to_contain_text("AKOKA, Viviane")

    # the buyer's "fiche" link is in the Tab order (after the "+ NOUVEAU" button, before the payer)
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#payer-search")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    sheet = page.locator("#buyer-sheet")
    expect(sheet).to_be_focused()
    assert sheet.get_attribute("href").endswith(f"/{number}/")
    page.keyboard.press("Alt+l")
    expect(page.locator("#perf-filter")).to_be_focused()

    # the seated performance: filter, Entrée chooses it, Entrée goes on to the category
    page.keyboard.type("giovanni")
    page.keyboard.press("Enter")
    expect(page.locator("#performances input[type=radio]:checked")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#category")).to_be_focused()
    seat_map = page.locator("#seat-map")
    expect(seat_map.locator(".seat-check")).to_have_count(6)
    page.keyboard.press("Tab")
    expect(page.locator("#tariff")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#quantity")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#add-line")).to_be_focused()

    # the seat map: one Tab stop; the arrows move from seat to seat; Space and Entrée tick
    page.keyboard.press("Tab")
    a1 = seat_map.locator(".seat-check").nth(0)
    expect(a1).to_be_focused()
    expect(a1).to_have_attribute("aria-label", re.compile(r"^Balcon A1 \(libre\)$"))
    assert seat_map.locator(".seat-check[tabindex='0']").count() == 1
    page.keyboard.press("ArrowRight")
    a3 = seat_map.locator(".seat-check").nth(1)
    expect(a3).to_be_focused()
    page.keyboard.press("Space")
    expect(a3).to_be_checked()
    page.keyboard.press("ArrowDown")  # row B, the seat nearest in the row: 53S
    b53 = seat_map.locator(".seat-check").nth(4)
    expect(b53).to_be_focused()
    page.keyboard.press("Enter")
    expect(b53).to_be_checked()
    expect(page.locator("#quantity")).to_have_value("2")
    expect(page.locator("#sale-announce")).to_contain_text("2 place(s) cochée(s)")
    page.screenshot(path=f"{SHOTS}/sales_keyboard_seat_map.png", full_page=True)
    page.keyboard.press("Tab")  # out of the map in one key: the delivery mode
    expect(page.locator("#delivery_mode")).to_be_focused()
    page.keyboard.press("Alt+a")
    basket = page.locator("[data-testid=basket] tr.basket-line")
    expect(basket).to_have_count(1)
    assert "Balcon - A3" in basket.inner_text() and "Balcon - B53S" in basket.inner_text()
    expect(page.locator("#pay-CASH")).to_be_focused()
    expect(page.locator("#sale-announce")).to_contain_text("Ajouté au panier")

    # a second line (Joyaux), then removed from the keyboard: the focus stays in the basket
    page.keyboard.press("Alt+l")
    page.keyboard.type("joy")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expect(page.locator("#category")).to_be_focused()
    page.keyboard.press("Alt+a")
    expect(basket).to_have_count(2)
    expect(page.locator("#pay-CASH")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # the delivery details, closed: one stop
    expect(page.locator("[data-testid=sell-delivery-details] > summary")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#delivery_mode")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    remove = basket.nth(1).locator(".basket-remove")
    expect(remove).to_be_focused()
    expect(remove).to_have_attribute("aria-label", re.compile(r"Retirer du panier : 1 × Joyaux"))
    page.keyboard.press("Enter")
    expect(basket).to_have_count(1)
    expect(basket.nth(0).locator(".basket-remove")).to_be_focused()
    expect(page.locator("#sale-announce")).to_contain_text("Retiré du panier")
    assert re.search(r"220,00\s€", page.inner_text("[data-testid=basket-total]"))

    # the whole rest in cash (Alt+S); ABANDONNER is reachable right after PAYER
    page.keyboard.press("Alt+s")
    expect(page.locator("#pay-CASH")).to_be_focused()
    expect(page.locator("#pay-CASH")).to_have_value("220,00")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "abandon-btn":
            break
    expect(page.locator("#abandon-btn")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#pay-btn")).to_be_focused()
    page.screenshot(path=f"{SHOTS}/sales_keyboard_ready.png", full_page=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # PAYER
    page.wait_for_url(re.compile(r".*/admin/sales/orders/\d+/$"))
    assert "Soldé" in page.inner_text("[data-testid=order-header]")
    tickets = page.inner_text("[data-testid=order-tickets]")
    assert "A3" in tickets and "B53S" in tickets
    assert page.locator("[data-testid=order-tickets] tbody tr").count() == 2


@pytest.mark.parametrize("lang, total, label, typed", [("en", "€220.00", "Balance due", "100.00"),
                                                       ("es", "220,00\xa0€", "Pendiente de pago", "100,00")])
def test_the_sell_screen_counts_in_the_operator_language(app, make_operator, page, lang, total, label, typed):
    """Money is written one way on the whole screen (the server's rows and the script's): never
    "€0.00" beside "0,00 €"; the script's words are the operator's language."""
    from coulisses import security

    make_operator("STX_BDD", roles=["operator"])
    _shop(app)
    with app_session(app) as s:
        security.get_operator(s, "STX_BDD").locale = lang
        s.commit()
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    expect(page.locator("#due-label")).to_have_text(label)
    page.keyboard.press("Alt+l")
    page.keyboard.type("joy")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert total.replace("220", "110") in page.locator("#tariff option:checked").inner_text()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=basket-total]")).to_have_text(total)
    expect(page.locator("#basket [data-col=amount]").first).to_have_text(total)
    expect(page.locator("#due-total")).to_have_text(total)
    expect(page.locator("#pay-CASH")).to_be_focused()
    page.keyboard.type(typed)
    expect(page.locator("[data-testid=rest-due]")).to_have_text(total.replace("220", "120"))
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#pay-CARD")).to_be_focused()
    page.keyboard.press("Alt+s")
    expect(page.locator("#pay-CARD")).to_have_value(typed.replace("100", "120"))
    page.screenshot(path=f"{SHOTS}/sales_keyboard_{lang}.png", full_page=True)
