"""What the contact sheet shows of sales: histories, facts for the indicators, the credit balance
section; and the refusal to delete a contact the sales reference."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from coulisses import ConflictError
from coulisses.db import Money, utcnow
from coulisses.i18n import _, _l, _n, deployment_timezone, format_datetime, format_money, local_time

from plugins.contacts.registry import HistoryRow
from plugins.sales.models import (
    ORDER_STATE_LABELS, CreditMovement, Event, Order, OrderDelivery, Payment, PaymentMode, PendingPayment, Performance,
    SalesChannel,
    Season, Ticket,
)
from plugins.sales.services.common import ZERO

LIMIT = 500


def history(session: Session, contact, kind: str) -> list[HistoryRow] | None:
    if kind == "purchases":
        return purchases(session, contact)
    if kind == "cultural":
        return cultural(session, contact)
    if kind == "financial":
        return financial(session, contact)
    return None


def purchases(session: Session, contact) -> list[HistoryRow]:
    """The orders the contact plays a part in, once each, with its roles (``details["roles"]``):
    ``buyer``, ``payer``, ``structure`` (the structure a relay bought for), ``attendee`` (holds one
    of its tickets). ``details["key"]`` identifies the order for the sheet's merge."""
    attendee_orders = select(Ticket.order_id).where(Ticket.attendee_id == contact.id)
    orders = session.scalars(select(Order).where(or_(
        Order.buyer_id == contact.id, Order.payer_id == contact.id, Order.structure_id == contact.id,
        Order.id.in_(attendee_orders))).order_by(Order.created_at.desc()).limit(LIMIT)).all()
    attending = set(session.scalars(attendee_orders.where(Ticket.order_id.in_([o.id for o in orders])).distinct()))
    rows = []
    for order in orders:
        count = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.order_id == order.id, Ticket.state != "cancelled"))
        roles = [role for role, plays in (("buyer", order.buyer_id == contact.id),
                                          ("payer", order.payer_id == contact.id),
                                          ("structure", order.structure_id == contact.id),
                                          ("attendee", order.id in attending)) if plays]
        rows.append(HistoryRow(kind="purchases", date=order.created_at, label=_n("Dossier %(number)s — %(num)d billet", "Dossier %(number)s — %(num)d billets",
                                                         count, number=order.number),
                               reference=str(order.number), amount=order.total,
                               status=str(ORDER_STATE_LABELS.get(order.state, order.state)),
                               url=f"/admin/sales_order_detail/?number={order.number}",
                               details={"order": order.number, "tickets": count, "balance": str(order.total - order.paid),
                                        "roles": roles, "key": f"order:{order.number}"}))
    return rows


def _attended_by(contact_id: int):
    """Tickets the contact attends: theirs by attendee, or their orders' tickets without attendee."""
    return or_(Ticket.attendee_id == contact_id,
               and_(Ticket.attendee_id.is_(None), Order.buyer_id == contact_id))


def cultural(session: Session, contact) -> list[HistoryRow]:
    rows = session.execute(
        select(Performance.id, Performance.starts_at, Event.title, func.count(Ticket.id), func.min(Order.number))
        .select_from(Ticket).join(Order, Ticket.order_id == Order.id)
        .join(Performance, Ticket.performance_id == Performance.id).join(Event, Performance.event_id == Event.id)
        .where(_attended_by(contact.id), Ticket.state != "cancelled")
        .group_by(Performance.id, Performance.starts_at, Event.title)
        .order_by(Performance.starts_at.desc()).limit(LIMIT)).all()
    now = utcnow()
    return [HistoryRow(kind="cultural", date=starts_at, label=f"{title} - {format_datetime(starts_at, weekday=True)}",
                       reference=str(order_number), status=_("à venir") if starts_at > now else _("passée"),
                       details={"performance": perf_id, "tickets": count, "order": order_number,
                                "key": f"performance:{perf_id}"})
            for perf_id, starts_at, title, count, order_number in rows]


def financial(session: Session, contact) -> list[HistoryRow]:
    rows = session.execute(
        select(Payment, PaymentMode.label, Order.number).join(PaymentMode, Payment.payment_mode_id == PaymentMode.id)
        .join(Order, Payment.order_id == Order.id)
        .where(Payment.contact_id == contact.id).order_by(Payment.at.desc()).limit(LIMIT)).all()
    return [HistoryRow(kind="financial", date=p.at,
                       label=(_("Remboursement %(mode)s — dossier %(number)s", mode=mode_label, number=number)
                              if p.amount < 0 else
                              _("Règlement %(mode)s — dossier %(number)s", mode=mode_label, number=number)),
                       reference=str(number), amount=p.amount, status=_("remboursé") if p.amount < 0 else _("payé"),
                       details={"order": number, "mode": mode_label, "reference": p.reference,
                                "key": f"payment:{p.id}"})
            for p, mode_label, number in rows]


# --------------------------------------------------------------------------- facts


def season_bounds(session: Session, when: datetime, offset: int = 0) -> tuple[datetime, datetime]:
    """The [start, end) of the season containing ``when`` (``offset=-1``: the previous one), in UTC:
    the ``Season`` rows when one covers that day, else seasons starting on the 1st of
    CONTACTS_SEASON_START_MONTH (September by default). Days are the deployment's (Europe/Paris): a
    season starts at local midnight of its first day and ends at local midnight after its last day,
    whatever the daylight-saving time of either."""
    from coulisses.config import current_config

    day = local_time(when).date()
    seasons = session.scalars(select(Season).order_by(Season.start_date)).all()
    current = next((s for s in seasons if s.start_date <= day <= s.end_date), None)
    if current is not None:
        index = seasons.index(current) + offset
        if 0 <= index < len(seasons):
            s = seasons[index]
            return _local_midnight(s.start_date), _local_midnight(s.end_date + timedelta(days=1))
    month = int(current_config().get("CONTACTS_SEASON_START_MONTH") or 9)
    year = (day.year if day.month >= month else day.year - 1) + offset
    return _local_midnight(date(year, month, 1)), _local_midnight(date(year + 1, month, 1))


def _local_midnight(day: date) -> datetime:
    """00:00 of ``day`` in the deployment's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=deployment_timezone()).astimezone(timezone.utc)


def facts(session: Session, contact) -> dict[str, Any]:
    now = utcnow()
    start, end = season_bounds(session, now)
    prev_start, prev_end = season_bounds(session, now, -1)
    attended = select(Ticket.performance_id).join(Order, Ticket.order_id == Order.id).join(
        Performance, Ticket.performance_id == Performance.id).where(
        _attended_by(contact.id), Ticket.state != "cancelled", Performance.starts_at >= start,
        Performance.starts_at < end).distinct()
    performances = session.scalar(select(func.count()).select_from(attended.subquery()))
    spend = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0, type_=Money())).where(
        Payment.contact_id == contact.id, Payment.at >= prev_start, Payment.at < prev_end))
    channels = sorted(session.scalars(select(SalesChannel.code).join(Order, Order.channel_id == SalesChannel.id)
                                      .where(Order.buyer_id == contact.id).distinct()))
    children = session.scalar(select(exists().where(
        Ticket.order_id == Order.id, Order.buyer_id == contact.id, Ticket.state != "cancelled",
        Ticket.performance_id == Performance.id, Performance.event_id == Event.id, Event.for_children.is_(True),
        Performance.starts_at >= start, Performance.starts_at < end)))
    return {"performances_this_season": int(performances or 0), "spend_previous_season": spend or ZERO,
            "channels": channels, "children_product": bool(children)}


# --------------------------------------------------------------------------- sheet section, deletion


def credit_section(session: Session, contact) -> dict[str, Any]:
    from plugins.sales.services.credit import credit_balance, credit_movements

    amount = credit_balance(session, contact)
    return {"balance": str(amount), "balance_display": format_money(amount),
            "movements": [{"at": m.at.isoformat(), "amount": str(m.amount), "amount_display": format_money(m.amount),
                           "balance_after": str(m.balance_after), "reason": m.reason,
                           "order": None if m.order_id is None else session.get(Order, m.order_id).number}
                          for m in credit_movements(session, contact, limit=20)]}


def refuse_deletion_if_referenced(session: Session, contact) -> None:
    checks = [
        (select(Order.id).where(or_(Order.buyer_id == contact.id, Order.payer_id == contact.id,
                                    Order.structure_id == contact.id)),
         _l("Le contact %(number)s a des dossiers : il ne peut pas être supprimé")),
        (select(Ticket.id).where(Ticket.attendee_id == contact.id),
         _l("Le contact %(number)s a des billets : il ne peut pas être supprimé")),
        (select(Payment.id).where(Payment.contact_id == contact.id),
         _l("Le contact %(number)s a des règlements : il ne peut pas être supprimé")),
        (select(PendingPayment.id).where(PendingPayment.contact_id == contact.id),
         _l("Le contact %(number)s a des règlements en attente : il ne peut pas être supprimé")),
        (select(CreditMovement.id).where(CreditMovement.contact_id == contact.id),
         _l("Le contact %(number)s a un avoir : il ne peut pas être supprimé")),
        (select(OrderDelivery.order_id).where(OrderDelivery.contact_id == contact.id),
         _l("Le contact %(number)s reçoit les billets d'un dossier : il ne peut pas être supprimé")),
    ]
    for stmt, message in checks:
        if session.scalar(stmt.limit(1)) is not None:
            raise ConflictError(str(message) % {"number": contact.number})
