"""Payments and refunds on an order: immutable records; the balance is derived from them.

Overpayment rule: payments are applied in order against what is left to pay; one larger than that
is refused, except with a mode whose type ``gives_change`` (cash): the payment recorded is what was
due, ``tendered`` and ``change`` keep what the customer handed over and what was given back
(``PayResult.change``, shown to the operator). Refunds are capped by what the organisation owes
(``−balance``): a second refund of the same money is impossible, not unlikely (the order row is
locked while checking).

Below ``orders`` in the layers of the services (see ``state``): it builds on the order's state and
lock (``services.state``) and never imports ``orders``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import begin_write, current_actor
from coulisses.i18n import _, format_money

from plugins.sales.models import Operation, Order, Payment
from plugins.sales.registry import get_registry
from plugins.sales.services.common import ZERO, contact as get_contact, money
from plugins.sales.services.credit import move_credit
from plugins.sales.services import events
from plugins.sales.services.journal import pos_ref, record_operation
from plugins.sales.services.settings import get_payment_mode, resolve_point_of_sale
from plugins.sales.services.state import confirm, lock_order, refresh


@dataclass
class PaymentInput:
    """One payment the operator types: a mode (instance, id or code), an amount, the contact whose
    money it is for modes that need one (default: the order's payer, else its buyer), a reference."""

    mode: Any
    amount: Any
    contact: Any = None
    reference: str = ""


@dataclass
class PayResult:
    order: Order
    payments: list[Payment] = field(default_factory=list)
    change: Decimal = ZERO
    operation: Operation | None = None


def balance(order: Order) -> Decimal:
    """What is left to pay (negative: what the organisation owes back)."""
    return order.total - order.paid


def pay(session: Session, order: Order, payments: Iterable[PaymentInput], *, point_of_sale: Any = None,
        operation: Operation | None = None) -> PayResult:
    """Record one or several payments on ``order`` in one ``pay`` operation (or, given
    ``operation``, as a ``pay`` entry of that basket's operation)."""
    payments = list(payments)
    if not payments:
        raise InvalidError(_("Aucun règlement"), {"payments": _("Au moins un règlement")})
    begin_write(session)
    order = lock_order(session, order)
    registry = get_registry()
    if order.state in ("settled", "cancelled") or balance(order) <= 0:
        raise ConflictError(_("Le dossier %(number)s n'a rien à régler (solde %(balance)s)", number=order.number,
                              balance=format_money(balance(order))))
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))
    plan = []
    left = balance(order)
    for i, p in enumerate(payments):
        mode = get_payment_mode(session, p.mode)
        mtype = registry.payment_mode_type(mode.type_code)
        amount = money(p.amount, f"payments.{i}.amount")
        if not mode.active or not mtype.can_pay:
            raise InvalidError(_("Le mode %(mode)s ne permet pas de payer", mode=mode.label),
                               {f"payments.{i}.mode": _("Mode refusé")})
        if amount <= 0:
            raise InvalidError(_("Un règlement est positif"), {f"payments.{i}.amount": _("Montant positif requis")})
        if left <= 0:
            raise ConflictError(_("Le dossier %(number)s est déjà réglé par les règlements précédents : "
                                  "%(mode)s %(amount)s en trop", number=order.number, mode=mode.label,
                                  amount=format_money(amount)))
        tendered = change = None
        if amount > left:
            if not mtype.gives_change:
                raise ConflictError(_("%(mode)s %(amount)s dépasse le reste à payer %(left)s : seules les espèces "
                                      "rendent la monnaie", mode=mode.label, amount=format_money(amount),
                                      left=format_money(left)))
            tendered, change, amount = amount, amount - left, left
        contact = get_contact(session, p.contact, f"payments.{i}.contact") if p.contact is not None else None
        if mtype.needs_contact and contact is None:
            contact = get_contact(session, order.paying_contact_id)
        plan.append((mode, mtype, amount, tendered, change, contact or None, p.reference or ""))
        left -= amount
    total = sum((amount for _, _, amount, *_ in plan), ZERO)
    operation = record_operation(session, "pay", order=order, point_of_sale=pos, registry=registry, amount=total,
                                 details={"payments": [{"mode": m.code, "amount": str(a)} for m, _, a, *_ in plan]},
                                 operation=operation)
    result = PayResult(order=order, operation=operation)
    for mode, mtype, amount, tendered, change, contact, reference in plan:
        payment = _record(session, order, mode, mtype, amount, operation, pos, contact, reference, tendered, change)
        result.payments.append(payment)
        result.change += change or ZERO
        registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
        events.emit(session, "payment_completed", order=order, operation=operation, payment=payment, registry=registry)
    _after_money(session, order, pos, operation)
    return result


def _record(session, order, mode, mtype, amount, operation, pos, contact, reference, tendered=None, change=None) -> Payment:
    """Write one payment (or refund: negative ``amount``); moves the credit balance for credit modes."""
    contact_id = contact.id if contact is not None else order.paying_contact_id
    if mtype.code == "credit_balance":
        # Paying with credit spends it (refused beyond the balance); refunding to it credits it.
        reason = (_("Paiement du dossier %(number)s", number=order.number) if amount > 0
                  else _("Remboursement du dossier %(number)s", number=order.number))
        move_credit(session, contact_id, -amount, reason, order=order, operation=operation)
    payment = Payment(order_id=order.id, payment_mode_id=mode.id, amount=amount, tendered=tendered, change=change,
                      operation_id=operation.id, contact_id=contact_id, reference=reference[:120], at=operation.at,
                      operator_id=current_actor().operator_id, point_of_sale_id=pos.id)
    session.add(payment)
    session.flush()
    order.paid = order.paid + amount
    return payment


def _after_money(session: Session, order: Order, pos, operation: Operation) -> None:
    """Confirm a reservation paid in full; recompute the state; ``sales_order_paid`` when settled."""
    registry = get_registry()
    if order.state == "reserved" and order.total > 0 and balance(order) <= 0:
        confirm(session, order, point_of_sale=pos, operation=operation, _locked=True)  # fires sales_order_paid
        return
    previous = refresh(session, order)
    if order.state == "settled" and previous != "settled":
        registry.hook("sales_order_paid", session=session, order=order)
        events.emit(session, "order_paid", order=order, operation=operation, registry=registry)


def refund(session: Session, order: Order, mode: Any, amount: Any, *, contact: Any = None, reference: str = "",
           operation: Operation | None = None, point_of_sale: Any = None) -> Payment:
    """Give money back on ``order`` (a negative payment), at most what the organisation owes.

    ``operation``: the operation to join (a basket's, or one the refunds plugin already wrote): a
    ``refund`` entry is added to it; else a ``refund`` operation is written. With a
    ``credit_balance`` mode the contact's credit is credited.
    """
    begin_write(session)
    order = lock_order(session, order)
    refresh(session, order)
    registry = get_registry()
    mode = get_payment_mode(session, mode)
    mtype = registry.payment_mode_type(mode.type_code)
    amount = money(amount)
    if amount <= 0:
        raise InvalidError(_("Montant du remboursement positif"), {"amount": _("Montant positif requis")})
    if not mode.active or not mtype.can_refund:
        raise InvalidError(_("Le mode %(mode)s ne permet pas de rembourser", mode=mode.label), {"mode": _("Mode refusé")})
    owed = -balance(order)
    if amount > owed:
        raise ConflictError(_("Remboursement de %(amount)s refusé : le dossier %(number)s ne doit que %(owed)s au "
                              "client", amount=format_money(amount), number=order.number,
                              owed=format_money(max(owed, ZERO))))
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))
    contact = get_contact(session, contact, "contact") if contact is not None else None
    operation = record_operation(session, "refund", order=order, point_of_sale=pos, registry=registry,
                                 amount=-amount, details={"mode": mode.code, "amount": str(-amount)},
                                 operation=operation)
    payment = _record(session, order, mode, mtype, -amount, operation, pos, contact, reference or "")
    registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
    events.emit(session, "payment_completed", order=order, operation=operation, payment=payment, registry=registry)
    _after_money(session, order, pos, operation)
    return payment

