"""The refunds figures on /metrics (issue 15, the ``coulisses_metrics`` hook): baskets settled, and
the refunds recorded but not paid out yet (an interrupted payout an operator must finish)."""
from __future__ import annotations

from plugins.refunds.services import baskets
from plugins.refunds.services.settle import RefundInput, complete_payouts, settle
from tests.platform.test_metrics import BEARER, TOKEN, samples, value


def test_baskets_settled_and_payouts_pending_are_scraped(db, world, sell, make_app):
    order = sell(2)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    settle(db, basket, refunds=[RefundInput("OTHER", "220.00")])
    db.commit()  # the payout job has not run (no worker here): the refund waits to be paid out
    app = make_app(["refunds"], schema=False, METRICS_TOKEN=TOKEN)
    found = samples(app.test_client().get("/metrics", headers=BEARER))
    assert value(found, "coulisses_refunds_baskets_settled_total") == 1
    assert value(found, "coulisses_refunds_payouts_pending") == 1
    assert value(found, "coulisses_refunds_payouts_pending_amount") == 220.0
    assert value(found, "coulisses_sales_refunded_amount_total", mode="OTHER") == 220.0
    complete_payouts(db, basket=basket)
    db.commit()
    found = samples(app.test_client().get("/metrics", headers=BEARER))
    assert value(found, "coulisses_refunds_payouts_pending") == 0
    assert value(found, "coulisses_refunds_payouts_pending_amount") == 0
    assert value(found, "coulisses_refunds_baskets_settled_total") == 1
