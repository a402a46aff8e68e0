"""Changing the payer of an order's payments (correction entries; the originals never change), and
the contacts' indicators recomputed by a coalesced job after the sale's commit."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses.outbox import DONE, Job, JobType, run_pending, use_job_types
from plugins.contacts.models import IndicatorValue
from plugins.sales.models import ContactIndicatorRefresh, CreditMovement, Operation, Payment
from plugins.sales.services import credit, orders
from plugins.sales.services.deferred import JOB_TYPE, pending_refreshes, run_indicators_job
from plugins.sales.services.payer_change import change_payer, current_payments
from plugins.sales.services.payments import PaymentInput, pay
from tests.sales.conftest import line


@pytest.fixture
def order(db, catalogue, buyer):
    c = catalogue
    o = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    pay(db, o, [PaymentInput("CARD", "100.00", details={"authorisation": "A1"}), PaymentInput("CHEQUE", "120.00")])
    db.commit()
    return o


def rows(db, order):
    return [(p.amount, p.contact_id, p.correction_of_id)
            for p in db.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id))]


def test_the_payments_move_to_the_new_payer_as_correction_entries(db, order, buyer, person):
    university = person("Dupont", "Chantal")
    card, cheque = current_payments(db, order)
    before = [(p.id, p.amount, p.contact_id, p.reference) for p in (card, cheque)]
    result = change_payer(db, order, university, reason="Erreur de payeur au guichet")
    db.commit()
    assert [(p.id, p.amount, p.contact_id, p.reference) for p in (card, cheque)] == before  # never changed
    assert rows(db, order)[2:] == [
        (Decimal("-100.00"), buyer.id, card.id), (Decimal("100.00"), university.id, card.id),
        (Decimal("-120.00"), buyer.id, cheque.id), (Decimal("120.00"), university.id, cheque.id)]
    assert (order.paid, order.state, order.payer_id) == (Decimal("220.00"), "settled", university.id)
    assert result.operation.kind == "payer_change" and result.replacements[0].details == {"authorisation": "A1"}
    assert [p.contact_id for p in current_payments(db, order)] == [university.id, university.id]
    assert orders.check_order(db, order) == []
    with pytest.raises(ConflictError, match="aucun règlement à transférer"):
        change_payer(db, order, university)
    db.rollback()
    back = change_payer(db, order, buyer, payments=[result.replacements[0].id])  # a correction is corrected too
    db.commit()
    assert back.reversals[0].correction_of_id == result.replacements[0].id
    assert sorted(p.contact_id for p in current_payments(db, order)) == sorted([buyer.id, university.id])
    assert order.paid == Decimal("220.00")


def test_only_standing_payments_of_the_order_can_move(db, order, person):
    other = person("Martin", "Paul")
    card, _cheque = current_payments(db, order)
    change_payer(db, order, other, payments=[card.id])
    db.commit()
    with pytest.raises(InvalidError) as err:
        change_payer(db, order, person("Durand", "Léa"), payments=[card.id])  # reversed already
    assert "payments" in err.value.fields
    db.rollback()
    with pytest.raises(InvalidError):
        change_payer(db, order, other, payments=[999999])


def test_a_credit_balance_payment_moves_the_credit(db, catalogue, buyer, person):
    c = catalogue
    friend = person("Martin", "Paul")
    credit.adjust_credit(db, buyer, "150.00", "Avoir")
    credit.adjust_credit(db, friend, "50.00", "Avoir")
    o = orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)],
                    payments=[PaymentInput("CREDIT", "60.00")])
    db.commit()
    assert credit.credit_balance(db, buyer) == Decimal("90.00")
    with pytest.raises(ConflictError, match="Avoir insuffisant : 50,00.€"):
        change_payer(db, o, friend)
    db.rollback()
    credit.adjust_credit(db, friend, "10.00", "Complément")
    change_payer(db, o, friend)
    db.commit()
    assert (credit.credit_balance(db, buyer), credit.credit_balance(db, friend)) == (Decimal("150.00"), 0)
    assert db.scalar(select(CreditMovement).order_by(CreditMovement.id.desc()).limit(1)).amount == Decimal("-60.00")


def test_the_operations_journal_tells_the_change(db, order, person):
    change_payer(db, order, person("Dupont", "Chantal"), reason="Facturer la structure")
    op = db.scalars(select(Operation).where(Operation.order_id == order.id).order_by(Operation.id.desc())).first()
    assert (op.kind, op.details["reason"], op.details["amount"]) == ("payer_change", "Facturer la structure", "220.00")


# --------------------------------------------------------------------------- indicators after commit


@pytest.fixture
def deferred(db):
    """The sales job type known to this process (as in the app and the worker); jobs run by hand."""
    with use_job_types({JOB_TYPE: JobType(JOB_TYPE, run_indicators_job, "indicators")}):
        yield


def test_a_sale_defers_the_indicators_to_one_coalesced_job(db, catalogue, buyer, deferred):
    c = catalogue

    def computed():
        db.expire_all()
        return {v.computed_at for v in db.scalars(select(IndicatorValue).where(IndicatorValue.contact_id == buyer.id))}

    before = computed()  # at the contact's creation
    for _ in range(3):
        orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
        db.commit()
    jobs = db.scalars(select(Job).where(Job.kind == JOB_TYPE)).all()
    assert [j.payload for j in jobs] == [{"contact": buyer.id}]  # three sales, one job
    assert pending_refreshes(db) == [buyer.id]
    assert computed() == before  # not inside the sales
    assert run_pending(db.get_bind()) == 1
    after = computed()
    assert len(after) == 1 and min(after) > max(before) and pending_refreshes(db) == []
    assert db.get(Job, jobs[0].id).state == DONE
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.commit()
    assert db.scalar(select(Job.id).where(Job.kind == JOB_TYPE, Job.state == "pending")) is not None  # a new one
    assert db.get(ContactIndicatorRefresh, buyer.id).queued is True


def test_without_the_job_type_the_indicators_are_computed_at_once(db, catalogue, buyer):
    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.commit()
    assert db.scalars(select(IndicatorValue).where(IndicatorValue.contact_id == buyer.id)).all() != []
    assert db.scalar(select(Job.id).where(Job.kind == JOB_TYPE)) is None


def test_the_job_is_idempotent(db, catalogue, buyer, deferred):
    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)], payments=[PaymentInput("CASH", "60.00")])
    db.commit()
    job = db.scalars(select(Job).where(Job.kind == JOB_TYPE)).one()
    first = run_indicators_job(db, job)
    db.commit()
    again = run_indicators_job(db, job)
    db.commit()
    assert first == again and first["indicators"] > 0
    assert timedelta(0) <= (db.get(ContactIndicatorRefresh, buyer.id).done_at - job.created_at) < timedelta(minutes=5)


def test_sales_of_one_contact_at_once_make_one_job(db, database_url, catalogue, buyer, operator_id):
    """Eight points of sale selling to the same contact at the same moment (real threads, SQLite's
    write lock or PostgreSQL's row locks): no error, no deadlock, one job waiting for the contact."""
    import threading

    from sqlalchemy.orm import Session

    from coulisses import db as cdb
    from coulisses.db import Actor, acting_as

    c = catalogue
    db.commit()  # the buyer
    engine = cdb.make_engine(database_url, pool_size=10)
    barrier, errors = threading.Barrier(8), []

    def sell(i):
        with use_job_types({JOB_TYPE: JobType(JOB_TYPE, run_indicators_job, "indicators")}), \
                acting_as(Actor(operator_id, f"guichet{i}")), Session(engine) as s:
            barrier.wait()
            try:
                orders.sell(s, buyer.id, [line(c.performance, c.cat1, c.full, 1)],
                            payments=[PaymentInput("CARD", "110.00")])
                s.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                s.rollback()
                errors.append(repr(exc))

    threads = [threading.Thread(target=sell, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    engine.dispose()
    assert errors == []
    db.expire_all()
    jobs = db.scalars(select(Job).where(Job.kind == JOB_TYPE, Job.state == "pending")).all()
    assert [j.payload for j in jobs] == [{"contact": buyer.id}] and pending_refreshes(db) == [buyer.id]
    with use_job_types({JOB_TYPE: JobType(JOB_TYPE, run_indicators_job, "indicators")}):
        assert run_pending(db.get_bind()) == 1
    db.expire_all()
    assert pending_refreshes(db) == []
