"""The demo: "Ordre 1271" (left on hold by the sales demo, order 959 taken up) is the seed's
cancellation basket — AKOKA Viviane, 6 tickets of Joyaux to refund, −660,00 € — and resuming it
refunds them by the order's payment mode; the 22-for-22 exchange with Carmina Burana costs −1 100,00 €."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select


@pytest.fixture
def demo(db):
    from plugins.contacts.demo import load_demo as contacts_demo
    from plugins.refunds.demo import load_demo as refunds_demo
    from plugins.sales.demo import load_demo

    contacts_demo(db, "small")
    db.commit()
    load_demo(db, "small")
    db.commit()
    refunds_demo(db, "small")
    db.commit()


def test_ordre_1271_is_the_seeds_cancellation_basket(db, demo):
    from plugins.refunds.services import amounts, baskets, exchange
    from plugins.refunds.services.settle import RefundInput, settle
    from plugins.sales.models import Performance
    from plugins.sales.services.orders import get_order

    basket = baskets.basket_by_operation(db, 1271)
    assert basket.state == "held" and basket.contact.last_name.upper() == "AKOKA"
    view = amounts.preview(db, basket)
    assert view["orders"] == [959] and len(view["tickets"]) == 6
    assert view["subtotal_refunded"] == Decimal("-660.00") and view["total"] == Decimal("-660.00")
    assert view["refund_groups"][0]["children"][0]["label"] == "Joyaux - Lun 02.11.2015 20:15"
    assert view["refund_groups"][0]["children"][0]["children"][0]["label"] == "Cat 1 Contact occasionnel - Plein tarif"
    assert basket.cause.code == "EXCHANGE" and basket.requested_by == "public"

    # the exchange of the seed: the 22 for 22 × Carmina Burana - Lun 26.10.2015 19:30, Cat 1 Plein tarif 60,00
    order = get_order(db, 959)
    baskets.add_order(db, basket, order)
    carmina = next(p for p in db.scalars(select(Performance)) if str(p.event.title) == "Carmina Burana"
                   and p.starts_at.isoformat().startswith("2015-10-26"))
    from plugins.sales.services.catalogue import performance_label, prices_for, seat_map

    assert performance_label(carmina) == "Carmina Burana - Lun 26.10.2015 19:30"
    price = next(r for r in prices_for(db, carmina) if r.category_label == "Cat 1" and r.tariff_label.endswith("Plein tarif"))
    free = [s.seat_id for s in seat_map(db, carmina) if s.free and s.category_id == price.category_id][:22]
    exchange.add_performance(db, basket, carmina, price.category_id, price.tariff_id, 22, seats=free)
    view = amounts.preview(db, basket)
    assert view["subtotal_refunded"] == Decimal("-2420.00") and view["subtotal_sold"] == Decimal("1320.00")
    assert view["total"] == Decimal("-1100.00")
    result = settle(db, basket, refunds=[RefundInput(view["payment_reminder"][0]["mode"], "1100.00")])
    assert result.exchange_order.total == Decimal("1320.00")
    assert basket.number == 1271
