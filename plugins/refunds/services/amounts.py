"""What a basket refunds and sells, as the screen shows it, and by which modes it may refund.

- ``kept_amounts``: what the organisation keeps of each ticket (its simple fees when they are not
  refunded — the non-refundable part always —, plus the cause's cancellation fee: fixed per order,
  per ticket or a percentage of the price; or the operator's override for the whole basket), never
  more than the ticket's price and fees. Amounts are split to the cent, never rounded away: the
  refunded and kept parts of each ticket add up to what it cost.
- ``preview``: lines grouped order > performance > category and tariff (quantity, price, fees,
  amount), the exchange grouped by contact > product, "Sous-total remboursé" (negative), "Sous-total
  vendu", the total (sold − refunded) and the refund options.
- ``refund_options``: ESPÈCES, SOLDE AVOIR, COMPTE D'ATTENTE (when that plugin registers its mode
  type) and the order's other payment modes (AUTRE PAIEMENT: card, transfer, cheque…), each with
  the most it may refund (what was paid by that mode on the basket's orders, within the type's own
  limit) or the reason it cannot — asked to the payment mode types (``sales.payment_types``), the one
  place that knows what a mode can refund.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses.db import Money, currency_exponent
from coulisses.i18n import _

from plugins.refunds.models import CancellationBasket
from plugins.refunds.registry import get_registry
from plugins.sales.models import Order, Payment, PaymentMode, Ticket
from plugins.sales.registry import get_registry as sales_registry
from plugins.sales.services.catalogue import performance_label

ZERO = Decimal("0.00")


def cent() -> Decimal:
    return Decimal(1).scaleb(-currency_exponent())


def split(amount: Decimal, parts: int) -> list[Decimal]:
    """``amount`` in ``parts`` shares to the cent, the remainder on the first ones (Σ = amount)."""
    if parts <= 0:
        return []
    unit = cent()
    base = (amount / parts).quantize(unit, rounding="ROUND_DOWN")
    rest = int(((amount - base * parts) / unit).to_integral_value())
    return [base + (unit if i < rest else ZERO) for i in range(parts)]


def cause_fees(basket: CancellationBasket, tickets: list[Ticket]) -> dict[int, Decimal]:
    """The cancellation fee of the basket's cause (or override), per ticket id."""
    fees = {t.id: ZERO for t in tickets}
    if not tickets:
        return fees
    if basket.fee_override is not None:
        for t, share in zip(tickets, split(basket.fee_override, len(tickets))):
            fees[t.id] = share
        return fees
    cause = basket.cause
    if cause is None or cause.fee_kind == "none" or not cause.fee_value:
        return fees
    if cause.fee_kind == "per_ticket":
        return {t.id: cause.fee_value for t in tickets}
    if cause.fee_kind == "percent":
        return {t.id: (t.price * cause.fee_value / 100).quantize(cent(), rounding=ROUND_HALF_UP) for t in tickets}
    by_order: dict[int, list[Ticket]] = {}
    for t in tickets:
        by_order.setdefault(t.order_id, []).append(t)
    for group in by_order.values():  # fixed: per order
        for t, share in zip(group, split(cause.fee_value, len(group))):
            fees[t.id] = share
    return fees


def kept_amounts(basket: CancellationBasket, tickets: list[Ticket]) -> dict[int, Decimal]:
    """What the organisation keeps of each ticket (``retained`` once cancelled)."""
    extra = cause_fees(basket, tickets)
    kept = {}
    for t in tickets:
        fees_kept = t.fees if not basket.refund_fees else t.fees - t.fees_refundable
        kept[t.id] = min(fees_kept + extra[t.id], t.price + t.fees)
    return kept


# --------------------------------------------------------------------------- the screen's lines


@dataclass
class Group:
    label: str
    quantity: int = 0
    price: Decimal | None = None
    fees: Decimal = ZERO
    amount: Decimal = ZERO
    children: list["Group"] = field(default_factory=list)
    key: Any = None
    tickets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"label": self.label, "key": self.key if isinstance(self.key, int) else None,
                "quantity": self.quantity, "price": self.price, "fees": self.fees,
                "amount": self.amount, "tickets": self.tickets, "children": [c.as_dict() for c in self.children]}


def _child(groups: "OrderedDict[Any, Group]", key: Any, label: str) -> Group:
    if key not in groups:
        groups[key] = Group(label=label, key=key)
    return groups[key]


def refund_groups(session: Session, basket: CancellationBasket) -> list[Group]:
    """Order > performance > "Cat 1 Contact occasionnel - Plein tarif": quantity, unit price, fees
    refunded, amount refunded (price + fees − kept)."""
    tickets = [bt.ticket for bt in basket.tickets]
    kept = kept_amounts(basket, tickets)
    orders: OrderedDict = OrderedDict()
    for t in sorted(tickets, key=lambda t: (t.order.number, t.performance.starts_at, t.category_id, t.tariff_id, t.id)):
        refunded = t.price + t.fees - kept[t.id]
        fees_back = t.fees_refundable if basket.refund_fees else ZERO
        o = _child(orders, t.order_id, _("Dossier %(number)s", number=t.order.number))
        p = _child(_children(o), t.performance_id, performance_label(t.performance))
        c = _child(_children(p), (t.category_id, t.tariff_id), f"{t.category.label} {t.tariff.full_label}")
        c.price = t.price
        for g in (o, p, c):
            g.quantity += 1
            g.fees += fees_back
            g.amount += refunded
        c.tickets.append(t.barcode)
    return [_freeze(g) for g in orders.values()]


def _children(group: Group) -> "OrderedDict":
    if not hasattr(group, "_index"):
        group._index = OrderedDict()  # type: ignore[attr-defined]
    return group._index  # type: ignore[attr-defined]


def _freeze(group: Group) -> Group:
    index = getattr(group, "_index", None)
    if index is not None:
        group.children = [_freeze(g) for g in index.values()]
        del group._index  # type: ignore[attr-defined]
    return group


def exchange_groups(session: Session, basket: CancellationBasket) -> list[Group]:
    """ÉCHANGÉ (PAR CONTACT): the basket's contact > product > detail, with quantity, price, amount."""
    registry = get_registry()
    if not basket.exchange_lines:
        return []
    contact = basket.contact
    from plugins.sales.services.detail import buyer_label  # noqa: F401 - same label as the order detail

    top = Group(label=_contact_label(contact))
    index: OrderedDict = OrderedDict()
    for line in basket.exchange_lines:
        kind = registry.product_kind(line.kind)
        unit = kind.unit_amount(session, line, basket)
        group_label, detail = kind.describe(session, line)
        g = _child(index, (line.kind, group_label), group_label)
        c = Group(label=detail, quantity=line.quantity, price=unit, amount=unit * line.quantity, key=line.id)
        g.children.append(c)
        g.quantity += line.quantity
        g.amount += c.amount
        top.quantity += line.quantity
        top.amount += c.amount
    top.children = list(index.values())
    return [top]


def _contact_label(contact) -> str:
    if contact is None:
        return ""
    return str(contact)


# --------------------------------------------------------------------------- refund modes


@dataclass
class ModeOption:
    """A refund mode as the screen offers it: ``limit`` None = no ceiling (credit balance)."""

    code: str
    label: str
    type_code: str
    group: str  # cash, credit_balance, waiting_account, other
    available: bool
    limit: Decimal | None
    paid: Decimal
    reason: str = ""

    def as_dict(self) -> dict:
        return {"code": self.code, "label": self.label, "type": self.type_code, "group": self.group,
                "available": self.available, "limit": self.limit, "paid": self.paid, "reason": self.reason}


def paid_by_mode(session: Session, order_ids: list[int]) -> dict[int, dict[int, Decimal]]:
    """{order id: {payment mode id: net amount paid by it (payments − refunds)}}."""
    out: dict[int, dict[int, Decimal]] = {}
    if not order_ids:
        return out
    rows = session.execute(select(Payment.order_id, Payment.payment_mode_id,
                                  func.coalesce(func.sum(Payment.amount), 0, type_=Money()))
                           .where(Payment.order_id.in_(order_ids))
                           .group_by(Payment.order_id, Payment.payment_mode_id)).all()
    for order_id, mode_id, amount in rows:
        out.setdefault(order_id, {})[mode_id] = amount
    return out


def _group_of(type_code: str) -> str:
    return type_code if type_code in ("cash", "credit_balance", "waiting_account") else "other"


def refund_options(session: Session, basket: CancellationBasket, order_ids: list[int] | None = None) -> list[ModeOption]:
    """Every active payment mode whose type is enabled, as the payment mode types say (one source of
    truth: ``plugins.sales.payment_types``): the most it may refund on the basket's orders, or why it
    cannot (the type's ``check_refund``: ``can_refund``, its settings, a device missing…).

    The ceiling of a mode is what the orders received by it (payments − refunds), within the type's
    own ``refundable`` limit; a type whose refund is a credit to the contact (``refund_is_credit``: the
    credit balance) has none and needs the basket's contact. AUTRE PAIEMENT lists only the modes that
    paid these orders."""
    registry = sales_registry()
    if order_ids is None:
        order_ids = sorted({bt.order_id for bt in basket.tickets})
    orders = [session.get(Order, oid) for oid in order_ids]
    paid = paid_by_mode(session, order_ids)
    out = []
    for mode in session.scalars(select(PaymentMode).where(PaymentMode.active.is_(True))
                                .order_by(PaymentMode.position, PaymentMode.id)):
        mtype = registry.payment_mode_types.get(mode.type_code)
        if mtype is None:  # its plugin is disabled
            continue
        group = _group_of(mode.type_code)
        received = {o.id: max(paid.get(o.id, {}).get(mode.id, ZERO), ZERO) for o in orders}
        amount = sum(received.values(), ZERO)
        if group == "other" and amount <= 0 and not mtype.refund_is_credit:
            continue  # AUTRE PAIEMENT lists the order's own payment modes only
        limit, reason = _ceiling(session, basket, mode, mtype, orders, received)
        if not reason and limit is not None and limit <= 0:
            reason = _("Rien n'a été payé par %(mode)s sur ces dossiers", mode=mode.label)
        out.append(ModeOption(mode.code, mode.label, mode.type_code, group, not reason, limit, amount, reason))
    return out


def _ceiling(session: Session, basket: CancellationBasket, mode: PaymentMode, mtype, orders: list[Order],
             received: dict[int, Decimal]) -> tuple[Decimal | None, str]:
    """(the most ``mode`` may refund on ``orders`` — None: no ceiling —, the reason it cannot or "")."""
    from plugins.sales.services.payments import refund_refusal

    contact = None
    if mtype.refund_is_credit:
        if basket.contact_id is None:
            return None, _("Choisissez d'abord le contact du panier")
        contact = basket.contact_id
    limit: Decimal | None = None if mtype.refund_is_credit else ZERO
    refused, allowed = "", False
    for order in orders:
        if not mtype.refund_is_credit and received[order.id] <= 0:
            continue  # nothing to give back by this mode on that order
        reason = refund_refusal(session, order, mode, cent(), contact=contact, point_of_sale=basket.point_of_sale_id)
        if reason:
            refused = refused or reason
            continue
        allowed = True
        if limit is not None:
            own = mtype.refundable(session, order, mode)  # the type's own limit (a card: what the card paid)
            limit += received[order.id] if own is None else min(received[order.id], max(own, ZERO))
    if refused and not allowed:
        return limit, refused
    return limit, ""


# --------------------------------------------------------------------------- the whole preview


def preview(session: Session, basket: CancellationBasket) -> dict:
    """Everything the screen and ``GET …/preview`` show."""
    refund = refund_groups(session, basket)
    exchange = exchange_groups(session, basket)
    refunded = sum((g.amount for g in refund), ZERO)
    sold = sum((g.amount for g in exchange), ZERO)
    orders = sorted({bt.order_id for bt in basket.tickets})
    reminder = []
    per_order = {}
    for g in refund:
        per_order[g.key] = g.amount
    for mode_id, amount in reminder_by_mode(session, per_order).items():
        mode = session.get(PaymentMode, mode_id)
        reminder.append({"mode": mode.code, "label": mode.label, "amount": amount})
    total = sold - refunded
    return {
        "basket": basket.id, "operation": basket.number, "state": basket.state,
        "contact": basket.contact.number if basket.contact else None,
        "contact_label": _contact_label(basket.contact),
        "orders": [session.get(Order, o).number for o in orders],
        "refund_groups": [g.as_dict() for g in refund], "exchange_groups": [g.as_dict() for g in exchange],
        "subtotal_refunded": -refunded, "subtotal_sold": sold, "total": total,
        "to_pay": max(total, ZERO), "to_refund": max(-total, ZERO),
        "payment_reminder": reminder, "refund_options": [o.as_dict() for o in refund_options(session, basket, orders)],
        "requested_by": basket.requested_by, "cause": basket.cause.code if basket.cause else None,
        "refund_fees": basket.refund_fees, "fee_override": basket.fee_override,
        "tickets": [bt.ticket.barcode for bt in basket.tickets], "delivery": delivery_plan(basket),
    }


def delivery_plan(basket: CancellationBasket) -> dict:
    """"Livraison billets" and "Envoi documents" of the exchange's new tickets: the mode, e-mail and
    address typed (empty: the contact's), immediate print, and the documents the exchange order will
    produce once settled (the sales plugin's defaults for the mode, as on the sell screen)."""
    from plugins.sales.models import DOCUMENT_TYPE_LABELS
    from plugins.sales.services.delivery import DEFAULT_DOCUMENTS

    return {"mode": basket.delivery_mode, "email": basket.delivery_email or "",
            "address": basket.delivery_address or "", "immediate_print": bool(basket.immediate_print),
            "documents": [{"type": t, "label": str(DOCUMENT_TYPE_LABELS.get(t, t)), "send": send}
                          for t, send in DEFAULT_DOCUMENTS.get(basket.delivery_mode, ())]}


def reminder_by_mode(session: Session, refunded_by_order: dict[int, Decimal]) -> dict[int, Decimal]:
    """"Rappel des modes de règlement": what each order refunds, spread over the modes that paid it
    (in the order of its payments, at most what each paid) — {payment mode id: amount}."""
    out: dict[int, Decimal] = {}
    paid = paid_by_mode(session, list(refunded_by_order))
    for order_id, amount in refunded_by_order.items():
        left = amount
        for mode_id, net in _modes_in_payment_order(session, order_id, paid.get(order_id, {})):
            if left <= 0:
                break
            share = min(left, net)
            if share > 0:
                out[mode_id] = out.get(mode_id, ZERO) + share
                left -= share
    return out


def _modes_in_payment_order(session: Session, order_id: int, net: dict[int, Decimal]) -> list[tuple[int, Decimal]]:
    first = session.execute(select(Payment.payment_mode_id, func.min(Payment.id)).where(Payment.order_id == order_id)
                            .group_by(Payment.payment_mode_id)).all()
    ordered = [m for m, _ in sorted(first, key=lambda r: r[1])]
    return [(m, net.get(m, ZERO)) for m in ordered if net.get(m, ZERO) > 0]
