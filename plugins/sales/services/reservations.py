"""Reservations ("pose d'option"): a reservation holds its places until an expiry date and time.

- Each point of sale has a default (``PointOfSale.option_hours``, 72 h; 0: the reservation holds
  until it is cancelled); a reservation made there gets ``Order.option_expires_at`` = creation time
  + that many hours (the ``sales_order_created`` hook calls ``apply_default_expiry``).
- The operator changes it per order (``set_expiry``: an ``option`` operation in the order's history).
- The periodic task ``sales.expire_reservations`` (hourly) calls ``release_expired``: the reserved
  tickets of every order whose option has expired are cancelled, their places and seats freed, in one
  ``option_expired`` operation per order (the order's history says so). Paid tickets are never
  touched; deposits stay on the order (to refund), as with ``cancel_reservation``.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import begin_write, utcnow
from coulisses.i18n import _

from plugins.sales.models import Order, PointOfSale, Ticket
from plugins.sales.registry import get_registry
from plugins.sales.services import capacity
from plugins.sales.services.journal import record_operation
from plugins.sales.services.settings import get_point_of_sale
from plugins.sales.services.state import lock_order, refresh

log = logging.getLogger("plugins.sales.reservations")

MAX_OPTION_HOURS = 24 * 366


def default_expiry(point_of_sale: PointOfSale | None, start: datetime | None = None) -> datetime | None:
    """When a reservation made now at ``point_of_sale`` expires by default (None: never)."""
    hours = point_of_sale.option_hours if point_of_sale is not None else 0
    if not hours:
        return None
    return (start or utcnow()) + timedelta(hours=hours)


def apply_default_expiry(session: Session, order: Order) -> None:
    """Give a new reservation its point of sale's default expiry (a sale gets none)."""
    if order.state != "reserved" or order.option_expires_at is not None:
        return
    pos = session.get(PointOfSale, order.point_of_sale_id) if order.point_of_sale_id else None
    order.option_expires_at = default_expiry(pos, order.created_at or utcnow())


def set_option_hours(session: Session, point_of_sale: Any, hours: Any) -> PointOfSale:
    """The default duration of the reservations made at ``point_of_sale`` (hours; 0: no expiry)."""
    pos = get_point_of_sale(session, point_of_sale)
    try:
        value = int(str(hours).strip())
    except (TypeError, ValueError):
        value = -1
    if value < 0 or value > MAX_OPTION_HOURS:
        raise InvalidError(_("Durée d'option invalide"), {"option_hours": _(
            "Un nombre d'heures entre 0 (sans échéance) et %(max)s", max=MAX_OPTION_HOURS)})
    pos.option_hours = value
    session.flush()
    return pos


def has_reserved_tickets(session: Session, order: Order) -> bool:
    return bool(session.scalar(select(exists().where(Ticket.order_id == order.id, Ticket.state == "reserved"))))


def set_expiry(session: Session, order: Order, expires_at: datetime | None, *, point_of_sale: Any = None,
               operation=None) -> Order:
    """Change (or remove, ``None``) the expiry of ``order``'s reservation: an ``option`` operation
    (``operation=``: a basket's, joined).
    Refused when the order holds no reserved ticket (ConflictError) or the moment is past or naive
    (InvalidError on ``option_expires_at``)."""
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise InvalidError(_("Date d'échéance invalide"), {"option_expires_at": _("Date et heure avec fuseau attendues")})
        if expires_at <= utcnow():
            raise InvalidError(_("L'échéance de l'option doit être dans le futur"),
                               {"option_expires_at": _("Date passée")})
    begin_write(session)
    order = lock_order(session, order)
    if not has_reserved_tickets(session, order):
        raise ConflictError(_("Le dossier %(number)s n'a pas de place réservée : pas d'option à changer",
                              number=order.number))
    previous = order.option_expires_at
    record_operation(session, "option", order=order, point_of_sale=point_of_sale, operation=operation,
                     details={"expires_at": expires_at.isoformat() if expires_at else None,
                              "previous": previous.isoformat() if previous else None})
    order.option_expires_at = expires_at
    session.flush()
    return order


def expired_orders(session: Session, now: datetime | None = None, limit: int = 500) -> list[int]:
    """The ids of the orders whose option has expired and which still hold reserved tickets."""
    now = now or utcnow()
    return list(session.scalars(
        select(Order.id).where(Order.option_expires_at.is_not(None), Order.option_expires_at <= now,
                               exists().where(Ticket.order_id == Order.id, Ticket.state == "reserved"))
        .order_by(Order.option_expires_at, Order.id).limit(limit)))


def release_order(session: Session, order_id: int, now: datetime | None = None) -> list[Ticket]:
    """Release the reserved tickets of one expired order (one ``option_expired`` operation, at the
    order's point of sale when it is still open); nothing when it no longer qualifies."""
    now = now or utcnow()
    begin_write(session)
    order = lock_order(session, order_id)
    if order.option_expires_at is None or order.option_expires_at > now:
        return []
    reserved = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state == "reserved")
                                    .order_by(Ticket.id).execution_options(populate_existing=True)))
    if not reserved:
        return []
    pos = session.get(PointOfSale, order.point_of_sale_id) if order.point_of_sale_id else None
    registry = get_registry()
    capacity.lock_places(session, {(t.performance_id, t.category_id) for t in reserved})
    operation = record_operation(session, "option_expired", order=order,
                                 point_of_sale=pos if pos is not None and pos.active else None, registry=registry,
                                 details={"tickets": [t.barcode for t in reserved],
                                          "expired_at": order.option_expires_at.isoformat()})
    capacity.release(session, reserved)
    for t in reserved:
        t.state, t.cancelled_at, t.cancel_operation_id = "cancelled", now, operation.id
    session.flush()
    refresh(session, order)
    registry.hook("sales_tickets_cancelled", session=session, order=order, tickets=reserved)
    return reserved


def release_expired(session: Session, now: datetime | None = None, *, commit_each: bool = False) -> dict:
    """Release every expired reservation. ``commit_each`` (the periodic task): each order in its own
    transaction, so one refusal (a plugin's veto) leaves the others released; the refusals are
    returned (and the task fails with them once the others are done)."""
    released, failed = [], {}
    for order_id in expired_orders(session, now):
        try:
            tickets = release_order(session, order_id, now)
            if commit_each:
                session.commit()
        except Exception as exc:  # noqa: BLE001 - one order's refusal must not keep the others
            if not commit_each:
                raise
            session.rollback()
            failed[order_id] = f"{type(exc).__name__}: {exc}"
            log.error("expired reservation of order id %s not released: %s", order_id, exc)
            continue
        if tickets:
            released.append(tickets[0].order.number)
    return {"released": released, "failed": failed}


def expire_reservations_task(session: Session) -> dict:
    """The periodic task ``sales.expire_reservations``."""
    outcome = release_expired(session, commit_each=True)
    if outcome["failed"]:
        raise RuntimeError("orders not released: " + "; ".join(f"{k}: {v}" for k, v in outcome["failed"].items()))
    return outcome
