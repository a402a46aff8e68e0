"""The report engine: validates the parameters, streams the rows, adds group sub-totals, totals and
the charts' figures, and hands each line to a renderer as it comes (nothing holds every row).

    from plugins.reports.services import engine
    data, name, content_type = engine.render_bytes(session, "sales.per_day", {"start": "01.11.2015",
                                                   "end": "30.11.2015"}, "pdf")

Row sources read through ``stream(session, select(...))``: a server-side cursor (``yield_per``,
``stream_results`` on PostgreSQL), never a list of everything.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterator

from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.config import current_config
from coulisses.db import current_actor, utcnow
from coulisses.i18n import _, current_locale

from plugins.reports.params import ParamsError, describe, load_params
from plugins.reports.registry import Chart, ReportDefinition, SummaryLine, get_registry, iter_rows

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "html": "text/html; charset=utf-8"}
FILE_FORMATS = ("pdf", "csv", "xlsx")
YIELD_PER = 1000
PROGRESS_EVERY = 2000


def stream(session: Session, stmt, size: int = YIELD_PER) -> Iterator:
    """The rows of ``stmt`` from a server-side cursor, ``size`` at a time (``yield_per``)."""
    result = session.execute(stmt.execution_options(yield_per=size, stream_results=True))
    try:
        yield from result
    finally:
        result.close()


def background_threshold() -> int:
    """Above this many rows a report runs as a background job (``REPORTS_BACKGROUND_ROWS``)."""
    return int(current_config().get("REPORTS_BACKGROUND_ROWS") or 10_000)


# --------------------------------------------------------------------------- walking the rows


@dataclass
class Line:
    kind: str  # row | subtotal
    values: dict
    group: Any = None


@dataclass
class ChartData:
    chart: Chart
    points: dict = field(default_factory=dict)  # label → Decimal, in first-seen order

    def add(self, label, value) -> None:
        if value is None:
            return
        key = "" if label is None else label
        if not isinstance(value, (int, Decimal)):
            value = Decimal(value)
        self.points[key] = self.points.get(key, 0) + value

    def series(self) -> list[tuple[Any, Decimal]]:
        items = list(self.points.items())
        if len(items) > self.chart.limit:
            head, rest = items[: self.chart.limit - 1], items[self.chart.limit - 1:]
            items = head + [(_("Autres"), sum((v for _k, v in rest), Decimal(0)))]
        return items


@dataclass
class Outcome:
    """What a walk leaves behind once the last row went by."""

    rows: int = 0
    totals: dict = field(default_factory=dict)
    charts: list[ChartData] = field(default_factory=list)
    summary: list[SummaryLine] = field(default_factory=list)


def walk(definition: ReportDefinition, rows, outcome: Outcome,
         progress: Callable[[int], None] | None = None) -> Iterator[Line]:
    """Rows, then a sub-total after each group; fills ``outcome`` (count, totals, charts) on the way."""
    totals_cols = [c.key for c in definition.total_columns]
    outcome.totals = {k: Decimal(0) for k in totals_cols}
    outcome.charts = [ChartData(c) for c in definition.charts]
    group_key = definition.group_by
    current, sub, started = None, {k: Decimal(0) for k in totals_cols}, False
    for row in iter_rows(definition, rows):
        if group_key is not None:
            value = row.get(group_key)
            if started and value != current and totals_cols:
                yield Line("subtotal", dict(sub), current)
                sub = {k: Decimal(0) for k in totals_cols}
            current, started = value, True
        for k in totals_cols:
            v = row.get(k)
            if v is not None:
                if not isinstance(v, (int, Decimal)):
                    v = Decimal(v)
                outcome.totals[k] += v
                sub[k] += v
        for data in outcome.charts:
            data.add(row.get(data.chart.label), row.get(data.chart.value))
        outcome.rows += 1
        if progress is not None and outcome.rows % PROGRESS_EVERY == 0:
            progress(outcome.rows)
        yield Line("row", row)
    if group_key is not None and started and totals_cols:
        yield Line("subtotal", dict(sub), current)


# --------------------------------------------------------------------------- a run's description


@dataclass
class Meta:
    """What the renderers print around the rows: title, parameters used, who and when."""

    code: str
    title: str
    params: list[tuple[str, str]]
    generated_by: str
    generated_at: datetime
    locale: str
    identity: Any = None  # plugins.reports.services.identity.IdentityView
    options: dict = field(default_factory=dict)


def meta_for(session: Session, definition: ReportDefinition, params: dict, raw: dict | None = None,
             options: dict | None = None) -> Meta:
    from plugins.reports.services.identity import identity_view

    shown = []
    for f in describe(definition.params, session, values={}):
        if f.name not in params or params[f.name] in (None, ""):
            continue
        value = params[f.name]
        text = value
        if f.choices:
            text = dict(f.choices).get(str(value), str(value))
        elif f.kind == "date":
            from coulisses.i18n import format_date
            text = format_date(value)
        elif f.kind == "checkbox":
            text = _("oui") if value else _("non")
        shown.append((f.label, str(text)))
    actor = current_actor()
    return Meta(definition.code, str(definition.title), shown, actor.login or "", utcnow(), current_locale(),
                identity_view(session), dict(options or {}))


def check(session: Session, code: str, raw: dict, can: Callable[[str], bool] | None = None):
    """The definition and the validated parameters; ``ParamsError`` for bad parameters,
    ``PermissionError`` when ``can`` refuses the report's permission."""
    definition = get_registry().report(code)
    if can is not None and not can(definition.permission):
        raise PermissionError(definition.permission)
    return definition, load_params(definition.params, raw, session)


def count_rows(session: Session, definition: ReportDefinition, params: dict, limit: int | None = None) -> int:
    """How many rows the report has (its ``count`` when it gives one; else counted by streaming,
    stopping past ``limit``)."""
    if definition.count is not None:
        return int(definition.count(session, params))
    n = 0
    for _row in definition.rows(session, params):
        n += 1
        if limit is not None and n > limit:
            break
    return n


# --------------------------------------------------------------------------- rendering


def renderer(fmt: str):
    if fmt == "csv":
        from plugins.reports.render.csv_out import render_csv
        return render_csv
    if fmt == "xlsx":
        from plugins.reports.render.xlsx_out import render_xlsx
        return render_xlsx
    if fmt == "pdf":
        from plugins.reports.render.pdf_out import render_pdf
        return render_pdf
    raise InvalidError(_("Format inconnu : %(format)s", format=fmt), {"format": _("pdf, csv ou xlsx")})


def render(session: Session, definition: ReportDefinition, params: dict, fmt: str, out, *,
           options: dict | None = None, progress: Callable[[int], None] | None = None) -> Outcome:
    """Write the report in ``fmt`` to the binary file ``out``, row after row."""
    meta = meta_for(session, definition, params, options=options)
    outcome = Outcome()
    lines = walk(definition, definition.rows(session, params), outcome, progress)

    def finish():
        if definition.summary is not None:
            outcome.summary = list(definition.summary(session, params))
        return outcome

    renderer(fmt)(definition, meta, lines, outcome, out, finish)
    return outcome


def file_name(definition: ReportDefinition, fmt: str, when: datetime | None = None) -> str:
    from coulisses.i18n import local_time

    slug = re.sub(r"[^a-z0-9]+", "-", definition.code.lower()).strip("-")
    stamp = local_time(when or utcnow()).strftime("%Y%m%d-%H%M")
    return f"{slug}-{stamp}.{fmt}"


def render_bytes(session: Session, code: str, raw: dict, fmt: str, *, options: dict | None = None,
                 can: Callable[[str], bool] | None = None) -> tuple[bytes, str, str]:
    """Run a report now and return ``(data, file name, content type)``."""
    if fmt not in FILE_FORMATS:
        renderer(fmt)
    definition, params = check(session, code, raw, can)
    buffer = io.BytesIO()
    render(session, definition, params, fmt, buffer, options=options)
    return buffer.getvalue(), file_name(definition, fmt), CONTENT_TYPES[fmt]


__all__ = ["stream", "walk", "render", "render_bytes", "check", "count_rows", "ParamsError", "Outcome", "Meta",
           "background_threshold", "FILE_FORMATS", "CONTENT_TYPES", "file_name"]
