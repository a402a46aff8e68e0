"""An order's totals and state, its lock, and the confirmation of a reservation: what both
``orders`` (selling, cancelling, printing) and ``payments`` (paying, refunding) build on.

The services form layers, each importing only those below it (no import cycle):
``common`` → ``settings`` → ``journal``, ``events`` → ``capacity``, ``credit`` → ``state`` → ``payments`` →
``orders`` → ``baskets``.
Every name here is also part of ``plugins.sales.services.orders`` (SERVICES.md).

State of an order (``refresh``): ``reserved`` while its live tickets are all reserved;
``settled`` when it has sold tickets and its balance is zero; ``not_settled`` when money is due
either way (sold and unpaid, or overpaid after a cancellation: to refund); ``cancelled`` when no
ticket is live and the balance is zero.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, inspect, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, NotFoundError
from coulisses.db import Money, begin_write, lock_rows, utcnow
from coulisses.i18n import _

from plugins.sales.models import ACTIVE_TICKET_STATES, Order, Payment, SeatBooking, Ticket
from plugins.sales.registry import Registry, get_registry
from plugins.sales.services.common import ZERO
from plugins.sales.services import events
from plugins.sales.services.journal import record_operation, transaction_cache
from plugins.sales.services.settings import resolve_point_of_sale


def record_purchase(session: Session, order: Order, registry: Registry) -> None:
    """Tell contacts who bought (their "customer" status, seniority): the buyer, the payer and the
    structure a relay bought for (each once). Their indicators are recomputed by a job after the
    commit (``services.deferred``), not inside the sale."""
    from plugins.contacts.services.activity import record_purchase
    from plugins.sales.services.deferred import request_indicators

    now = utcnow()
    ids = list(dict.fromkeys(i for i in (order.buyer_id, order.payer_id, order.structure_id) if i is not None))
    contacts_registry = registry.contacts()
    for contact_id in ids:
        record_purchase(session, contact_id, now, registry=contacts_registry, recompute=False)
    request_indicators(session, ids, registry=contacts_registry)


# --------------------------------------------------------------------------- totals and state


def _new_orders(session: Session) -> dict:
    return transaction_cache(session, "sales_new_orders")


def mark_new(session: Session, order: Order) -> None:
    """Remember that ``order`` was inserted by this transaction (``lock_order`` then needs no lock)."""
    _new_orders(session)[order.id] = True


def lock_order(session: Session, order: Order | int) -> Order:
    """Lock the order row (and refresh it) for a change of its tickets or money. An order this very
    transaction inserted is returned as it is: nobody else sees its row before the commit, so
    there is nothing to wait for and nothing newer to read."""
    order_id = order if isinstance(order, int) else order.id
    if order_id in _new_orders(session):
        mine = order if isinstance(order, Order) else session.get(Order, order_id)
        if mine is not None and inspect(mine).persistent:
            return mine
    locked = lock_rows(session, select(Order).where(Order.id == order_id)
                       .execution_options(populate_existing=True)).scalar()
    if locked is None:
        raise NotFoundError(_("Dossier introuvable : %(number)s", number=order_id))
    return locked


def _amount_column():
    return case((Ticket.state == "cancelled", Ticket.retained), else_=Ticket.price + Ticket.fees)


def computed_totals(session: Session, order: Order) -> tuple[Decimal, Decimal]:
    """(total, paid) computed from the tickets and the payments."""
    total = session.scalar(select(func.coalesce(func.sum(_amount_column()), 0, type_=Money()))
                           .where(Ticket.order_id == order.id))
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0, type_=Money()))
                          .where(Payment.order_id == order.id))
    return total, paid


def refresh(session: Session, order: Order, *, totals: bool = True) -> str:
    """Recompute ``total``, ``paid`` and ``state``; returns the previous state. ``totals=False``: keep
    ``total`` and ``paid`` as the caller maintained them under the order's lock (a payment adds its
    amount to ``paid``; a new order knows its total) and recompute the state only."""
    session.flush()
    previous = order.state
    if totals:
        order.total, order.paid = computed_totals(session, order)
    counts = dict(session.execute(select(Ticket.state, func.count()).where(Ticket.order_id == order.id)
                                  .group_by(Ticket.state)).all())
    live = sum(counts.get(s, 0) for s in ACTIVE_TICKET_STATES)
    sold = counts.get("paid", 0) + counts.get("printed", 0)
    balance = order.total - order.paid
    if live == 0:
        order.state = "cancelled" if balance == 0 else "not_settled"
    elif sold == 0:
        order.state = "reserved"
    else:
        order.state = "settled" if balance == 0 else "not_settled"
    session.flush()
    return previous


recompute_order = refresh


def check_order(session: Session, order: Order) -> list[str]:
    """The order's invariants as messages (empty: all hold)."""
    problems = []
    total, paid = computed_totals(session, order)
    if order.total != total:
        problems.append(f"total {order.total} != tickets {total}")
    if order.paid != paid:
        problems.append(f"paid {order.paid} != payments {paid}")
    payments = session.scalars(select(Payment.amount).where(Payment.order_id == order.id)).all()
    payments_in = sum((a for a in payments if a > 0), ZERO)
    refunds = sum((-a for a in payments if a < 0), ZERO)
    if order.total - order.paid != total - payments_in + refunds:
        problems.append("balance != total - payments + refunds")
    for t in session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.seat_id.is_not(None))):
        booked = session.get(SeatBooking, (t.performance_id, t.seat_id))
        if t.active and (booked is None or booked.ticket_id != t.id):
            problems.append(f"ticket {t.barcode} holds no booking of its seat")
        if not t.active and booked is not None and booked.ticket_id == t.id:
            problems.append(f"cancelled ticket {t.barcode} still books its seat")
    return problems


def confirm(session: Session, order: Order, *, point_of_sale: Any = None, operation=None,
            _locked: bool = False) -> Order:
    """A reservation becomes a sale: its reserved tickets are sold (money may still be due).
    ``operation``: the basket's operation to join (default: a ``confirm`` operation of its own)."""
    pos = resolve_point_of_sale(session, point_of_sale)  # refused when closed, before any lock
    if not _locked:
        begin_write(session)
        order = lock_order(session, order)
    reserved = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state == "reserved")))
    if not reserved:
        raise ConflictError(_("Le dossier %(number)s n'a pas de billet réservé à confirmer", number=order.number))
    registry = get_registry()
    operation = record_operation(session, "confirm", order=order, point_of_sale=pos, registry=registry,
                                 details={"tickets": [t.barcode for t in reserved]}, operation=operation)
    now = utcnow()
    for t in reserved:
        t.state, t.sold_at = "paid", now
    session.flush()
    record_purchase(session, order, registry)
    events.emit(session, "tickets_to_print", order=order, operation=operation, tickets=reserved)
    previous = refresh(session, order)
    if order.state == "settled" and previous != "settled":
        registry.hook("sales_order_paid", session=session, order=order)
        events.emit(session, "order_paid", order=order, operation=operation)
    return order


