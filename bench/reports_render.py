"""Rendering a large report: ``reports.render`` — a 100,000-row report (quick: 10,000) streamed from
the database (a server-side cursor) to CSV (target ≤ 5 s), XLSX (≤ 20 s) and PDF (≤ 60 s), with the
peak memory of each (target ≤ 300 MB: the peak RSS of a fresh subprocess per format — the interpreter
and its libraries included — so that one format's peak does not hide another's; ``growth_mb`` is the
part the rendering added).

The report reads a table of its own (``bench_report_row``: a day, a group, a label, a contact, a
quantity, an amount) through ``plugins.reports.services.engine.stream``, with a group sub-total, money
totals and a chart: what a real report does, at size. Baseline: the same rows fetched as one list
first (``session.execute(...).all()``) then written — the naive approach, for CSV only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Context, record

QUICK = 10_000
FULL = 100_000
TARGETS = {"csv": 5.0, "xlsx": 20.0, "pdf": 60.0}
MEMORY_TARGET_MB = 300


def _table():
    from sqlalchemy import Column, Date, Integer, MetaData, Numeric, String, Table

    meta = MetaData()
    return Table("bench_report_row", meta, Column("id", Integer, primary_key=True), Column("day", Date),
                 Column("grp", String(20)), Column("label", String(80)), Column("contact_number", Integer),
                 Column("contact_name", String(80)), Column("qty", Integer), Column("amount", Numeric(12, 2)))


def definition():
    from decimal import Decimal

    from marshmallow import Schema
    from sqlalchemy import select

    from plugins.reports.registry import Chart, Column, ReportDefinition
    from plugins.reports.services.engine import stream

    table = _table()

    def rows(session, params):
        stmt = select(table).order_by(table.c.grp, table.c.id)
        for r in stream(session, stmt):
            yield {"grp": r.grp, "day": r.day, "label": r.label, "contact": (r.contact_number, r.contact_name),
                   "qty": r.qty, "amount": Decimal(r.amount)}

    return ReportDefinition(
        code="bench.rows", title="Bench", permission="reports.view", params=Schema, rows=rows, group_by="grp",
        columns=(Column("grp", "Groupe"), Column("day", "Jour", "date"), Column("label", "Libellé", width=2),
                 Column("contact", "Contact", "contact", width=2), Column("qty", "Quantité", "number", total=True),
                 Column("amount", "Montant", "money", total=True)),
        charts=(Chart("bar", "Montant par groupe", label="grp", value="amount"),))


def setup(ctx: Context, size: int) -> None:
    from datetime import date, timedelta

    from coulisses import db as cdb
    from coulisses.testing import create_schema

    create_schema(ctx.url, ["reports"])
    engine = cdb.make_engine(ctx.url)
    table = _table()
    table.metadata.create_all(engine)
    start = date(2026, 1, 1)
    with engine.begin() as conn:
        batch = []
        for i in range(size):
            batch.append({"id": i + 1, "day": start + timedelta(days=i % 365), "grp": f"G{i % 12:02d}",
                          "label": f"Séance {i % 977} - ligne {i}", "contact_number": 10_000 + i,
                          "contact_name": f"DUPONT, Chantal {i % 5000}", "qty": i % 7, "amount": f"{(i % 300) + 0.5:.2f}"})
            if len(batch) == 5000:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
    engine.dispose()


def _child(url: str, fmt: str, naive: bool) -> dict:
    """Runs in a subprocess: render once, report seconds, rows and the peak RSS growth."""
    import io
    import resource
    import tempfile

    from sqlalchemy.orm import Session

    from coulisses import db as cdb
    from plugins.reports.services import engine

    definition_ = definition()
    eng = cdb.make_engine(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with Session(eng) as session, tempfile.TemporaryFile() as out:
        if naive:
            import csv

            from sqlalchemy import select

            rows = session.execute(select(_table())).all()  # everything in memory first
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text)
            for r in rows:
                writer.writerow(list(r))
            text.flush()
            count = len(rows)
        else:
            count = engine.render(session, definition_, {}, fmt, out).rows
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    eng.dispose()
    return {"seconds": seconds, "rows": count, "peak_mb": (peak - before) / 1024, "peak_total_mb": peak / 1024}


def _measure(url: str, fmt: str, naive: bool = False) -> dict:
    root = Path(__file__).resolve().parents[1]
    code = ("import json, sys; from bench.reports_render import _child; "
            f"print(json.dumps(_child({url!r}, {fmt!r}, {naive!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
                         env={**os.environ, "COULISSES_ENV": "testing"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[dict]:
    size = QUICK if ctx.quick else FULL
    setup(ctx, size)
    records = []
    naive = _measure(ctx.url, "csv", naive=True)
    for fmt in ("csv", "xlsx", "pdf"):
        result = _measure(ctx.url, fmt)
        assert result["rows"] == size, result
        records.append(record(f"reports.render.{fmt}", ctx.database, size, "seconds", result["seconds"],
                              TARGETS[fmt], baseline="whole result fetched as a list, then CSV" if fmt == "csv" else None,
                              baseline_value=naive["seconds"] if fmt == "csv" else None))
        records.append(record(f"reports.render.{fmt}", ctx.database, size, "peak_mb", result["peak_total_mb"],
                              MEMORY_TARGET_MB, baseline="whole result fetched as a list" if fmt == "csv" else None,
                              baseline_value=naive["peak_total_mb"] if fmt == "csv" else None,
                              growth_mb=round(result["peak_mb"], 1)))
    return records
