"""The journal of security events, for administrators (Administration menu): read-only, newest
first, filtered by type, operator, who acted, address and date (in the deployment's time zone)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask_admin.contrib.sqla import filters

from coulisses.i18n import _l, deployment_timezone
from coulisses.security_events import EVENT_KINDS, SCOPES, SecurityEvent
from coulisses.web.admin import ModelView

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def _kind_options():
    return sorted(((code, str(label)) for code, label in EVENT_KINDS.items()), key=lambda o: o[1])


def _scope_options():
    return [(code, str(label)) for code, label in SCOPES.items()]


class LocalDateFilter(filters.BaseSQLAFilter):
    """A day typed as people type it (2026-12-01 from the date picker, or 01.12.2026), compared with a
    UTC moment: the day runs from local midnight to local midnight."""

    OPERATIONS = {"on": _l("le jour"), "from": _l("depuis le"), "until": _l("jusqu'au")}

    def __init__(self, column, name, op: str):
        super().__init__(column, name, data_type="datepicker")
        self.op = op

    def clean(self, value) -> date:
        text = str(value).strip()
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(f"not a date: {text!r}")

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        tz = deployment_timezone()
        start = datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)
        return start, end

    def apply(self, query, value, alias=None):
        start, end = self._bounds(value)
        column = self.get_column(alias)
        if self.op == "on":
            return query.filter(column >= start, column < end)
        if self.op == "from":
            return query.filter(column >= start)
        return query.filter(column < end)

    def operation(self):
        return self.OPERATIONS[self.op]


class SecurityEventView(ModelView):
    """Read-only: the journal is written by Coulisses, never edited."""

    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    can_export = True
    page_size = 100
    column_default_sort = ("at", True)
    column_list = ("at", "kind", "login", "actor_login", "address", "scope", "detail")
    column_details_list = ("at", "kind", "scope", "login", "operator_id", "actor_login", "actor_id", "address", "detail")
    column_export_list = column_details_list
    column_labels = {
        "at": _l("Date"), "kind": _l("Type"), "login": _l("Opérateur"), "actor_login": _l("Par"),
        "address": _l("Adresse"), "scope": _l("Accès"), "detail": _l("Détail"),
        "operator_id": _l("N° opérateur"), "actor_id": _l("N° de qui a agi"),
    }
    column_descriptions = {
        "login": _l("L'opérateur concerné, ou l'identifiant saisi lors d'un échec"),
        "actor_login": _l("Qui a agi, quand ce n'est pas l'opérateur lui-même"),
    }
    column_formatters = {
        "kind": lambda view, context, model, name: model.kind_label,
        "scope": lambda view, context, model, name: str(SCOPES.get(model.scope, model.scope)),
    }
    column_formatters_export = {"kind": lambda view, context, model, name: model.kind_label}
    column_filters = (
        filters.FilterEqual(SecurityEvent.kind, _l("Type"), options=_kind_options),
        filters.FilterLike(SecurityEvent.login, _l("Opérateur")),
        filters.FilterEqual(SecurityEvent.login, _l("Opérateur")),
        filters.FilterLike(SecurityEvent.actor_login, _l("Par")),
        filters.FilterLike(SecurityEvent.address, _l("Adresse")),
        filters.FilterEqual(SecurityEvent.scope, _l("Accès"), options=_scope_options),
        LocalDateFilter(SecurityEvent.at, _l("Date"), "on"),
        LocalDateFilter(SecurityEvent.at, _l("Date"), "from"),
        LocalDateFilter(SecurityEvent.at, _l("Date"), "until"),
    )
