"""How a typed value is shown: in the operator's locale for people (preview, PDF), plain for
machines (CSV), typed for spreadsheets (XLSX)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from coulisses.i18n import format_date, format_datetime, format_money, format_number, format_percent, local_time

from plugins.reports.registry import Column


def contact_text(value: Any) -> str:
    """A contact cell: ``(number, name)`` → ``"DUPONT, Chantal [7611]"``; a string as it is."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        number, name = value
        return f"{name} [{number}]" if number is not None else str(name or "")
    return str(value)


def display(column: Column, value: Any) -> str:
    """For people: ``2 420,00 €``, ``02.11.2015``, ``1 234``, ``88 %`` in the current locale."""
    if value is None or value == "":
        return ""
    kind = column.type
    if kind == "money":
        return format_money(Decimal(value))
    if kind == "number":
        return format_number(value)
    if kind == "percent":
        return format_percent(value, decimals=1)
    if kind == "date":
        return format_date(value)
    if kind == "datetime":
        return format_datetime(value)
    if kind == "contact":
        return contact_text(value)
    return str(value)


def plain(column: Column, value: Any, decimal_comma: bool = False) -> str:
    """For CSV: numbers without grouping (a decimal comma for the ``;`` variant), days in ISO form,
    moments in the deployment's time zone (``2015-11-02 20:15``)."""
    if value is None:
        return ""
    kind = column.type
    if kind in ("money", "number", "percent"):
        text = str(Decimal(value).quantize(Decimal("0.01")) if kind == "money" else value)
        return text.replace(".", ",") if decimal_comma else text
    if kind == "datetime":
        return local_time(value).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "contact":
        return contact_text(value)
    return str(value)


def typed(column: Column, value: Any) -> Any:
    """For XLSX: numbers as numbers (money as a Decimal), days as dates, moments as local naive
    datetimes, text as text."""
    if value is None:
        return None
    kind = column.type
    if kind == "money":
        return Decimal(value)
    if kind in ("number", "percent"):
        return value if isinstance(value, (int, Decimal)) else Decimal(str(value))
    if kind == "datetime" and isinstance(value, datetime):
        return local_time(value).replace(tzinfo=None)
    if kind == "date":
        return value
    if kind == "contact":
        return contact_text(value)
    return str(value)


def plain_converter(column: Column, decimal_comma: bool = False):
    """``plain`` for one column, chosen once (a CSV writes many rows)."""
    kind = column.type
    cents = Decimal("0.01")
    if kind == "money":
        if decimal_comma:
            return lambda v: "" if v is None else str(Decimal(v).quantize(cents)).replace(".", ",")
        return lambda v: "" if v is None else str(Decimal(v).quantize(cents))
    if kind in ("number", "percent"):
        if decimal_comma:
            return lambda v: "" if v is None else str(v).replace(".", ",")
        return lambda v: "" if v is None else str(v)
    if kind == "date":
        return lambda v: "" if v is None else (v.isoformat() if isinstance(v, date) else str(v))
    if kind == "text":
        return lambda v: "" if v is None else str(v)
    return lambda v: plain(column, v, decimal_comma)


def typed_converter(column: Column):
    """``typed`` for one column, chosen once (an XLSX writes many rows)."""
    kind = column.type
    if kind == "money":
        return lambda v: None if v is None else Decimal(v)
    if kind == "date":
        return lambda v: v
    if kind == "text":
        return lambda v: None if v is None else str(v)
    if kind == "number":
        return lambda v: v if v is None or isinstance(v, (int, Decimal)) else Decimal(str(v))
    return lambda v: typed(column, v)
