"""Selling through the REST API under concurrency: ``sales.sell_concurrent`` (PostgreSQL only).

Eight clients (threads, one keep-alive connection each) send ``POST /api/v1/orders`` (4 tickets, sold
and paid by card in one request, each with its own ``Idempotency-Key``) to gunicorn with 4 workers
(``coulisses.web.app:create_app()``), the deployment of several workers that PostgreSQL serves. One
order in five takes 4 adjacent seats of the seated hall chosen at random, so that clients collide on
seats: the loser gets 409 ("Place(s) déjà vendue(s)"), which is correct and counted, never a 5xx.

Records (size = orders attempted; quick 8 × 25, full 8 × 250): ``orders_per_s`` (orders created per
second of wall time, target 100) and ``p95_ms`` (latency of a sale as the client sees it, target 250 ms);
extra fields: clients, workers, created, seat conflicts (409), errors. After the run the database is
checked: every order created is settled with its 4 tickets and its invariants hold
(``orders.check_order``), no seat is held by two live tickets, each performance's and quota's
``taken`` equals its live tickets. Any failure fails the benchmark.

The schema is made by ``coulisses db upgrade`` (migrations, roles and their permissions, defaults),
the catalogue and 2,000 contacts by ``bench.sales_sell.populate``.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench.common import Context, percentile, record
from bench.sales_sell import PRICE, populate

CLIENTS = 8
WORKERS = 4
QUICK = 25  # orders per client
FULL = 250
SEATED_SHARE = 0.2
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(ctx: Context) -> dict:
    return {**os.environ, "COULISSES_DATABASE_URL": ctx.url, "COULISSES_PLUGINS": "contacts,sales",
            "COULISSES_ENV": "production", "COULISSES_SECRET_KEY": uuid.uuid4().hex * 2,
            "COULISSES_INSTANCE_PATH": str(ctx.workdir), "COULISSES_LOG_LEVEL": "WARNING",
            "COULISSES_OUTBOX_RUN": "thread"}


def _prepare(ctx: Context) -> dict:
    from coulisses import db as cdb
    from coulisses import security
    from plugins.contacts.models import Contact

    done = subprocess.run([str(BIN / "coulisses"), "db", "upgrade"], env=_env(ctx), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"coulisses db upgrade failed: {done.stderr[-2000:]}")
    engine = cdb.make_engine(ctx.url)
    ids = populate(engine, roles=False)
    with Session(engine) as s:
        numbers = dict(s.execute(select(Contact.id, Contact.number).where(Contact.id.in_(ids["buyers"]))).all())
        ids["buyer_numbers"] = [numbers[i] for i in ids["buyers"]]
        ids["token"] = security.issue_token(s, security.get_operator(s, "bench"), "bench")
        s.commit()
    ids["engine"] = engine
    return ids


def _serve(ctx: Context, port: int) -> subprocess.Popen:
    cmd = [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
           "--timeout", "120", "coulisses.web.app:create_app()"]
    proc = subprocess.Popen(cmd, env=_env(ctx), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {proc.stderr.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not answer /health within 120 s")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the arbiter and its workers, started in their own group
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def _body(ids: dict, rnd: random.Random) -> dict:
    buyer = rnd.choice(ids["buyer_numbers"])
    if rnd.random() < SEATED_SHARE:
        seats = ids["seats"]
        start = rnd.randrange(0, len(seats) - 3)
        chosen = seats[start:start + 4]
        lines = [{"performance": ids["seated"], "category": ids["cat1"], "tariff": ids["full"], "seats": chosen[:2]},
                 {"performance": ids["seated"], "category": ids["cat1"], "tariff": ids["reduced"], "seats": chosen[2:]}]
        cat1 = True
    else:
        perf, category = rnd.choice(ids["perfs"]), rnd.choice((ids["cat1"], ids["cat2"]))
        lines = [{"performance": perf, "category": category, "tariff": ids["full"], "quantity": 2},
                 {"performance": perf, "category": category, "tariff": ids["reduced"], "quantity": 2}]
        cat1 = category == ids["cat1"]
    total = PRICE[(cat1, True)] * 2 + PRICE[(cat1, False)] * 2
    return {"action": "sell", "buyer": buyer, "lines": lines,
            "payments": [{"mode": "CARD", "amount": str(total), "reference": "bench"}]}


def _client(port: int, ids: dict, count: int, seed: int, out: dict, start: threading.Barrier) -> None:
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Bearer {ids['token']}", "Content-Type": "application/json"}
    start.wait()
    for _ in range(count):
        body = json.dumps(_body(ids, rnd))
        t0 = time.perf_counter()
        conn.request("POST", "/api/v1/orders", body=body,
                     headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status == 201:
            out["latencies"].append(elapsed)
            out["created"].append(json.loads(data)["number"])
        elif response.status == 409:
            out["conflicts"] += 1
            out["latencies"].append(elapsed)
        else:
            out["errors"].append(f"{response.status}: {data[:300]!r}")


def _check(engine, created: list[int]) -> list[str]:
    """What must hold after the run (empty: all of it)."""
    from plugins.sales.models import ACTIVE_TICKET_STATES, Order, Performance, PerformanceQuota, Ticket
    from plugins.sales.services.orders import check_order

    problems = []
    with Session(engine) as s:
        for number in created:
            order = s.scalar(select(Order).where(Order.number == number))
            live = s.scalar(select(func.count()).where(Ticket.order_id == order.id, Ticket.state.in_(ACTIVE_TICKET_STATES)))
            if order.state != "settled" or live != 4:
                problems.append(f"order {number}: {order.state}, {live} tickets")
            problems += [f"order {number}: {p}" for p in check_order(s, order)]
        doubles = s.execute(select(Ticket.performance_id, Ticket.seat_id, func.count()).where(
            Ticket.seat_id.is_not(None), Ticket.state.in_(ACTIVE_TICKET_STATES)).group_by(
            Ticket.performance_id, Ticket.seat_id).having(func.count() > 1)).all()
        problems += [f"seat {seat} of performance {perf} sold {n} times" for perf, seat, n in doubles]
        for p in s.scalars(select(Performance)):
            n = s.scalar(select(func.count()).where(Ticket.performance_id == p.id, Ticket.state.in_(ACTIVE_TICKET_STATES)))
            if n != p.taken:
                problems.append(f"performance {p.id}: taken {p.taken} != {n} live tickets")
        for q in s.scalars(select(PerformanceQuota)):
            n = s.scalar(select(func.count()).where(Ticket.performance_id == q.performance_id,
                                                    Ticket.category_id == q.category_id,
                                                    Ticket.state.in_(ACTIVE_TICKET_STATES)))
            if n != q.taken:
                problems.append(f"quota {q.id}: taken {q.taken} != {n} live tickets")
    return problems


def run(ctx: Context) -> list[dict]:
    if ctx.database != "postgresql":
        print("   sales.sell_concurrent runs on PostgreSQL only (several workers): skipped on", ctx.database)
        return []
    per_client = QUICK if ctx.quick else FULL
    ids = _prepare(ctx)
    engine = ids.pop("engine")
    port = _free_port()
    proc = _serve(ctx, port)
    try:
        warm = {"latencies": [], "created": [], "conflicts": 0, "errors": []}
        _client(port, ids, 2 * WORKERS, 999, warm, threading.Barrier(1))  # each worker's first request
        outs = [{"latencies": [], "created": [], "conflicts": 0, "errors": []} for _ in range(CLIENTS)]
        barrier = threading.Barrier(CLIENTS + 1)
        threads = [threading.Thread(target=_client, args=(port, ids, per_client, i, outs[i], barrier))
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        _stop(proc)
    latencies = [x for o in outs for x in o["latencies"]]
    created = [n for o in outs for n in o["created"]]
    conflicts = sum(o["conflicts"] for o in outs)
    errors = [e for o in outs for e in o["errors"]] + warm["errors"]
    problems = _check(engine, created + warm["created"])
    engine.dispose()
    rate = len(created) / elapsed
    p95 = percentile(latencies, 95)
    print(f"   sell_concurrent: {len(created)} orders created by {CLIENTS} clients in {elapsed:.1f} s = {rate:.1f} "
          f"orders/s, p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms; {conflicts} seat conflicts (409), "
          f"{len(errors)} errors, {len(problems)} problems", flush=True)
    if errors or problems:
        raise AssertionError("sales.sell_concurrent: " + "; ".join((errors + problems)[:10]))
    size = CLIENTS * per_client
    extra = dict(clients=CLIENTS, workers=WORKERS, created=len(created), seat_conflicts=conflicts, errors=0,
                 tickets_per_order=4, seconds=round(elapsed, 2), server="gunicorn")
    return [record("sales.sell_concurrent", ctx.database, size, "orders_per_s", rate, 100,
                   p50_ms=round(statistics.median(latencies), 1), p95_ms=round(p95, 1), **extra),
            record("sales.sell_concurrent", ctx.database, size, "p95_ms", p95, 250, **extra)]
