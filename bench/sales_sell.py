"""Selling through the service layer: ``sales.sell`` and ``sales.group_order``.

- ``sales.sell`` (``orders_per_s``, size 1,000; quick 200): orders of 4 tickets (2 "Plein tarif" + 2
  "Tarif réduit", Cat 1 or Cat 2, over 10 unseated performances and a seated one), each sold and paid
  by card in one call (``orders.sell(..., payments=[...])``, as the sales screen and ``POST
  /api/v1/orders`` do) and committed on its own, by one process. Target 100 orders/s (issue 10). The
  plugin manager of a deployment with the sales plugin is installed, so the contacts' indicators are
  deferred to the outbox job ``sales.contact_indicators`` as in production; the worker's draining of
  those jobs is measured after the run (``indicator_jobs``, ``indicator_drain_s``: not part of the
  sale's time). Extra fields: per-order latency p50/p95.
- ``sales.group_order`` (``seconds``, size = 1,000 tickets): one order of 1,000 tickets (a school
  group's season) created and paid in one transaction, committed; the median of 3 runs; target 2 s.
  Baseline: 1,000 separate 1-ticket sales (what an operator would do without group orders),
  extrapolated from 50.
"""
from __future__ import annotations

import random
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy.orm import Session

from bench.common import Context, percentile, record

QUICK = 200
FULL = 1_000
GROUP = 1_000
SEED = 7


def setup(ctx: Context):
    """Schema, 2,000 contacts, an operator at the Guichet, a catalogue with room for the run."""
    from coulisses import db as cdb
    from coulisses.testing import create_schema

    create_schema(ctx.url, ["sales"])
    engine = cdb.make_engine(ctx.url)
    return engine, populate(engine)


def populate(engine, *, roles: bool = True, seats_per_row: int = 40) -> dict:
    """2,000 contacts, an operator "bench" at the Guichet, the catalogue; returns the ids. ``roles``:
    create the roles (a schema made by ``coulisses db upgrade`` already has them, with their
    permissions)."""
    from coulisses import security
    from plugins.contacts.demo import bulk_generate
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services.settings import install_defaults

    with Session(engine) as s:
        bulk_generate(s, 2_000, seed=SEED)
        install_defaults(s)
        if roles:
            security.sync_roles_and_permissions(s, {})
        op = security.create_operator(s, "bench", "bench-password-123456", "Bench", ["operator"])
        season = cat.create_season(s, "S", "2026/2027", date(2026, 9, 1), date(2027, 8, 31))
        studio = cat.create_venue(s, "STUDIO", "Studio")
        salle = cat.create_venue(s, "SALLE", "Grande salle", seated=True)
        cat1, cat2 = cat.create_category(s, "CAT1", "Cat 1", 1), cat.create_category(s, "CAT2", "Cat 2", 2)
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        full = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        reduced = cat.create_tariff(s, "REDUIT", "Tarif réduit", audience)
        event = cat.create_event(s, "JOYAUX", "Joyaux", season=season)
        start = datetime.now(timezone.utc).replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=30)
        perfs = [cat.create_performance(s, event, studio, start + timedelta(days=i), quotas={cat1: 1000, cat2: 1000})
                 for i in range(10)]
        group_perf = cat.create_performance(s, event, studio, start + timedelta(days=20),
                                            quotas={cat1: 4 * GROUP, cat2: 100})
        orch = cat.add_area(s, salle, "ORCH", "Orchestre")
        seats = cat.add_seats(s, orch, {f"R{r:02d}": [str(n) for n in range(1, seats_per_row + 1)]
                                        for r in range(1, 26)}, cat1)
        seated = cat.create_performance(s, event, salle, start + timedelta(days=5), quotas={cat1: len(seats)})
        for p in perfs + [group_perf, seated]:
            for c, base in ((cat1, Decimal("110.00")), (cat2, Decimal("60.00"))):
                cat.set_price(s, p, c, full, base)
                cat.set_price(s, p, c, reduced, base * Decimal("0.7"))
        from plugins.contacts.models import Contact
        from sqlalchemy import select

        buyers = list(s.scalars(select(Contact.id).where(Contact.kind == "individual", Contact.valid.is_(True))))
        s.commit()
        ids = dict(op=op.id, perfs=[p.id for p in perfs], group=group_perf.id, seated=seated.id,
                   seats=[x.id for x in seats], cat1=cat1.id, cat2=cat2.id, full=full.id, reduced=reduced.id,
                   buyers=buyers)
    return ids


# (Cat 1?, Plein tarif?) → price: what the buyer pays, known in advance as at a box office
PRICE = {(True, True): Decimal("110.00"), (True, False): Decimal("77.00"),
         (False, True): Decimal("60.00"), (False, False): Decimal("42.00")}


def sell_one(session: Session, ids: dict, rnd: random.Random, seats: list[int]) -> None:
    from plugins.sales.services import orders
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput

    buyer = rnd.choice(ids["buyers"])
    if seats and rnd.random() < 0.1:  # one order in ten in the seated hall, 4 seats side by side
        chosen, seats[:4] = seats[:4], []
        lines = [LineInput(ids["seated"], ids["cat1"], ids["full"], 2, seats=chosen[:2]),
                 LineInput(ids["seated"], ids["cat1"], ids["reduced"], 2, seats=chosen[2:])]
    else:
        perf, category = rnd.choice(ids["perfs"]), rnd.choice((ids["cat1"], ids["cat2"]))
        lines = [LineInput(perf, category, ids["full"], 2), LineInput(perf, category, ids["reduced"], 2)]
    total = sum((PRICE[(lines[0].category == ids["cat1"], ln.tariff == ids["full"])] * ln.quantity for ln in lines),
                Decimal("0.00"))
    order = orders.sell(session, buyer, lines, payments=[PaymentInput("CARD", total, reference="bench")])
    session.commit()
    assert order.state == "settled", (order.number, order.state, order.total, total)


def run(ctx: Context) -> list[dict]:
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager

    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["sales"]))):
        return _run(ctx)


def _run(ctx: Context) -> list[dict]:
    from coulisses.db import Actor, acting_as
    from coulisses.outbox import run_pending
    from plugins.sales.services import orders
    from plugins.sales.services.deferred import pending_refreshes
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput, pay

    size = QUICK if ctx.quick else FULL
    engine, ids = setup(ctx)
    rnd = random.Random(SEED)
    records = []
    seats = list(ids["seats"])
    with acting_as(Actor(operator_id=ids["op"], login="bench")), Session(engine, expire_on_commit=False) as s:
        for _ in range(5):  # warm-up (statement caches, connection)
            sell_one(s, ids, rnd, seats)
        samples = []
        started = time.perf_counter()
        for i in range(size):
            t0 = time.perf_counter()
            sell_one(s, ids, rnd, seats)
            samples.append((time.perf_counter() - t0) * 1000)
            if i % 100 == 99:
                s.expunge_all()
        elapsed = time.perf_counter() - started
        rate = size / elapsed
        waiting = len(pending_refreshes(s))
        t0 = time.perf_counter()
        drained = run_pending(engine)  # what `coulisses worker` does after the rush
        drain = time.perf_counter() - t0
        assert pending_refreshes(s) == [], "every contact's indicators recomputed"
        print(f"   sell: {size} orders in {elapsed:.1f} s = {rate:.1f} orders/s "
              f"(p50 {statistics.median(samples):.1f} ms, p95 {percentile(samples, 95):.1f} ms); "
              f"{drained} indicator jobs for {waiting} contacts drained in {drain:.1f} s", flush=True)
        records.append(record("sales.sell", ctx.database, size, "orders_per_s", rate, 100,
                              p50_ms=round(statistics.median(samples), 2), p95_ms=round(percentile(samples, 95), 2),
                              tickets_per_order=4, committed_each=True, seconds=round(elapsed, 2),
                              indicator_jobs=drained, indicator_drain_s=round(drain, 2)))

        # a 1,000-ticket group order, created and paid, 3 runs
        runs = []
        for _ in range(3):
            s.expunge_all()
            t0 = time.perf_counter()
            order = orders.sell(s, rnd.choice(ids["buyers"]), [LineInput(ids["group"], ids["cat1"], ids["full"], GROUP)])
            pay(s, order, [PaymentInput("TRANSFER", order.total, reference="bench group")])
            s.commit()
            runs.append(time.perf_counter() - t0)
            assert order.state == "settled" and len(order.tickets) == GROUP
        # baseline: single-ticket sales, extrapolated to 1,000
        t0 = time.perf_counter()
        for _ in range(50):
            o = orders.sell(s, rnd.choice(ids["buyers"]), [LineInput(ids["perfs"][0], ids["cat2"], ids["full"], 1)])
            pay(s, o, [PaymentInput("CARD", o.total)])
            s.commit()
        baseline = (time.perf_counter() - t0) / 50 * GROUP
        median = statistics.median(runs)
        print(f"   group order of {GROUP}: {[round(r, 2) for r in runs]} s (baseline {baseline:.1f} s)", flush=True)
        records.append(record("sales.group_order", ctx.database, GROUP, "seconds", median, 2,
                              baseline="1,000 one-ticket sales (extrapolated from 50)", baseline_value=baseline,
                              runs=[round(r, 3) for r in runs]))
    engine.dispose()
    return records
