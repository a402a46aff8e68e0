"""The till's journal as a report (when the reports plugin is enabled): every operation of one cash
desk session with its payments and refunds, then the float, the payments and refunds by mode, the
cash expected in the drawer and, once closed, what was counted, the differences and their reason.
Registered with the other sales reports (``reports.definitions``); the till screens link to its PDF."""
from __future__ import annotations

from marshmallow import Schema
from sqlalchemy import select

from coulisses.i18n import _, _l, format_datetime, lazy_pgettext

from plugins.reports.params import Choice
from plugins.reports.registry import Column, ReportDefinition, SummaryLine
from plugins.sales.models import TillSession


def till_label(till: TillSession) -> str:
    return _("Caisse n° %(number)s — %(pos)s — %(operator)s — %(when)s", number=till.number,
             pos=till.point_of_sale.label, operator=till.operator_login, when=format_datetime(till.opened_at))


def _tills(session):
    rows = session.scalars(select(TillSession).order_by(TillSession.opened_at.desc(), TillSession.id.desc()).limit(500))
    return [(t.id, till_label(t)) for t in rows]


class TillParams(Schema):
    till = Choice(required=True, metadata={"label": _l("Caisse"), "choices": _tills})


def _session(session, params) -> TillSession:
    from plugins.sales.services.till import get_till

    return get_till(session, params["till"])


def till_rows(session, params):
    from plugins.sales.services.till import journal

    for op in journal(session, _session(session, params))["operations"]:
        order = str(op["order"]) if op["order"] else ""
        if not op["payments"]:
            yield {"number": op["number"], "at": op["at"], "kind": op["kind_label"], "order": order, "mode": "",
                   "amount": None}
        for p in op["payments"]:
            yield {"number": op["number"], "at": op["at"], "kind": op["kind_label"], "order": order, "mode": p["mode"],
                   "amount": p["amount"]}


def till_summary(session, params):
    from plugins.sales.services.till import journal

    data = journal(session, _session(session, params))
    lines = [SummaryLine(_("État : %(state)s", state=data["state_label"]), None, "text"),
             SummaryLine(_("Fond de caisse"), data["opening_float"])]
    for mode in data["modes"]:
        lines.append(SummaryLine(_("Encaissements — %(mode)s", mode=mode.label), mode.payments))
        if mode.refunds:
            lines.append(SummaryLine(_("Remboursements — %(mode)s", mode=mode.label), mode.refunds))
        lines.append(SummaryLine(_("Attendu — %(mode)s", mode=mode.label), mode.expected))
        if mode.counted is not None:
            lines.append(SummaryLine(_("Compté — %(mode)s", mode=mode.label), mode.counted))
            lines.append(SummaryLine(_("Écart — %(mode)s", mode=mode.label), mode.difference))
    lines.append(SummaryLine(_("Espèces attendues dans le tiroir"), data["expected_cash"]))
    if data["difference"] is not None:
        lines.append(SummaryLine(_("Écart total"), data["difference"]))
        if data["reason"]:
            lines.append(SummaryLine(_("Raison de l'écart : %(reason)s", reason=data["reason"]), None, "text"))
    return lines


TILL_JOURNAL = ReportDefinition(
    code="sales.till_journal", title=_l("Journal d'une caisse"), permission="sales.till",
    description=_l("Les opérations d'une session de caisse, ses règlements et remboursements par mode, le fond de "
                   "caisse, les espèces attendues, le comptage et ses écarts."),
    params=TillParams, rows=till_rows, summary=till_summary,
    columns=(Column("number", lazy_pgettext("operation", "Ordre"), width=0.7), Column("at", _l("Heure"), "datetime", width=1.2),
             Column("kind", _l("Opération"), width=1.4), Column("order", _l("Dossier"), width=0.7),
             Column("mode", _l("Mode de règlement"), width=1.3), Column("amount", _l("Montant"), "money", total=True)))
