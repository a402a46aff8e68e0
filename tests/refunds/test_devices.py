"""With the devices plugin: a scanner at the point of sale feeds its open cancellation basket, and a
cash refund opens the cash drawer there (a device job, after commit)."""
from __future__ import annotations

import pytest


@pytest.fixture
def ddb(db, database_url):
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from tests.conftest import create_schema

    create_schema(database_url, ["refunds", "devices"])
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds", "devices"]))):
        yield db


def test_scanner_feeds_the_basket_and_cash_opens_the_drawer(ddb, world, sell):
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import agents, config
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, complete_payouts, settle

    db = ddb
    config.create_device(db, {"location_code": "GUICHET", "name": "Tiroir", "kind": "cash_drawer",
                              "driver": "escpos_drawer", "via": "agent", "url": "socket://127.0.0.1:9"})
    order = sell(2, mode="CASH")
    basket = baskets.open_basket(db)
    db.commit()
    scan = agents.record_scan(db, "GUICHET", "scan-1", order.tickets[0].barcode)
    assert scan.consumed_by == "refunds"
    assert [bt.ticket.barcode for bt in basket.tickets] == [order.tickets[0].barcode]
    elsewhere = agents.record_scan(db, "AUTRE", "scan-2", order.tickets[1].barcode)
    assert elsewhere.consumed_by == "" and len(basket.tickets) == 1
    settle(db, basket, refunds=[RefundInput("CASH", "110.00")])
    db.commit()
    complete_payouts(db, basket=basket)
    db.commit()
    jobs = db.query(DeviceJob).all()
    assert [(j.operation, j.reference) for j in jobs] == [("open_drawer", jobs[0].reference)]
    assert jobs[0].reference.startswith("refunds.payout:")


def test_a_cash_refund_opens_the_drawer_once_with_the_after_commit_events(ddb, world, sell):
    """The sales plugin's after-commit events (cash payment, cash refund) and the payout: the drawer
    opens for the sale's cash payment, and once for the refund (at payout, not at settlement too)."""
    from coulisses.config import use_config
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import config
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, complete_payouts, settle

    db = ddb
    config.create_device(db, {"location_code": "GUICHET", "name": "Tiroir", "kind": "cash_drawer",
                              "driver": "escpos_drawer", "via": "agent", "url": "socket://127.0.0.1:9"})
    with use_config({"OUTBOX_RUN": "inline"}):
        order = sell(1, mode="CASH", printed=False)
        basket = baskets.open_basket(db)
        baskets.add_barcodes(db, basket, [order.tickets[0].barcode])
        settle(db, basket, refunds=[RefundInput("CASH", "110.00")])
        db.commit()
        complete_payouts(db, basket=basket)
        db.commit()
    refs = sorted(j.reference.split(":")[0] for j in db.query(DeviceJob).filter_by(operation="open_drawer"))
    assert refs == ["refunds.payout", "sales.payment"]
