"""The seed's worked example, exactly: order 959's 22 printed tickets (Joyaux, Cat 1 Contact
occasionnel - Plein tarif, 110,00 €); refund 6 → sub-total refunded −660,00 €, total −660,00 €;
exchange the 22 for 22 × Carmina Burana (60,00 €) → sold 1 320,00 €, total −1 100,00 €."""
from __future__ import annotations

from decimal import Decimal

from plugins.refunds.services import amounts, baskets, exchange
from plugins.refunds.services.settle import RefundInput, settle
from plugins.sales.services.orders import check_order


def test_refund_six_of_the_seed_order(db, world, seed_order):
    order = seed_order()
    assert order.total == Decimal("2420.00") and order.state == "settled"
    codes = sorted(t.barcode for t in order.tickets)
    basket = baskets.open_basket(db)
    result = baskets.add_range(db, basket, codes[0], codes[5])
    assert len(result.added) == 6 and not result.refused
    view = amounts.preview(db, basket)
    assert view["subtotal_refunded"] == Decimal("-660.00")
    assert view["total"] == Decimal("-660.00")
    top = view["refund_groups"][0]
    assert top["label"] == f"Dossier {order.number}" and top["amount"] == Decimal("660.00")
    perf = top["children"][0]
    assert perf["label"] == "Joyaux - Lun 02.11.2015 20:15" and perf["quantity"] == 6
    line = perf["children"][0]
    assert line["label"] == "Cat 1 Contact occasionnel - Plein tarif"
    assert (line["quantity"], line["price"]) == (6, Decimal("110.00"))
    assert view["payment_reminder"] == [{"mode": "OTHER", "label": "Autre paiement", "amount": Decimal("660.00")}]
    assert basket.contact_id == world.akoka.id

    res = settle(db, basket, refunds=[RefundInput("OTHER", "660.00")])
    db.commit()
    assert res.refunded == Decimal("660.00")
    db.refresh(order)
    assert order.total == Decimal("1760.00") and order.paid == Decimal("1760.00") and order.state == "settled"
    assert sum(t.state == "cancelled" for t in order.tickets) == 6
    assert check_order(db, order) == []
    assert basket.state == "settled"
    # one operation: the tickets' cancellation and the refund payment are the basket's "Ordre"
    cancelled = [t for t in order.tickets if t.state == "cancelled"]
    assert {t.cancel_operation_id for t in cancelled} == {basket.operation_id}
    refund = [p for p in order.payments if p.amount < 0]
    assert [(p.amount, p.operation_id) for p in refund] == [(Decimal("-660.00"), basket.operation_id)]
    assert set(basket.summary["printed"]) == set(codes[:6])


def test_exchange_the_22_for_carmina(db, world, seed_order):
    order = seed_order()
    basket = baskets.open_basket(db)
    result = baskets.add_order(db, basket, order.number)
    assert len(result.added) == 22
    exchange.add_performance(db, basket, world.carmina, world.cat1, world.full, 22,
                             seats=[world.seats[str(n)] for n in range(1, 23)])
    view = amounts.preview(db, basket)
    assert view["subtotal_refunded"] == Decimal("-2420.00")
    assert view["subtotal_sold"] == Decimal("1320.00")
    assert view["total"] == Decimal("-1100.00")
    sold = view["exchange_groups"][0]["children"][0]
    assert sold["label"] == "Carmina Burana - Lun 26.10.2015 19:30" and sold["quantity"] == 22
    assert sold["amount"] == Decimal("1320.00")
    assert sold["children"][0]["label"] == "Cat 1 Contact occasionnel - Plein tarif"
    assert sold["children"][0]["price"] == Decimal("60.00")

    res = settle(db, basket, refunds=[RefundInput("OTHER", "1100.00")])
    db.commit()
    new = res.exchange_order
    assert new.total == Decimal("1320.00") and new.state == "settled" and len(new.tickets) == 22
    db.refresh(order)
    assert order.state == "cancelled" and order.total == 0 and order.paid == 0
    assert check_order(db, order) == [] and check_order(db, new) == []
    from plugins.sales.services.credit import credit_balance

    assert credit_balance(db, world.akoka) == 0  # the exchange went through the credit and spent it all


def test_the_refund_shows_in_the_histories(db, world, seed_order):
    from plugins.sales.services.contact_activity import history
    from plugins.sales.services.journal import entries_of

    order = seed_order()
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order, [t.barcode for t in order.tickets[:6]])
    settle(db, basket, refunds=[RefundInput("OTHER", "660.00")])
    db.commit()
    financial = history(db, world.akoka, "financial")
    assert Decimal("-660.00") in [row.amount for row in financial]  # the contact's financial history
    purchases = history(db, world.akoka, "purchases")
    assert any(str(order.number) in row.label and "16 billets" in row.label for row in purchases)
    kinds = [(e.kind, e.operation_id) for e in entries_of(db, order=order)]
    assert ("cancellation", basket.operation_id) in kinds and ("refund", basket.operation_id) in kinds
