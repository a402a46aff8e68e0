"""The refunds plugin's webhook events (issue 16): ``refunds.order.refunded`` and
``refunds.order.exchanged``, raised inside the settlement's transaction, delivered signed to a
receiver after the commit, never for a settlement rolled back, listed in the change feed."""
from __future__ import annotations

from sqlalchemy import select

from coulisses import webhooks
from plugins.refunds.services import baskets, exchange
from plugins.refunds.services.settle import RefundInput, settle
from tests.webhook_service import changes, received, run_outbox, uncommitted_rows, webhooks_for

CODES = ["refunds.order.refunded", "refunds.order.exchanged"]


def test_a_refund_is_delivered_after_the_commit_one_event_per_order(db, world, sell):
    first, second = sell(2), sell(1, performance=world.carmina)
    with webhooks_for(db, ["refunds"], CODES) as receiver:
        basket = baskets.open_basket(db)
        baskets.add_order(db, basket, first)
        baskets.add_order(db, basket, second)
        settle(db, basket, refunds=[RefundInput("OTHER", "280.00")])
        assert receiver.requests == [] and changes(db, CODES) == []  # nothing before the commit
        db.commit()
        run_outbox(db)
        envelopes = received(receiver)
        assert [e["event"] for e in envelopes] == ["refunds.order.refunded"] * 2
        by_order = {e["data"]["order"]: e["data"] for e in envelopes}
        assert set(by_order) == {first.number, second.number}
        data = by_order[first.number]
        assert data["operation"] == basket.number and by_order[second.number]["operation"] == basket.number
        assert sorted(data["tickets"]) == sorted(t.barcode for t in first.tickets)
        assert (data["value"], data["kept"], data["transferred"]) == ("220.00", "0.00", "0.00")
        assert data["refunds"] == [{"mode": "OTHER", "amount": "220.00"}]
        assert data["exchange_order"] is None and data["contact"] == world.akoka.number
        assert by_order[second.number]["refunds"] == [{"mode": "OTHER", "amount": "60.00"}]
        feed = changes(db, CODES)
        assert [(c.event, c.subject) for c in feed] == [("refunds.order.refunded", f"order:{first.number}"),
                                                          ("refunds.order.refunded", f"order:{second.number}")]
        assert feed[0].data == by_order[first.number] and feed[0].position < feed[1].position


def test_an_exchange_names_the_new_order_and_what_paid_it(db, world, sell):
    order = sell(2)
    with webhooks_for(db, ["refunds"], ["*"]) as receiver:
        basket = baskets.open_basket(db)
        baskets.add_order(db, basket, order)
        [line] = exchange.self_exchange(db, basket)
        exchange.change_line(db, basket, line.id, tariff=world.reduced.id)
        result = settle(db, basket, refunds=[RefundInput("OTHER", "66.00")])
        db.commit()
        run_outbox(db)
        [event] = [e for e in received(receiver) if e["event"].startswith("refunds.")]
        assert event["event"] == "refunds.order.exchanged"
        data = event["data"]
        assert data["order"] == order.number and data["exchange_order"] == result.exchange_order.number
        assert (data["value"], data["transferred"]) == ("220.00", "154.00")
        assert data["refunds"] == [{"mode": "OTHER", "amount": "66.00"}] and data["contact"] == world.akoka.number
        sold = [e for e in received(receiver) if e["event"] == "sales.order.created"]
        assert [e["data"]["number"] for e in sold] == [result.exchange_order.number]  # the new order, told too
        assert sold[0]["data"]["tickets"] == 2 and sold[0]["data"]["total"] == "154.00"
        assert [c.event for c in changes(db, CODES)] == ["refunds.order.exchanged"]


def test_a_settlement_rolled_back_tells_nothing(db, world, sell):
    order = sell(1)
    with webhooks_for(db, ["refunds"], CODES) as receiver:
        basket = baskets.open_basket(db)
        baskets.add_order(db, basket, order)
        db.commit()
        settle(db, basket, refunds=[RefundInput("OTHER", "110.00")])
        assert uncommitted_rows(db, CODES) == 1  # raised inside the transaction…
        db.rollback()  # …which is given up
        run_outbox(db)
        assert receiver.requests == [] and db.scalars(select(webhooks.WebhookDelivery)).all() == []
        assert uncommitted_rows(db, CODES) == 0 and changes(db, CODES) == []

