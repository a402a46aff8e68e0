"""Changing the paying contact of an order's payments ("Détails > Règlements" in the seed): the
payments were recorded in the name of the wrong contact (the relay instead of the structure, a
spouse…).

Money records never change: each payment moved is *corrected* by two new rows in one
``payer_change`` operation — a reversal (the same mode and amount, negative, in the old contact's
name) and a replacement (positive, in the new contact's name), both naming the original in
``correction_of_id``. The order's ``paid`` does not move; each contact's financial history and
indicators (spend) follow. The order's payer becomes the new contact. What a mode keeps per contact
moves with it, through its type (``check_transfer`` / ``transfer``: the credit balance spent is given
back to the first contact and taken from the new one, refused when they have not enough).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import begin_write
from coulisses.i18n import _, format_money

from plugins.sales.models import Operation, Order, Payment
from plugins.sales.registry import get_registry
from plugins.sales.services.common import ZERO, contact as get_contact
from plugins.sales.services.deferred import request_indicators
from plugins.sales.services.journal import pos_ref, record_operation
from plugins.sales.services.payments import context, record_payment
from plugins.sales.services.settings import resolve_point_of_sale
from plugins.sales.services.state import lock_order, refresh


@dataclass
class PayerChange:
    order: Order
    operation: Operation
    reversals: list[Payment] = field(default_factory=list)
    replacements: list[Payment] = field(default_factory=list)


def current_payments(session: Session, order: Order) -> list[Payment]:
    """The order's payments (positive) still standing: not reversed by a change of payer. Refunds
    stay with whoever received them."""
    reversed_ids = select(Payment.correction_of_id).where(
        Payment.order_id == order.id, Payment.correction_of_id.is_not(None), Payment.amount < 0)
    return list(session.scalars(select(Payment).where(Payment.order_id == order.id, Payment.amount > 0,
                                                      Payment.id.not_in(reversed_ids)).order_by(Payment.id)))


def change_payer(session: Session, order: Order, payer: Any, *, payments: Iterable[Any] | None = None,
                 reason: str = "", point_of_sale: Any = None, operation: Operation | None = None) -> PayerChange:
    """Move ``payments`` (ids or rows; default: every standing payment not already the new payer's)
    of ``order`` to ``payer`` (a contact, its id), as correction entries in one ``payer_change``
    operation (``operation``: join one the caller already wrote). The order's payer becomes ``payer``.
    ConflictError when there is nothing to move or a mode refuses (the reason); InvalidError for a
    payment not of the order or an invalid contact."""
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))
    begin_write(session)
    order = lock_order(session, order)
    new = get_contact(session, payer, "payer")
    if new is None or not new.valid:
        raise InvalidError(_("Payeur invalide"), {"payer": _("Contact invalide ou fusionné")})
    standing = {p.id: p for p in current_payments(session, order)}
    if payments is None:
        chosen = [p for p in standing.values() if p.contact_id != new.id]
    else:
        chosen = []
        for ref in payments:
            pid = int(getattr(ref, "id", ref))
            if pid not in standing:
                raise InvalidError(_("Règlement non modifiable"), {"payments": _(
                    "Le règlement %(id)s n'est pas un règlement en cours du dossier %(number)s", id=pid,
                    number=order.number)})
            if standing[pid].contact_id == new.id:
                raise InvalidError(_("Règlement déjà au nom de ce payeur"), {"payments": _(
                    "Le règlement %(id)s est déjà au nom de ce contact", id=pid)})
            chosen.append(standing[pid])
    if not chosen:
        raise ConflictError(_("Le dossier %(number)s n'a aucun règlement à transférer à ce payeur", number=order.number))
    registry = get_registry()
    plan = []
    for p in chosen:
        mode = p.payment_mode
        mtype = registry.payment_mode_type(mode.type_code)
        old = get_contact(session, p.contact_id) if p.contact_id is not None else None
        source = context(session, order, mode, mtype, p.amount, old, details=p.details, pos=pos)
        target = context(session, order, mode, mtype, p.amount, new, details=p.details, pos=pos)
        refusal = mtype.check_transfer(source, target)
        if refusal:
            raise ConflictError(_("Règlement %(mode)s %(amount)s : %(reason)s", mode=mode.label,
                                  amount=format_money(p.amount), reason=refusal))
        plan.append((p, mtype, source, target))
    total = sum((p.amount for p in chosen), ZERO)
    operation = record_operation(session, "payer_change", order=order, point_of_sale=pos, registry=registry,
                                 amount=ZERO, operation=operation, details={
                                     "payer": new.number, "payments": [p.id for p in chosen],
                                     "amount": str(total), "reason": (reason or "").strip()[:500]})
    result = PayerChange(order=order, operation=operation)
    touched = {new.id}
    for p, mtype, source, target in plan:
        source.operation = target.operation = operation
        mtype.transfer(source, target)
        reversal = record_payment(session, source, -p.amount, reference=p.reference, details=p.details, correction_of=p)
        replacement = record_payment(session, target, p.amount, reference=p.reference, details=p.details,
                                     correction_of=p)
        result.reversals.append(reversal)
        result.replacements.append(replacement)
        for payment in (reversal, replacement):
            registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
        if p.contact_id is not None:
            touched.add(p.contact_id)
    order.payer_id = new.id
    refresh(session, order)
    request_indicators(session, touched, registry=registry.contacts())
    return result
