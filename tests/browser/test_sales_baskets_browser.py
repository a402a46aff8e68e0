"""Baskets in real headless Chromium: an order taken up again (REPRENDRE on its detail) to remove a
reserved ticket, change another's tariff and pay what is due as one operation; a basket put on hold
(METTRE EN ATTENTE) and resumed from "Paniers" by another operator of the point of sale; both
screens pass the WCAG 2.1 AA audit in that state."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.browser.conftest import browser_login
from tests.browser.test_accessibility import audit
from tests.browser.test_sales_browser import _shop
from tests.conftest import PASSWORD, app_session

pytestmark = pytest.mark.browser


@pytest.fixture
def app(live_server):
    return live_server(["sales"])


def _reserve(app, buyer_number: int, quantity: int = 3) -> int:
    """A reservation of ``quantity`` Cat 1 full-price tickets for Joyaux; returns the order number."""
    from plugins.contacts.models import Contact
    from plugins.sales.models import Performance, Price, Tariff
    from plugins.sales.services import orders

    with app_session(app) as s, acting_as(Actor(None, "STX_BDD")):
        perf = s.scalars(select(Performance).order_by(Performance.starts_at.desc())).first()
        full = s.scalar(select(Tariff).where(Tariff.code == "PLEIN"))
        price = s.scalar(select(Price).where(Price.performance_id == perf.id, Price.tariff_id == full.id,
                                             Price.amount == 110))
        buyer = s.scalar(select(Contact).where(Contact.number == buyer_number))
        order = orders.reserve(s, buyer, [orders.LineInput(perf.id, price.category_id, full.id, quantity)])
        s.commit()
        return order.number


def _no_violation(page):
    found = audit(page)
    assert not found, [(v["id"], v["nodes"]) for v in found]


def test_an_order_is_taken_up_again_changed_and_paid_in_one_operation(app, make_operator, browser):
    make_operator("STX_BDD", roles=["operator"])
    buyer = _shop(app)
    number = _reserve(app, buyer)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(f"{base}/admin/sales/orders/{number}/")
    take_up = page.get_by_test_id("take-up")
    take_up.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # REPRENDRE, from the keyboard
    expect(page.get_by_test_id(f"basket-order-{number}")).to_be_visible()
    ordre = re.search(r"Ordre (\d+)", page.get_by_test_id("basket-number").text_content()).group(1)
    rows = page.locator(f"[data-testid=basket-order-{number}] tbody tr")
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("basket-due")).to_have_text(re.compile(r"330,00\s€"))
    _no_violation(page)

    # remove the first reserved ticket
    first = rows.nth(0).get_attribute("data-ticket")
    with page.expect_navigation():
        page.get_by_test_id(f"remove-{first}").click()
    expect(page.locator(f"[data-testid=basket-order-{number}] tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("basket-due")).to_have_text(re.compile(r"220,00\s€"))
    # the second one at the reduced tariff
    second = page.locator(f"[data-testid=basket-order-{number}] tbody tr").nth(0)
    barcode = second.get_attribute("data-ticket")
    reduced = second.locator("select option", has_text="Tarif réduit").get_attribute("value")
    second.locator("select").select_option(value=reduced)
    with page.expect_navigation():
        page.get_by_test_id(f"retariff-{barcode}").click()
    expect(page.get_by_test_id("basket-due")).to_have_text(re.compile(r"190,00\s€"))
    expect(page.get_by_test_id("rest-due")).to_have_text(re.compile(r"190,00\s€"))
    # pay what remains due by card ("Solde" puts the rest in the field), PAYER
    page.locator("#pay-CARD").focus()
    page.keyboard.press("Alt+s")
    expect(page.locator("#pay-CARD")).to_have_value("190,00")
    with page.expect_navigation():
        page.keyboard.press("Alt+p")
    page.wait_for_url(re.compile(rf".*/admin/sales/orders/{number}/$"))
    assert "Soldé" in page.inner_text("[data-testid=order-header]")
    assert f"Ordre {ordre} terminé" in page.inner_text("body")
    from plugins.sales.models import Operation, OperationEntry, Order

    with app_session(app) as s:
        order = s.scalar(select(Order).where(Order.number == number))
        ops = set(s.scalars(select(Operation.number).join(OperationEntry, OperationEntry.operation_id == Operation.id)
                            .where(OperationEntry.order_id == order.id)))
    assert ops == {min(ops), int(ordre)}  # its reservation, then the one basket
    context.close()


def test_a_basket_is_put_on_hold_and_resumed_by_a_colleague(app, make_operator, browser):
    make_operator("STX_BDD", roles=["operator"])
    make_operator("GUICHET_2", roles=["operator"])
    buyer = _shop(app)
    base = app.config["LIVE_URL"]
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    browser_login(page, base, "STX_BDD", PASSWORD)
    page.goto(base + "/admin/sales/sell/")
    page.keyboard.type("akoka", delay=40)
    page.wait_for_selector("[data-testid=autocomplete] [role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.type("joy", delay=40)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=basket] tr.basket-line")).to_have_count(1)
    page.fill("#basket-note", "Revient après le dîner")
    with page.expect_navigation():
        page.keyboard.press("Alt+t")  # METTRE EN ATTENTE
    page.wait_for_url(re.compile(r".*/admin/sales/baskets/$"))
    row = page.locator("[data-testid=held-baskets] tbody tr[data-basket]")
    expect(row).to_have_count(1)
    ordre = row.get_attribute("data-basket")
    assert "Revient après le dîner" in row.inner_text() and "STX_BDD" in row.inner_text()
    context.close()

    # a colleague of the same point of sale resumes it from "Paniers"
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    browser_login(page, base, "GUICHET_2", PASSWORD)
    page.goto(base + "/admin/sales/baskets/")
    _no_violation(page)
    with page.expect_navigation():
        page.get_by_test_id(f"resume-{ordre}").click()
    expect(page.get_by_test_id("basket-number")).to_have_text(f"[Ordre {ordre}]")
    orders_block = page.get_by_test_id("basket-orders")
    expect(orders_block).to_contain_text("Réservé")
    expect(page.get_by_test_id("basket-due")).to_have_text(re.compile(r"220,00\s€"))
    # PAYER in cash, with change
    page.fill("#pay-CASH", "250")
    with page.expect_navigation():
        page.keyboard.press("Alt+p")
    page.wait_for_url(re.compile(r".*/admin/sales/orders/\d+/$"))
    assert "Soldé" in page.inner_text("[data-testid=order-header]")
    assert re.search(r"Monnaie à rendre : 30,00\s€", page.inner_text("body"))
    page.goto(base + "/admin/sales/baskets/")
    expect(page.locator("[data-testid=held-baskets]")).to_contain_text("Aucun panier en attente.")
    context.close()
