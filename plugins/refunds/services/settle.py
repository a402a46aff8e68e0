"""Settling a cancellation basket, in its one operation, and paying the refunds out.

``settle`` (one transaction, under locks):
1. the basket row, then its orders' rows (by id) are locked; each ticket's state is read again: a
   ticket another basket cancelled meanwhile refuses the whole settlement with a clear message
   (``ConflictError``) — a ticket is refunded at most once, on every database;
2. the tickets are released (``sales.orders.release_tickets``, in the basket's operation), what the
   organisation keeps (fees not refunded, the cause's fee) stays on them (``retained``);
3. the exchange is sold (a new order for the basket's contact) and paid by what the cancelled tickets
   were worth (through the contact's credit balance: refunded to it, then spent on the new order);
4. the rest: refunded by the modes the operator chose when the total is negative (each at most what
   was paid by it on these orders, unless ``allow_over_limit``: permission
   ``refunds.mode_limit.override``), paid by ``payments`` when positive, nothing when zero;
5. each refund by a mode that pays money out is recorded with a ``RefundPayout`` ``pending``; the
   hook ``refunds_refund_done`` runs; a job (outbox) pays the payouts out after commit.

A refund by a type that completes later (the payment terminal: ``completes_later``) writes no
``Payment`` at settlement but a sales ``PendingPayment``, whose device job runs after commit; the
settlement (tickets released, the operation, the basket settled) stands whatever the device answers,
and no ``RefundPayout`` is written (the device is the payout). The basket's summary keeps the pending
row's id (``refunds[].pending``) and ``pending_refunds`` tells its state: accepted, the refund's
``Payment`` is written; declined, the amount is owed to the customer again on the order (refund it by
another mode); unknown (no answer, a timeout), never retried automatically: an operator reads the
terminal's journal and resolves it (Ventes › Règlements en attente, or the device job's "Résoudre"),
which completes or fails it as above.

``complete_payouts`` pays out what is pending (the job, or "Terminer le remboursement" from the
order after an interruption): each payout row is locked and its state read again, so a payout is
never paid twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError
from coulisses.db import begin_write, current_actor, lock_rows, utcnow
from coulisses.i18n import _, format_money

from plugins.refunds.models import CancellationBasket, RefundPayout
from plugins.refunds.registry import get_registry
from plugins.refunds.services.amounts import kept_amounts, paid_by_mode
from plugins.refunds.services.baskets import OPERATION_KIND, _editable, lock_basket
from plugins.sales.models import Order, PaymentMode, PendingPayment, Ticket
from plugins.sales.registry import get_registry as sales_registry
from plugins.sales.services import payments as sales_payments
from plugins.sales.services.delivery import apply_posted_delivery
from plugins.sales.services.orders import lock_order, release_tickets, sell
from plugins.sales.services.payments import PaymentInput
from plugins.sales.services.settings import get_payment_mode

ZERO = Decimal("0.00")
PAYOUT_JOB = "refunds.payouts"


@dataclass
class RefundInput:
    """One refund the operator chooses: a mode (instance, id or code) and an amount (positive)."""

    mode: Any
    amount: Any


@dataclass
class SettleResult:
    basket: CancellationBasket
    refunded: Decimal = ZERO  # what the cancelled tickets were worth, less what is kept
    kept: Decimal = ZERO
    sold: Decimal = ZERO
    transferred: Decimal = ZERO  # the part of the refund that paid the exchange
    refunds: list[dict] = field(default_factory=list)  # {order, mode, amount}
    change: Decimal = ZERO
    exchange_order: Order | None = None
    payouts: list[RefundPayout] = field(default_factory=list)


def credit_mode(session: Session) -> PaymentMode | None:
    """The first active mode whose type refunds as a credit the contact keeps and pays with it (the
    credit balance, ``refund_is_credit``): the exchange is paid through it by what the cancelled
    tickets were worth; a batch refunds through it what cannot go back the way it was paid."""
    types = sales_registry().payment_mode_types
    return next((m for m in session.scalars(select(PaymentMode).where(PaymentMode.active.is_(True))
                                            .order_by(PaymentMode.position, PaymentMode.id))
                 if (t := types.get(m.type_code)) is not None and t.refund_is_credit and t.can_pay), None)


def _credit_mode(session: Session) -> PaymentMode:
    mode = credit_mode(session)
    if mode is None:
        raise ConflictError(_("Aucun mode de règlement « Solde avoir » actif : l'échange ne peut pas être réglé"))
    return mode


def settle(session: Session, basket: CancellationBasket, *, refunds: Iterable[RefundInput] = (),
           payments: Iterable[PaymentInput] = (), allow_over_limit: bool = False) -> SettleResult:
    """Cancel the basket's tickets, sell its exchange, refund or collect the difference; one operation."""
    refunds, payments = list(refunds), list(payments)
    from plugins.refunds.services.baskets import resume, sales_basket_of
    from plugins.sales.services import baskets as sales_baskets

    begin_write(session)
    basket = lock_basket(session, basket)
    _editable(basket)
    if basket.state == "held":
        basket = resume(session, basket)
    if not basket.tickets and not basket.exchange_lines:
        raise InvalidError(_("Le panier est vide"), {"tickets": _("Ajoutez les billets à annuler")})
    operation = basket.operation
    pos = basket.point_of_sale_id
    order_ids = sorted({bt.order_id for bt in basket.tickets})
    orders = {oid: lock_order(session, oid) for oid in order_ids}
    ids = [bt.ticket_id for bt in basket.tickets]
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)
                                   .execution_options(populate_existing=True))) if ids else []
    for t in tickets:
        if t.state == "cancelled":
            raise ConflictError(_("Le billet %(barcode)s a déjà été annulé (remboursé ailleurs) : retirez-le du "
                                  "panier", barcode=t.barcode))
        if t.state not in ("paid", "printed"):
            raise ConflictError(_("Le billet %(barcode)s n'est pas payé", barcode=t.barcode))
    for order in orders.values():
        if order.total - order.paid > 0:
            raise ConflictError(_("Le dossier %(number)s n'est pas payé (reste %(due)s)", number=order.number,
                                  due=format_money(order.total - order.paid)))
    paid_before = paid_by_mode(session, order_ids)
    kept = kept_amounts(basket, tickets)
    result = SettleResult(basket=basket)
    remaining: dict[int, Decimal] = {}
    for oid in order_ids:
        group = [t for t in tickets if t.order_id == oid]
        remaining[oid] = sum((t.price + t.fees - kept[t.id] for t in group), ZERO)
        result.kept += sum((kept[t.id] for t in group), ZERO)
        release_tickets(session, orders[oid], group, kind=OPERATION_KIND, retained={t.id: kept[t.id] for t in group},
                        point_of_sale=pos, operation=operation,
                        details={"basket": basket.id, "cause": basket.cause.code if basket.cause else None})
    result.refunded = sum(remaining.values(), ZERO)
    worth = dict(remaining)  # what each order's cancelled tickets were worth, less what is kept

    new_order = None
    if basket.exchange_lines:
        if basket.contact_id is None:
            raise InvalidError(_("Contact requis pour l'échange"), {"contact": _("Choisissez le contact")})
        registry = get_registry()
        lines = [registry.product_kind(ln.kind).to_line_input(session, ln) for ln in basket.exchange_lines]
        new_order = sell(session, basket.contact_id, lines, point_of_sale=pos, delivery_mode=basket.delivery_mode,
                         note=_("Échange, Ordre %(number)s", number=operation.number), operation=operation)
        # "Livraison billets" chosen on the basket, as the sell screen gives it to a new order: before
        # the order is paid, so that its documents (and their immediate print) follow it after commit
        apply_posted_delivery(session, new_order, {"delivery_email": basket.delivery_email,
                                                   "delivery_address": basket.delivery_address,
                                                   "immediate_print": "1" if basket.immediate_print else "0"})
        result.sold = new_order.total
        result.exchange_order = new_order
    transfer = min(result.sold, result.refunded)
    to_refund, to_pay = result.refunded - transfer, result.sold - transfer
    _check_inputs(session, refunds, payments, to_refund, to_pay)

    if transfer > 0:
        credit = _credit_mode(session)
        left = transfer
        for oid in order_ids:
            share = min(left, remaining[oid])
            if share > 0:
                sales_payments.refund(session, orders[oid], credit, share, contact=basket.contact_id,
                                      operation=operation, point_of_sale=pos)
                remaining[oid] -= share
                left -= share
        sales_payments.pay(session, new_order, [PaymentInput(credit, transfer, contact=basket.contact_id)],
                           point_of_sale=pos, operation=operation)
        result.transferred = transfer

    used: dict[tuple[int, int], Decimal] = {}
    types = sales_registry().payment_mode_types
    for i, item in enumerate(refunds):
        mode = get_payment_mode(session, item.mode)
        mtype = types.get(mode.type_code)
        amount = sales_payments.money(item.amount, f"refunds.{i}.amount")
        left = amount
        for oid in order_ids:
            if left <= 0:
                break
            cap = remaining[oid]
            credit = mtype is not None and mtype.refund_is_credit  # the type says: a credit, nothing leaves
            unlimited = credit or allow_over_limit
            if not unlimited:
                cap = min(cap, paid_before.get(oid, {}).get(mode.id, ZERO) - used.get((oid, mode.id), ZERO))
            share = min(left, cap)
            if share <= 0:
                continue
            contact = basket.contact_id if credit else None
            payment = sales_payments.refund_or_pending(session, orders[oid], mode, share, contact=contact,
                                                       operation=operation, point_of_sale=pos)
            remaining[oid] -= share
            used[(oid, mode.id)] = used.get((oid, mode.id), ZERO) + share
            left -= share
            if isinstance(payment, PendingPayment):
                # a type that completes later (the payment terminal): the money leaves when the device
                # accepts, after commit; the settlement stands whatever it answers (see the module's doc)
                result.refunds.append({"order": orders[oid].number, "mode": mode.code, "amount": share,
                                       "pending": payment.id})
                continue
            result.refunds.append({"order": orders[oid].number, "mode": mode.code, "amount": share})
            payout = RefundPayout(basket_id=basket.id, order_id=oid, payment_id=payment.id, payment_mode_id=mode.id,
                                  amount=share, state="pending", recorded_at=utcnow())
            if credit:  # credited already: nothing leaves, nothing to pay out
                payout.state, payout.paid_out_at = "done", utcnow()
            session.add(payout)
            result.payouts.append(payout)
        if left > 0:
            raise ConflictError(_("%(mode)s ne peut rembourser que ce qui a été payé par ce mode sur ces dossiers : "
                                  "%(left)s de trop", mode=mode.label, left=format_money(left)))

    if to_pay > 0:
        paid = sales_payments.pay(session, new_order, payments, point_of_sale=pos, operation=operation)
        result.change = paid.change
        if new_order.total - new_order.paid > 0:
            raise InvalidError(_("Solde à régler : %(due)s", due=format_money(new_order.total - new_order.paid)),
                               {"payments": _("Réglez tout le solde")})

    sales_baskets.settle(session, sales_basket_of(session, basket))
    basket.state, basket.settled_at = "settled", utcnow()
    basket.exchange_order_id = new_order.id if new_order else None
    basket.summary = {
        "orders": [orders[o].number for o in order_ids], "tickets": [t.barcode for t in tickets],
        "printed": [t.barcode for t in tickets if t.print_state == "printed"],
        "refunded": str(result.refunded), "kept": str(result.kept), "sold": str(result.sold),
        "transferred": str(transfer), "refunds": [{**r, "amount": str(r["amount"])} for r in result.refunds],
        "exchange_order": new_order.number if new_order else None, "requested_by": basket.requested_by,
        "cause": basket.cause.code if basket.cause else None,
    }
    session.flush()
    get_registry().hook("refunds_refund_done", session=session, basket=basket, operation=operation)
    _emit_events(session, basket, operation, orders, order_ids, tickets, kept, worth, result)
    from coulisses.outbox import enqueue

    if any(p.state == "pending" for p in result.payouts):
        enqueue(session, PAYOUT_JOB, {"basket": basket.id}, dedupe_key=f"refunds.payouts.{basket.id}")
    if get_registry().enabled("reports"):  # the refund receipt, stored by reports, after commit
        enqueue(session, "refunds.receipt", {"operation": operation.number},
                dedupe_key=f"refunds.receipt.{operation.number}")
    return result


def _emit_events(session: Session, basket, operation, orders, order_ids, tickets, kept, worth, result) -> None:
    """``refunds.order.refunded`` / ``.exchanged`` for each order of the basket (webhooks, change feed)."""
    from plugins.refunds import events

    per_order = []
    for oid in order_ids:
        number = orders[oid].number
        refunds = [{"mode": r["mode"], "amount": r["amount"]} for r in result.refunds if r["order"] == number]
        per_order.append({
            "order": number, "tickets": [t.barcode for t in tickets if t.order_id == oid],
            "value": worth[oid], "kept": sum((kept[t.id] for t in tickets if t.order_id == oid), ZERO),
            "refunds": refunds, "transferred": worth[oid] - sum((r["amount"] for r in refunds), ZERO),
            "exchange_order": result.exchange_order.number if result.exchange_order is not None else None,
            "cause": basket.cause.code if basket.cause else None,
            "contact": basket.contact.number if basket.contact is not None else None})
    events.emit_settled(session, basket, operation, per_order)


def _check_inputs(session: Session, refunds: list[RefundInput], payments: list[PaymentInput], to_refund: Decimal,
                  to_pay: Decimal) -> None:
    total = ZERO
    for i, item in enumerate(refunds):
        amount = sales_payments.money(item.amount, f"refunds.{i}.amount")
        if amount <= 0:
            raise InvalidError(_("Montant du remboursement positif"), {f"refunds.{i}.amount": _("Montant positif requis")})
        total += amount
    if total != to_refund:
        raise InvalidError(_("Les remboursements (%(given)s) doivent faire %(due)s", given=format_money(total),
                             due=format_money(to_refund)), {"refunds": _("Répartissez %(due)s entre les modes",
                                                                         due=format_money(to_refund))})
    if to_pay <= 0 and payments:
        raise InvalidError(_("Rien à payer"), {"payments": _("Le solde ne demande aucun paiement")})
    if to_pay > 0 and not payments:
        raise InvalidError(_("Solde à régler : %(due)s", due=format_money(to_pay)),
                           {"payments": _("Choisissez le mode de paiement")})


# --------------------------------------------------------------------------- paying out


def pending_refunds(session: Session, basket: Any) -> list[PendingPayment]:
    """The refunds of a settled basket left to a device (the payment terminal), with their state now:
    ``pending`` (waiting for the terminal), ``unknown`` (an operator must resolve it), ``completed``
    (refunded), ``failed`` (declined: the amount is owed to the customer again)."""
    ids = [r["pending"] for r in (basket.summary or {}).get("refunds", []) if r.get("pending")]
    if not ids:
        return []
    return list(session.scalars(select(PendingPayment).where(PendingPayment.id.in_(ids)).order_by(PendingPayment.id)))


def pending_payouts(session: Session, order: Any) -> list[RefundPayout]:
    oid = order if isinstance(order, int) else order.id
    return list(session.scalars(select(RefundPayout).where(RefundPayout.order_id == oid,
                                                           RefundPayout.state == "pending").order_by(RefundPayout.id)))


def complete_payouts(session: Session, *, basket: Any = None, order: Any = None) -> list[RefundPayout]:
    """Pay out what is pending (of a basket, or of an order): each payout once, under a row lock."""
    begin_write(session)
    stmt = select(RefundPayout).where(RefundPayout.state == "pending").order_by(RefundPayout.id)
    if basket is not None:
        stmt = stmt.where(RefundPayout.basket_id == (basket if isinstance(basket, int) else basket.id))
    if order is not None:
        stmt = stmt.where(RefundPayout.order_id == (order if isinstance(order, int) else order.id))
    payouts = list(lock_rows(session, stmt.execution_options(populate_existing=True)).scalars())
    registry = get_registry()
    done = []
    for payout in payouts:
        if payout.state != "pending":
            continue
        registry.hook("refunds_payout", session=session, payout=payout, mode_type=payout.payment_mode.type_code)
        payout.state, payout.paid_out_at = "done", utcnow()
        payout.paid_out_by_id = current_actor().operator_id
        done.append(payout)
    session.flush()
    return done


def run_payouts_job(session: Session, job) -> dict:
    """The outbox job enqueued by ``settle``: pay the basket's payouts out after commit."""
    done = complete_payouts(session, basket=job.payload["basket"])
    return {"paid_out": [str(p.amount) for p in done]}
