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
from plugins.sales.models import Order
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


def test_200_concurrent_invoices_are_numbered_without_gap_or_duplicate(db, database_url, pm, catalogue, buyer,
                                                                       invoice_range, operator_id):
    """200 invoices issued at once by THREADS operators (threads, each its own session): every one of
    them takes the range's next number, consecutive, no gap, no duplicate. Each operator invoices the
    order of its own customer, then cancels that invoice (a cancellation invoice: numbered in the same
    legal sequence), then invoices it again…: the accounts' locks are not shared, only the range's
    counter is — what is tested."""
    from plugins.contacts.services.contacts import create_contact

    total = 200
    rounds = total // THREADS
    payers, orders = [], []
    for i in range(THREADS):
        payer = create_contact(db, {"type_code": "structure", "structure_name": f"PARTENAIRE {i}"})
        accounts.set_authorisation(db, payer, authorised=True, ceiling="1000.00")
        payers.append(payer.id)
        orders.append(sell_on_account(db, catalogue, buyer, payer, 1).id)
    db.commit()

    def invoice(s, i, r):
        if r % 2 == 0:
            invoices.invoice_orders(s, payers[i], [s.get(Order, orders[i])])
        else:
            invoices.cancel_invoice(s, invoices.live_invoice_of(s, orders[i]))

    outcomes = race(database_url, pm, operator_id, invoice, rounds=rounds)
    assert outcomes == Counter(done=total)
    issued = list(db.scalars(select(Invoice).order_by(Invoice.sequence)))
    assert [i.sequence for i in issued] == list(range(1, total + 1))
    assert [i.number for i in issued] == [f"FA{n}" for n in range(1, total + 1)]
    invoiced = THREADS * ((rounds + 1) // 2)  # rounds 0, 2, 4… invoice; 1, 3… cancel
    assert Counter(i.kind for i in issued) == Counter(invoice=invoiced, cancellation=total - invoiced)
    by_id = {i.id: i for i in issued}
    assert all(i.sequence > by_id[i.cancels_id].sequence for i in issued if i.kind == "cancellation")
