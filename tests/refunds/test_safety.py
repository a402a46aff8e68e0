"""A ticket is refunded at most once (N baskets settling the same ticket at once: exactly one
succeeds, on SQLite and PostgreSQL), and a refund interrupted between its recording and its payout
is never paid twice and is completed from the order."""
from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, hookimpl
from coulisses import db as cdb
from coulisses.db import Actor, acting_as
from coulisses.registry import current_manager, use_manager
from plugins.refunds.models import RefundPayout
from plugins.refunds.services import baskets, history
from plugins.refunds.services.settle import RefundInput, complete_payouts, pending_payouts, settle
from plugins.sales.models import Payment
from plugins.sales.services.orders import check_order

RACERS = 6


def test_same_ticket_in_several_baskets_is_refunded_once(db, database_url, world, sell, operator_id):
    order = sell(2)
    ticket = order.tickets[0]
    ids = []
    for _ in range(RACERS):
        basket = baskets.open_basket(db)
        baskets.add_barcodes(db, basket, [ticket.barcode])
        ids.append(basket.id)
    db.commit()
    pm = current_manager()
    engine = cdb.make_engine(database_url, pool_size=RACERS + 2)
    barrier = threading.Barrier(RACERS)
    outcomes: Counter = Counter()
    messages, errors = [], []

    def racer(i):
        with use_manager(pm), acting_as(Actor(operator_id, f"guichet{i}")), Session(engine) as s:
            barrier.wait()
            try:
                settle(s, baskets.get_basket(s, ids[i]), refunds=[RefundInput("OTHER", "110.00")])
                s.commit()
                outcomes["refunded"] += 1
            except ConflictError as exc:
                s.rollback()
                outcomes["refused"] += 1
                messages.append(str(exc))
            except Exception as exc:  # noqa: BLE001 - reported below
                s.rollback()
                errors.append(repr(exc))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert errors == []
    assert outcomes == Counter({"refunded": 1, "refused": RACERS - 1})
    assert all("déjà été annulé" in m for m in messages)
    db.expire_all()
    refunds = db.scalar(select(func.count()).select_from(Payment).where(Payment.order_id == order.id,
                                                                          Payment.amount < 0))
    assert refunds == 1
    db.refresh(order)
    assert order.total == order.paid == Decimal("110.00") and check_order(db, order) == []


class Interrupting:
    """A plugin paying refunds out: the first payout dies midway (the process killed)."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def refunds_payout(self, session, payout, mode_type):
        self.calls.append((payout.id, mode_type))
        if len(self.calls) == 1:
            raise KeyboardInterrupt("killed while paying out")


def test_interrupted_refund_is_completed_once_from_the_order(db, world, sell):
    order = sell(3, mode="CARD")
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    settle(db, basket, refunds=[RefundInput("CARD", "330.00")])
    db.commit()  # recorded; the process dies before the payout (the job never ran)
    [payout] = pending_payouts(db, order)
    assert payout.amount == Decimal("330.00")
    db.refresh(order)
    assert order.paid == 0 and order.state == "cancelled"  # the books are right already
    assert "refunds_complete" in {a.code for a in history.order_actions(db, order)}

    plugin = Interrupting()
    pm = current_manager()
    pm.register(plugin, name="interrupting")
    try:
        with pytest.raises(KeyboardInterrupt):
            complete_payouts(db, order=order)  # killed midway: rolled back, still pending
        db.rollback()
        assert [p.state for p in pending_payouts(db, order)] == ["pending"]
        done = complete_payouts(db, order=order)
        db.commit()
        assert [p.id for p in done] == [payout.id]
        assert complete_payouts(db, order=order) == []  # never twice
        assert complete_payouts(db, basket=basket) == []
    finally:
        pm.unregister(plugin)
    assert plugin.calls == [(payout.id, "card"), (payout.id, "card")]  # paid out once (the first died)
    db.expire_all()
    assert db.get(RefundPayout, payout.id).state == "done"
    assert "refunds_complete" not in {a.code for a in history.order_actions(db, order)}
    refunds = db.scalars(select(Payment.amount).where(Payment.order_id == order.id, Payment.amount < 0)).all()
    assert refunds == [Decimal("-330.00")]
