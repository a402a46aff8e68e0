"""The domain logic: plain functions taking a ``Session``; no Flask here (CLI, API, tests share them)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError, webhooks
from coulisses.db import to_money
from plugins.contacts.models import Contact

from coulisses_patrons.events import PLEDGED
from coulisses_patrons.models import Patronage
from coulisses_patrons.settings import minimum_pledge


def add_pledge(session: Session, donor_name: str, amount, pledged_on: date | None = None,
               note: str = "", contact_number: int | None = None) -> Patronage:
    """Record a pledge. ``amount`` is a ``Decimal``, an int or a decimal string, never a float.

    ``contact_number`` (optional) links the pledge to the donor's contact, which must be of type
    "patron"; the donor's name then defaults to the contact's name.
    """
    errors: dict[str, str] = {}
    contact = None
    if contact_number not in (None, ""):
        contact = patron_contact(session, contact_number, errors)
    donor_name = (donor_name or "").strip() or (contact.display_name if contact is not None else "")
    if not donor_name:
        errors["donor_name"] = "The donor's name is required."
    try:
        amount = to_money(amount)
        if amount <= 0:
            errors["amount"] = "The amount must be positive."
        elif amount < minimum_pledge():  # a setting the administrator changes on the plugins screen
            errors["amount"] = f"The minimum pledge is {minimum_pledge():.2f}."
    except (TypeError, ValueError) as exc:
        errors["amount"] = str(exc)
    if errors:
        raise InvalidError("The pledge is not valid", errors)
    pledge = Patronage(donor_name=donor_name, amount=amount, pledged_on=pledged_on or date.today(),
                       note=note or "", contact=contact)
    session.add(pledge)
    session.flush()
    webhooks.emit(session, PLEDGED, pledge, subject=f"pledge:{pledge.id}")  # sent after commit, if it commits
    return pledge


def patron_contact(session: Session, number, errors: dict[str, str], key: str = "contact_number"
                   ) -> Contact | None:
    """The contact numbered ``number`` if it is a patron; otherwise the reason goes to ``errors[key]``."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        errors[key] = "A contact number is expected."
        return None
    contact = session.scalar(select(Contact).where(Contact.number == number))
    if contact is None:
        errors[key] = f"There is no contact number {number}."
        return None
    if contact.type_code != "patron":
        errors[key] = f"Contact {number} is not a patron (its type is '{contact.type_code}')."
        return None
    return contact


def pledges_of(session: Session, contact: Contact) -> list[Patronage]:
    """The pledges recorded against a contact, newest first."""
    return list(session.scalars(select(Patronage).where(Patronage.contact_id == contact.id)
                                .order_by(Patronage.pledged_on.desc(), Patronage.id.desc())))


def sheet_section_data(session: Session, contact: Contact) -> dict | None:
    """The "Promesses de mécénat" section of the contact sheet (Management tab; JSON-able: amounts as
    strings, as in the REST API). None (no section) for a contact who is not a patron and has no pledge."""
    if contact.type_code != "patron" and not pledges_of(session, contact):
        return None
    pledges = pledges_of(session, contact)
    total = sum((p.amount for p in pledges), Decimal("0.00"))
    return {"total": f"{total:.2f}", "pledges": [
        {"date": p.pledged_on.isoformat(), "amount": f"{p.amount:.2f}", "note": p.note} for p in pledges]}


def total_pledged(session: Session, year: int | None = None) -> Decimal:
    """The sum of the pledges (of one calendar year when ``year`` is given)."""
    stmt = select(func.coalesce(func.sum(Patronage.amount), 0))
    if year is not None:
        stmt = stmt.where(Patronage.pledged_on >= date(year, 1, 1), Patronage.pledged_on < date(year + 1, 1, 1))
    return session.scalar(stmt)


def get_pledge(session: Session, pledge_id: int) -> Patronage:
    """The pledge ``pledge_id``; ``NotFoundError`` (404 in the API) when there is none."""
    pledge = session.get(Patronage, pledge_id)
    if pledge is None:
        raise NotFoundError(f"No pledge {pledge_id}")
    return pledge


def list_pledges(session: Session) -> list[Patronage]:
    return list(session.scalars(select(Patronage).order_by(Patronage.pledged_on.desc(), Patronage.id.desc())))


DEMO_PLEDGES = [
    ("Fondation Lumière", "15000.00", date(2026, 1, 15), "Saison 2026-2027, création jeune public"),
    ("Cabinet Marceau & associés", "2420.00", date(2026, 3, 2), ""),
    ("Mme Hélène Duparc", "350.00", date(2026, 5, 20), "Don individuel"),
]


DEMO_PATRON = {"type_code": "patron", "civility": "MME", "last_name": "DUPARC", "first_name": "Hélène",
               "email": "helene.duparc@example.org", "extra": {"level": "silver", "since": 2019}}


def load_demo(session: Session, size: str) -> None:
    """Demo pledges (the same few at every size: the plugin has nothing to stress), one of them by a
    contact of type patron."""
    from plugins.contacts.services.contacts import create_contact

    patron = create_contact(session, DEMO_PATRON,
                            address={"country": "FR", "postal_code": "75011", "city": "Paris"})
    for donor, amount, pledged_on, note in DEMO_PLEDGES:
        add_pledge(session, donor, amount, pledged_on, note,
                   contact_number=patron.number if donor == "Mme Hélène Duparc" else None)
