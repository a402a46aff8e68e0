"""The box-office sales screen in real headless Chromium, with the keyboard only: find the buyer with
the contacts autocomplete, choose the performance, category, tariff and quantity, pay in two payments
(part cash, rest card with "Solde"), land on the order detail (tickets, balance at zero), then find
the purchase in the buyer's contact sheet. And a contact created without leaving the screen.

Screenshots go to /tmp/sales_*.png (looked at while building the screens)."""
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
    """The seeds' catalogue (Joyaux at the Opéra Garnier, Cat 1 at 110,00, Cat 2 at 60,00; a second
    event) and the buyer AKOKA Viviane; returns her number."""
    from plugins.contacts.services.contacts import create_quick
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import settings

    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        settings.install_defaults(s)
        venue = cat.create_venue(s, "OPERA", "Opéra Garnier")
        cat1, cat2 = cat.create_category(s, "CAT1", "Cat 1", 1), cat.create_category(s, "CAT2", "Cat 2", 2)
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        full = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        reduced = cat.create_tariff(s, "REDUIT", "Tarif réduit", audience)
        joyaux = cat.create_event(s, "JOYAUX", "Joyaux")
        carmina = cat.create_event(s, "CARMINA", "Carmina Burana")
        for event, hour in ((carmina, 19), (joyaux, 20)):
            perf = cat.create_performance(s, event, venue, next_month(hour, 15), quotas={cat1: 40, cat2: 20})
            cat.set_price(s, perf, cat1, full, "110.00")
            cat.set_price(s, perf, cat1, reduced, "80.00")
            cat.set_price(s, perf, cat2, full, "60.00")
        buyer = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        s.commit()
        return buyer.number


def _focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.name)")


def test_an_operator_sells_two_tickets_with_the_keyboard_and_pays_in_two_payments(app, make_operator, page):
    make_operator("STX_BDD", roles=["operator"])
    number = _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.wait_for_selector("[data-testid=sell-screen]")
    assert _focused(page) == "buyer-search"  # autofocus: the operator types at once

    # the buyer, through the contacts autocomplete: type, ↓, Entrée
    page.keyboard.type("akoka", delay=40)
    page.wait_for_selector("[data-testid=autocomplete] [role=option]")
    entries = page.locator("[data-testid=autocomplete] [role=option]").all_inner_texts()
    assert entries[0].strip() == f"AKOKA, Viviane | FR-75006 [{number}]"
    assert entries[-1].strip() == "Créer un nouveau contact…"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.input_value("#buyer") == str(number)
    assert _focused(page) == "perf-filter"  # on to the performances

    # the performance: filter, Entrée chooses the first one shown, Entrée again goes to the category
    page.keyboard.type("joy", delay=40)
    assert page.locator("#performances tbody tr[data-performance]:visible").count() == 1
    page.keyboard.press("Enter")
    assert page.locator("#performances input[type=radio]:checked").count() == 1
    page.keyboard.press("Enter")
    assert _focused(page) == "category"
    assert page.locator("#category option:checked").inner_text().startswith("Cat 1 — 40 places")
    page.keyboard.press("Tab")
    assert _focused(page) == "tariff"
    assert "Contact occasionnel - Plein tarif — 110,00" in page.locator("#tariff option:checked").inner_text()
    page.keyboard.press("Tab")
    assert _focused(page) == "quantity"
    page.keyboard.type("2")
    page.keyboard.press("Enter")  # adds the line to the basket

    basket = page.locator("[data-testid=basket] tr.basket-line")
    assert basket.count() == 1
    assert "Joyaux - " in basket.inner_text() and "Cat 1" in basket.inner_text()
    assert re.search(r"220,00\s€", page.inner_text("[data-testid=basket-total]"))
    assert _focused(page) == "pay-CASH"  # on to the payments

    # part cash, the rest by card with Alt+S ("Solde"); the rest due follows live
    page.keyboard.type("100")
    assert re.search(r"120,00\s€", page.inner_text("[data-testid=rest-due]"))
    page.keyboard.press("Tab")  # the cash row's "Solde" button, then the card amount
    expect(page.locator(".payment-rest[data-for=pay-CASH]")).to_be_focused()
    page.keyboard.press("Tab")
    assert _focused(page) == "pay-CARD"
    page.keyboard.press("Alt+s")
    assert page.input_value("#pay-CARD") == "120,00"
    assert re.search(r"0,00\s€", page.inner_text("[data-testid=rest-due]"))
    page.screenshot(path=f"{SHOTS}/sales_sell_screen.png", full_page=True)

    with page.expect_navigation():
        page.keyboard.press("Alt+p")  # PAYER
    if page.locator("[data-testid=sale-error]").count():
        pytest.fail(page.inner_text("[data-testid=sale-error]"))
    page.wait_for_url(re.compile(r".*/admin/sales/orders/\d+/$"))
    header = page.inner_text("[data-testid=order-header]")
    order_number = re.search(r"Dossier (\d+)", header).group(1)
    assert "Soldé" in header and f"AKOKA, Viviane" in header
    assert re.search(r"Création \d\d\.\d\d\.\d{4} \d\d:\d\d par STX_BDD sur Guichet",
                     page.inner_text("[data-testid=order-audit]"))
    tickets = page.locator("[data-testid=order-tickets] tbody tr")
    assert tickets.count() == 2
    assert all(re.fullmatch(r"\d{11}", b.strip()) for b in page.locator("[data-testid=order-tickets] td.barcode").all_inner_texts())
    assert re.fullmatch(r"0,00\s€", page.inner_text("[data-testid=order-balance]").strip())
    assert re.fullmatch(r"220,00\s€", page.inner_text("[data-testid=order-total]").strip())
    payments = page.inner_text("[data-testid=order-payments]")
    assert "Espèces" in payments and "Carte bancaire" in payments
    page.screenshot(path=f"{SHOTS}/sales_order_detail.png", full_page=True)

    # the buyer's sheet shows the purchase, linked to the order
    page.click("[data-testid=order-buyer]")
    page.wait_for_url(re.compile(rf".*/admin/contacts/sheet/{number}/.*"))
    page.goto(f"{base}/admin/contacts/sheet/{number}/history/purchases")
    row = page.locator(f"a:has-text('Dossier {order_number}')")
    assert row.count() == 1 and "2 billets" in row.inner_text()
    page.screenshot(path=f"{SHOTS}/sales_contact_purchases.png", full_page=True)
    row.click()
    page.wait_for_url(re.compile(rf".*/admin/sales/orders/{order_number}/$"))


def test_a_new_contact_is_created_without_leaving_the_screen_and_a_reservation_made(app, make_operator, page):
    make_operator("STX_BDD", roles=["operator"])
    _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.keyboard.type("Nouvelle, Claire", delay=30)
    page.wait_for_selector("[data-testid=autocomplete] .ac-create")
    page.keyboard.press("ArrowUp")  # the last entry: "Créer un nouveau contact…"
    page.keyboard.press("Enter")
    page.wait_for_selector("#new-contact-modal.show")
    assert page.input_value("#nc-last_name") == "NOUVELLE" and page.input_value("#nc-first_name") == "Claire"
    # no civility chosen for the operator; the country is a list (France first and chosen)
    assert page.input_value("#nc-civility") == ""
    expect(page.locator("#nc-country")).to_have_value("FR")
    expect(page.locator("#nc-country option:checked")).to_have_text("France")
    page.select_option("#nc-civility", "MME")
    page.fill("#nc-postal_code", "69003")
    page.fill("#nc-city", "Lyon")
    page.screenshot(path=f"{SHOTS}/sales_new_contact.png")
    page.keyboard.press("Enter")  # CRÉER ET CHOISIR
    page.wait_for_selector("#new-contact-modal", state="hidden")
    label = page.input_value("#buyer-search")
    assert re.fullmatch(r"NOUVELLE, Claire \| FR-69003 \[\d+\]", label), label
    assert page.input_value("#buyer")
    # the focus is back on the buyer box once the dialog is gone; Alt+L goes on to the performances
    expect(page.locator("#buyer-search")).to_be_focused()
    page.keyboard.press("Alt+l")
    expect(page.locator("#perf-filter")).to_be_focused()
    # Carmina Burana, Cat 2, one ticket, reserved with Alt+R
    page.keyboard.type("carmina")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")  # Cat 2
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert re.search(r"60,00\s€", page.inner_text("[data-testid=basket-total]"))
    page.keyboard.press("Alt+r")
    page.wait_for_url(re.compile(r".*/admin/sales/orders/\d+/$"))
    assert "Réservé" in page.inner_text("[data-testid=order-header]")
    assert "NOUVELLE, Claire" in page.inner_text("[data-testid=order-header]")


def test_a_refused_sale_comes_back_with_the_basket(app, make_operator, page):
    make_operator("STX_BDD", roles=["operator"])
    _shop(app)
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.keyboard.press("Alt+l")
    page.keyboard.type("joy")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    page.keyboard.type("330")
    page.keyboard.press("Alt+p")  # no buyer chosen
    page.wait_for_selector("[data-testid=sale-error]")
    assert "Choisissez le contact acheteur" in page.inner_text("[data-testid=sale-error]")
    assert page.locator("[data-testid=basket] tr.basket-line").count() == 1
    assert re.search(r"330,00\s€", page.inner_text("[data-testid=basket-total]"))
    assert page.input_value("#pay-CASH") == "330"
    assert re.search(r"0,00\s€", page.inner_text("[data-testid=rest-due]"))
    page.screenshot(path=f"{SHOTS}/sales_refused.png", full_page=True)


def test_the_order_detail_ticket_table_fits_1366_px_without_cutting_a_cell(app, make_operator, page):
    """At 1366 px wide the ticket table of the order detail used to be cut ("Remis au c"): the table
    wraps its text, no cell is clipped and the table needs no horizontal scrolling."""
    from sqlalchemy import select

    from plugins.contacts.models import Contact
    from plugins.sales.models import Performance
    from plugins.sales.services import orders
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput

    make_operator("STX_BDD", roles=["operator"])
    buyer_number = _shop(app)
    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        buyer = s.scalar(select(Contact).where(Contact.number == buyer_number))
        perf = s.scalars(select(Performance).order_by(Performance.id)).first()
        cat1 = next(q.category for q in perf.quotas if q.category.code == "CAT1")
        from plugins.sales.models import Tariff
        full = s.scalar(select(Tariff).where(Tariff.code == "PLEIN"))
        order = orders.sell(s, buyer, [LineInput(perf.id, cat1.id, full.id, 3)],
                            payments=[PaymentInput("CASH", "330.00")])
        orders.mark_printed(s, order.tickets)
        s.commit()
        number = order.number
    page.set_viewport_size({"width": 1366, "height": 768})
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(f"{base}/admin/sales/orders/{number}/")
    table = page.locator("[data-testid=order-tickets]")
    expect(table).to_contain_text("Remis au contact")
    expect(table).to_contain_text("Hors cont.")
    page.screenshot(path=f"{SHOTS}/sales_order_1366.png", full_page=True)
    clipped = page.evaluate("""() => {
        const table = document.querySelector('[data-testid=order-tickets]');
        const box = table.closest('.table-responsive') || table.parentElement;
        const out = [];
        if (box.scrollWidth > box.clientWidth + 1) out.push('table ' + box.scrollWidth + ' > ' + box.clientWidth);
        const right = box.getBoundingClientRect().right;
        for (const cell of table.querySelectorAll('th, td')) {
            const r = cell.getBoundingClientRect();
            if (cell.scrollWidth > cell.clientWidth + 1 || r.right > right + 1 || r.right > window.innerWidth)
                out.push(cell.innerText.trim());
        }
        return out;
    }""")
    assert clipped == [], clipped


def test_the_internet_account_box_keeps_the_e_mail_on_one_line_at_1366_px(app, make_operator, page):
    """The contact sheet's "Compte internet" box showed the login (the e-mail) broken over lines in a
    half-width column: the login takes the box's whole width and stays whole."""
    from sqlalchemy import select

    from plugins.contacts.models import Contact
    from plugins.contacts.services.accounts import create_internet_account

    make_operator("STX_BDD", roles=["operator"])
    number = _shop(app)
    email = "viviane.akoka-lefebvre@university-paris.example.org"
    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        contact = s.scalar(select(Contact).where(Contact.number == number))
        contact.email = email
        s.flush()
        create_internet_account(s, contact)
        s.commit()
    page.set_viewport_size({"width": 1366, "height": 900})
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(f"{base}/admin/contacts/sheet/{number}/")
    box = page.locator("[data-testid=internet-account]")
    expect(box).to_contain_text(email)
    login = box.locator("dd").first
    expect(login).to_have_text(email)
    lines = login.evaluate("""(dd) => {
        const range = document.createRange();
        range.selectNodeContents(dd);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        return {lines: tops.size, clipped: dd.scrollWidth > dd.clientWidth + 1};
    }""")
    page.screenshot(path=f"{SHOTS}/sales_internet_account_1366.png")
    assert lines == {"lines": 1, "clipped": False}, lines


@pytest.mark.parametrize("locale, typed, month, monday", [
    ("fr-FR", "02.11.2015", "novembre", "lun"),
    ("en-GB", "02/11/2015", "November", "Mon"),
    ("es-ES", "02/11/2015", "noviembre", "lun"),
])
def test_the_order_list_dates_use_the_product_s_date_picker_in_the_operator_s_language(
        app, make_operator, browser, locale, typed, month, monday):
    make_operator("guichet", roles=["operator"])
    context = browser.new_context(locale=locale, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    base = app.config["LIVE_URL"]
    try:
        browser_login(page, base, "guichet", PASSWORD)
        page.goto(base + "/admin/sales/orders/")
        page.wait_for_load_state()
        field = page.locator("#order-date-from")
        expect(field).to_have_attribute("placeholder", re.compile(r"^(jj\.mm\.aaaa|dd/mm/yyyy|dd/mm/aaaa)$"))
        field.focus()
        expect(field).to_be_focused()
        page.keyboard.type(typed)  # typed as the language writes it; the picker follows what is typed
        picker = page.locator(".daterangepicker").filter(has=page.locator("td.available")).first
        expect(picker).to_be_visible()
        expect(picker.locator("th.month").first).to_contain_text(month)
        expect(picker.locator("thead tr").nth(1).locator("th").first).to_have_text(re.compile(monday, re.I))
        page.keyboard.press("Escape")
        field.focus()
        expect(field).to_be_focused()
        page.keyboard.press("Enter")  # submits the search with the date typed
        page.wait_for_url(re.compile(r"date_from="))
        expect(page.locator("#order-date-from")).to_have_value(typed)
        expect(page.locator("#order-date-from")).not_to_have_class(re.compile("is-invalid"))
        page.screenshot(path=f"/tmp/sales_orders_dates_{locale[:2]}.png", full_page=True)
    finally:
        context.close()
