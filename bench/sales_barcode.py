"""Looking a ticket up by barcode: ``sales.barcode_lookup`` (``p95_ms``, size = tickets; target 5 ms).

Generates ``FULL`` (5,000,000) or ``QUICK`` (200,000) sold tickets straight into the real tables
(orders of 20 tickets with their line, over 500 performances; barcodes as the service makes them: a
run of consecutive 10-digit payloads from a random base, plus the Luhn check digit), with Core
``executemany`` in chunks of 20,000 on SQLite and ``COPY … FROM STDIN`` on PostgreSQL; the counters
(performance and quota ``taken``, the gapless order sequence) are kept consistent. Then times
``LOOKUPS`` random look-ups of existing barcodes through ``orders.find_ticket`` (validation, check
digit, the query on the unique index, the ORM object), after a warm-up.

Baseline: the same look-up with the barcode index unusable (``NOT INDEXED`` on SQLite, ``barcode ||
''`` on PostgreSQL), on 5 barcodes: the full scan an index-less design would do.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.common import Context, record, summary

QUICK = 200_000
FULL = 5_000_000
PER_ORDER = 20
PERFORMANCES = 500
LOOKUPS = 3_000
CHUNK = 20_000
SEED = 11
PRICE_CENTS = 4_500


def _insert(session: Session, table, keys: list[str], rows: list[tuple]) -> None:
    """Rows already in the database's representation (cents, UTC), positional in ``keys`` order."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        cols = ", ".join(f'"{k}"' for k in keys)
        with cursor.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in keys)
    conn.exec_driver_sql(f'INSERT INTO "{table.name}" ({", ".join(keys)}) VALUES ({marks})', rows)


def populate(ctx: Context, size: int) -> list[str]:
    """Insert ``size`` tickets; returns a sample of their barcodes (for the look-ups)."""
    from coulisses import db as cdb
    from coulisses.testing import create_schema
    from plugins.contacts.demo import bulk_generate
    from plugins.sales.models import Order, OrderLine, Performance, PerformanceQuota, Ticket
    from plugins.sales.services import barcodes
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services.settings import install_defaults

    create_schema(ctx.url, ["sales"])
    engine = cdb.make_engine(ctx.url)
    rnd = random.Random(SEED)
    started = time.perf_counter()
    with Session(engine) as s:
        bulk_generate(s, 2_000, seed=SEED)
        install_defaults(s)
        from plugins.contacts.models import Contact
        from plugins.sales.models import PointOfSale

        buyers = list(s.scalars(select(Contact.id).where(Contact.kind == "individual")))
        pos = s.scalar(select(PointOfSale).where(PointOfSale.code == "GUICHET"))
        season = cat.create_season(s, "S", "2026/2027", date(2026, 9, 1), date(2027, 8, 31))
        venue = cat.create_venue(s, "STUDIO", "Studio")
        cat1 = cat.create_category(s, "CAT1", "Cat 1")
        tariff = cat.create_tariff(s, "PLEIN", "Plein tarif")
        event = cat.create_event(s, "JOYAUX", "Joyaux", season=season)
        per_perf = -(-size // PERFORMANCES)
        first = datetime(2026, 9, 15, 18, 0, tzinfo=timezone.utc)
        perfs = [cat.create_performance(s, event, venue, first + timedelta(days=i // 2), quotas={cat1: per_perf})
                 for i in range(PERFORMANCES)]
        for p in perfs:
            cat.set_price(s, p, cat1, tariff, "45.00")
        s.commit()

        dialect = s.connection().dialect
        stamp = Ticket.__table__.c.created_at.type._cached_bind_processor(dialect) or (lambda v: v)
        now = stamp(datetime(2026, 10, 1, 12, 0, tzinfo=timezone.utc))
        orders_count = -(-size // PER_ORDER)
        # distinct random bases, one run of PER_ORDER payloads each (slots keep runs disjoint)
        slots = rnd.sample(range(barcodes.SPACE // PER_ORDER), orders_count)
        order_keys = ["id", "number", "buyer_id", "state", "point_of_sale_id", "updated_point_of_sale_id",
                      "channel_id", "total", "paid", "delivery_mode", "note", "created_at", "updated_at"]
        line_keys = ["id", "order_id", "performance_id", "category_id", "tariff_id", "quantity", "unit_price",
                     "unit_fees"]
        ticket_keys = ["id", "barcode", "order_id", "line_id", "performance_id", "category_id", "tariff_id",
                       "type", "state", "delivery_mode", "print_state", "print_count", "price", "fees",
                       "fees_refundable", "retained", "created_at", "sold_at"]
        sample: list[str] = []
        taken = [0] * PERFORMANCES
        ticket_id = 0
        made = 0
        per_chunk = CHUNK // PER_ORDER
        for start in range(0, orders_count, per_chunk):
            o_rows, l_rows, t_rows = [], [], []
            for k in range(start, min(orders_count, start + per_chunk)):
                n = min(PER_ORDER, size - made)
                perf_index = k % PERFORMANCES
                perf_id = perfs[perf_index].id
                total = PRICE_CENTS * n
                oid = k + 1
                o_rows.append((oid, oid, buyers[k % len(buyers)], "settled", pos.id, pos.id, pos.channel_id, total,
                               total, "handed", "", now, now))
                l_rows.append((oid, oid, perf_id, cat1.id, tariff.id, n, PRICE_CENTS, 0))
                base = slots[k] * PER_ORDER
                for i in range(n):
                    ticket_id += 1
                    code = barcodes.make(base + i)
                    t_rows.append((ticket_id, code, oid, oid, perf_id, cat1.id, tariff.id, "ticket", "paid",
                                   "handed", "not_printed", 0, PRICE_CENTS, 0, 0, 0, now, now))
                    if rnd.random() < 0.002:
                        sample.append(code)
                taken[perf_index] += n
                made += n
            _insert(s, Order.__table__, order_keys, o_rows)
            _insert(s, OrderLine.__table__, line_keys, l_rows)
            _insert(s, Ticket.__table__, ticket_keys, t_rows)
            s.commit()
        for p, n in zip(perfs, taken):
            s.execute(Performance.__table__.update().where(Performance.id == p.id).values(taken=n))
            s.execute(PerformanceQuota.__table__.update().where(PerformanceQuota.performance_id == p.id)
                      .values(taken=n))
        cdb.set_sequence_floor(s, "sales.order", orders_count + 1)
        if dialect.name == "postgresql":
            for table in ("sales_order", "sales_order_line", "sales_ticket"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        s.commit()
        assert s.scalar(select(func.count()).select_from(Ticket)) == size
    print(f"   inserted {size} tickets ({orders_count} orders) in {time.perf_counter() - started:.1f} s", flush=True)
    if ctx.database == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return sample


def run(ctx: Context) -> list[dict]:
    from coulisses import db as cdb
    from plugins.sales.services.orders import find_ticket

    size = QUICK if ctx.quick else FULL
    sample = populate(ctx, size)
    rnd = random.Random(SEED)
    wanted = [rnd.choice(sample) for _ in range(LOOKUPS)]
    engine = cdb.make_engine(ctx.url)
    with Session(engine) as s:
        for code in wanted[:50]:  # warm-up
            find_ticket(s, code)
        samples = []
        for i, code in enumerate(wanted):
            t0 = time.perf_counter()
            ticket = find_ticket(s, code)
            samples.append((time.perf_counter() - t0) * 1000)
            assert ticket.barcode == code
            if i % 500 == 499:
                s.expunge_all()
        if ctx.database == "sqlite":
            naive_sql = "SELECT id FROM sales_ticket NOT INDEXED WHERE barcode = :b"
        else:
            naive_sql = "SELECT id FROM sales_ticket WHERE barcode || '' = :b"
        naive = []
        for code in wanted[:5]:
            t0 = time.perf_counter()
            assert s.execute(text(naive_sql), {"b": code}).scalar() is not None
            naive.append((time.perf_counter() - t0) * 1000)
        plan = s.execute(text(("EXPLAIN QUERY PLAN " if ctx.database == "sqlite" else "EXPLAIN ")
                              + "SELECT * FROM sales_ticket WHERE barcode = :b"), {"b": wanted[0]}).all()
    engine.dispose()
    stats, base = summary(samples), summary(naive)
    plan_text = " | ".join(str(r[-1]) for r in plan)
    print(f"   find_ticket {stats} over {len(samples)} look-ups; full scan {base}; plan: {plan_text}", flush=True)
    return [record("sales.barcode_lookup", ctx.database, size, "p95_ms", stats["p95_ms"], 5,
                   baseline="full scan (barcode index unusable), 5 look-ups", baseline_value=base["p95_ms"],
                   p50_ms=stats["p50_ms"], lookups=len(samples), plan=plan_text)]
