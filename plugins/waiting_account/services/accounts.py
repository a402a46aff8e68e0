"""Waiting accounts: authorisation, maximum outstanding, the organisation's defaults, the balance,
and the check a sale on account passes (under the account row's lock).

The balance (what the contact owes) is the sum of the account's movements; every movement is
written with the account row locked (``lock_account``), so N concurrent sales on account for one
contact never exceed its ceiling.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import Money, current_actor, ensure_row, get_setting, lock_rows, set_setting, to_money, utcnow
from coulisses.i18n import _, format_money

from plugins.contacts.models import Contact
from plugins.waiting_account.models import Account, Movement

ZERO = Decimal("0.00")

SETTING_STRUCTURES = "waiting_account.structures_authorised"
SETTING_CEILING = "waiting_account.default_ceiling"
SETTING_VAT = "waiting_account.vat_rate"
SETTING_TERMS = "waiting_account.payment_days"
OVERRIDE_KEY = "waiting_account.override"


def money(value: Any, field: str = "amount") -> Decimal:
    from plugins.sales.services.common import money as sales_money

    return sales_money(value, field)


def get_contact(session: Session, ref: Any, field: str = "contact") -> Contact:
    if isinstance(ref, Contact):
        return ref
    contact = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        contact = session.get(Contact, ref)
    if contact is None:
        raise InvalidError(_("Contact introuvable"), {field: _("Contact introuvable : %(ref)s", ref=ref)})
    return contact


# --------------------------------------------------------------------------- organisation settings


@dataclass
class OrganisationSettings:
    structures_authorised: bool = False
    default_ceiling: Decimal = ZERO
    vat_rate: Decimal = Decimal("5.5")  # percent; live shows in France
    payment_days: int = 30


def organisation_settings(session: Session) -> OrganisationSettings:
    return OrganisationSettings(
        structures_authorised=get_setting(session, SETTING_STRUCTURES, "0") == "1",
        default_ceiling=to_money(get_setting(session, SETTING_CEILING, "0.00")),
        vat_rate=Decimal(get_setting(session, SETTING_VAT, "5.5")),
        payment_days=int(get_setting(session, SETTING_TERMS, "30")))


def update_organisation_settings(session: Session, *, structures_authorised: bool | None = None,
                                 default_ceiling: Any = None, vat_rate: Any = None,
                                 payment_days: Any = None) -> OrganisationSettings:
    """New structure contacts authorised by default (with ``default_ceiling``); the VAT rate of the
    invoices (percent, 0: exempt); the payment terms in days."""
    errors = {}
    if default_ceiling is not None:
        try:
            ceiling = money(default_ceiling, "default_ceiling")
        except InvalidError as exc:
            errors.update(exc.fields)
        else:
            if ceiling < 0:
                errors["default_ceiling"] = _("Montant positif ou nul")
            else:
                set_setting(session, SETTING_CEILING, str(ceiling))
    if vat_rate is not None:
        try:
            rate = Decimal(str(vat_rate).replace(",", "."))
            if not Decimal("0") <= rate < Decimal("100"):
                raise ValueError
        except (ArithmeticError, ValueError):
            errors["vat_rate"] = _("Taux de TVA entre 0 et 100")
        else:
            set_setting(session, SETTING_VAT, str(rate.normalize()))
    if payment_days is not None:
        try:
            days = int(payment_days)
            if not 0 <= days <= 365:
                raise ValueError
        except (TypeError, ValueError):
            errors["payment_days"] = _("Nombre de jours entre 0 et 365")
        else:
            set_setting(session, SETTING_TERMS, str(days))
    if errors:
        raise InvalidError(_("Paramètres invalides"), errors)
    if structures_authorised is not None:
        set_setting(session, SETTING_STRUCTURES, "1" if structures_authorised else "0")
    session.flush()
    return organisation_settings(session)


# --------------------------------------------------------------------------- accounts


def account_of(session: Session, contact: Any, *, create: bool = False) -> Account | None:
    contact_id = contact.id if isinstance(contact, Contact) else int(contact)
    account = session.scalar(select(Account).where(Account.contact_id == contact_id))
    if account is None and create:
        ensure_row(session, Account, {"contact_id": contact_id, "authorised": False, "ceiling": ZERO,
                                      "note": "", "created_at": utcnow(), "updated_at": utcnow()})
        account = session.scalar(select(Account).where(Account.contact_id == contact_id))
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError(_("Compte d'attente introuvable : %(ref)s", ref=account_id))
    return account


def lock_account(session: Session, contact: Any) -> Account:
    """The contact's account (created, not authorised, when it has none), its row locked until the
    transaction ends."""
    account = account_of(session, contact, create=True)
    return lock_rows(session, select(Account).where(Account.id == account.id)
                     .execution_options(populate_existing=True)).scalar_one()


def set_authorisation(session: Session, contact: Any, *, authorised: bool, ceiling: Any, note: str = "") -> Account:
    """May the contact pay on account, and up to which outstanding."""
    contact = get_contact(session, contact)
    ceiling = money(ceiling, "ceiling")
    if ceiling < 0:
        raise InvalidError(_("Encours maximum invalide"), {"ceiling": _("Montant positif ou nul")})
    account = lock_account(session, contact)
    account.authorised, account.ceiling, account.note = bool(authorised), ceiling, (note or "")[:200]
    session.flush()
    return account


def on_contact_created(session: Session, contact: Contact) -> None:
    """New structures are authorised with the default ceiling when the organisation says so."""
    if contact.kind != "structure":
        return
    settings = organisation_settings(session)
    if settings.structures_authorised:
        set_authorisation(session, contact, authorised=True, ceiling=settings.default_ceiling)


def balance(session: Session, account: Account | int) -> Decimal:
    """What the contact owes: the sum of the account's movements."""
    account_id = account if isinstance(account, int) else account.id
    return session.scalar(select(func.coalesce(func.sum(Movement.amount), 0, type_=Money()))
                          .where(Movement.account_id == account_id))


@dataclass
class AccountState:
    account: Account | None
    authorised: bool
    ceiling: Decimal
    outstanding: Decimal
    available: Decimal


def state_of(session: Session, contact: Any) -> AccountState:
    account = account_of(session, contact)
    if account is None:
        return AccountState(None, False, ZERO, ZERO, ZERO)
    owed = balance(session, account)
    return AccountState(account, account.authorised, account.ceiling, owed, max(account.ceiling - owed, ZERO))


# --------------------------------------------------------------------------- the check of a sale


def refusal(account: Account, owed: Decimal, amount: Decimal) -> str | None:
    """Why ``amount`` more on account is refused (None: accepted), with the amounts."""
    if not account.authorised:
        return _("%(contact)s n'est pas autorisé(e) à payer par compte d'attente", contact=account.contact.display_name)
    if owed + amount > account.ceiling:
        return _("Encours maximum dépassé pour %(contact)s : encours %(owed)s + %(amount)s = %(after)s, "
                 "maximum %(ceiling)s", contact=account.contact.display_name, owed=format_money(owed),
                 amount=format_money(amount), after=format_money(owed + amount), ceiling=format_money(account.ceiling))
    return None


def can_pay(session: Session, contact: Any, amount: Any) -> str | None:
    """Would a sale of ``amount`` on account be accepted now? None, or the reason (not locked: the
    sale itself checks again under the lock)."""
    amount = money(amount)
    account = account_of(session, contact)
    if account is None:
        contact = get_contact(session, contact)
        return _("%(contact)s n'est pas autorisé(e) à payer par compte d'attente", contact=contact.display_name)
    return refusal(account, balance(session, account), amount)


@contextmanager
def override(session: Session, reason: str):
    """A supervisor lets sales on account through despite the authorisation or the ceiling, for the
    operations made inside the block; the reason is recorded on each movement. The caller checks
    the permission ``waiting_account.override``."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidError(_("Motif requis"), {"override_reason": _("Indiquez le motif du dépassement")})
    session.info[OVERRIDE_KEY] = {"reason": reason[:200], "operator_id": current_actor().operator_id}
    try:
        yield
    finally:
        session.info.pop(OVERRIDE_KEY, None)


def may_override(session: Session) -> bool:
    """Does the current operator hold ``waiting_account.override``?"""
    from coulisses.security import Operator

    operator_id = current_actor().operator_id
    operator = session.get(Operator, operator_id) if operator_id is not None else None
    return operator is not None and operator.has_permission("waiting_account.override")


def check_sale(session: Session, account: Account, amount: Decimal, override_reason: str = "") -> str:
    """Under the account's lock: raise ``ConflictError`` when refused (unless overridden: by
    ``override`` or by the payment's ``override_reason``, its permission checked by the payment
    mode type); returns the override's reason ("" when none was needed)."""
    owed = balance(session, account)
    reason = refusal(account, owed, amount)
    if reason is None:
        return ""
    forced = session.info.get(OVERRIDE_KEY)
    if forced:
        return forced["reason"]
    if (override_reason or "").strip():
        return override_reason.strip()[:200]
    raise ConflictError(reason)


def add_movement(session: Session, account: Account, kind: str, amount: Decimal, **values: Any) -> Movement:
    """Write a movement; the caller holds the account's lock (``lock_account``)."""
    owed = balance(session, account)
    if owed + amount < 0:
        raise ConflictError(_("Le compte d'attente ne doit que %(owed)s", owed=format_money(owed)))
    movement = Movement(account_id=account.id, kind=kind, amount=amount, balance_after=owed + amount, at=utcnow(),
                        operator_id=current_actor().operator_id, **values)
    session.add(movement)
    session.flush()
    return movement


def movements(session: Session, account: Account | int, limit: int = 500) -> list[Movement]:
    account_id = account if isinstance(account, int) else account.id
    return list(session.scalars(select(Movement).where(Movement.account_id == account_id)
                                .order_by(Movement.id.desc()).limit(limit)))
