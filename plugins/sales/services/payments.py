"""Payments and refunds on an order: immutable records; the balance is derived from them.

What each payment mode does is its type's (``plugins.sales.payment_types.PaymentModeType``): the
fields the operator fills (``load_fields``), whether this contact may pay this amount
(``check_payment``: the reason when not), what paying does besides recording it (``pay``: spend a
credit balance…), whether it completes now or later (a pending payment), and the same for refunds.
This module applies the rules common to every mode:

Overpayment rule: payments are applied in order against what is left to pay (the balance minus the
payments still pending); one larger than that is refused, except with a mode whose type
``gives_change`` (cash): the payment recorded is what was due, ``tendered`` and ``change`` keep what
the customer handed over and what was given back (``PayResult.change``, shown to the operator).
Refunds are capped by what the organisation owes (``−balance``): a second refund of the same money
is impossible, not unlikely (the order row is locked while checking).

Below ``orders`` in the layers of the services (see ``state``): it builds on the order's state and
lock (``services.state``) and never imports ``orders``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import Money, begin_write, current_actor
from coulisses.i18n import _, format_money

from plugins.sales.models import PENDING_OPEN_STATES, Operation, Order, Payment, PendingPayment
from plugins.sales.payment_types import COMPLETED, PENDING, PaymentContext, PaymentOutcome
from plugins.sales.registry import get_registry
from plugins.sales.services.common import ZERO, contact as get_contact, money
from plugins.sales.services import events
from plugins.sales.services.journal import pos_ref, record_operation
from plugins.sales.services.settings import get_payment_mode, resolve_point_of_sale
from plugins.sales.services.state import confirm, lock_order, refresh


@dataclass
class PaymentInput:
    """One payment the operator types: a mode (instance, id or code), an amount, the contact whose
    money it is for modes that need one (default: the order's payer, else its buyer), a reference,
    and ``details``: the fields of the mode's type (``fields_schema``: cheque number and bank…)."""

    mode: Any
    amount: Any
    contact: Any = None
    reference: str = ""
    details: dict | None = None


@dataclass
class PayResult:
    order: Order
    payments: list[Payment] = field(default_factory=list)
    change: Decimal = ZERO
    operation: Operation | None = None
    pending: list[PendingPayment] = field(default_factory=list)  # payments that complete later


def balance(order: Order) -> Decimal:
    """What is left to pay (negative: what the organisation owes back)."""
    return order.total - order.paid


def pending_amount(session: Session, order: Order) -> Decimal:
    """Σ of the order's open pending payments (positive) and refunds (negative)."""
    if order.id is None:
        return ZERO
    return session.scalar(select(func.coalesce(func.sum(PendingPayment.amount), 0, type_=Money()))
                          .where(PendingPayment.order_id == order.id,
                                 PendingPayment.state.in_(PENDING_OPEN_STATES))) or ZERO


def context(session: Session, order: Order, mode, mtype, amount: Decimal, contact, *, details=None, operation=None,
            pos=None, refund: bool = False, prefix: str = "details") -> PaymentContext:
    """The ``PaymentContext`` a type's methods get (the mode's settings loaded)."""
    return PaymentContext(session=session, order=order, mode=mode, amount=amount, contact=contact,
                          details=dict(details or {}), operation=operation, point_of_sale=pos,
                          settings=mtype.settings_of(mode), refund=refund, field_prefix=prefix)


def _contact_for(session: Session, order: Order, mtype, ref, field_name: str):
    contact = get_contact(session, ref, field_name) if ref is not None else None
    if contact is None and mtype.needs_contact:
        contact = get_contact(session, order.paying_contact_id)
    return contact


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
    left = balance(order) - max(pending_amount(session, order), ZERO)
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
        details = _details(mtype, p, f"payments.{i}.details")
        contact = _contact_for(session, order, mtype, p.contact, f"payments.{i}.contact")
        ctx = context(session, order, mode, mtype, amount, contact, details=details, pos=pos,
                      prefix=f"payments.{i}.details")
        reason = mtype.check_payment(ctx)
        if reason:
            raise ConflictError(str(reason))
        plan.append((ctx, mtype, tendered, change, mtype.reference_from(details, p.reference or "")))
        left -= amount
    total = sum((ctx.amount for ctx, *_ in plan), ZERO)
    operation = record_operation(session, "pay", order=order, point_of_sale=pos, registry=registry, amount=total,
                                 details={"payments": [{"mode": c.mode.code, "amount": str(c.amount)} for c, *_ in plan]},
                                 operation=operation)
    result = PayResult(order=order, operation=operation)
    for ctx, mtype, tendered, change, reference in plan:
        ctx.operation = operation
        outcome = mtype.pay(ctx) or PaymentOutcome()
        if outcome.state == PENDING:
            result.pending.append(_start_pending(session, ctx, mtype, outcome, reference))
            continue
        _check_outcome(mtype, outcome)
        payment = record_payment(session, ctx, ctx.amount, reference=outcome.reference or reference,
                                 details={**ctx.details, **outcome.details}, tendered=tendered, change=change)
        result.payments.append(payment)
        result.change += change or ZERO
        registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
        events.emit(session, "payment_completed", order=order, operation=operation, payment=payment, registry=registry)
    after_money(session, order, pos, operation)
    return result


def _details(mtype, p: PaymentInput, prefix: str) -> dict:
    """The operator's fields, validated; a typed ``reference`` fills the type's reference field."""
    raw = dict(p.details or {})
    if mtype.reference_field and p.reference and not raw.get(mtype.reference_field):
        raw[mtype.reference_field] = p.reference
    return mtype.load_fields(raw, prefix=prefix)


def _check_outcome(mtype, outcome: PaymentOutcome) -> None:
    if outcome.state not in (COMPLETED, PENDING):
        raise ValueError(f"payment mode type {mtype.code}: unknown outcome state {outcome.state!r}")


def _start_pending(session: Session, ctx: PaymentContext, mtype, outcome: PaymentOutcome, reference: str,
                   sign: int = 1) -> PendingPayment:
    if not mtype.completes_later:
        raise ValueError(f"payment mode type {mtype.code} returned a pending outcome without completes_later")
    pending = PendingPayment(order_id=ctx.order.id, payment_mode_id=ctx.mode.id, amount=sign * ctx.amount,
                             contact_id=ctx.contact.id if ctx.contact is not None else ctx.order.paying_contact_id,
                             reference=(outcome.reference or reference or "")[:120],
                             details={**ctx.details, **outcome.details}, state="pending",
                             operation_id=ctx.operation.id, operator_id=current_actor().operator_id,
                             point_of_sale_id=ctx.point_of_sale.id if ctx.point_of_sale is not None else None)
    session.add(pending)
    session.flush()
    mtype.on_pending(ctx, pending)
    events.emit(ctx.session, "payment_pending", order=ctx.order, operation=ctx.operation, payment=pending)
    return pending


def record_payment(session: Session, ctx: PaymentContext, amount: Decimal, *, reference: str = "",
                   details: dict | None = None, tendered=None, change=None, correction_of=None,
                   at=None) -> Payment:
    """Write one payment row (or refund: negative ``amount``) of ``ctx`` and count it in the order's
    ``paid``. Immutable once written. (For the services and the types' plugins completing a pending
    payment; the type's side effects are not run here.)"""
    contact_id = ctx.contact.id if ctx.contact is not None else ctx.order.paying_contact_id
    pos_id = ctx.point_of_sale.id if ctx.point_of_sale is not None else ctx.operation.point_of_sale_id
    payment = Payment(order_id=ctx.order.id, payment_mode_id=ctx.mode.id, amount=amount, tendered=tendered,
                      change=change, operation_id=ctx.operation.id, contact_id=contact_id,
                      reference=(reference or "")[:120], details=details or {}, at=at or ctx.operation.at,
                      operator_id=current_actor().operator_id, point_of_sale_id=pos_id,
                      correction_of_id=getattr(correction_of, "id", correction_of))
    session.add(payment)
    ctx.order.paid = ctx.order.paid + amount
    session.flush()  # the payment and the order's ``paid`` together
    return payment


def after_money(session: Session, order: Order, pos, operation: Operation | None = None) -> None:
    """Confirm a reservation paid in full; recompute the state; ``sales_order_paid`` when settled."""
    registry = get_registry()
    if order.state == "reserved" and order.total > 0 and balance(order) <= 0:
        confirm(session, order, point_of_sale=pos, operation=operation, _locked=True)  # fires sales_order_paid
        return
    previous = refresh(session, order, totals=False)  # ``paid`` kept by ``record_payment`` under the lock
    if order.state == "settled" and previous != "settled":
        registry.hook("sales_order_paid", session=session, order=order)
        events.emit(session, "order_paid", order=order, operation=operation, registry=registry)


_after_money = after_money  # its name in the baskets' code


def refund(session: Session, order: Order, mode: Any, amount: Any, *, contact: Any = None, reference: str = "",
           operation: Operation | None = None, point_of_sale: Any = None, details: dict | None = None) -> Payment:
    """Give money back on ``order`` (a negative payment), at most what the organisation owes, and
    within what the mode's type allows (``check_refund``: a card refund at most what the card paid).

    ``operation``: the operation to join (a basket's, or one the refunds plugin already wrote): a
    ``refund`` entry is added to it; else a ``refund`` operation is written. With a
    ``credit_balance`` mode the contact's credit is credited. A type that completes later may answer pending: then ``refund_pending`` names the pending row and
    the returned value is None (use ``refund_or_pending`` to get either).
    """
    result = refund_or_pending(session, order, mode, amount, contact=contact, reference=reference,
                               operation=operation, point_of_sale=point_of_sale, details=details)
    return result if isinstance(result, Payment) else None


def refund_refusal(session: Session, order: Order, mode: Any, amount: Any, *, contact: Any = None,
                   point_of_sale: Any = None) -> str | None:
    """Why ``mode`` cannot give ``amount`` back on ``order`` — None when it can: what ``refund`` would
    refuse, asked beforehand (a screen offering refund modes). The mode inactive or its type's plugin
    disabled, then the type's own ``check_refund`` (``can_refund``, its settings, ``refundable``, a
    device it needs at ``point_of_sale``). ``contact``: whose money it is (default: the order's payer
    for a type that needs one). Nothing is written."""
    mode = get_payment_mode(session, mode)
    mtype = get_registry().payment_mode_types.get(mode.type_code)
    if mtype is None or not mode.active:
        return str(_("Le mode %(mode)s ne permet pas de rembourser", mode=mode.label))
    try:
        pos = resolve_point_of_sale(session, point_of_sale) if point_of_sale is not None else None
    except InvalidError:  # closed meanwhile: the type decides without it
        pos = None
    who = _contact_for(session, order, mtype, contact, "contact")
    reason = mtype.check_refund(context(session, order, mode, mtype, money(amount), who, pos=pos, refund=True))
    return str(reason) if reason else None


def refund_or_pending(session: Session, order: Order, mode: Any, amount: Any, *, contact: Any = None,
                      reference: str = "", operation: Operation | None = None, point_of_sale: Any = None,
                      details: dict | None = None) -> Payment | PendingPayment:
    """``refund``, returning the ``Payment`` written or the ``PendingPayment`` started."""
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
    owed = -(balance(order) - min(pending_amount(session, order), ZERO))
    if amount > owed:
        raise ConflictError(_("Remboursement de %(amount)s refusé : le dossier %(number)s ne doit que %(owed)s au "
                              "client", amount=format_money(amount), number=order.number,
                              owed=format_money(max(owed, ZERO))))
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))
    typed = PaymentInput(mode, amount, contact, reference or "", details)
    fields_ = _details(mtype, typed, "details")
    who = _contact_for(session, order, mtype, contact, "contact")
    ctx = context(session, order, mode, mtype, amount, who, details=fields_, pos=pos, refund=True)
    reason = mtype.check_refund(ctx)
    if reason:
        raise ConflictError(str(reason))
    operation = record_operation(session, "refund", order=order, point_of_sale=pos, registry=registry,
                                 amount=-amount, details={"mode": mode.code, "amount": str(-amount)},
                                 operation=operation)
    ctx.operation = operation
    outcome = mtype.refund(ctx) or PaymentOutcome()
    ref = mtype.reference_from(fields_, reference or "")
    if outcome.state == PENDING:
        return _start_pending(session, ctx, mtype, outcome, ref, sign=-1)
    _check_outcome(mtype, outcome)
    payment = record_payment(session, ctx, -amount, reference=outcome.reference or ref,
                             details={**fields_, **outcome.details})
    registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
    events.emit(session, "payment_completed", order=order, operation=operation, payment=payment, registry=registry)
    after_money(session, order, pos, operation)
    return payment
