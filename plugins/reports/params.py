"""Report parameters: a marshmallow schema gives the form of the reports screen, the REST API's
parameters and the CLI's ``--param k=v``, validated the same way everywhere.

Fields read ``metadata``: ``label`` (shown beside the field; a lazy string), ``help``, and
``choices``: a list of ``(value, label)`` or a callable ``choices(session)`` returning one (read from
the database when the form is shown; values are checked against it when the form is sent).
``LocalDate`` takes a day as the operator types it ("02.11.2015", "02/11/2015") or ISO.
"""
from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields

from coulisses.i18n import _, format_date, parse_date


_loading_session: contextvars.ContextVar = contextvars.ContextVar("reports_params_session", default=None)


RELATIVE_TODAY = ("aujourd'hui", "today", "hoy")
RELATIVE_YESTERDAY = ("hier", "yesterday", "ayer")


def relative_day(text: str) -> date | None:
    """"aujourd'hui", "hier", "J-7" (also "today", "yesterday", "D-7", "hoy", "ayer"): a day counted
    from today in the deployment's time zone — what a scheduled favourite needs ("yesterday's sales")."""
    import re

    from coulisses.db import utcnow
    from coulisses.i18n import local_time

    raw = text.strip().lower()
    today = local_time(utcnow()).date()
    if raw in RELATIVE_TODAY:
        return today
    if raw in RELATIVE_YESTERDAY:
        return today - timedelta(days=1)
    found = re.fullmatch(r"[jd]\s*-\s*(\d{1,4})", raw)
    return today - timedelta(days=int(found.group(1))) if found else None


class LocalDate(fields.Date):
    """A calendar day typed as the operator's language writes it, or in ISO form, or relative to
    today ("hier", "J-7": see ``relative_day``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date):
            return value
        relative = relative_day(str(value))
        if relative is not None:
            return relative
        try:
            return parse_date(str(value))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class Choice(fields.String):
    """A value among ``metadata["choices"]`` (a list, or a callable taking the session; the schema's
    session is the one ``load_params`` was given)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        session = _loading_session.get()
        allowed = choices_of(self, session)
        if allowed is not None and text not in {str(v) for v, _label in allowed}:
            raise ValidationError(_("Valeur inconnue : %(value)s", value=text))
        return text


def choices_of(field: fields.Field, session=None) -> list[tuple[str, str]] | None:
    choices = field.metadata.get("choices")
    if choices is None:
        return None
    if callable(choices):
        if session is None:
            return None
        choices = choices(session)
    return [(str(v), str(label)) for v, label in choices]


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text | number | date | checkbox | select
    required: bool
    value: str
    help: str = ""
    error: str = ""
    choices: list[tuple[str, str]] | None = None


def _kind(field: fields.Field, choices) -> str:
    if choices is not None:
        return "select"
    if isinstance(field, fields.Boolean):
        return "checkbox"
    if isinstance(field, (fields.Date, fields.DateTime)):
        return "date"
    if isinstance(field, (fields.Integer, fields.Decimal, fields.Float)):
        return "number"
    return "text"


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, bool):
        return "1" if value else ""
    return str(value)


def describe(schema_cls: type[Schema], session=None, values: dict | None = None,
             errors: dict | None = None) -> list[FormField]:
    """The form's fields, with what was typed (``values``, raw strings) and the errors beside them."""
    schema = schema_cls()
    values, errors = values or {}, errors or {}
    out = []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        choices = choices_of(field, session)
        if name in values:
            value = values[name]
        elif field.load_default is not None and not callable(field.load_default):
            value = _shown(field.load_default)
        elif callable(field.load_default):
            value = _shown(field.load_default())
        else:
            value = ""
        error = errors.get(name)
        if isinstance(error, list):
            error = " ".join(str(e) for e in error)
        out.append(FormField(name, str(field.metadata.get("label", name)), _kind(field, choices), field.required,
                             str(value), str(field.metadata.get("help", "")), str(error or ""), choices))
    return out


class ParamsError(Exception):
    def __init__(self, fields: dict[str, str]):
        super().__init__(_("Les paramètres du rapport ne sont pas valides"))
        self.fields = fields


def load_params(schema_cls: type[Schema], raw: dict, session=None) -> dict:
    """Validate ``raw`` (strings from a form, JSON from the API); ``ParamsError`` names each field."""
    schema = schema_cls()
    cleaned = {k: v for k, v in (raw or {}).items() if not (isinstance(v, str) and v.strip() == "")}
    unknown = sorted(set(cleaned) - set(schema.fields))
    token = _loading_session.set(session)
    try:
        loaded = schema.load({k: v for k, v in cleaned.items() if k in schema.fields})
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        errors = {k: " ".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in messages.items()}
        for name in unknown:
            errors[name] = _("Paramètre inconnu")
        raise ParamsError(errors) from None
    finally:
        _loading_session.reset(token)
    if unknown:
        raise ParamsError({name: _("Paramètre inconnu") for name in unknown})
    return loaded


def dump_params(params: dict) -> dict:
    """Parameters as JSON-able values (favourites, runs, jobs): days in ISO form."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}


def describe_api(schema_cls: type[Schema]) -> list[dict]:
    """The parameters for ``GET /api/v1/reports``."""
    out = []
    for name, field in schema_cls().fields.items():
        choices = field.metadata.get("choices")
        out.append({"name": name, "label": str(field.metadata.get("label", name)),
                    "type": _kind(field, choices if not callable(choices) else []),
                    "required": field.required,
                    "choices": [[str(v), str(l)] for v, l in choices] if choices and not callable(choices) else None})
    return out
