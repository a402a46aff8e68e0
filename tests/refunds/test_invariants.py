"""Money invariants of refunds and exchanges (hypothesis): for any order (fees refundable or not, paid
by one or two modes), any part of it taken into a basket, any cause fee, simple fees refunded or kept,
with or without an exchange, refunded by any split over the credit balance and the order's modes:

- refunded + kept = what was paid for the cancelled tickets (to the cent: nothing rounded away);
- the order's balance is zero again, its totals equal its tickets and payments (``check_order``);
- the refund payments equal what was refunded; the contact's credit moved by exactly what went to it;
- an exchange order is paid in full; sold − refunded = paid − refunded out.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from itertools import count

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from coulisses.db import Money
from plugins.refunds.services import amounts, baskets, causes, exchange
from plugins.refunds.services.settle import RefundInput, settle
from plugins.sales.models import Payment
from plugins.sales.services import catalogue as cat
from plugins.sales.services import orders
from plugins.sales.services.credit import credit_balance
from plugins.sales.services.orders import LineInput, check_order
from plugins.sales.services.payments import PaymentInput, pay

RUN = count()

scenario = st.fixed_dictionaries({
    "tickets": st.integers(1, 5),
    "take": st.integers(1, 5),
    "card_share": st.sampled_from(["0", "0.3", "0.5", "1"]),
    "fee_kind": st.sampled_from(["none", "fixed", "per_ticket", "percent"]),
    "fee_value": st.sampled_from(["0", "1.00", "3.33", "7.5", "12.5"]),
    "refund_fees": st.booleans(),
    "exchange": st.integers(0, 4),
    "credit_share": st.sampled_from(["0", "0.25", "1"]),
})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(s=scenario)
def test_refund_and_exchange_invariants(db, world, s):
    n = next(RUN)
    venue = cat.create_venue(db, f"V{n}", f"Studio {n}")
    event = cat.create_event(db, f"E{n}", f"Spectacle {n}")
    perf = cat.create_performance(db, event, venue, datetime(2030, 1, 1, 20, tzinfo=timezone.utc),
                                  quotas={world.cat1: 20})
    cat.set_price(db, perf, world.cat1, world.full, "33.33")
    cat.create_fee(db, f"LOC{n}", "Location", "1.50", refundable=True, event=event)
    cat.create_fee(db, f"DOS{n}", "Dossier", "0.45", refundable=False, event=event)
    order = orders.sell(db, world.akoka, [LineInput(perf.id, world.cat1.id, world.full.id, s["tickets"])])
    card = (order.total * Decimal(s["card_share"])).quantize(Decimal("0.01"))
    pay(db, order, [p for p in (PaymentInput("CARD", card), PaymentInput("OTHER", order.total - card)) if p.amount > 0])
    cause = causes.create_cause(db, f"C{n}", "Cause", fee_kind=s["fee_kind"],
                                fee_value="100" if s["fee_kind"] == "percent" and s["fee_value"] == "0" else s["fee_value"])
    credit_before = credit_balance(db, world.akoka)

    basket = baskets.open_basket(db)
    taken = order.tickets[:min(s["take"], s["tickets"])]
    baskets.add_barcodes(db, basket, [t.barcode for t in taken])
    baskets.set_options(db, basket, cause=cause.code, refund_fees=s["refund_fees"])
    if s["exchange"]:
        exchange.add_performance(db, basket, perf, world.cat1, world.full, s["exchange"])
    view = amounts.preview(db, basket)
    paid_for_taken = sum((t.price + t.fees for t in taken), Decimal("0"))
    to_refund = view["to_refund"]
    refunds = []
    if to_refund > 0:
        to_credit = (to_refund * Decimal(s["credit_share"])).quantize(Decimal("0.01"))
        left = to_refund - to_credit
        card_left = min(left, card)
        for mode, amount in (("CREDIT", to_credit), ("CARD", card_left), ("OTHER", left - card_left)):
            if amount > 0:
                refunds.append(RefundInput(mode, amount))
    payments = [PaymentInput("CARD", view["to_pay"])] if view["to_pay"] > 0 else []
    result = settle(db, basket, refunds=refunds, payments=payments)
    db.flush()

    assert result.refunded + result.kept == paid_for_taken
    assert -view["subtotal_refunded"] == result.refunded
    db.refresh(order)
    assert order.total == order.paid and check_order(db, order) == []
    refunded_out = -db.scalar(select(func.coalesce(func.sum(Payment.amount), 0, type_=Money()))
                              .where(Payment.order_id == order.id, Payment.amount < 0))
    assert refunded_out == result.refunded
    credited = sum((r.amount for r in refunds if r.mode == "CREDIT"), Decimal("0"))
    assert credit_balance(db, world.akoka) == credit_before + credited
    if result.exchange_order is not None:
        new = result.exchange_order
        assert new.total == new.paid and check_order(db, new) == []
        assert result.sold - result.refunded == view["total"]
    db.rollback()
