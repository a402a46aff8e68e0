"""Small helpers shared by the services: look-ups by instance / id / code, money input.

Time, money and their formats are the host's (``coulisses.i18n``: ``local_time``, ``currency``,
``format_money``, ``format_datetime``); the three names at the end of this module only spell the
sales labels with them ("Lun 02.11.2015 20:15", "28.09.2015 17:03", "2 420,00 €") in the current
language.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.db import currency_exponent, to_money
from coulisses.i18n import _, format_datetime, format_money

ZERO = Decimal("0.00")


def get(session: Session, model, ref: Any, not_found: Any, *, by_code: bool = True):
    """``ref`` as an instance of ``model``: the instance itself, its id, or (``by_code``) its code.
    ``not_found``: the message when there is none ("Séance introuvable", a lazy string), followed by
    the reference."""
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
        raise NotFoundError(_("%(what)s : %(ref)s", what=str(not_found), ref=ref))
    return obj


def contact(session: Session, ref: Any, field: str = "contact"):
    from plugins.contacts.models import Contact

    if ref is None:
        return None
    if isinstance(ref, Contact):
        return ref
    obj = session.get(Contact, int(ref)) if isinstance(ref, int) else None
    if obj is None:
        raise InvalidError(_("Contact introuvable"), {field: _("Contact introuvable : %(ref)s", ref=ref)})
    return obj


def money(value: Any, field: str = "amount") -> Decimal:
    """An amount given to a service (``Decimal``, int or decimal string; floats refused): the host's
    ``coulisses.db.to_money``, its error as a translated ``InvalidError`` naming ``field``."""
    try:
        return to_money(value)
    except TypeError:  # a float (or not a number at all): never money
        raise InvalidError(_("Montant invalide"), {field: _(
            "Montant invalide : %(value)s (jamais un float : un décimal exact, par exemple « 10.50 »)",
            value=value)}) from None
    except ValueError:  # not an amount, or more decimals than the currency has
        raise InvalidError(_("Montant invalide"), {field: _(
            "Montant invalide : %(value)s (%(digits)s décimales au plus)", value=value,
            digits=currency_exponent())}) from None


def short_datetime(dt: datetime) -> str:
    """``Lun 02.11.2015 20:15`` (fr), ``Mon 02/11/2015 20:15`` (en): ``format_datetime(weekday=True)``."""
    return format_datetime(dt, weekday=True)


def plain_datetime(dt: datetime) -> str:
    """``28.09.2015 17:03`` (fr), ``28/09/2015 17:03`` (en, es): ``format_datetime``."""
    return format_datetime(dt)


def format_amount(amount: Decimal) -> str:
    """``2 420,00 €`` (fr), ``€2,420.00`` (en): the host's ``format_money``."""
    return format_money(amount)
