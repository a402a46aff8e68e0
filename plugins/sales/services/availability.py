""""Disponibilité des séances": per performance and per category (and contingent), the capacity, the
places sold, reserved, held and available.

- ``sold``: live tickets paid or printed; ``reserved``: tickets reserved (options);
- ``held``: places taken that no ticket accounts for yet — a basket in progress or on hold holds them
  (the quota's ``taken`` counter less the tickets);
- ``available`` = capacity − taken (for the performance: never more than its own overall ceiling).

The catalogue has no contingents yet: every place is "Hors contingent" (``contingent`` None), as the
order detail shows it. Read-only; one query per performance for the tickets.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from coulisses.db import utcnow
from coulisses.i18n import _

from plugins.sales.models import Performance, PerformanceQuota, Ticket
from plugins.sales.services.catalogue import get_performance, performance_label

SOLD_STATES = ("paid", "printed")


@dataclass
class CategoryFigures:
    category_id: int
    code: str
    label: str
    contingent: str | None
    contingent_label: str
    capacity: int
    sold: int
    reserved: int
    held: int
    available: int


@dataclass
class PerformanceFigures:
    id: int
    label: str
    event_title: str
    venue_name: str
    starts_at: datetime
    on_sale: bool
    capacity: int
    sold: int
    reserved: int
    held: int
    available: int
    categories: list[CategoryFigures] = field(default_factory=list)

    def as_dict(self, *, iso: bool = False) -> dict[str, Any]:
        """As a dict (``iso``: the start as an ISO string, for a page's script)."""
        out = asdict(self)
        if iso:
            out["starts_at"] = self.starts_at.isoformat()
        return out


def _ticket_counts(session: Session, ids: list[int]) -> dict[tuple[int, int, str], int]:
    rows = session.execute(select(Ticket.performance_id, Ticket.category_id, Ticket.state, func.count())
                           .where(Ticket.performance_id.in_(ids), Ticket.state != "cancelled")
                           .group_by(Ticket.performance_id, Ticket.category_id, Ticket.state)).all()
    return {(p, c, s): n for p, c, s, n in rows}


def _figures(performance: Performance, counts: dict) -> PerformanceFigures:
    categories = []
    for quota in sorted(performance.quotas, key=lambda q: (q.category.position, q.category.label)):
        sold = sum(counts.get((performance.id, quota.category_id, s), 0) for s in SOLD_STATES)
        reserved = counts.get((performance.id, quota.category_id, "reserved"), 0)
        categories.append(CategoryFigures(
            quota.category_id, quota.category.code, quota.category.label, None, _("Hors cont."), quota.capacity,
            sold, reserved, max(0, quota.taken - sold - reserved), max(0, quota.capacity - quota.taken)))
    sold = sum(c.sold for c in categories)
    reserved = sum(c.reserved for c in categories)
    available = min(max(0, performance.capacity - performance.taken), sum(c.available for c in categories))
    return PerformanceFigures(performance.id, performance_label(performance), performance.event.title,
                              performance.venue.name, performance.starts_at, performance.on_sale,
                              performance.capacity, sold, reserved, max(0, performance.taken - sold - reserved),
                              available, categories)


def _load(session: Session, stmt) -> list[Performance]:
    return list(session.scalars(stmt.options(selectinload(Performance.quotas).selectinload(PerformanceQuota.category),
                                             selectinload(Performance.event), selectinload(Performance.venue))
                                .execution_options(populate_existing=True)))


def performance_figures(session: Session, performance: Any) -> PerformanceFigures:
    """The figures of one performance (instance or id; NotFoundError)."""
    perf_id = get_performance(session, performance if isinstance(performance, int) else performance.id).id
    found = _load(session, select(Performance).where(Performance.id == perf_id))
    return _figures(found[0], _ticket_counts(session, [perf_id]))


def figures(session: Session, *, performance_ids: Iterable[int] | None = None, starts_from: datetime | None = None,
            include_past: bool = False, limit: int = 100) -> list[PerformanceFigures]:
    """The figures of the given performances, else of the upcoming ones (from ``starts_from``, now
    by default), by date."""
    stmt = select(Performance).order_by(Performance.starts_at, Performance.id)
    if performance_ids is not None:
        stmt = stmt.where(Performance.id.in_(list(performance_ids)))
    elif not include_past:
        stmt = stmt.where(Performance.starts_at >= (starts_from or utcnow()))
    found = _load(session, stmt.limit(max(1, min(int(limit), 500))))
    counts = _ticket_counts(session, [p.id for p in found]) if found else {}
    return [_figures(p, counts) for p in found]
