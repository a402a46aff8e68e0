"""Credit balances ("solde avoir"): a contact's credit is the sum of its movements, never negative.

Every movement locks the contact row first (``lock_rows``), so two payments spending the same
credit at once cannot both pass the check.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import Money, current_actor, lock_rows, utcnow
from coulisses.i18n import _, format_money

from plugins.contacts.models import Contact
from plugins.sales.models import CreditMovement, Operation, Order
from plugins.sales.services.common import contact as get_contact, money
from plugins.sales.services.journal import pos_ref, record_operation
from plugins.sales.services.settings import resolve_point_of_sale


def credit_balance(session: Session, contact: Any) -> Decimal:
    cid = contact if isinstance(contact, int) else contact.id
    return session.scalar(select(func.coalesce(func.sum(CreditMovement.amount), 0, type_=Money()))
                          .where(CreditMovement.contact_id == cid))


def credit_movements(session: Session, contact: Any, limit: int = 100) -> list[CreditMovement]:
    cid = contact if isinstance(contact, int) else contact.id
    return list(session.scalars(select(CreditMovement).where(CreditMovement.contact_id == cid)
                                .order_by(CreditMovement.id.desc()).limit(limit)))


def move_credit(session: Session, contact: Any, amount: Any, reason: str, *, order: Order | None = None,
                operation: Operation | None = None) -> CreditMovement:
    """Credit (``amount > 0``) or spend (``amount < 0``) a contact's credit; never below zero."""
    amount = money(amount)
    if amount == 0:
        raise InvalidError(_("Montant nul"), {"amount": _("Le montant ne peut pas être nul")})
    contact = get_contact(session, contact)
    lock_rows(session, select(Contact.id).where(Contact.id == contact.id))
    balance = credit_balance(session, contact)
    if balance + amount < 0:
        raise ConflictError(_("Avoir insuffisant : %(balance)s disponible(s), %(wanted)s demandé(s)",
                              balance=format_money(balance), wanted=format_money(-amount)))
    movement = CreditMovement(contact_id=contact.id, amount=amount, balance_after=balance + amount,
                              reason=(reason or "")[:200], operation_id=operation.id if operation else None,
                              order_id=order.id if order else None, at=utcnow(),
                              operator_id=current_actor().operator_id)
    session.add(movement)
    session.flush()
    return movement


def adjust_credit(session: Session, contact: Any, amount: Any, reason: str, *, point_of_sale: Any = None,
                  operation: Operation | None = None) -> CreditMovement:
    """A credit movement by hand (a gesture, a correction), with its own ``credit`` operation (or a
    ``credit`` entry of the basket's ``operation``), at ``point_of_sale`` (instance, id or code;
    refused when closed)."""
    amount = money(amount)
    if not (reason or "").strip():
        raise InvalidError(_("Motif requis"), {"reason": _("Indiquez le motif")})
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))
    contact = get_contact(session, contact)
    operation = record_operation(session, "credit", point_of_sale=pos, amount=amount,
                                 details={"contact": contact.number, "reason": reason}, operation=operation)
    return move_credit(session, contact, amount, reason, operation=operation)
