"""The catalogue's rules, one place for the screens and the REST API: what a season, a venue, a seat
category, an event, an audience, a tariff, a fee or a price must satisfy to be saved, the audiences'
and fees' changes, and deactivation.

- ``check(session, obj)`` validates a row about to be saved, whoever built it (the API's services
  or a Flask-Admin form): a code is unique (``ConflictError`` naming it), a season ends after it
  starts, an amount or a price is never negative, a capacity never drops below what is taken
  (``InvalidError`` with the field's message). The screens and the API refuse the same things with
  the same message.
- ``set_active(session, model, ref, active)`` deactivates (or reactivates) a season, a venue, a seat
  category, an event (its performances go off sale too), an audience, a tariff or a fee. A
  deactivated row stays on the orders and tickets that refer to it and is no longer offered when
  selling (``catalogue.performances_on_sale`` / ``prices_for`` leave it out).
- ``remove(session, obj)`` deletes a row nothing refers to and deactivates one that is referenced
  (tickets, prices, quotas, performances…): returns ``"deleted"`` or ``"deactivated"``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.i18n import _, _l, lazy_pgettext

from plugins.sales.models import (
    Audience, Event, Fee, Performance, PerformanceQuota, Price, Season, Seat, SeatCategory, Tariff, Venue,
)
from plugins.sales.models.orders import OrderLine, Ticket
from plugins.sales.services.catalogue import _unique_code, check_capacity, check_season_dates
from plugins.sales.services.common import get, money

# What each deactivatable model is called in messages ("Saison introuvable : 12").
WHAT = {
    Season: (_l("Saison"), _l("Saison introuvable")),
    Venue: (_l("Lieu"), _l("Lieu introuvable")),
    SeatCategory: (_l("Catégorie"), _l("Catégorie introuvable")),
    Event: (_l("Événement"), _l("Événement introuvable")),
    Audience: (lazy_pgettext("audience", "Public"), _l("Public introuvable")),
    Tariff: (_l("Tarif"), _l("Tarif introuvable")),
    Fee: (_l("Frais"), _l("Frais introuvables")),
}


# --------------------------------------------------------------------------- validation


def check_amount(amount, field: str = "amount") -> None:
    """An amount (fee) is never negative."""
    if amount is not None and money(amount) < 0:
        raise InvalidError(_("Montant négatif"), {field: _("Le montant doit être positif ou nul")})


def check_price_amount(amount) -> None:
    """A price is never negative (the same message as ``catalogue.set_price``)."""
    if amount is not None and money(amount) < 0:
        raise InvalidError(_("Prix négatif"), {"amount": _("Le prix doit être positif ou nul")})


def _check_code(session: Session, obj: Any) -> None:
    if not (obj.code or "").strip():
        raise InvalidError(_("Code requis"), {"code": _("Le code est obligatoire")})
    _unique_code(session, type(obj), obj.code, WHAT[type(obj)][0], obj if obj.id is not None else None)


def check(session: Session, obj: Any) -> None:
    """Validate ``obj`` (new or changed, flushed or not) with the rules the API applies."""
    with session.no_autoflush:  # a screen's half-built row must not be flushed by the checks' queries
        if isinstance(obj, tuple(WHAT)):
            _check_code(session, obj)
        if isinstance(obj, Season):
            check_season_dates(obj.start_date, obj.end_date)
        elif isinstance(obj, Fee):
            check_amount(obj.amount)
        elif isinstance(obj, Price):
            check_price_amount(obj.amount)
        elif isinstance(obj, Performance) and obj.id is not None:
            check_capacity(obj, obj.capacity or 0)
        elif isinstance(obj, PerformanceQuota):
            if (obj.capacity or 0) < (obj.taken or 0):
                raise ConflictError(_("%(taken)s places sont déjà prises en %(category)s : la jauge ne peut pas "
                                      "descendre à %(capacity)s", taken=obj.taken,
                                      category=obj.category.label if obj.category else "", capacity=obj.capacity))


# --------------------------------------------------------------------------- audiences and fees


def create_audience(session: Session, code: str, label: str, position: int = 0) -> Audience:
    audience = Audience(code=code, label=label, position=position)
    check(session, audience)
    session.add(audience)
    session.flush()
    return audience


def update_audience(session: Session, audience: Any, **changes) -> Audience:
    audience = get(session, Audience, audience, _l("Public introuvable"), by_code=False)
    _apply(audience, changes, ("code", "label", "position", "active"))
    check(session, audience)
    session.flush()
    return audience


def create_fee(session: Session, code: str, label: str, amount, *, refundable: bool = True, event: Any = None,
               channel: Any = None) -> Fee:
    from plugins.sales.models import SalesChannel

    check_amount(amount)
    fee = Fee(code=code, label=label, amount=money(amount), refundable=refundable,
              event_id=get(session, Event, event, _l("Événement introuvable")).id if event is not None else None,
              channel_id=get(session, SalesChannel, channel, _l("Filière introuvable")).id if channel is not None else None)
    check(session, fee)
    session.add(fee)
    session.flush()
    return fee


def update_fee(session: Session, fee: Any, **changes) -> Fee:
    """Change a fee. The tickets already sold keep the fees they were sold with."""
    from plugins.sales.models import SalesChannel

    fee = get(session, Fee, fee, _l("Frais introuvables"), by_code=False)
    if "amount" in changes and changes["amount"] is not None:
        check_amount(changes["amount"])
        changes["amount"] = money(changes["amount"])
    if "event" in changes:
        event = changes.pop("event")
        fee.event_id = get(session, Event, event, _l("Événement introuvable")).id if event is not None else None
    if "channel" in changes:
        channel = changes.pop("channel")
        fee.channel_id = (get(session, SalesChannel, channel, _l("Filière introuvable")).id
                          if channel is not None else None)
    _apply(fee, changes, ("code", "label", "amount", "refundable", "active"))
    check(session, fee)
    session.flush()
    return fee


def _apply(obj: Any, changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in allowed:
        if name in changes and changes[name] is not None:
            setattr(obj, name, changes[name])


# --------------------------------------------------------------------------- deactivation


def set_active(session: Session, model, ref: Any, active: bool) -> Any:
    """Deactivate (``active=False``) or reactivate a catalogue row. Deactivating an event also takes
    its performances off sale (reactivating it does not put them back: each is put on sale again
    on purpose)."""
    obj = get(session, model, ref, WHAT[model][1], by_code=False)
    obj.active = bool(active)
    if model is Event and not active:
        for performance in session.scalars(select(Performance).where(Performance.event_id == obj.id)):
            performance.on_sale = False
    session.flush()
    return obj


def is_referenced(session: Session, obj: Any) -> bool:
    """Whether orders, tickets or other catalogue rows refer to ``obj`` (then it is deactivated, not
    deleted)."""
    checks = {
        Season: [Event.season_id == obj.id, Performance.season_id == obj.id],
        Venue: [Performance.venue_id == obj.id],
        SeatCategory: [PerformanceQuota.category_id == obj.id, Price.category_id == obj.id,
                       Seat.category_id == obj.id, Ticket.category_id == obj.id, OrderLine.category_id == obj.id],
        Event: [Performance.event_id == obj.id],
        Audience: [Tariff.audience_id == obj.id],
        Tariff: [Price.tariff_id == obj.id, Ticket.tariff_id == obj.id, OrderLine.tariff_id == obj.id],
        Fee: [],  # a ticket keeps the amount of its fees, not a reference
    }[type(obj)]
    return any(session.scalar(select(exists().where(cond))) for cond in checks)


def remove(session: Session, obj: Any) -> str:
    """Delete ``obj`` when nothing refers to it, otherwise deactivate it; ``"deleted"`` or
    ``"deactivated"``."""
    if is_referenced(session, obj):
        set_active(session, type(obj), obj, False)
        return "deactivated"
    session.delete(obj)
    session.flush()
    return "deleted"


def removal_message(obj: Any, outcome: str) -> str:
    """What the operator reads after ``remove``."""
    what = WHAT[type(obj)][0]
    if outcome == "deactivated":
        return _("%(what)s « %(name)s » : des billets, des prix ou des séances s'y rapportent. "
                 "Désactivation au lieu de suppression.", what=str(what), name=str(obj))
    return _("Suppression effectuée : %(what)s « %(name)s ».", what=str(what), name=str(obj))
