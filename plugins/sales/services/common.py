"""Small helpers shared by the services: look-ups by instance / id / code, money, time zone."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.config import current_config
from coulisses.db import to_money

ZERO = Decimal("0.00")
WEEKDAYS_FR = ("Lun", "Mar", "Mer", "Jeu", "Ven", "Sam", "Dim")


def get(session: Session, model, ref: Any, what: str, *, by_code: bool = True):
    """``ref`` as an instance of ``model``: the instance itself, its id, or (``by_code``) its code."""
    if isinstance(ref, model):
        return ref
    obj = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        obj = session.get(model, ref)
    elif isinstance(ref, str) and by_code and hasattr(model, "code"):
        obj = session.scalar(select(model).where(model.code == ref))
    elif isinstance(ref, str) and ref.isdigit():
        obj = session.get(model, int(ref))
    if obj is None:
        raise NotFoundError(f"{what} introuvable : {ref}")
    return obj


def contact(session: Session, ref: Any, field: str = "contact"):
    from plugins.contacts.models import Contact

    if ref is None:
        return None
    if isinstance(ref, Contact):
        return ref
    obj = session.get(Contact, int(ref)) if isinstance(ref, int) else None
    if obj is None:
        raise InvalidError("Contact introuvable", {field: f"Contact introuvable : {ref}"})
    return obj


def money(value: Any, field: str = "amount") -> Decimal:
    try:
        return to_money(value)
    except (TypeError, ValueError) as exc:
        raise InvalidError("Montant invalide", {field: str(exc)}) from None


def timezone() -> ZoneInfo:
    return ZoneInfo(current_config().get("TIMEZONE") or "Europe/Paris")


def local_time(dt: datetime) -> datetime:
    return dt.astimezone(timezone())


def short_datetime(dt: datetime) -> str:
    """``Lun 02.11.2015 20:15`` in the deployment's time zone."""
    local = local_time(dt)
    return f"{WEEKDAYS_FR[local.weekday()]} {local:%d.%m.%Y %H:%M}"


def plain_datetime(dt: datetime) -> str:
    """``28.09.2015 17:03`` in the deployment's time zone."""
    return f"{local_time(dt):%d.%m.%Y %H:%M}"


def format_amount(amount: Decimal) -> str:
    """``2 420,00 €`` (French), without needing Flask."""
    from babel.numbers import format_currency

    from coulisses.db import CURRENCY

    return format_currency(amount, CURRENCY, locale="fr_FR")
