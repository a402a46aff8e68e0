"""The orders list of the "Dossiers" screen: by number, by contact (the contacts quick search:
buyer, payer or structure), by state, creation date (local days), performance and point of sale,
paged (``find_orders``). A thin query for a screen; the order itself is read with
``detail.order_detail``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, or_, select
from coulisses.i18n import deployment_timezone
from sqlalchemy.orm import Session

from plugins.sales.models import ORDER_STATE_LABELS, Order, Ticket


@dataclass
class OrderRow:
    number: int
    created_at: datetime
    buyer_number: int
    buyer: str
    state: str
    state_label: str
    tickets: int
    total: Decimal
    balance: Decimal
    option_expires_at: datetime | None = None  # a reservation's expiry (``services.reservations``)


@dataclass
class OrderPage:
    rows: list[OrderRow]
    total: int  # orders matching the filters (all pages)
    offset: int
    limit: int

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total


def _local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=deployment_timezone()).astimezone(timezone.utc)


def find_orders(session: Session, q: str = "", *, state: str | None = None, date_from: date | None = None,
                date_to: date | None = None, performance_id: int | None = None,
                point_of_sale_id: int | None = None, offset: int = 0, limit: int = 50) -> OrderPage:
    """A page of orders, newest first. ``q``: an order number (exact) or a contact's number, else a
    contact quick search (name, "Dupont, j", e-mail) whose orders are listed (as buyer, payer or
    structure); ``date_from`` / ``date_to``: creation days in the deployment's time zone, both
    included; ``performance_id``: orders with a ticket for it; ``point_of_sale_id``: where the order
    was made. ``total`` counts every matching order, so the screen can page."""
    from plugins.contacts.models import Contact
    from plugins.contacts.services.search import quick_search

    limit, offset = max(1, min(int(limit), 500)), max(0, int(offset))
    stmt = select(Order)
    q = (q or "").strip()
    if q.isdigit():
        contact_ids = [h.contact_id for h in quick_search(session, q, limit=5) if str(h.number) == q]
        stmt = stmt.where(or_(Order.number == int(q), Order.buyer_id.in_(contact_ids)))
    elif q:
        ids = [h.contact_id for h in quick_search(session, q, limit=100, include_invalid=True)]
        if not ids:
            return OrderPage([], 0, offset, limit)
        stmt = stmt.where(or_(Order.buyer_id.in_(ids), Order.payer_id.in_(ids), Order.structure_id.in_(ids)))
    if state:
        stmt = stmt.where(Order.state == state)
    if date_from:
        stmt = stmt.where(Order.created_at >= _local_day_start(date_from))
    if date_to:
        stmt = stmt.where(Order.created_at < _local_day_start(date_to + timedelta(days=1)))
    if performance_id:
        stmt = stmt.where(Order.id.in_(select(Ticket.order_id).where(Ticket.performance_id == int(performance_id))))
    if point_of_sale_id:
        stmt = stmt.where(Order.point_of_sale_id == int(point_of_sale_id))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    found = list(session.scalars(stmt.order_by(Order.created_at.desc(), Order.id.desc()).offset(offset).limit(limit)))
    if not found:
        return OrderPage([], total, offset, limit)
    counts = dict(session.execute(select(Ticket.order_id, func.count()).where(
        Ticket.order_id.in_([o.id for o in found]), Ticket.state != "cancelled").group_by(Ticket.order_id)).all())
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({o.buyer_id for o in found})))}
    rows = [OrderRow(o.number, o.created_at, contacts[o.buyer_id].number,
                     f"{contacts[o.buyer_id].display_name} [{contacts[o.buyer_id].number}]", o.state,
                     str(ORDER_STATE_LABELS.get(o.state, o.state)), counts.get(o.id, 0), o.total, o.total - o.paid,
                     o.option_expires_at if o.state == "reserved" else None)
            for o in found]
    return OrderPage(rows, total, offset, limit)


def search_orders(session: Session, q: str = "", *, state: str | None = None, limit: int = 50) -> list[OrderRow]:
    """The first page of ``find_orders`` (by ``q`` and ``state``), as a list."""
    return find_orders(session, q, state=state, limit=limit).rows
