"""The order detail screen ("Détail d'un dossier") as data, for the screen and the REST API."""
from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from coulisses.i18n import _, format_datetime, format_money
from coulisses.security import Operator

from plugins.contacts.models import Contact
from plugins.sales.models import (
    DELIVERY_MODE_LABELS, Operation, OperationEntry, Order, Payment, PRINT_STATE_LABELS, PointOfSale, SalesChannel, Ticket,
    TICKET_STATE_LABELS, TICKET_TYPE_LABELS,
)
from plugins.sales.registry import get_registry
from plugins.sales.services.catalogue import performance_label
from plugins.sales.services.common import ZERO


def _label(contact: Contact | None) -> str:
    return "" if contact is None else f"{contact.display_name} [{contact.number}]"


def buyer_label(session: Session, order: Order) -> str:
    """``AKOKA, Viviane | UNIVERSITY PARIS / Relais [15]`` (structure and role when a relay buys for it)."""
    buyer = session.get(Contact, order.buyer_id)
    if order.structure_id:
        structure = session.get(Contact, order.structure_id)
        return _("%(buyer)s | %(structure)s / Relais [%(number)s]", buyer=buyer.display_name,
                 structure=structure.display_name, number=buyer.number)
    return _label(buyer)


def _audit_line(created: bool, at, login: str, pos: PointOfSale | None) -> str:
    """``Création 28.09.2015 17:03 par STX_BDD sur Guichet`` / ``Dernière modif …``."""
    values = {"at": format_datetime(at), "login": login or "?"}
    if pos is None:
        return (_("Création %(at)s par %(login)s", **values) if created
                else _("Dernière modif %(at)s par %(login)s", **values))
    return (_("Création %(at)s par %(login)s sur %(pos)s", pos=pos.label, **values) if created
            else _("Dernière modif %(at)s par %(login)s sur %(pos)s", pos=pos.label, **values))


def order_detail(session: Session, order: Order, *, can: Callable[[str], bool] | None = None) -> dict[str, Any]:
    tickets = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.id).options(
        selectinload(Ticket.performance), selectinload(Ticket.category), selectinload(Ticket.tariff),
        selectinload(Ticket.seat), selectinload(Ticket.area))))
    payments = list(session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)
                                    .options(selectinload(Payment.payment_mode))))
    entries = list(session.scalars(select(OperationEntry).where(OperationEntry.order_id == order.id)
                                   .order_by(OperationEntry.id)))
    op_ids = {e.operation_id for e in entries} | {t.operation_id for t in tickets} | {p.operation_id for p in payments}
    ops = {op.id: op for op in session.scalars(select(Operation).where(Operation.id.in_(op_ids - {None})))}
    logins = {o.id: o.login for o in session.scalars(select(Operator).where(Operator.id.in_(
        {order.created_by_id, order.updated_by_id} - {None})))}
    poses = {p.id: p for p in session.scalars(select(PointOfSale))}
    channels = {c.id: c for c in session.scalars(select(SalesChannel))}
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_(
        {t.attendee_id for t in tickets} | {order.buyer_id, order.payer_id, order.structure_id} - {None})))}

    summary: "OrderedDict[int | None, dict]" = OrderedDict()
    rows = []
    for t in tickets:
        op = ops.get(t.operation_id)
        attendee = contacts.get(t.attendee_id) if t.attendee_id else None
        group = summary.setdefault(t.attendee_id, {"contact": _label(attendee) if attendee else buyer_label(session, order),
                                                   "contact_number": attendee.number if attendee else None,
                                                   "performances": OrderedDict()})
        perf = group["performances"].setdefault(t.performance_id, {"label": performance_label(t.performance),
                                                                   "quantity": 0, "amount": ZERO, "lines": OrderedDict()})
        key = (t.category_id, t.tariff_id, t.price)
        line = perf["lines"].setdefault(key, {"category": t.category.label, "tariff": t.tariff.full_label,
                                              "quantity": 0, "price": t.price, "fees": t.fees, "tickets": []})
        if t.state != "cancelled":
            line["quantity"] += 1
            perf["quantity"] += 1
            perf["amount"] += t.price + t.fees
        row = {
            "id": t.id, "barcode": t.barcode, "area": t.area.name if t.area else "", "seat": t.seat.label if t.seat else "",
            "row": t.seat.row if t.seat else "", "type": t.type, "type_label": str(TICKET_TYPE_LABELS.get(t.type, t.type)),
            "performance": performance_label(t.performance), "category": t.category.label, "tariff": t.tariff.full_label,
            "price": t.price, "fees": t.fees, "state": t.state, "state_label": str(TICKET_STATE_LABELS[t.state]),
            "print_state": t.print_state, "print_state_label": str(PRINT_STATE_LABELS[t.print_state]),
            "printed_at": t.printed_at, "delivery_mode": t.delivery_mode,
            "delivery_mode_label": str(DELIVERY_MODE_LABELS[t.delivery_mode]), "created_at": t.created_at,
            "date": format_datetime(t.created_at), "point_of_sale": poses[op.point_of_sale_id].label if op and op.point_of_sale_id else "",
            "channel": channels[op.channel_id].label if op and op.channel_id else "",
            "operator": op.operator_login if op else "", "attendee": _label(attendee) if attendee else "",
            "attendee_number": attendee.number if attendee else None,
            # the contingent the ticket was taken from; the catalogue has no contingents (allocations
            # held for a partner or a use) yet, so every ticket is outside any, as the seed says
            "contingent": None, "contingent_label": str(_("Hors cont.")),
            "contingent_title": str(_("Hors contingent")),
        }
        # "Hors cont. - Balcon - 51S - 01010002748 - Billet - 28.09.2015 17:03 - Guichet - STX_BDD - imprimé - Remis au contact"
        row["line"] = " - ".join(x for x in (row["contingent_label"], row["area"], row["seat"], t.barcode, row["type_label"], row["date"],
                                             row["point_of_sale"], row["operator"], row["print_state_label"]
                                             if t.state != "cancelled" else row["state_label"], row["delivery_mode_label"]) if x)
        line["tickets"].append(row)
        rows.append(row)
    for group in summary.values():
        group["performances"] = [{**p, "lines": list(p["lines"].values())} for p in group["performances"].values()]
    registry = get_registry()
    actions = []
    for items in registry.hook("sales_order_actions", session=session, order=order):
        for action in items or []:
            if action.permission and can is not None and not can(action.permission):
                continue
            actions.append(action)
    actions.sort(key=lambda a: (a.position, a.code))
    blocks = order_blocks(session, order, can=can)
    payments_in = sum((p.amount for p in payments if p.amount > 0), ZERO)
    refunds = sum((-p.amount for p in payments if p.amount < 0), ZERO)
    created_pos = poses.get(order.point_of_sale_id)
    updated_pos = poses.get(order.updated_point_of_sale_id)
    return {
        "number": order.number, "state": order.state, "state_label": order.state_label,
        "header": _("Dossier %(number)s (%(state)s) - %(buyer)s", number=order.number, state=order.state_label,
                    buyer=buyer_label(session, order)),
        "buyer": _label(contacts.get(order.buyer_id)), "buyer_number": contacts[order.buyer_id].number,
        "buyer_label": buyer_label(session, order),
        "payer": _label(contacts.get(order.payer_id)) if order.payer_id else "",
        "payer_number": contacts[order.payer_id].number if order.payer_id else None,
        "structure_number": contacts[order.structure_id].number if order.structure_id else None,
        "created_at": order.created_at, "updated_at": order.updated_at,
        "created_by": logins.get(order.created_by_id, ""), "updated_by": logins.get(order.updated_by_id, ""),
        "point_of_sale": created_pos.label if created_pos else "", "channel": channels[order.channel_id].label if order.channel_id else "",
        "created_line": _audit_line(True, order.created_at, logins.get(order.created_by_id, ""), created_pos),
        "updated_line": _audit_line(False, order.updated_at, logins.get(order.updated_by_id, ""), updated_pos),
        "delivery_mode": order.delivery_mode, "note": order.note,
        "ticket_count": sum(1 for t in tickets if t.state != "cancelled"),
        "summary": list(summary.values()),
        "tickets": rows,
        "payments": [{"id": p.id, "mode": p.payment_mode.code, "mode_label": p.payment_mode.label, "amount": p.amount,
                      "tendered": p.tendered, "change": p.change, "reference": p.reference, "at": p.at,
                      "operation": ops[p.operation_id].number if p.operation_id in ops else None,
                      "is_refund": p.amount < 0, "details": p.details or {},
                      "correction_of": p.correction_of_id} for p in payments],
        "operations": [{"number": ops[e.operation_id].number,
                        "label": _("Ordre %(number)s", number=ops[e.operation_id].number), "kind": e.kind,
                        "kind_label": str(registry.operation_kinds[e.kind].label) if e.kind in registry.operation_kinds
                        else e.kind,
                        "at": e.at, "operator": e.operator_login,
                        "point_of_sale": poses[e.point_of_sale_id].label if e.point_of_sale_id in poses else "",
                        "amount": e.amount, "details": e.details} for e in entries],
        "subtotal_paid": payments_in, "refunded": refunds, "total": order.total, "paid": order.paid,
        "balance": order.total - order.paid,
        "total_display": format_money(order.total), "balance_display": format_money(order.total - order.paid),
        "actions": [dataclasses.asdict(a) for a in actions],
        "blocks": [b.as_dict() for b in blocks],
    }


def order_blocks(session: Session, order: Order, *, can: Callable[[str], bool] | None = None,
                 document: bool = False) -> list:
    """The blocks other plugins add to the order (``sales_order_blocks``), by position; those whose
    permission ``can`` refuses left out; ``document=True``: only those printed on the order summary."""
    out = []
    for items in get_registry().hook("sales_order_blocks", session=session, order=order):
        for block in items or []:
            if block.permission and can is not None and not can(block.permission):
                continue
            if document and not block.document:
                continue
            out.append(block)
    out.sort(key=lambda b: (b.position, b.code))
    return out
