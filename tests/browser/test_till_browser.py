"""The till's day in real headless Chromium, with the keyboard: the operator opens their till with a
float, sells for cash (the sales screen's availability panel shows the performance's figures), then
closes the till: a count that differs is refused until a reason is given, and the journal shows the
expected cash, the count, the difference and its reason."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from coulisses.db import Actor, acting_as
from tests.browser.conftest import browser_login
from tests.browser.test_sales_browser import _shop
from tests.conftest import PASSWORD, app_session

pytestmark = pytest.mark.browser


@pytest.fixture
def app(live_server):
    return live_server(["sales"])


def test_an_operator_opens_sells_and_closes_their_till_with_a_difference(app, make_operator, page):
    from plugins.sales.models import Performance
    from plugins.sales.services import orders, till
    from plugins.sales.services.payments import PaymentInput
    from tests.sales.conftest import line

    op_id = make_operator("STX_BDD", roles=["operator"])
    buyer_number = _shop(app)
    with app_session(app) as s:
        till.set_requires_open_till(s, "GUICHET", True)
        s.commit()
    base = app.config["LIVE_URL"]
    browser_login(page, base, "STX_BDD", PASSWORD)

    # open the till with a float of 150,00 (keyboard: the field has the focus, Enter submits)
    page.goto(base + "/admin/sales/till/")
    expect(page.get_by_test_id("till-open-form")).to_be_visible()
    expect(page.locator("#opening-float")).to_be_focused()
    page.keyboard.type("150,00")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("till-close-form")).to_be_visible()
    expect(page.get_by_test_id("expected-CASH")).to_have_text(re.compile(r"150,00\s€"))

    # a cash sale at the till (the sales services, as this operator at the Guichet)
    with app_session(app) as s, acting_as(Actor(op_id, "STX_BDD")):
        from plugins.contacts.services.contacts import get_contact

        perf = s.query(Performance).order_by(Performance.starts_at.desc()).first()
        cat1 = perf.quotas[0].category_id
        from plugins.sales.models import Price

        price = s.query(Price).filter_by(performance_id=perf.id, category_id=cat1).first()
        orders.sell(s, get_contact(s, buyer_number), [line(perf.id, cat1, price.tariff_id, 2)],
                    payments=[PaymentInput("CASH", price.amount * 2)])
        s.commit()
        total, perf_id, tariff_id = price.amount * 2, perf.id, price.tariff_id

    # the sales screen's availability panel follows the chosen performance
    page.goto(base + "/admin/sales/sell/")
    page.locator(f"#perf-{perf_id}").check()
    expect(page.locator("#availability-panel-rows tr[data-category=CAT1] td").first).to_have_text("2")

    # close: the count differs by 5,00 — refused without a reason, what was typed is kept
    page.goto(base + "/admin/sales/till/")
    expected = 150 + int(total)
    expect(page.get_by_test_id("expected-CASH")).to_have_text(re.compile(rf"{expected},00\s€"))
    page.locator("#count-CASH").focus()
    page.keyboard.type(f"{expected - 5},00")
    page.keyboard.press("Tab")
    expect(page.locator("#count-CARD")).to_have_count(0)  # only the modes of the session are counted
    page.get_by_test_id("till-close").press("Enter")
    expect(page.get_by_test_id("till-error")).to_contain_text("indiquez-en la raison")
    expect(page.locator("#count-CASH")).to_have_value(f"{expected - 5},00")
    expect(page.locator("#till-reason")).to_have_attribute("aria-invalid", "true")
    page.locator("#till-reason").focus()
    page.keyboard.type("Erreur de rendu de monnaie")
    page.get_by_test_id("till-close").press("Enter")

    # the journal: closed, the difference and its reason, the operations of the session
    expect(page.get_by_test_id("till-state")).to_have_text("fermée")
    expect(page.get_by_test_id("till-difference")).to_have_text(re.compile(r"-5,00\s€"))
    expect(page.get_by_test_id("till-reason")).to_have_text("Erreur de rendu de monnaie")
    expect(page.get_by_test_id("till-operations").locator("tbody tr")).to_have_count(2)  # the sale, its payment

    # the till is closed: the point of sale refuses the next sale
    with app_session(app) as s, acting_as(Actor(op_id, "STX_BDD")):
        from coulisses import ConflictError
        from plugins.contacts.services.contacts import get_contact

        with pytest.raises(ConflictError):
            orders.sell(s, get_contact(s, buyer_number), [line(perf_id, cat1, tariff_id, 1)])
        s.rollback()
