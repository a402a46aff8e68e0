"""The waiting account: global invoicing and the follow-up report.

- ``waiting_account.global_invoice`` (``seconds``, size 1,000 orders; quick 100): one contact's orders
  paid on account (1 ticket each, sold through the services beforehand), invoiced at once
  (``invoices.invoice_orders``: one invoice, one line per order line) and its PDF drawn, Factur-X XML
  built, schema-checked and embedded, stored (``reports`` ``generate``); committed. Target 10 s (the
  issue). Extra: the invoicing alone and the PDF alone. The ``factur-x`` library is imported before
  the clock starts (a server imports it once).
- ``waiting_account.follow_up`` (``seconds``, size 100,000 movements; quick 5,000): "Suivi des comptes
  d'attente" rendered to CSV over that many movements spread on 2,000 accounts (inserted in bulk);
  target 10 s (the issue).
"""
from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.common import Context, record

QUICK_ORDERS, FULL_ORDERS = 100, 1_000
QUICK_MOVEMENTS, FULL_MOVEMENTS = 5_000, 100_000
ACCOUNTS = 2_000
SEED = 11


def _manager():
    from coulisses import plugins as cplugins

    infos = cplugins.discover()
    return cplugins.build_manager(infos, cplugins.resolve(infos, ["waiting_account"]), warn=False)


def setup(ctx: Context, orders: int):
    from coulisses import db as cdb
    from coulisses import security
    from coulisses.testing import create_schema
    from plugins.contacts.demo import bulk_generate
    from plugins.contacts.services.contacts import create_contact
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services.settings import install_defaults as sales_defaults
    from plugins.waiting_account.services.accounts import set_authorisation
    from plugins.waiting_account.services.invoices import create_range
    from plugins.waiting_account.services.views import install_defaults

    create_schema(ctx.url, ["waiting_account"])
    engine = cdb.make_engine(ctx.url)
    with Session(engine) as s:
        bulk_generate(s, ACCOUNTS, seed=SEED)
        sales_defaults(s)
        install_defaults(s)
        security.sync_roles_and_permissions(s, {})
        op = security.create_operator(s, "bench", "bench-password-123456", "Bench", ["operator"])
        with cdb.acting_as(cdb.Actor(op.id, op.login)):
            season = cat.create_season(s, "S", "2026/2027", date(2026, 9, 1), date(2027, 8, 31))
            studio = cat.create_venue(s, "STUDIO", "Studio")
            cat1 = cat.create_category(s, "CAT1", "Cat 1", 1)
            full = cat.create_tariff(s, "PLEIN", "Plein tarif", cat.create_audience(s, "OCC", "Contact occasionnel"))
            event = cat.create_event(s, "JOYAUX", "Joyaux", season=season)
            start = datetime.now(timezone.utc).replace(hour=19, minute=0, second=0, microsecond=0) + timedelta(days=30)
            perf = cat.create_performance(s, event, studio, start, quotas={cat1: orders + 10})
            cat.set_price(s, perf, cat1, full, "110.00")
            partner = create_contact(s, {"type_code": "structure", "structure_name": "PARTENAIRE TRIMESTRIEL"})
            set_authorisation(s, partner, authorised=True, ceiling=str(110 * orders + 1000))
            create_range(s, "FA", 1, 999999, date(2000, 1, 1), date(2099, 12, 31))
        s.commit()
        ids = dict(op=op.id, perf=perf.id, cat1=cat1.id, full=full.id, partner=partner.id)
    return engine, ids


def global_invoice(ctx: Context, engine, ids) -> list[dict]:
    from coulisses import db as cdb
    from coulisses.registry import use_manager
    from plugins.reports.services.documents import generate
    from plugins.sales.services import orders as sales
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput
    from plugins.waiting_account.services.invoices import invoice_orders

    size = QUICK_ORDERS if ctx.quick else FULL_ORDERS
    with use_manager(_manager()):
        with Session(engine) as s, cdb.acting_as(cdb.Actor(ids["op"], "bench")):
            numbers = []
            for _ in range(size):
                order = sales.sell(s, ids["partner"], [LineInput(ids["perf"], ids["cat1"], ids["full"], 1)],
                                   payments=[PaymentInput("ATTENTE", "110.00", contact=ids["partner"])])
                numbers.append(order.number)
            s.commit()
            import facturx  # noqa: F401 - imported once per process (4 s on a loaded machine), not per invoice

            start = time.perf_counter()
            invoice = invoice_orders(s, ids["partner"], numbers)
            invoiced = time.perf_counter()
            generate(s, "waiting_account.invoice", invoice.number)
            s.commit()
            done = time.perf_counter()
    return [record("waiting_account.global_invoice", ctx.database, size, "seconds", done - start, 10,
                   invoicing_s=round(invoiced - start, 3), pdf_s=round(done - invoiced, 3))]


def follow_up(ctx: Context, engine, ids) -> list[dict]:
    from coulisses import db as cdb
    from coulisses.registry import use_manager
    from plugins.contacts.models import Contact
    from plugins.reports.services.engine import render_bytes
    from plugins.waiting_account.models import Account, Movement

    size = QUICK_MOVEMENTS if ctx.quick else FULL_MOVEMENTS
    with use_manager(_manager()):
        with Session(engine) as s:
            contacts = list(s.scalars(select(Contact.id).limit(ACCOUNTS + 1)))
            now = cdb.utcnow()
            s.execute(insert(Account), [{"contact_id": c, "authorised": True, "ceiling": Decimal("100000.00"),
                                         "note": "", "created_at": now, "updated_at": now}
                                        for c in contacts if c != ids["partner"]][:ACCOUNTS])
            accounts = list(s.scalars(select(Account.id)))
            rows, balances = [], {}
            for i in range(size):
                account = accounts[i % len(accounts)]
                amount = Decimal("110.00") if (i // len(accounts)) % 3 != 2 else Decimal("-55.00")
                balances[account] = balances.get(account, Decimal("0.00")) + amount
                rows.append({"account_id": account, "kind": "sale" if amount > 0 else "settlement", "amount": amount,
                             "balance_after": balances[account], "reference": "", "override_reason": "", "at": now})
                if len(rows) == 5_000:
                    s.execute(insert(Movement), rows)
                    rows = []
            if rows:
                s.execute(insert(Movement), rows)
            s.commit()
            start = time.perf_counter()
            data, _name, _type = render_bytes(s, "waiting_account.follow_up", {"minimum": "100"}, "csv")
            elapsed = time.perf_counter() - start
    return [record("waiting_account.follow_up", ctx.database, size, "seconds", elapsed, 10,
                   rows=data.count(b"\n") - 1)]


def run(ctx: Context) -> list[dict]:
    with __import__("coulisses.registry", fromlist=["use_manager"]).use_manager(_manager()):
        engine, ids = setup(ctx, QUICK_ORDERS if ctx.quick else FULL_ORDERS)
    try:
        return global_invoice(ctx, engine, ids) + follow_up(ctx, engine, ids)
    finally:
        engine.dispose()
