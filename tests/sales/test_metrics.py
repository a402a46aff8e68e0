"""The sales figures on /metrics (issue 15), through the host's ``coulisses_metrics`` hook: orders
and tickets sold, amounts paid and refunded by payment mode (a change of payer counted once), the
tills open by point of sale; read from the database at each scrape, so that what any process did
(here: the service layer, outside the scraped app) is counted."""
from __future__ import annotations

from plugins.sales.services import orders, till
from plugins.sales.services.payer_change import change_payer
from plugins.sales.services.payments import PaymentInput, pay, refund
from tests.platform.test_metrics import BEARER, TOKEN, samples, value
from tests.sales.conftest import line


def scrape(make_app):
    app = make_app(["sales"], schema=False, METRICS_TOKEN=TOKEN)
    return samples(app.test_client().get("/metrics", headers=BEARER))


def test_orders_tickets_amounts_and_tills_are_scraped(db, catalogue, buyer, person, make_app):
    db.commit()
    empty = scrape(make_app)
    assert value(empty, "coulisses_sales_orders_created_total") == 0
    assert value(empty, "coulisses_sales_paid_amount_total", mode="CASH") == 0  # every mode, from zero
    assert ("coulisses_sales_tills_open", frozenset({("point_of_sale", "GUICHET")})) in empty

    c = catalogue
    sold = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)],
                       payments=[PaymentInput("CARD", "100.00"), PaymentInput("CASH", "120.00")])
    orders.reserve(db, buyer, [line(c.performance, c.cat2, c.full, 3)])  # reserved: not sold
    later = orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)])
    pay(db, later, [PaymentInput("CASH", "60.00")])
    orders.release_tickets(db, sold, sold.tickets[1:], kind="refund")
    refund(db, sold, "CASH", "110.00")
    change_payer(db, later, person("Shapira", "Michel"))  # a reversal and a replacement: not new money
    till.open_till(db, "150.00")
    db.commit()

    found = scrape(make_app)
    assert value(found, "coulisses_sales_orders_created_total") == 3
    assert value(found, "coulisses_sales_orders", state="reserved") == 1
    assert value(found, "coulisses_sales_orders", state="settled") == 2
    assert value(found, "coulisses_sales_tickets_sold_total") == 3  # the one cancelled since was sold
    assert value(found, "coulisses_sales_tickets", state="cancelled") == 1
    assert value(found, "coulisses_sales_tickets", state="reserved") == 3
    assert value(found, "coulisses_sales_tickets", state="paid") == 2
    assert value(found, "coulisses_sales_paid_amount_total", mode="CASH") == 180.0
    assert value(found, "coulisses_sales_paid_amount_total", mode="CARD") == 100.0
    assert value(found, "coulisses_sales_refunded_amount_total", mode="CASH") == 110.0
    assert value(found, "coulisses_sales_refunded_amount_total", mode="CARD") == 0
    assert value(found, "coulisses_sales_tills_open", point_of_sale="GUICHET") == 1
