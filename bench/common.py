"""What every benchmark shares: databases to run on, timing, percentiles, the results file format.

A benchmark module ``bench/<name>.py`` defines ``run(ctx) -> list[dict]`` and the sizes it uses for
``--quick`` and ``--full`` (``QUICK`` / ``FULL``). Records follow DESIGN.md::

    {"benchmark": "contacts.search.quick", "database": "sqlite", "size": 1000000, "metric": "p95_ms",
     "value": 3.2, "target": 10, "baseline": "naive LIKE scan", "baseline_value": 812.0,
     "commit": "...", "date": "2026-11-23", "machine": "2 cores"}
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import text

from coulisses import db as cdb

RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN_URL = os.environ.get("COULISSES_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@dataclass
class Context:
    database: str  # "sqlite" | "postgresql"
    url: str
    quick: bool
    workdir: Path
    contacts: int | None = None  # ``--contacts N``: the size of the benchmarks that generate contacts

    def size(self, quick: int, full: int) -> int:
        """The benchmark's size: ``--contacts N`` when given, else its quick or full size."""
        return self.contacts or (quick if self.quick else full)

    def engine(self, **kw):
        return cdb.make_engine(self.url, **kw)


@contextmanager
def database(kind: str, workdir: Path):
    """A fresh database of ``kind`` for one benchmark, dropped afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = f"coulisses_bench_{uuid.uuid4().hex[:8]}"
    admin = cdb.make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0–100) by the nearest-rank method."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def time_ms(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def summary(samples_ms: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(samples_ms), 3), "p95_ms": round(percentile(samples_ms, 95), 3)}


def commit_id() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, check=True).stdout.strip()
    except Exception:  # noqa: BLE001
        return "unknown"


def record(benchmark: str, database: str, size: int, metric: str, value: float, target: float | None = None,
           baseline: str | None = None, baseline_value: float | None = None, **extra) -> dict:
    rec = {"benchmark": benchmark, "database": database, "size": size, "metric": metric,
           "value": round(value, 3), "target": target, "baseline": baseline,
           "baseline_value": None if baseline_value is None else round(baseline_value, 3),
           "commit": commit_id(), "date": date.today().isoformat(), "machine": f"{os.cpu_count()} cores"}
    rec.update(extra)
    return rec


def write_results(name: str, records: list[dict], quick: bool, scale: bool = False) -> Path:
    """Write the records of this run; records of databases this run did not measure are kept.

    ``scale`` (a run with ``--contacts N``): ``<name>-scale.json``, which keeps one set of records per
    database and size, so that runs at 100,000, 1,000,000 and 10,000,000 contacts make one curve."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / (f"{name}-scale.json" if scale else f"{name}-quick.json" if quick else f"{name}.json")
    measured = {(r["database"], r["size"]) if scale else r["database"] for r in records}
    kept = []
    if path.exists():
        kept = [r for r in json.loads(path.read_text())
                if ((r.get("database"), r.get("size")) if scale else r.get("database")) not in measured]
    path.write_text(json.dumps(kept + records, indent=2) + "\n")
    return path
