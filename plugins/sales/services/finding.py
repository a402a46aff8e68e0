"""Finding orders and tickets: by number, by contact, by barcode, by barcode range.

Part of ``plugins.sales.services.orders`` (which re-exports every name here): import them from there.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _

from plugins.sales.models import Order, Ticket
from plugins.sales.services import barcodes
from plugins.sales.services.common import plain_datetime


def get_order(session: Session, number: int) -> Order:
    order = session.scalar(select(Order).where(Order.number == int(number)))
    if order is None:
        raise NotFoundError(_("Dossier introuvable : %(number)s", number=number))
    return order


def orders_of(session: Session, contact: Any, limit: int = 100) -> list[Order]:
    cid = contact if isinstance(contact, int) else int(contact.id)
    stmt = (select(Order).where((Order.buyer_id == cid) | (Order.payer_id == cid) | (Order.structure_id == cid))
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def _valid_barcode(value: str, field: str) -> str:
    """The barcode as typed or scanned, trimmed. Any stored barcode is found: tickets imported or
    issued by another system carry numbers our check digit does not guard (the seed's
    ``01010002748``), so the check digit only guards what ``barcodes.allocate`` generates and a
    look-up checks nothing but that something was typed."""
    value = (value or "").strip()
    if not value:
        raise InvalidError(_("Saisissez un code-barres"), {field: _("Code-barres requis")})
    return value


def find_ticket(session: Session, barcode: str) -> Ticket:
    barcode = _valid_barcode(barcode, "barcode")
    ticket = session.scalar(select(Ticket).where(Ticket.barcode == barcode))
    if ticket is None:
        raise NotFoundError(_("Code-barres inconnu : %(barcode)s", barcode=barcode))
    return ticket


def find_tickets_range(session: Session, first: str, last: str, *, limit: int = 1000) -> list[Ticket]:
    first, last = _valid_barcode(first, "first"), _valid_barcode(last, "last")
    if first > last:
        first, last = last, first
    tickets = list(session.scalars(select(Ticket).where(Ticket.barcode >= first, Ticket.barcode <= last)
                                   .order_by(Ticket.barcode).limit(limit + 1)))
    if len(tickets) > limit:
        raise InvalidError(_("Plage trop grande"), {"last": _("Plus de %(limit)s billets dans la plage", limit=limit)})
    return tickets


def when_label(dt: datetime) -> str:
    return plain_datetime(dt)
