"""A cancelled performance, refunded in one batch.

``simulate`` says what would happen without writing: the orders holding paid tickets of the
performance, the amounts by refund mode, and the orders (contacts) an operator must take: not fully
paid, or with reserved tickets (cancelled in the sell basket). ``start`` records the cancellation
(the performance goes off sale) and enqueues the job; ``run`` refunds each order in its own basket,
operation and transaction (``commit`` after each), with progress, and keeps the report. An order
whose tickets of the performance are already cancelled is skipped: re-running does nothing twice.

Refund modes: each order is refunded by the modes that paid it (at most what each paid, in the order
of its payments) when their type can refund (``check_refund``) without anybody at the desk (not
``refund_in_person``); cash, a terminal, and modes that cannot refund go to the fallback mode (the
contact's credit balance by default: the type whose refund is a credit).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, NotFoundError
from coulisses.i18n import _, format_money

from plugins.refunds.models import PerformanceCancellation, RefundCause
from plugins.refunds.services import baskets
from plugins.refunds.services.amounts import _modes_in_payment_order, paid_by_mode
from plugins.refunds.services.settle import RefundInput, complete_payouts, credit_mode, settle
from plugins.sales.models import Order, PaymentMode, Performance, Ticket
from plugins.sales.registry import get_registry as sales_registry
from plugins.sales.services.catalogue import performance_label
from plugins.sales.services.payments import refund_refusal

ZERO = Decimal("0.00")


def _fallback(session: Session, mode: Any = None) -> PaymentMode | None:
    if mode is not None:
        from plugins.sales.services.settings import get_payment_mode

        return get_payment_mode(session, mode)
    return credit_mode(session)


def _orders(session: Session, performance_id: int) -> list[int]:
    return list(session.scalars(select(Ticket.order_id).where(Ticket.performance_id == performance_id,
                                                               Ticket.state != "cancelled")
                                .group_by(Ticket.order_id).order_by(Ticket.order_id)))


def plan_order(session: Session, performance_id: int, order: Order, fallback: PaymentMode | None) -> dict:
    """What refunding ``order``'s tickets of the performance would do: {"tickets", "amount", "refunds":
    [(mode code, amount)], "reason"} — ``reason`` set when an operator must take it."""
    tickets = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id,
                                                        Ticket.performance_id == performance_id,
                                                        Ticket.state != "cancelled").order_by(Ticket.id)))
    sold = [t for t in tickets if t.state in ("paid", "printed")]
    plan = {"order": order.number, "order_id": order.id, "contact": str(order.buyer), "tickets": len(sold),
            "amount": ZERO, "refunds": [], "reason": ""}
    if len(sold) < len(tickets):
        plan["reason"] = _("Billets réservés : à annuler dans le panier de vente")
        return plan
    if order.total - order.paid > 0:
        plan["reason"] = _("Dossier non soldé (reste %(due)s)", due=format_money(order.total - order.paid))
        return plan
    amount = sum((t.price + t.fees_refundable for t in sold), ZERO)
    plan["amount"] = amount
    types = sales_registry().payment_mode_types
    left = amount
    refunds: dict[str, Decimal] = {}
    for mode_id, net in _modes_in_payment_order(session, order.id, paid_by_mode(session, [order.id]).get(order.id, {})):
        if left <= 0:
            break
        mode = session.get(PaymentMode, mode_id)
        mtype = types.get(mode.type_code)
        share = min(left, net)
        # the type says whether it refunds, and whether only with the customer at the desk (cash, terminal)
        if mtype is None or mtype.refund_in_person or refund_refusal(session, order, mode, share):
            continue
        refunds[mode.code] = refunds.get(mode.code, ZERO) + share
        left -= share
    if left > 0:
        if fallback is None:
            plan["reason"] = _("Aucun mode de remboursement possible")
            return plan
        refunds[fallback.code] = refunds.get(fallback.code, ZERO) + left
    plan["refunds"] = list(refunds.items())
    return plan


def simulate(session: Session, performance: Any, *, fallback_mode: Any = None) -> dict:
    perf = session.get(Performance, int(getattr(performance, "id", performance)))
    if perf is None:
        raise NotFoundError(_("Séance introuvable"))
    fallback = _fallback(session, fallback_mode)
    plans = [plan_order(session, perf.id, session.get(Order, oid), fallback) for oid in _orders(session, perf.id)]
    by_mode: dict[str, Decimal] = {}
    for p in plans:
        for code, amount in p["refunds"]:
            by_mode[code] = by_mode.get(code, ZERO) + amount
    automatic = [p for p in plans if not p["reason"]]
    return {"performance": performance_label(perf), "performance_id": perf.id, "orders": len(plans),
            "automatic": len(automatic), "tickets": sum(p["tickets"] for p in automatic),
            "amount": sum((p["amount"] for p in automatic), ZERO), "by_mode": by_mode,
            "needs_operator": [p for p in plans if p["reason"]], "plans": plans}


def start(session: Session, performance: Any, *, cause: Any = "CANCELLED", fallback_mode: Any = None,
          enqueue_job: bool = True) -> PerformanceCancellation:
    """Record the cancellation (the performance goes off sale) and enqueue the batch refund."""
    perf = session.get(Performance, int(getattr(performance, "id", performance)))
    if perf is None:
        raise NotFoundError(_("Séance introuvable"))
    pc = session.scalar(select(PerformanceCancellation).where(PerformanceCancellation.performance_id == perf.id))
    cause_row = session.scalar(select(RefundCause).where(RefundCause.code == cause)) if isinstance(cause, str) else cause
    fallback = _fallback(session, fallback_mode)
    if pc is None:
        pc = PerformanceCancellation(performance_id=perf.id, state="new", report={})
        session.add(pc)
    elif pc.state == "running":
        raise ConflictError(_("Le remboursement de cette séance est déjà en cours"))
    pc.cause_id = cause_row.id if cause_row else None
    pc.fallback_mode_id = fallback.id if fallback else None
    perf.on_sale = False
    session.flush()
    if enqueue_job:
        from coulisses.outbox import enqueue

        job = enqueue(session, "refunds.cancel_performance", {"cancellation": pc.id})
        pc.job_id = job.id
    session.flush()
    return pc


def run(session: Session, cancellation: Any, *, commit: Callable[[], None] | None = None,
        progress: Callable[[int, int], None] | None = None) -> dict:
    """Refund every order of the cancelled performance, each in its own basket and operation."""
    pc = cancellation if isinstance(cancellation, PerformanceCancellation) else session.get(PerformanceCancellation,
                                                                                            int(cancellation))
    commit = commit or session.flush
    perf_id = pc.performance_id
    fallback = session.get(PaymentMode, pc.fallback_mode_id) if pc.fallback_mode_id else None
    cause = session.get(RefundCause, pc.cause_id) if pc.cause_id else None
    pc.state = "running"
    commit()
    order_ids = _orders(session, perf_id)
    report = dict(pc.report or {})
    done, needs = list(report.get("done", [])), list(report.get("needs_operator", []))
    seen = {d["order"] for d in done} | {n["order"] for n in needs}
    total = len(order_ids)
    for i, oid in enumerate(order_ids, 1):
        order = session.get(Order, oid)
        plan = plan_order(session, perf_id, order, fallback)
        if plan["reason"] or not plan["tickets"]:
            if order.number not in seen:
                needs.append({"order": order.number, "contact": plan["contact"], "reason": plan["reason"]})
        else:
            basket = baskets.open_basket(session, contact=order.buyer_id)
            baskets.set_options(session, basket, requested_by="organiser", cause=cause.id if cause else None)
            tickets = session.scalars(select(Ticket.id).where(Ticket.order_id == oid, Ticket.performance_id == perf_id,
                                                              Ticket.state.in_(("paid", "printed"))))
            baskets.add_order(session, basket, order, [str(t) for t in tickets])
            result = settle(session, basket, refunds=[RefundInput(code, amount) for code, amount in plan["refunds"]])
            done.append({"order": order.number, "operation": basket.number, "amount": str(result.refunded),
                         "refunds": [[c, str(a)] for c, a in plan["refunds"]]})
            complete_payouts(session, basket=basket)
        pc.report = {"done": done, "needs_operator": needs}
        commit()
        if progress:
            progress(i, total)
    pc.state = "done"
    pc.report = {"done": done, "needs_operator": needs,
                 "amount": str(sum((Decimal(d["amount"]) for d in done), ZERO))}
    commit()
    return pc.report


def run_cancellation_job(session: Session, job) -> dict:
    report = run(session, job.payload["cancellation"], commit=session.commit,
                 progress=lambda done, total: job.progress(done, total))
    return {"done": len(report["done"]), "needs_operator": len(report["needs_operator"])}
