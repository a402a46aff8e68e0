"""The contacts plugin's reports (when the reports plugin is enabled): the contact list by type,
criterion and indicator level; the likely duplicates to examine; new contacts per month (chart).
Registered by ``reports_definitions`` in ``hooks.py``."""
from __future__ import annotations

from collections import OrderedDict
from datetime import date, datetime, time, timedelta, timezone

from marshmallow import Schema, ValidationError, validates_schema
from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from coulisses.i18n import _, _l, deployment_timezone, local_time

from plugins.contacts.models import (Address, Contact, ContactCriterion, Criterion, DuplicatePair, IndicatorValue)
from plugins.reports.params import Choice, LocalDate
from plugins.reports.registry import Chart, Column, ReportDefinition
from plugins.reports.services.engine import stream


def _types(session):
    from plugins.contacts.registry import get_registry

    return [(code, t.label) for code, t in get_registry().types.items()]


def _criteria(session):
    return [(c.code, c.label) for c in session.scalars(select(Criterion).where(Criterion.active).order_by(
        Criterion.group, Criterion.position, Criterion.label))]


def _indicator_levels(session):
    from plugins.contacts.registry import get_registry

    return [(f"{code}:{level.code}", f"{ind.label} — {level.label}")
            for code, ind in get_registry().indicators.items() for level in ind.levels]


def _name(last, first, structure, kind):
    return structure if kind == "structure" else f"{(last or '').upper()}, {first or ''}".strip(", ")


class ListParams(Schema):
    type_code = Choice(load_default=None, metadata={"label": _l("Type de contact"), "choices": _types})
    criterion = Choice(load_default=None, metadata={"label": _l("Critère"), "choices": _criteria})
    indicator = Choice(load_default=None, metadata={"label": _l("Niveau d'indicateur"), "choices": _indicator_levels})


def _list_stmt(params, columns):
    stmt = select(*columns).select_from(Contact)
    if params.get("type_code"):
        stmt = stmt.where(Contact.type_code == params["type_code"])
    if params.get("criterion"):
        stmt = stmt.where(exists().where(ContactCriterion.contact_id == Contact.id,
                                         ContactCriterion.criterion_id == Criterion.id,
                                         Criterion.code == params["criterion"]))
    if params.get("indicator"):
        code, _sep, level = params["indicator"].partition(":")
        stmt = stmt.where(exists().where(IndicatorValue.contact_id == Contact.id, IndicatorValue.code == code,
                                         IndicatorValue.level == level))
    return stmt


def list_rows(session, params):
    from plugins.contacts.registry import get_registry

    types = get_registry().types
    main = aliased(Address)
    stmt = _list_stmt(params, (Contact.number, Contact.last_name, Contact.first_name, Contact.structure_name,
                               Contact.kind, Contact.type_code, main.postal_code, main.city, Contact.email,
                               Contact.created_at))
    stmt = (stmt.outerjoin(main, and_(main.contact_id == Contact.id, main.usage == "main"))
            .order_by(Contact.type_code, Contact.sort_last, Contact.sort_first, Contact.number))
    for number, last, first, structure, kind, type_code, postal, city, email, created in stream(session, stmt):
        label = types[type_code].label if type_code in types else type_code
        yield {"type": str(label), "contact": (number, _name(last, first, structure, kind)),
               "city": " ".join(x for x in (postal, city) if x), "email": email or "", "created": created, "count": 1}


def list_count(session, params):
    return session.scalar(_list_stmt(params, (func.count(Contact.id),))) or 0


CONTACT_LIST = ReportDefinition(
    code="contacts.list", title=_l("Liste de contacts"), permission="contacts.view",
    description=_l("Les contacts d'un type, d'un critère ou d'un niveau d'indicateur, par type."),
    params=ListParams, rows=list_rows, count=list_count, group_by="type",
    columns=(Column("type", _l("Type")), Column("contact", _l("Contact"), "contact", width=2.2),
             Column("city", _l("Ville"), width=1.4), Column("email", _l("Mél"), width=1.8),
             Column("created", _l("Création"), "datetime", width=1.1), Column("count", _l("Contacts"), "number", total=True,
                                                                                width=0.7)))


class NoParams(Schema):
    pass


def duplicates_rows(session, params):
    a, b = aliased(Contact), aliased(Contact)
    stmt = (select(a.number, a.last_name, a.first_name, a.structure_name, a.kind, b.number, b.last_name, b.first_name,
                   b.structure_name, b.kind, DuplicatePair.score, DuplicatePair.key, DuplicatePair.detected_at)
            .join(a, a.id == DuplicatePair.contact_a_id).join(b, b.id == DuplicatePair.contact_b_id)
            .where(DuplicatePair.status == "open").order_by(DuplicatePair.score.desc(), DuplicatePair.id))
    for row in stream(session, stmt):
        yield {"first": (row[0], _name(*row[1:5])), "second": (row[5], _name(*row[6:10])), "score": row[10],
               "key": row[11], "detected": row[12]}


DUPLICATES = ReportDefinition(
    code="contacts.duplicates", title=_l("Doublons probables"), permission="contacts.view",
    description=_l("Les paires de contacts à examiner (détection des doublons), les plus probables d'abord."),
    params=NoParams, rows=duplicates_rows,
    columns=(Column("first", _l("Contact"), "contact", width=2), Column("second", _l("Doublon probable"), "contact", width=2),
             Column("score", _l("Score"), "number", width=0.6), Column("key", _l("Clé"), width=2),
             Column("detected", _l("Détecté le"), "datetime")))


class MonthsParams(Schema):
    start = LocalDate(required=True, metadata={"label": _l("Du")})
    end = LocalDate(required=True, metadata={"label": _l("Au")})

    @validates_schema
    def _order(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("La fin précède le début."), "end")


def new_per_month_rows(session, params):
    tz = deployment_timezone()
    first = datetime.combine(params["start"], time(0), tzinfo=tz).astimezone(timezone.utc)
    last = datetime.combine(params["end"] + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
    months: OrderedDict = OrderedDict()
    month = params["start"].replace(day=1)
    while month <= params["end"]:
        months[(month.year, month.month)] = {"month": f"{month.month:02d}/{month.year}", "individuals": 0,
                                             "structures": 0, "total": 0}
        month = (month + timedelta(days=32)).replace(day=1)
    stmt = select(Contact.created_at, Contact.kind).where(Contact.created_at >= first, Contact.created_at < last)
    for created, kind in stream(session, stmt):
        local = local_time(created)
        row = months[(local.year, local.month)]
        row["structures" if kind == "structure" else "individuals"] += 1
        row["total"] += 1
    yield from months.values()


NEW_PER_MONTH = ReportDefinition(
    code="contacts.new_per_month", title=_l("Nouveaux contacts par mois"), permission="contacts.view",
    params=MonthsParams, rows=new_per_month_rows,
    columns=(Column("month", _l("Mois")), Column("individuals", _l("Individus"), "number", total=True),
             Column("structures", _l("Structures"), "number", total=True), Column("total", _l("Total"), "number", total=True)),
    charts=(Chart("bar", _l("Nouveaux contacts par mois"), label="month", value="total", limit=60),))


def definitions() -> list[ReportDefinition]:
    return [CONTACT_LIST, DUPLICATES, NEW_PER_MONTH]


def record_document_send(session, document, recipient, contact_id) -> None:
    """``reports_document_sent``: the e-mail goes into the contact's "Envois" history."""
    from plugins.contacts.services.activity import record_send

    if contact_id is None:
        return
    contact = session.get(Contact, contact_id)
    if contact is not None:
        record_send(session, contact, "email", f"{document.object_label} — {document.file.name}",
                    reference=document.number or str(document.id), source="reports")


__all__ = ["definitions", "record_document_send", "date"]
