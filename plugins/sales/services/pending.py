"""Payments that complete later (a payment terminal, an online payment): their outcome, reported
by the type's plugin or decided by an operator.

A type with ``completes_later`` answers ``PaymentOutcome.pending()`` from ``pay`` (or ``refund``):
``payments.pay`` then writes a ``PendingPayment`` (state ``pending``) instead of a ``Payment``; the
order's balance does not move, but the amount is held (no second payment for it). Then:

- ``complete_pending`` — the money moved (the terminal accepted): the immutable ``Payment`` is
  written (in the pending payment's operation, dated now), the order's state follows
  (``sales_payment_recorded``, ``sales_order_paid``). Calling it again returns the same payment.
- ``fail_pending`` — the money did not move (refused, cancelled): the amount is due again.
- ``mark_unknown`` — nobody knows (a timeout, a lost connection): **never retried automatically**;
  it waits for an operator on the "Règlements en attente" screen.
- ``resolve_pending`` — an operator, having checked the terminal's journal or the bank, decides
  ``completed`` or ``failed``, with a note; recorded as a ``pending_resolved`` operation.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import begin_write, current_actor, lock_rows, utcnow
from coulisses.i18n import _

from plugins.sales.models import PENDING_OPEN_STATES, PENDING_STATE_LABELS, Payment, PendingPayment
from plugins.sales.registry import get_registry
from plugins.sales.services import events
from plugins.sales.services.common import contact as get_contact
from plugins.sales.services.journal import record_operation
from plugins.sales.services.payments import after_money, context, record_payment
from plugins.sales.services.settings import resolve_point_of_sale
from plugins.sales.services.state import lock_order

OUTCOMES = ("completed", "failed")


def get_pending(session: Session, ref: Any) -> PendingPayment:
    pending = ref if isinstance(ref, PendingPayment) else session.get(PendingPayment, int(ref))
    if pending is None:
        raise NotFoundError(_("Règlement en attente introuvable : %(ref)s", ref=ref))
    return pending


def _lock(session: Session, pending: Any) -> PendingPayment:
    """Lock the order, then the pending row (always in this order), and read it again."""
    pending = get_pending(session, pending)
    begin_write(session)
    lock_order(session, pending.order_id)
    return lock_rows(session, select(PendingPayment).where(PendingPayment.id == pending.id)
                     .execution_options(populate_existing=True)).scalar_one()


def open_pending(session: Session, *, order: Any = None, limit: int = 200) -> list[PendingPayment]:
    """The pending and unknown payments, oldest first (unknown ones first: they wait for a person)."""
    stmt = select(PendingPayment).where(PendingPayment.state.in_(PENDING_OPEN_STATES))
    if order is not None:
        stmt = stmt.where(PendingPayment.order_id == getattr(order, "id", order))
    stmt = stmt.order_by((PendingPayment.state == "pending"), PendingPayment.created_at, PendingPayment.id)
    return list(session.scalars(stmt.limit(limit)))


def complete_pending(session: Session, pending: Any, *, reference: str = "", details: dict | None = None,
                     message: str = "", _by_operator: bool = False) -> Payment:
    """The pending payment went through: write its ``Payment`` (idempotent: a second call returns it)."""
    pending = _lock(session, pending)
    if pending.state == "completed":
        return session.get(Payment, pending.payment_id)
    if pending.state not in PENDING_OPEN_STATES:
        raise ConflictError(_("Le règlement en attente %(id)s est déjà %(state)s", id=pending.id,
                              state=PENDING_STATE_LABELS[pending.state].lower()))
    registry = get_registry()
    order, mode = pending.order, pending.payment_mode
    mtype = registry.payment_mode_type(mode.type_code)
    contact = get_contact(session, pending.contact_id) if pending.contact_id else None
    ctx = context(session, order, mode, mtype, abs(pending.amount), contact, details=pending.details,
                  operation=pending.operation, refund=pending.amount < 0)
    payment = record_payment(session, ctx, pending.amount, reference=reference or pending.reference,
                             details={**(pending.details or {}), **(details or {})}, at=utcnow())
    pending.state, pending.payment_id = "completed", payment.id
    _close(pending, message, _by_operator)
    session.flush()
    registry.hook("sales_payment_recorded", session=session, order=order, payment=payment)
    events.emit(session, "payment_completed", order=order, operation=pending.operation, payment=payment,
                registry=registry)
    after_money(session, order, None)  # a confirmation, if any, is a new operation: the basket may be closed
    return payment


def fail_pending(session: Session, pending: Any, *, message: str = "", _by_operator: bool = False) -> PendingPayment:
    """The pending payment did not go through: the amount is due again. Idempotent."""
    pending = _lock(session, pending)
    if pending.state == "failed":
        return pending
    if pending.state not in PENDING_OPEN_STATES:
        raise ConflictError(_("Le règlement en attente %(id)s est déjà %(state)s", id=pending.id,
                              state=PENDING_STATE_LABELS[pending.state].lower()))
    pending.state = "failed"
    _close(pending, message, _by_operator)
    session.flush()
    return pending


def mark_unknown(session: Session, pending: Any, *, message: str = "") -> PendingPayment:
    """Nobody knows whether the money moved: an operator must decide (``resolve_pending``). Never
    retried automatically."""
    pending = _lock(session, pending)
    if pending.state == "unknown":
        return pending
    if pending.state != "pending":
        raise ConflictError(_("Le règlement en attente %(id)s est déjà %(state)s", id=pending.id,
                              state=PENDING_STATE_LABELS[pending.state].lower()))
    pending.state = "unknown"
    pending.message = (message or "")[:2000]
    session.flush()
    return pending


def resolve_pending(session: Session, pending: Any, outcome: str, *, note: str, reference: str = "",
                    point_of_sale: Any = None):
    """An operator decides the outcome of a pending or unknown payment (``completed`` or ``failed``),
    with a note saying what they checked; recorded as a ``pending_resolved`` operation. Returns the
    ``Payment`` (completed) or the ``PendingPayment`` (failed)."""
    if outcome not in OUTCOMES:
        raise InvalidError(_("Issue inconnue"), {"outcome": _("Choisissez : abouti ou échoué")})
    if not (note or "").strip():
        raise InvalidError(_("Indiquez ce que vous avez vérifié"), {"note": _("Note obligatoire")})
    pos = resolve_point_of_sale(session, point_of_sale)
    pending = _lock(session, pending)
    if pending.state not in PENDING_OPEN_STATES:
        raise ConflictError(_("Le règlement en attente %(id)s est déjà %(state)s", id=pending.id,
                              state=PENDING_STATE_LABELS[pending.state].lower()))
    record_operation(session, "pending_resolved", order=pending.order, point_of_sale=pos,
                     details={"pending": pending.id, "outcome": outcome, "note": note.strip()[:500],
                              "amount": str(pending.amount), "mode": pending.payment_mode.code})
    if outcome == "completed":
        return complete_pending(session, pending, reference=reference, message=note.strip(), _by_operator=True)
    return fail_pending(session, pending, message=note.strip(), _by_operator=True)


def _close(pending: PendingPayment, message: str, by_operator: bool) -> None:
    pending.resolved_at = utcnow()
    pending.resolved_by_id = current_actor().operator_id
    pending.resolved_by_operator = by_operator
    if message:
        pending.message = message[:2000]
