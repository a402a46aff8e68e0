"""Work a sale defers until after its commit: recomputing the contacts' indicators.

Recomputing every indicator of the buyer, the payer and the structure took about a third of a sale's
time, inside the sale's transaction (and its locks). A sale now only marks the contacts
(``request_indicators``) and one outbox job per contact recomputes them after the commit
(``sales.contact_indicators``), idempotent and coalesced:

- the mark is a row of ``sales_contact_refresh`` per contact, written (so locked) by the sale that
  touches it, until that sale commits (an ``UPDATE … RETURNING`` of the existing marks, an ``INSERT …
  ON CONFLICT DO NOTHING RETURNING`` of the new ones: two or three statements a sale); ``queued`` says a job is already waiting: further sales of the
  same contact add nothing (one job however many sales);
- the job locks the same row first — so it waits for any sale still holding it, and then sees that
  sale's tickets and payments — clears ``queued`` and recomputes in the same transaction. A sale that
  marks the contact after that waits for the job's commit, finds ``queued`` false and enqueues a new
  job: no sale is ever left out, none is counted twice (the indicators are recomputed from the facts,
  not incremented);
- a process without the outbox's job types (a plain script without the plugin manager) recomputes at
  once, as before.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coulisses.db import begin_write, lock_rows, utcnow

from plugins.sales.models import ContactIndicatorRefresh

JOB_TYPE = "sales.contact_indicators"


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ContactIndicatorRefresh)


def deferred_available() -> bool:
    """True when this process's outbox knows the job (the app, the worker, the CLI)."""
    from coulisses.outbox import job_types

    return JOB_TYPE in job_types()


def request_indicators(session: Session, contact_ids: Iterable[int], *, registry=None) -> list[int]:
    """Have the indicators of ``contact_ids`` recomputed after this transaction commits; returns the
    contacts for which a job was enqueued (the others already had one waiting)."""
    ids = sorted({int(i) for i in contact_ids if i is not None})
    if not ids:
        return []
    if not deferred_available():
        _recompute_now(session, ids, registry)
        return []
    with session.no_autoflush:  # the marks need nothing pending: it is written with the job, in one flush
        return _request(session, ids)


def _request(session: Session, ids: list[int]) -> list[int]:
    from coulisses.outbox import enqueue

    now = utcnow()
    table = ContactIndicatorRefresh.__table__
    # 1. the contacts already marked: touched (so locked until this sale commits), their ``queued`` read;
    #    one by one in id order, so two sales of the same contacts lock them in the same order
    seen = {}
    for i in ids:
        queued = session.execute(update(table).where(table.c.contact_id == i).values(requested_at=now)
                                 .returning(table.c.queued)).scalar()
        if queued is not None:
            seen[i] = queued
    # 2. the others: marked queued at once (a concurrent sale inserting the same one makes us wait, then
    #    insert nothing: that contact is read again, locked, below)
    missing = [i for i in ids if i not in seen]
    inserted = set()
    if missing:
        inserted = set(session.scalars(_insert(session).values(
            [{"contact_id": i, "queued": True, "requested_at": now} for i in missing])
            .on_conflict_do_nothing(index_elements=["contact_id"]).returning(table.c.contact_id)))
        for i in set(missing) - inserted:
            seen[i] = lock_rows(session, select(table.c.queued).where(table.c.contact_id == i)).scalar()
    # 3. a job for each contact that had none waiting
    idle = sorted(i for i, queued in seen.items() if not queued)
    if idle:
        session.execute(update(table).where(table.c.contact_id.in_(idle)).values(queued=True))
    enqueued = sorted(inserted | set(idle))
    for contact_id in enqueued:
        enqueue(session, JOB_TYPE, {"contact": contact_id})
    return enqueued


def _recompute_now(session: Session, ids: list[int], registry=None) -> None:
    from plugins.contacts.models import Contact
    from plugins.contacts.services.indicators import recompute_indicators

    for contact in session.scalars(select(Contact).where(Contact.id.in_(ids))):
        recompute_indicators(session, contact, registry=registry)


def run_indicators_job(session: Session, job) -> dict:
    """The job: lock the contact's mark (waiting for a sale still holding it), clear ``queued``,
    recompute its indicators; all committed together with the job's "done"."""
    from plugins.contacts.models import Contact
    from plugins.contacts.services.indicators import recompute_indicators
    from plugins.sales.registry import get_registry

    contact_id = int(job.payload["contact"])
    begin_write(session)
    row = lock_rows(session, select(ContactIndicatorRefresh).where(ContactIndicatorRefresh.contact_id == contact_id)
                    .execution_options(populate_existing=True)).scalar_one_or_none()
    if row is not None:
        row.queued = False
        row.done_at = utcnow()
    contact = session.get(Contact, contact_id)
    if contact is None:  # deleted (or merged away) since: nothing to compute
        return {"contact": contact_id, "indicators": 0}
    values = recompute_indicators(session, contact, registry=get_registry().contacts())
    return {"contact": contact_id, "indicators": len(values)}


def pending_refreshes(session: Session) -> list[int]:
    """The contacts whose indicators wait for a job (for checks and tests)."""
    return list(session.scalars(select(ContactIndicatorRefresh.contact_id)
                                .where(ContactIndicatorRefresh.queued.is_(True))
                                .order_by(ContactIndicatorRefresh.contact_id)))
