"""The domain logic: plain functions taking a ``Session``; no Flask here (CLI, API, tests share them)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.db import to_money

from coulisses_patrons.models import Patronage


def add_pledge(session: Session, donor_name: str, amount, pledged_on: date | None = None,
               note: str = "") -> Patronage:
    """Record a pledge. ``amount`` is a ``Decimal``, an int or a decimal string, never a float."""
    errors: dict[str, str] = {}
    donor_name = (donor_name or "").strip()
    if not donor_name:
        errors["donor_name"] = "The donor's name is required."
    try:
        amount = to_money(amount)
        if amount <= 0:
            errors["amount"] = "The amount must be positive."
    except (TypeError, ValueError) as exc:
        errors["amount"] = str(exc)
    if errors:
        raise InvalidError("The pledge is not valid", errors)
    pledge = Patronage(donor_name=donor_name, amount=amount, pledged_on=pledged_on or date.today(),
                       note=note or "")
    session.add(pledge)
    session.flush()
    return pledge


def total_pledged(session: Session, year: int | None = None) -> Decimal:
    """The sum of the pledges (of one calendar year when ``year`` is given)."""
    stmt = select(func.coalesce(func.sum(Patronage.amount), 0))
    if year is not None:
        stmt = stmt.where(Patronage.pledged_on >= date(year, 1, 1), Patronage.pledged_on < date(year + 1, 1, 1))
    return session.scalar(stmt)


def list_pledges(session: Session) -> list[Patronage]:
    return list(session.scalars(select(Patronage).order_by(Patronage.pledged_on.desc(), Patronage.id.desc())))


DEMO_PLEDGES = [
    ("Fondation Lumière", "15000.00", date(2026, 1, 15), "Saison 2026-2027, création jeune public"),
    ("Cabinet Marceau & associés", "2420.00", date(2026, 3, 2), ""),
    ("Mme Hélène Duparc", "350.00", date(2026, 5, 20), "Don individuel"),
]


def load_demo(session: Session, size: str) -> None:
    """Demo pledges (the same few at every size: the plugin has nothing to stress)."""
    for donor, amount, pledged_on, note in DEMO_PLEDGES:
        add_pledge(session, donor, amount, pledged_on, note)
