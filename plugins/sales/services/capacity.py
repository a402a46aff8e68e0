"""Places: taking and giving back capacity per performance and per category, under lock.

Lock order everywhere (no deadlock between two operations): the order row (when there is one),
then the performance rows, then the quota rows, each set sorted by id. ``lock_rows`` is ``SELECT …
FOR UPDATE`` on PostgreSQL and the database write lock on SQLite; ``populate_existing`` makes sure
the counters read are the locked rows' values, not stale ones from the session's identity map.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session, selectinload

from coulisses import ConflictError, NotFoundError
from coulisses.db import lock_rows
from coulisses.i18n import _

from plugins.sales.models import Performance, PerformanceQuota, SeatBooking, Ticket
from plugins.sales.services.catalogue import performance_label


def lock_places(session: Session, pairs: set[tuple[int, int]], *, on_missing=None) -> tuple[
        dict[int, Performance], dict[tuple[int, int], PerformanceQuota]]:
    """Lock the performances and the (performance, category) quota rows of ``pairs``. A performance
    that does not exist: ``on_missing(ids)`` is called (it raises), else ``NotFoundError``."""
    perf_ids = sorted({p for p, _ in pairs})
    performances = {p.id: p for p in lock_rows(session, select(Performance).where(Performance.id.in_(perf_ids))
                                               .order_by(Performance.id)
                                               .execution_options(populate_existing=True)).scalars()}
    missing = set(perf_ids) - set(performances)
    if missing and on_missing is not None:
        on_missing(missing)
    if missing:
        raise NotFoundError(_("Séance introuvable : %(ref)s", ref=sorted(missing)[0]))
    quotas = {(q.performance_id, q.category_id): q for q in lock_rows(
        session, select(PerformanceQuota)
        .where(tuple_(PerformanceQuota.performance_id, PerformanceQuota.category_id).in_(sorted(pairs)))
        .order_by(PerformanceQuota.id)
        .options(selectinload(PerformanceQuota.category))
        .execution_options(populate_existing=True)).scalars()}
    return performances, quotas


def take(session: Session, wanted: Counter, performances: dict[int, Performance],
         quotas: dict[tuple[int, int], PerformanceQuota]) -> None:
    """Move the counters for ``wanted`` ((performance, category) → quantity), or refuse the whole of it."""
    per_performance: Counter = Counter()
    for (perf_id, cat_id), qty in wanted.items():
        quota = quotas[(perf_id, cat_id)]
        if quota.taken + qty > quota.capacity:
            left = max(0, quota.capacity - quota.taken)
            raise ConflictError(_(
                "Plus assez de places pour %(performance)s, %(category)s : %(wanted)s demandée(s), "
                "%(left)s disponible(s)", performance=performance_label(performances[perf_id]),
                category=quota.category.label, wanted=qty, left=left))
        per_performance[perf_id] += qty
    for perf_id, qty in per_performance.items():
        performance = performances[perf_id]
        if performance.taken + qty > performance.capacity:
            left = max(0, performance.capacity - performance.taken)
            raise ConflictError(_("Séance complète : %(performance)s : %(wanted)s demandée(s), %(left)s disponible(s)",
                                  performance=performance_label(performance), wanted=qty, left=left))
    for key, qty in wanted.items():
        quotas[key].taken += qty
    for perf_id, qty in per_performance.items():
        performances[perf_id].taken += qty


def release(session: Session, tickets: list[Ticket], locked=None) -> None:
    """Give back the places and the seats of ``tickets`` (about to be cancelled). ``locked``: what
    ``lock_places`` returned for them earlier in this transaction (the rows stay locked: not read again)."""
    if not tickets:
        return
    counts = Counter((t.performance_id, t.category_id) for t in tickets)
    performances, quotas = locked if locked is not None else lock_places(session, set(counts))
    for key, qty in counts.items():
        quotas[key].taken -= qty
        performances[key[0]].taken -= qty
    seated = [t.id for t in tickets if t.seat_id is not None]
    for start in range(0, len(seated), 500):
        session.execute(delete(SeatBooking).where(SeatBooking.ticket_id.in_(seated[start:start + 500])))
