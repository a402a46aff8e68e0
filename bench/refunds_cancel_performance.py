"""``refunds.cancel_performance`` (``seconds``): a cancelled performance of 2,000 seats sold in 500 orders
(4 tickets each, paid by card, some by cash: those go to the contact's credit balance) refunded in one
batch through ``plugins.refunds.services.batch.run``: each order its own basket, operation and
commit, payouts completed. Target 30 s (the issue). Quick size: 200 seats in 50 orders.
Baseline: none (an operator refunding 500 orders by hand at the desk).
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from bench.common import Context, record

FULL_ORDERS, QUICK_ORDERS = 500, 50
TICKETS = 4
SEED = 11


def setup(ctx: Context, orders_count: int):
    from coulisses import db as cdb
    from coulisses import security
    from coulisses.db import Actor, acting_as
    from coulisses.testing import create_schema
    from plugins.contacts.demo import bulk_generate
    from plugins.refunds.services.causes import install_defaults as refunds_defaults
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import orders
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput, pay
    from plugins.sales.services.settings import install_defaults

    create_schema(ctx.url, ["refunds"])
    engine = cdb.make_engine(ctx.url)
    with Session(engine) as s:
        bulk_generate(s, 600, seed=SEED)
        install_defaults(s)
        refunds_defaults(s)
        security.sync_roles_and_permissions(s, {})
        op = security.create_operator(s, "bench", "bench-password-123456", "Bench", ["supervisor"])
        season = cat.create_season(s, "S", "2026/2027", date(2026, 9, 1), date(2027, 8, 31))
        studio = cat.create_venue(s, "STUDIO", "Studio")
        cat1 = cat.create_category(s, "CAT1", "Cat 1", 1)
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        full = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        event = cat.create_event(s, "JOYAUX", "Joyaux", season=season)
        start = datetime.now(timezone.utc).replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=30)
        perf = cat.create_performance(s, event, studio, start, quotas={cat1: orders_count * TICKETS})
        cat.set_price(s, perf, cat1, full, Decimal("110.00"))
        from sqlalchemy import select

        from plugins.contacts.models import Contact

        buyers = list(s.scalars(select(Contact.id).where(Contact.kind == "individual", Contact.valid.is_(True))))
        s.commit()
        rnd = random.Random(SEED)
        with acting_as(Actor(operator_id=op.id, login="bench")):
            for i in range(orders_count):
                order = orders.sell(s, rnd.choice(buyers), [LineInput(perf.id, cat1.id, full.id, TICKETS)])
                pay(s, order, [PaymentInput("CASH" if i % 10 == 0 else "CARD", order.total)])
                if i % 50 == 49:
                    s.commit()
            s.commit()
        return engine, op.id, perf.id


def run(ctx: Context) -> list[dict]:
    from coulisses import plugins as cplugins
    from coulisses.db import Actor, acting_as
    from coulisses.registry import use_manager
    from plugins.refunds.services import batch

    size = QUICK_ORDERS if ctx.quick else FULL_ORDERS
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds"]))
    with use_manager(pm):
        engine, op_id, perf_id = setup(ctx, size)
        with acting_as(Actor(operator_id=op_id, login="bench")), Session(engine) as s:
            pc = batch.start(s, perf_id, enqueue_job=False)
            s.commit()
            started = time.perf_counter()
            report = batch.run(s, pc, commit=s.commit)
            elapsed = time.perf_counter() - started
            assert len(report["done"]) == size, (len(report["done"]), report["needs_operator"][:3])
            again = time.perf_counter()
            batch.run(s, pc, commit=s.commit)  # nothing twice
            rerun = time.perf_counter() - again
    engine.dispose()
    print(f"   cancel_performance: {size} orders ({size * TICKETS} seats) in {elapsed:.1f} s; re-run {rerun:.2f} s")
    return [record("refunds.cancel_performance", ctx.database, size * TICKETS, "seconds", elapsed, target=30,
                   orders=size, rerun_seconds=round(rerun, 3))]
