"""The sales plugin's reports (when the reports plugin is enabled): sales by performance, sales per
day, payments by mode, the door list of a performance, the cash desk journal of a day. Registered by
``reports_definitions`` in ``hooks.py``; the documents (order summary, print-at-home tickets,
receipt) are in ``report_documents.py``.

Money figures come from the operations' own dates and amounts, which never change: a ticket is counted
on the day it was sold (``sold_at``) at the price it was sold, a cancellation on the day it happened
(``cancelled_at``), a payment or refund at its own date and amount. A day's figures are therefore the
same whenever the report is run.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from marshmallow import Schema, ValidationError, validates_schema
from sqlalchemy import case, func, select, type_coerce

from coulisses.db import Money
from coulisses.i18n import _, _l, deployment_timezone, format_datetime, lazy_pgettext, local_time

from plugins.reports.params import Choice, LocalDate
from plugins.reports.registry import Chart, Column, ReportDefinition, SummaryLine
from plugins.reports.services.engine import stream
from plugins.sales.models import (Event, Operation, Order, Payment, PaymentMode, Performance, PointOfSale, Season,
                                  SeatCategory, Tariff, Ticket, Venue)

SOLD = ("paid", "printed")
ZERO = Decimal("0.00")


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) local time, in UTC."""
    tz = deployment_timezone()
    first = datetime.combine(start, time(0), tzinfo=tz).astimezone(timezone.utc)
    last = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    return first, last


def _seasons(session):
    return [(s.id, s.label) for s in session.scalars(select(Season).order_by(Season.start_date.desc()))]


def _points_of_sale(session):
    return [(p.code, p.label) for p in session.scalars(select(PointOfSale).order_by(PointOfSale.label))]


def _performances(session):
    from plugins.sales.services.catalogue import performance_label

    rows = session.scalars(select(Performance).join(Event).order_by(Performance.starts_at.desc()).limit(500))
    return [(p.id, performance_label(p)) for p in rows]


def _operators(session):
    from coulisses.security import Operator

    return [(o.login, o.full_name or o.login) for o in session.scalars(select(Operator).order_by(Operator.login))]


class Period(Schema):
    start = LocalDate(required=True, metadata={"label": _l("Du")})
    end = LocalDate(required=True, metadata={"label": _l("Au")})

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("La fin précède le début."), "end")


# --------------------------------------------------------------------------- sales by performance


class ByPerformanceParams(Schema):
    season = Choice(load_default=None, metadata={"label": _l("Saison"), "choices": _seasons})
    start = LocalDate(load_default=None, metadata={"label": _l("Séances à partir du")})
    end = LocalDate(load_default=None, metadata={"label": _l("Séances jusqu'au")})


def by_performance_rows(session, params):
    sold = case((Ticket.state.in_(SOLD), 1), else_=0)
    reserved = case((Ticket.state == "reserved", 1), else_=0)
    revenue = case((Ticket.state.in_(SOLD), Ticket.price + Ticket.fees), else_=0)
    counts = (select(Ticket.performance_id, func.sum(sold).label("sold"), func.sum(reserved).label("reserved"),
                     type_coerce(func.sum(revenue), Money).label("revenue"))
              .group_by(Ticket.performance_id).subquery())
    stmt = (select(Performance.id, Event.title, Performance.starts_at, Venue.name, Performance.capacity,
                   counts.c.sold, counts.c.reserved, counts.c.revenue)
            .join(Event, Event.id == Performance.event_id).join(Venue, Venue.id == Performance.venue_id)
            .outerjoin(counts, counts.c.performance_id == Performance.id)
            .order_by(Performance.starts_at, Performance.id))
    if params.get("season"):
        stmt = stmt.where(Performance.season_id == int(params["season"]))
    if params.get("start") or params.get("end"):
        first, last = day_bounds(params.get("start") or date(1900, 1, 1), params.get("end") or date(2999, 12, 30))
        stmt = stmt.where(Performance.starts_at >= first, Performance.starts_at < last)
    for _id, title, starts_at, venue, capacity, n_sold, n_reserved, amount in stream(session, stmt):
        n_sold, n_reserved = int(n_sold or 0), int(n_reserved or 0)
        yield {"performance": f"{title} - {format_datetime(starts_at, weekday=True)}", "starts_at": starts_at, "venue": venue,
               "capacity": capacity, "sold": n_sold, "reserved": n_reserved, "revenue": amount or ZERO,
               "fill": (Decimal(n_sold + n_reserved) / capacity).quantize(Decimal("0.001")) if capacity else None}


BY_PERFORMANCE = ReportDefinition(
    code="sales.by_performance", title=_l("Ventes par séance"), permission="sales.view",
    description=_l("Jauge, places vendues et réservées, recette et taux de remplissage de chaque séance."),
    params=ByPerformanceParams, rows=by_performance_rows,
    columns=(Column("performance", _l("Séance"), width=2.6), Column("starts_at", _l("Date"), "datetime", width=1.2),
             Column("venue", _l("Lieu"), width=1.4), Column("capacity", _l("Jauge"), "number", total=True, width=0.7),
             Column("sold", _l("Vendues"), "number", total=True, width=0.7),
             Column("reserved", _l("Réservées"), "number", total=True, width=0.8),
             Column("revenue", _l("Recette"), "money", total=True), Column("fill", _l("Remplissage"), "percent", width=0.9)),
    charts=(Chart("bar", _l("Places vendues par séance"), label="performance", value="sold"),), landscape=True)


# --------------------------------------------------------------------------- sales per day


def per_day_rows(session, params):
    first, last = day_bounds(params["start"], params["end"])
    days: OrderedDict = OrderedDict()
    day = params["start"]
    while day <= params["end"]:
        days[day] = {"day": day, "tickets": 0, "sales": ZERO, "cancelled": 0, "payments": ZERO, "refunds": ZERO}
        day += timedelta(days=1)
    amount = type_coerce(Ticket.price + Ticket.fees, Money)
    for sold_at, value in stream(session, select(Ticket.sold_at, amount).where(
            Ticket.sold_at >= first, Ticket.sold_at < last).order_by(Ticket.sold_at)):
        row = days[local_time(sold_at).date()]
        row["tickets"] += 1
        row["sales"] += value
    for (cancelled_at,) in stream(session, select(Ticket.cancelled_at).where(
            Ticket.cancelled_at >= first, Ticket.cancelled_at < last, Ticket.sold_at.is_not(None))):
        days[local_time(cancelled_at).date()]["cancelled"] += 1
    for at, value in stream(session, select(Payment.at, Payment.amount).where(Payment.at >= first, Payment.at < last)):
        row = days[local_time(at).date()]
        if value > 0:
            row["payments"] += value
        else:
            row["refunds"] += -value
    yield from days.values()


PER_DAY = ReportDefinition(
    code="sales.per_day", title=_l("Ventes par jour"), permission="sales.view",
    description=_l("Billets vendus et annulés, ventes, encaissements et remboursements de chaque jour, "
                   "aux dates et montants des opérations."),
    params=Period, rows=per_day_rows,
    columns=(Column("day", _l("Jour"), "date"), Column("tickets", _l("Billets vendus"), "number", total=True),
             Column("sales", _l("Ventes"), "money", total=True),
             Column("cancelled", _l("Billets annulés"), "number", total=True),
             Column("payments", _l("Encaissements"), "money", total=True),
             Column("refunds", _l("Remboursements"), "money", total=True)),
    charts=(Chart("line", _l("Ventes par jour"), label="day", value="sales", limit=62),))


# --------------------------------------------------------------------------- payments by mode


class ModeParams(Period):
    point_of_sale = Choice(load_default=None, metadata={"label": _l("Point de vente"), "choices": _points_of_sale})


def payments_by_mode_rows(session, params):
    first, last = day_bounds(params["start"], params["end"])
    positive = type_coerce(func.sum(case((Payment.amount > 0, Payment.amount), else_=0)), Money)
    negative = type_coerce(func.sum(case((Payment.amount < 0, -Payment.amount), else_=0)), Money)
    stmt = (select(PaymentMode.label, func.count(Payment.id), positive, negative)
            .join(PaymentMode, PaymentMode.id == Payment.payment_mode_id)
            .where(Payment.at >= first, Payment.at < last)
            .group_by(PaymentMode.id, PaymentMode.label, PaymentMode.position).order_by(PaymentMode.position, PaymentMode.label))
    if params.get("point_of_sale"):
        stmt = stmt.join(PointOfSale, PointOfSale.id == Payment.point_of_sale_id).where(
            PointOfSale.code == params["point_of_sale"])
    for label, count, paid, refunded in stream(session, stmt):
        paid, refunded = paid or ZERO, refunded or ZERO
        yield {"mode": label, "count": count, "payments": paid, "refunds": refunded, "net": paid - refunded}


PAYMENTS_BY_MODE = ReportDefinition(
    code="sales.payments_by_mode", title=_l("Règlements par mode"), permission="sales.view",
    description=_l("Encaissements et remboursements de la période par mode de règlement."),
    params=ModeParams, rows=payments_by_mode_rows,
    columns=(Column("mode", _l("Mode de règlement"), width=1.6), Column("count", _l("Opérations"), "number", total=True),
             Column("payments", _l("Encaissements"), "money", total=True),
             Column("refunds", _l("Remboursements"), "money", total=True), Column("net", _l("Net"), "money", total=True)),
    charts=(Chart("pie", _l("Encaissements par mode"), label="mode", value="payments"),))


# --------------------------------------------------------------------------- door list


class DoorParams(Schema):
    performance = Choice(required=True, metadata={"label": _l("Séance"), "choices": _performances})


def _door_stmt(params):
    from plugins.contacts.models import Contact
    from plugins.sales.models import Area, Seat
    from sqlalchemy.orm import aliased

    attendee = aliased(Contact)
    return (select(Ticket.barcode, Area.name, Seat.row, Seat.number, SeatCategory.label, Tariff.label, Contact.number,
                   Contact.last_name, Contact.first_name, Contact.structure_name, Contact.kind, attendee.number,
                   attendee.last_name, attendee.first_name, Ticket.state, Order.number)
            .join(Order, Order.id == Ticket.order_id).join(Contact, Contact.id == Order.buyer_id)
            .join(SeatCategory, SeatCategory.id == Ticket.category_id).join(Tariff, Tariff.id == Ticket.tariff_id)
            .outerjoin(Area, Area.id == Ticket.area_id).outerjoin(Seat, Seat.id == Ticket.seat_id)
            .outerjoin(attendee, attendee.id == Ticket.attendee_id)
            .where(Ticket.performance_id == int(params["performance"]), Ticket.state != "cancelled")
            .order_by(SeatCategory.position, SeatCategory.label, Area.name, Seat.row, Seat.position, Ticket.barcode))


def _name(last, first, structure="", kind="individual"):
    if kind == "structure":
        return structure
    return f"{(last or '').upper()}, {first or ''}".strip(", ")


def door_rows(session, params):
    from plugins.sales.models.orders import TICKET_STATE_LABELS

    for (barcode, area, row, number, category, tariff, b_num, b_last, b_first, b_struct, b_kind, a_num, a_last,
         a_first, state, order_number) in stream(session, _door_stmt(params)):
        seat = " ".join(x for x in (row or "", number or "") if x)
        yield {"category": category, "barcode": barcode, "place": " - ".join(x for x in (area, seat) if x),
               "tariff": tariff, "buyer": (b_num, _name(b_last, b_first, b_struct, b_kind)),
               "attendee": (a_num, _name(a_last, a_first)) if a_num else None, "order": str(order_number),
               "state": str(TICKET_STATE_LABELS.get(state, state)), "count": 1}


def door_count(session, params):
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.performance_id == int(params["performance"]), Ticket.state != "cancelled")) or 0


DOOR_LIST = ReportDefinition(
    code="sales.door_list", title=_l("Liste des billets d'une séance"), permission="sales.view",
    description=_l("Les billets valides d'une séance, par catégorie : code-barres, place, tarif, acheteur, bénéficiaire."),
    params=DoorParams, rows=door_rows, count=door_count, group_by="category",
    columns=(Column("category", _l("Catégorie")), Column("barcode", _l("Code-barres"), width=1.1),
             Column("place", _l("Place"), width=1.3), Column("tariff", _l("Tarif"), width=1.2),
             Column("buyer", _l("Acheteur"), "contact", width=1.8), Column("attendee", _l("Bénéficiaire"), "contact", width=1.8),
             Column("order", _l("Dossier"), width=0.7), Column("state", _l("État"), width=0.7),
             Column("count", _l("Billets"), "number", total=True, width=0.6)), landscape=True)


# --------------------------------------------------------------------------- cash desk journal


class JournalParams(Schema):
    day = LocalDate(required=True, metadata={"label": _l("Jour")})
    point_of_sale = Choice(required=True, metadata={"label": _l("Point de vente"), "choices": _points_of_sale})
    operator = Choice(load_default=None, metadata={"label": _l("Opérateur"), "choices": _operators})


def _journal_stmt(params):
    first, last = day_bounds(params["day"], params["day"])
    stmt = (select(Operation.number, Operation.at, Operation.kind, Order.number, Operation.operator_login,
                   PaymentMode.label, Payment.amount, PaymentMode.type_code)
            .join(PointOfSale, PointOfSale.id == Operation.point_of_sale_id)
            .outerjoin(Payment, Payment.operation_id == Operation.id)
            .outerjoin(Order, Order.id == func.coalesce(Payment.order_id, Operation.order_id))  # a basket: each payment's
            .outerjoin(PaymentMode, PaymentMode.id == Payment.payment_mode_id)
            .where(Operation.at >= first, Operation.at < last, PointOfSale.code == params["point_of_sale"])
            .order_by(Operation.number, Payment.id))
    if params.get("operator"):
        stmt = stmt.where(Operation.operator_login == params["operator"])
    return stmt


def journal_rows(session, params):
    from plugins.sales.registry import get_registry

    kinds = get_registry().operation_kinds
    for number, at, kind, order_number, login, mode, amount, _type in stream(session, _journal_stmt(params)):
        label = kinds[kind].label if kind in kinds else kind
        yield {"number": number, "at": at, "kind": str(label), "order": str(order_number) if order_number else "",
               "operator": login, "mode": mode or "", "amount": amount}


def journal_summary(session, params):
    """Payments and refunds by mode, and the cash expected in the drawer (cash received less cash
    given back: a cash payment's amount is what was kept, tendered less change)."""
    by_mode: OrderedDict = OrderedDict()
    cash = ZERO
    for _n, _at, _kind, _order, _login, mode, amount, type_code in stream(session, _journal_stmt(params)):
        if mode is None or amount is None:
            continue
        entry = by_mode.setdefault(mode, [ZERO, ZERO])
        entry[0 if amount > 0 else 1] += abs(amount)
        if type_code == "cash":
            cash += amount
    lines = []
    for mode, (paid, refunded) in by_mode.items():
        lines.append(SummaryLine(_("Encaissements — %(mode)s", mode=mode), paid))
        if refunded:
            lines.append(SummaryLine(_("Remboursements — %(mode)s", mode=mode), refunded))
    lines.append(SummaryLine(_("Espèces attendues dans le tiroir"), cash))
    return lines


CASH_JOURNAL = ReportDefinition(
    code="sales.cash_journal", title=_l("Journal de caisse"), permission="sales.view",
    description=_l("Les opérations d'un jour à un point de vente (et d'un opérateur), leurs règlements et "
                   "remboursements par mode, les espèces attendues dans le tiroir."),
    params=JournalParams, rows=journal_rows, summary=journal_summary,
    columns=(Column("number", lazy_pgettext("operation", "Ordre"), width=0.7), Column("at", _l("Heure"), "datetime", width=1.2),
             Column("kind", _l("Opération"), width=1.3), Column("order", _l("Dossier"), width=0.7),
             Column("operator", _l("Opérateur")), Column("mode", _l("Mode de règlement"), width=1.3),
             Column("amount", _l("Montant"), "money", total=True)))


def definitions() -> list[ReportDefinition]:
    from plugins.sales.reports_till import TILL_JOURNAL

    return [BY_PERFORMANCE, PER_DAY, PAYMENTS_BY_MODE, DOOR_LIST, CASH_JOURNAL, TILL_JOURNAL]
