"""The sales plugin's webhook events: ``sales.order.created`` and ``sales.order.paid`` are raised by
the plugin's own ``sales_order_created`` / ``sales_order_paid`` implementations (which also run the
order's life: the reservation's expiry, the delivery list), delivered after the commit."""
from __future__ import annotations

from plugins.sales.services import orders
from plugins.sales.services.payments import PaymentInput, pay
from tests.sales.conftest import line
from tests.webhook_service import changes, received, run_outbox, webhooks_for

CODES = ["sales.order.created", "sales.order.paid"]


def test_an_order_created_then_paid_is_told(db, catalogue, buyer):
    db.commit()
    with webhooks_for(db, ["sales"], CODES) as receiver:
        c = catalogue
        reserved = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
        db.commit()
        assert reserved.option_expires_at is not None  # the order's life ran too (the default expiry)
        pay(db, reserved, [PaymentInput("CASH", "220.00")])
        db.commit()
        run_outbox(db)
        assert [(e["event"], e["data"]["number"], e["data"]["state"]) for e in received(receiver)] == [
            ("sales.order.created", reserved.number, "reserved"), ("sales.order.paid", reserved.number, "settled")]
        assert received(receiver)[1]["data"]["paid"] == "220.00"
        assert [c.subject for c in changes(db, CODES)] == [f"order:{reserved.number}"] * 2
