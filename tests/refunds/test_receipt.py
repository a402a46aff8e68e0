"""With the reports plugin: settling a basket produces the refund receipt (after commit, through the
outbox), numbered and stored; the order detail offers it; the payouts are paid out by the same
after-commit run."""
from __future__ import annotations

import io

import pytest
from pypdf import PdfReader


@pytest.fixture
def rdb(db, database_url):
    from coulisses import plugins as cplugins
    from coulisses.config import use_config
    from coulisses.registry import use_manager
    from tests.conftest import create_schema

    create_schema(database_url, ["refunds", "reports"])
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds", "reports"]))), \
            use_config({"OUTBOX_RUN": "inline"}):
        yield db


def test_refund_receipt_after_commit(rdb, world, sell):
    from plugins.refunds.models import RefundPayout
    from plugins.refunds.services import baskets, history
    from plugins.refunds.services.settle import RefundInput, settle
    from plugins.reports.services import documents

    db = rdb
    order = sell(6, mode="CARD")
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    settle(db, basket, refunds=[RefundInput("CARD", "660.00")])
    db.commit()  # the jobs run now: payout, then receipt
    db.expire_all()
    assert [p.state for p in db.query(RefundPayout)] == ["done"]
    doc = documents.latest(db, "refunds.refund_receipt", str(basket.number))
    assert doc is not None and doc.number.startswith("RB")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(documents.reprint(db, doc))).pages)
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    assert f"Ordre {basket.number}" in text and "660,00 €" in text and str(order.number) in text
    actions = {a.code for a in history.order_actions(db, order)}
    assert f"refunds_receipt_{basket.number}" in actions
