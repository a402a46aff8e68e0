"""Concurrent sales on account for one contact never exceed its ceiling; concurrent invoices get
consecutive numbers with no gap and no duplicate — SQLite (the write lock) and PostgreSQL (the
account row and the range's counter locked), with real threads."""
import threading
from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError
from coulisses import db as cdb
from coulisses.db import Actor, acting_as
from coulisses.registry import use_manager
from plugins.waiting_account.models import Invoice, Movement
from plugins.waiting_account.services import accounts, invoices
from tests.waiting_account.conftest import sell_on_account

THREADS = 8


def race(database_url, pm, operator_id, work, rounds=1):
    engine = cdb.make_engine(database_url, pool_size=THREADS + 2)
    barrier = threading.Barrier(THREADS)
    outcomes: Counter = Counter()
    errors = []

    def worker(i):
        with use_manager(pm), acting_as(Actor(operator_id, f"guichet{i}")), Session(engine) as s:
            barrier.wait()
            for r in range(rounds):
                try:
                    work(s, i, r)
                    s.commit()
                    outcomes["done"] += 1
                except ConflictError:
                    s.rollback()
                    outcomes["refused"] += 1
                except Exception as exc:  # noqa: BLE001 - reported below
                    s.rollback()
                    errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    engine.dispose()
    assert errors == []
    return outcomes


def test_concurrent_sales_on_account_never_exceed_the_ceiling(db, database_url, pm, catalogue, buyer, structure,
                                                              operator_id):
    accounts.set_authorisation(db, structure, authorised=True, ceiling="550.00")  # five tickets
    db.commit()
    buyer_id, payer_id = buyer.id, structure.id

    def sell(s, i, r):
        from plugins.contacts.models import Contact

        sell_on_account(s, catalogue_in(s), s.get(Contact, buyer_id), s.get(Contact, payer_id), 1)

    def catalogue_in(s):
        from types import SimpleNamespace

        return SimpleNamespace(performance=catalogue.performance.id, cat1=catalogue.cat1.id, full=catalogue.full.id)

    outcomes = race(database_url, pm, operator_id, sell)
    assert outcomes == Counter(done=5, refused=THREADS - 5)
    db.expire_all()
    account = accounts.account_of(db, structure)
    assert accounts.balance(db, account) == Decimal("550.00")
    assert [m.balance_after for m in db.scalars(select(Movement).order_by(Movement.id))] == [
        Decimal(110 * k) for k in range(1, 6)]


def test_concurrent_invoices_are_numbered_without_gap_or_duplicate(db, database_url, pm, catalogue, buyer,
                                                                   structure, invoice_range, operator_id):
    rounds = 3
    orders = [sell_on_account(db, catalogue, buyer, structure, 1).number for _ in range(THREADS * rounds)]
    db.commit()
    payer_id = structure.id

    def invoice(s, i, r):
        invoices.invoice_orders(s, payer_id, [orders[i * rounds + r]])

    outcomes = race(database_url, pm, operator_id, invoice, rounds=rounds)
    assert outcomes == Counter(done=THREADS * rounds)
    numbers = sorted(db.scalars(select(Invoice.sequence)))
    assert numbers == list(range(1, THREADS * rounds + 1))
