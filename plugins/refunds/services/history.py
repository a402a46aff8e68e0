"""What the refunds plugin adds to an order's and a contact's history: the order detail's actions
("Reprendre pour annulation", "Terminer le remboursement" after an interruption) and the refunds of
an order (baskets, payouts)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.i18n import _

from plugins.refunds.models import BasketTicket, CancellationBasket, RefundPayout
from plugins.refunds.registry import get_registry
from plugins.sales.models import Operation, Order


def order_actions(session: Session, order: Order) -> list:
    from plugins.sales.registry import OrderAction

    actions = []
    if any(t.state in ("paid", "printed") for t in order.tickets) and order.total - order.paid <= 0:
        actions.append(OrderAction("refunds_take", _("REPRENDRE (annulation)"),
                                   url=f"/admin/refunds/basket/take?order={order.number}",
                                   permission="refunds.refund", position=60, method="POST"))
    pending = session.scalar(select(RefundPayout.id).where(RefundPayout.order_id == order.id,
                                                           RefundPayout.state == "pending").limit(1))
    if pending is not None:
        actions.append(OrderAction("refunds_complete", _("Terminer le remboursement"),
                                   url=f"/admin/refunds/basket/complete?order={order.number}",
                                   permission="refunds.refund", position=61, method="POST"))
    pm = get_registry().pm
    if pm.has_plugin("reports"):
        for number in session.scalars(select(Operation.number).join(
                CancellationBasket, CancellationBasket.operation_id == Operation.id).where(
                CancellationBasket.state == "settled", CancellationBasket.id.in_(
                    select(BasketTicket.basket_id).where(BasketTicket.order_id == order.id)))
                .order_by(Operation.number)):
            actions.append(OrderAction(f"refunds_receipt_{number}", _("Reçu de remboursement (Ordre %(number)s)",
                                                                      number=number),
                                       url=f"/admin/reports_documents/object?type=refunds.refund_receipt&ref={number}",
                                       permission="refunds.refund", position=83))
    return actions


def refunds_of(session: Session, order: Order) -> list[dict]:
    """The settled baskets that cancelled tickets of ``order``, with their payouts."""
    baskets = session.scalars(select(CancellationBasket).where(CancellationBasket.id.in_(
        select(BasketTicket.basket_id).where(BasketTicket.order_id == order.id)),
        CancellationBasket.state == "settled").order_by(CancellationBasket.id))
    out = []
    for b in baskets:
        payouts = session.scalars(select(RefundPayout).where(RefundPayout.basket_id == b.id,
                                                             RefundPayout.order_id == order.id))
        out.append({"operation": b.number, "settled_at": b.settled_at, "summary": b.summary,
                    "payouts": [{"mode": p.payment_mode.code, "amount": p.amount, "state": p.state} for p in payouts]})
    return out
