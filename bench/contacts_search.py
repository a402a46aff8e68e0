"""Quick search and wildcard search over generated contacts, through the service layer and HTTP.

Generates ``FULL`` (1,000,000) or ``QUICK`` (50,000) realistic French contacts with the demo
generator (bulk inserts) — or ``--contacts N`` of them, for the scale curve (``python -m bench --full
--contacts 10000000 contacts_search``: 100,000, 1,000,000 and 10,000,000 make the curve, recorded in
``results/contacts_search-scale.json``) — then measures with random realistic queries:

- ``contacts.search.quick``: ``p95_ms`` / ``p50_ms`` of ``quick_search`` (name prefix, "Name, F",
  contact number, e-mail prefix; a few hundred of each), target p95 < 10 ms, against a naive
  ``lower(last_name) LIKE '%…%'`` scan measured in the same run (baseline); ``http_p95_ms``: the same
  queries through ``GET /api/v1/contacts?q=`` (Flask test client, bearer token), target ≤ 3× the
  service p95 target;
- ``contacts.search.wildcard``: ``p95_ms`` of ``*`` searches ("*pont", "*ier"…), target < 100 ms.
"""
from __future__ import annotations

import random
import time

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.common import Context, percentile, record, summary

QUICK = 50_000
FULL = 1_000_000
SCALES_WITH_CONTACTS = True  # ``--contacts N`` sets the number of contacts
PER_KIND = 200
SEED = 42
BENCH_PASSWORD = "bench-password-123456"
BENCH_SECRET = "bench-" + "0123456789abcdef" * 4  # a key a production app accepts


def populate(ctx: Context, size: int) -> None:
    from coulisses import db as cdb
    from coulisses.testing import create_schema
    from plugins.contacts.demo import bulk_generate, load_seed_contacts

    create_schema(ctx.url, ["contacts"])
    engine = cdb.make_engine(ctx.url)
    started = time.perf_counter()
    with Session(engine) as session:
        load_seed_contacts(session)
        session.commit()
        bulk_generate(session, size - 14, seed=SEED, batch=10_000, commit=True)
        session.commit()
    print(f"   generated {size} contacts in {time.perf_counter() - started:.1f} s", flush=True)
    if ctx.database == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def make_queries(session: Session, rnd: random.Random) -> dict[str, list[str]]:
    from plugins.contacts.models import Contact

    top = session.scalar(select(func.max(Contact.id)))
    ids = [rnd.randint(1, top) for _ in range(PER_KIND * 3)]
    rows = session.execute(select(Contact.number, Contact.kind, Contact.last_name, Contact.first_name,
                                  Contact.structure_name, Contact.email).where(Contact.id.in_(ids))).all()
    people = [r for r in rows if r.kind == "individual"]
    mails = [r.email for r in rows if r.email]
    q: dict[str, list[str]] = {"prefix": [], "name_first": [], "number": [], "email": [], "wildcard": []}
    for _ in range(PER_KIND):
        p = rnd.choice(people)
        name = p.last_name
        q["prefix"].append(name[:rnd.randint(3, 6)].lower())
        q["name_first"].append(f"{name.title()}, {p.first_name[:rnd.randint(1, 3)].lower()}")
        q["number"].append(str(rnd.choice(rows).number))
        mail = rnd.choice(mails)
        q["email"].append(mail[:rnd.randint(6, len(mail))])
        start = rnd.randint(1, max(1, len(name) - 4))
        q["wildcard"].append("*" + name[start:start + rnd.randint(3, 4)].lower())
    return q


def measure(fn, queries: list[str]) -> list[float]:
    for query in queries[:10]:  # warm-up
        fn(query)
    out = []
    for query in queries:
        started = time.perf_counter()
        fn(query)
        out.append((time.perf_counter() - started) * 1000)
    return out


def naive_scan(session: Session, query: str) -> None:
    """The baseline: what a naive implementation does (no normalised column, no index use)."""
    session.execute(text("SELECT id FROM contacts_contact WHERE lower(last_name) LIKE :p "
                         "ORDER BY last_name, first_name LIMIT 20"), {"p": f"%{query.lower()}%"}).all()


def app_with_operator(ctx: Context, env: str = "testing"):
    """The web app on the benchmark's database (contacts only) and an administrator "bench" (password
    ``BENCH_PASSWORD``); returns the app and a bearer token of that operator."""
    from coulisses import security
    from coulisses.plugins import call_each
    from coulisses.web.app import create_app
    from coulisses.web.extensions import db

    app = create_app({"ENV": env, "DATABASE_URL": ctx.url, "PLUGINS": "contacts",
                      "INSTANCE_PATH": str(ctx.workdir / "instance"), "SECRET_KEY": BENCH_SECRET})
    with app.app_context():
        security.sync_roles_and_permissions(db.session, security.collect_permissions(
            call_each(app.extensions["coulisses"].pm, "coulisses_permissions")))
        op = security.get_operator(db.session, "bench") or security.create_operator(
            db.session, "bench", BENCH_PASSWORD, "Bench", ["administrator"])
        token = security.issue_token(db.session, op, "bench")
        db.session.commit()
    return app, token


def http_client(ctx: Context):
    app, token = app_with_operator(ctx)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def get(query: str):
        response = client.get("/api/v1/contacts", query_string={"q": query}, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]

    return get


def run(ctx: Context) -> list[dict]:
    from coulisses import db as cdb
    from plugins.contacts.services.search import quick_search

    size = ctx.size(QUICK, FULL)
    populate(ctx, size)
    engine = cdb.make_engine(ctx.url)
    rnd = random.Random(SEED)
    records = []
    with Session(engine) as session:
        queries = make_queries(session, rnd)
        service: list[float] = []
        by_kind = {}
        for kind in ("prefix", "name_first", "number", "email"):
            samples = measure(lambda q: quick_search(session, q), queries[kind])
            by_kind[kind] = summary(samples)
            service += samples
            session.rollback()
        wildcard = measure(lambda q: quick_search(session, q), queries["wildcard"])
        naive = measure(lambda q: naive_scan(session, q), queries["prefix"][:20])
    get = http_client(ctx)
    http: list[float] = []
    for kind in ("prefix", "name_first", "number", "email"):
        http += measure(get, queries[kind])
    engine.dispose()
    s, w, h, n = summary(service), summary(wildcard), summary(http), summary(naive)
    print(f"   service {s} by kind {by_kind}\n   wildcard {w}\n   http {h}\n   naive {n}", flush=True)
    common = {"baseline": "naive lower(last_name) LIKE '%…%' scan", "baseline_value": n["p95_ms"]}
    records.append(record("contacts.search.quick", ctx.database, size, "p95_ms", s["p95_ms"], 10,
                          by_kind=by_kind, queries=len(service), **common))
    records.append(record("contacts.search.quick", ctx.database, size, "p50_ms", s["p50_ms"], None,
                          baseline="naive scan p50", baseline_value=n["p50_ms"]))
    records.append(record("contacts.search.quick", ctx.database, size, "http_p95_ms", h["p95_ms"], 30,
                          baseline="service p95", baseline_value=s["p95_ms"], http_p50_ms=h["p50_ms"]))
    records.append(record("contacts.search.wildcard", ctx.database, size, "p95_ms", w["p95_ms"], 100,
                          p50_ms=w["p50_ms"], queries=len(wildcard), **common))
    records.append(record("contacts.search.quick", ctx.database, size, "naive_to_service_ratio",
                          n["p95_ms"] / s["p95_ms"] if s["p95_ms"] else 0.0, None))
    return records
