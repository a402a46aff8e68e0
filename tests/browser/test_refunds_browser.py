"""The "Échange - annulation" screen in real headless Chromium, keyboard first — the seed's flow: a
basket opened with Enter, a barcode range typed (first and last), 6 tickets refunded by the order's
payment mode (−660,00 €); then the whole order taken back and exchanged for 22 × Carmina Burana
(−1 100,00 €). axe-core audits the basket screen. Screenshots: /tmp/refunds_*.png."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import audit
from tests.conftest import PASSWORD, app_session

pytestmark = pytest.mark.browser
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def app(live_server):
    return live_server(["refunds"])


def _seed(app) -> dict:
    """Joyaux and Carmina Burana in a seated Grande salle, AKOKA Viviane's order of 22 printed tickets."""
    from plugins.contacts.services.contacts import create_quick
    from plugins.refunds.services.causes import install_defaults
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import orders, settings
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput, pay

    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        settings.install_defaults(s)
        install_defaults(s)
        season = cat.create_season(s, "S2015", "2015/2016", date(2015, 9, 1), date(2016, 8, 31))
        venue = cat.create_venue(s, "GRANDE_SALLE", "Grande salle", seated=True)
        balcon = cat.add_area(s, venue, "BALCON", "Balcon")
        cat1 = cat.create_category(s, "CAT1", "Cat 1", 1)
        seats = cat.add_seats(s, balcon, [("", str(n)) for n in range(1, 45)], category=cat1)
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        full = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        joyaux = cat.create_performance(s, cat.create_event(s, "JOYAUX", "Joyaux", season=season), venue,
                                        datetime(2015, 11, 2, 20, 15, tzinfo=PARIS), quotas={cat1: 44})
        carmina = cat.create_performance(s, cat.create_event(s, "CARMINA", "Carmina Burana", season=season), venue,
                                         datetime(2015, 10, 26, 19, 30, tzinfo=PARIS), quotas={cat1: 44})
        cat.set_price(s, joyaux, cat1, full, "110.00")
        cat.set_price(s, carmina, cat1, full, "60.00")
        akoka = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        order = orders.sell(s, akoka, [LineInput(joyaux.id, cat1.id, full.id, 22, seats=[x.id for x in seats[:22]])])
        pay(s, order, [PaymentInput("OTHER", order.total)])
        orders.mark_printed(s, order.tickets)
        s.commit()
        return {"order": order.number, "codes": sorted(t.barcode for t in order.tickets),
                "carmina": f"{carmina.id}:{cat1.id}:{full.id}", "seats": " ".join(str(x.id) for x in seats[22:44])}


def test_seed_flow_refund_then_exchange_with_the_keyboard(app, make_operator, page, browser):
    data = _seed(app)
    make_operator("chef", roles=["supervisor"])
    base = app.config["LIVE_URL"]
    browser_login(page, base, "chef", PASSWORD)

    page.goto(base + "/admin/refunds/basket/")
    expect(page.locator("#new-basket")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#scan")).to_be_focused()
    expect(page.get_by_test_id("operation-number")).to_have_text(re.compile(r"Ordre \d+"))
    page.wait_for_load_state()  # the screen's script has placed the focus: nothing moves it afterwards
    page.locator("#first").focus()
    expect(page.locator("#first")).to_be_focused()
    page.keyboard.type(data["codes"][0])
    page.keyboard.press("Tab")
    expect(page.locator("#last")).to_be_focused()
    page.keyboard.type(data["codes"][5])
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("subtotal-refunded")).to_have_text(re.compile(r"-660,00"))
    expect(page.get_by_test_id("basket-total")).to_have_text(re.compile(r"-660,00"))
    expect(page.get_by_test_id("refund-performance")).to_contain_text("Joyaux - Lun 02.11.2015 20:15")
    expect(page.get_by_test_id("refund-line")).to_contain_text("Cat 1 Contact occasionnel - Plein tarif")
    expect(page.locator("#scan")).to_be_focused()
    page.screenshot(path="/tmp/refunds_basket_six.png", full_page=True)
    page.wait_for_load_state()
    page.locator("#refund-OTHER").focus()
    expect(page.locator("#refund-OTHER")).to_be_focused()
    page.keyboard.type("660,00")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("settled-summary")).to_be_visible()
    page.screenshot(path="/tmp/refunds_settled.png", full_page=True)

    # the exchange: the rest of the order (16) … the seed's exchange takes the 22: a new order of 22
    page.goto(base + "/admin/refunds/basket/")
    page.wait_for_load_state()
    expect(page.locator("#new-basket")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#scan")).to_be_focused()
    page.wait_for_load_state()
    page.locator("#order-number").focus()
    expect(page.locator("#order-number")).to_be_focused()
    page.keyboard.type(str(data["order"]))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("subtotal-refunded")).to_have_text(re.compile(r"-1\s?760,00"))
    page.wait_for_load_state()
    page.locator("#price").select_option(data["carmina"])
    page.locator("#quantity").fill("16")
    page.locator("#seats").fill(" ".join(data["seats"].split()[:16]))
    page.locator("#seats").press("Enter")
    expect(page.get_by_test_id("exchange-performance")).to_contain_text("Carmina Burana - Lun 26.10.2015 19:30")
    expect(page.get_by_test_id("subtotal-sold")).to_have_text(re.compile(r"960,00"))
    expect(page.get_by_test_id("basket-total")).to_have_text(re.compile(r"-800,00"))
    # "Livraison billets" of the new tickets: the sell screen's own block (e-mail, immediate print, documents)
    page.wait_for_load_state()
    page.locator("#delivery_mode").focus()
    expect(page.locator("#delivery_mode")).to_be_focused()
    page.locator("#delivery_mode").select_option("eticket")
    summary = page.get_by_test_id("refunds-delivery").locator("summary").first
    summary.focus()
    expect(summary).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#sell-delivery-email").fill("pas-une-adresse")
    page.get_by_test_id("save-options").press("Enter")
    expect(page.locator("#sell-delivery-email")).to_have_attribute("aria-invalid", "true")  # refused, kept
    expect(page.locator("#sell-delivery-email")).to_have_value("pas-une-adresse")
    page.wait_for_load_state()
    page.locator("#sell-delivery-email").fill("viviane.akoka@example.org")
    page.locator("#sell-print-yes").focus()  # the radio group, by keyboard: the arrow chooses "non"
    expect(page.locator("#sell-print-yes")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#sell-print-no")).to_be_checked()
    page.get_by_test_id("save-options").press("Enter")
    expect(page.locator("#scan")).to_be_focused()
    expect(page.locator("#delivery_mode")).to_have_value("eticket")
    expect(page.locator("#sell-delivery-email")).to_have_value("viviane.akoka@example.org")
    expect(page.locator("#sell-print-no")).to_be_checked()
    page.screenshot(path="/tmp/refunds_exchange.png", full_page=True)
    page.wait_for_load_state()
    page.locator("#refund-OTHER").fill("800,00")
    page.locator("#refund-OTHER").press("Enter")
    expect(page.get_by_test_id("settled-summary")).to_contain_text("Dossier d'échange")
    from plugins.refunds.models import CancellationBasket
    from plugins.sales.models import Order
    from plugins.sales.services.delivery import delivery_view

    with app_session(app) as s:
        new = s.scalars(select(CancellationBasket).where(CancellationBasket.exchange_order_id.is_not(None))).one()
        shown = delivery_view(s, s.get(Order, new.exchange_order_id))
    assert (shown["mode"], shown["email"], shown["immediate_print"]) == ("eticket", "viviane.akoka@example.org",
                                                                        False)


def test_the_basket_screen_passes_the_audit(app, make_operator, browser):
    data = _seed(app)
    make_operator("chef", roles=["supervisor"])
    base = app.config["LIVE_URL"]
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True,
                                  reduced_motion="reduce")
    page = context.new_page()
    try:
        browser_login(page, base, "chef", PASSWORD)
        page.goto(base + "/admin/refunds/basket/")
        page.wait_for_load_state()
        expect(page.locator("#new-basket")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#scan")).to_be_focused()
        page.wait_for_load_state()
        page.locator("#order-number").fill(str(data["order"]))
        page.locator("#order-number").press("Enter")
        expect(page.get_by_test_id("subtotal-refunded")).to_have_text(re.compile(r"420,00"))
        assert audit(page) == []
    finally:
        context.close()
