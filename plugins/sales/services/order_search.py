"""The orders list of the "Dossiers" screen: by number, by buyer (the contacts quick search), by
state. A thin query for a screen; the order itself is read with ``detail.order_detail``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
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


def search_orders(session: Session, q: str = "", *, state: str | None = None, limit: int = 50) -> list[OrderRow]:
    """``q``: an order number (exact), else a contact quick search (name, "Dupont, j", number,
    e-mail) whose orders are listed (as buyer, payer or structure). Newest first."""
    from plugins.contacts.models import Contact
    from plugins.contacts.services.search import quick_search

    stmt = select(Order).order_by(Order.created_at.desc(), Order.id.desc()).limit(max(1, min(limit, 500)))
    q = (q or "").strip()
    if q.isdigit():
        contact_ids = [h.contact_id for h in quick_search(session, q, limit=5) if str(h.number) == q]
        stmt = stmt.where(or_(Order.number == int(q), Order.buyer_id.in_(contact_ids)))
    elif q:
        ids = [h.contact_id for h in quick_search(session, q, limit=100, include_invalid=True)]
        if not ids:
            return []
        stmt = stmt.where(or_(Order.buyer_id.in_(ids), Order.payer_id.in_(ids), Order.structure_id.in_(ids)))
    if state:
        stmt = stmt.where(Order.state == state)
    found = list(session.scalars(stmt))
    if not found:
        return []
    counts = dict(session.execute(select(Ticket.order_id, func.count()).where(
        Ticket.order_id.in_([o.id for o in found]), Ticket.state != "cancelled").group_by(Ticket.order_id)).all())
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({o.buyer_id for o in found})))}
    return [OrderRow(o.number, o.created_at, contacts[o.buyer_id].number,
                     f"{contacts[o.buyer_id].display_name} [{contacts[o.buyer_id].number}]", o.state,
                     str(ORDER_STATE_LABELS.get(o.state, o.state)), counts.get(o.id, 0), o.total, o.total - o.paid)
            for o in found]
