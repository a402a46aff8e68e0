"""What other plugins give the reports plugin: report definitions and document types, merged from the
``reports_definitions`` and ``reports_documents`` hooks by the host's registry helper.

A report definition, in a few lines (docs/plugin-guide.md, "Reports")::

    from marshmallow import Schema
    from plugins.reports.params import LocalDate
    from plugins.reports.registry import Chart, Column, ReportDefinition
    from plugins.reports.services.engine import stream

    class Params(Schema):
        since = LocalDate(required=True, metadata={"label": _l("Depuis le")})

    def rows(session, params):
        yield from stream(session, select(Pledge.pledged_on, Pledge.donor_name, Pledge.amount)
                          .where(Pledge.pledged_on >= params["since"]).order_by(Pledge.pledged_on))

    PLEDGES = ReportDefinition(
        code="patrons.pledges", title=_l("Promesses de mécénat"), permission="patrons.view",
        params=Params, rows=rows,
        columns=(Column("pledged_on", _l("Date"), "date"), Column("donor", _l("Mécène")),
                 Column("amount", _l("Montant"), "money", total=True)),
        charts=(Chart("bar", _l("Montant par mécène"), label="donor", value="amount"),))
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from marshmallow import Schema

from coulisses import PluginError
from coulisses.i18n import _l
from coulisses.registry import Collected, RegistrySlot, collect, must_return, must_start

COLUMN_TYPES = ("text", "number", "money", "date", "datetime", "contact", "percent")
CHART_KINDS = ("bar", "line", "pie")
FORMATS = ("html", "pdf", "csv", "xlsx")


@dataclass(frozen=True)
class Column:
    """A typed column. ``key`` names the value in each row (a row is a mapping or a tuple in column
    order); ``type`` decides formatting (locale) and the XLSX cell type; ``total`` sums it (number,
    money) in group sub-totals and the grand total; ``width`` is relative (PDF, XLSX)."""

    key: str
    label: Any
    type: str = "text"
    total: bool = False
    width: float = 1.0

    def __post_init__(self):
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.key}: type must be one of {', '.join(COLUMN_TYPES)}")
        if self.total and self.type not in ("number", "money"):
            raise ValueError(f"column {self.key}: only number and money columns have totals")

    @property
    def numeric(self) -> bool:
        return self.type in ("number", "money", "percent")


@dataclass(frozen=True)
class Chart:
    """A chart drawn from the same rows: ``value`` summed by ``label`` (the labels in the order they
    first appear; at most ``limit`` of them, the rest summed under "Autres")."""

    kind: str
    title: Any
    label: str
    value: str
    limit: int = 24

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind must be one of {', '.join(CHART_KINDS)}")


@dataclass(frozen=True)
class SummaryLine:
    """A line of a report's summary block (after the totals): e.g. the expected cash in the drawer."""

    label: Any
    value: Any
    type: str = "money"


@dataclass(frozen=True)
class ReportDefinition:
    """A report. ``rows(session, params)`` yields rows (mappings by column key, or tuples in column
    order) from a server-side cursor (``plugins.reports.services.engine.stream``), never a list of
    everything. ``count(session, params)``, when given, says how many rows to expect (progress, and the
    decision to run as a background job); without it the engine counts up to the threshold.
    ``group_by`` (a column key; rows ordered by it) adds a sub-total row after each group.
    ``summary(session, params)`` returns ``SummaryLine`` objects shown after the totals."""

    code: str
    title: Any
    permission: str
    params: type[Schema]
    rows: Callable[..., Iterable]
    columns: tuple[Column, ...]
    description: Any = ""
    group_by: str | None = None
    charts: tuple[Chart, ...] = ()
    count: Callable[..., int] | None = field(default=None, compare=False)
    summary: Callable[..., list[SummaryLine]] | None = field(default=None, compare=False)
    landscape: bool | None = None  # None: when the columns need it

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def total_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.total)


@dataclass(frozen=True)
class Recipient:
    """Who a document goes to by e-mail: the address proposed (editable), the contact (for its
    "Envois" history), the language of the mail."""

    email: str | None = None
    contact_id: int | None = None
    locale: str | None = None
    name: str = ""


@dataclass(frozen=True)
class DocumentType:
    """A kind of document (order summary, ticket, receipt, invoice…).

    ``load(session, ref)`` finds the object from its reference (a string: an order number…; raise
    ``coulisses.NotFoundError``); ``object_ref(obj)`` gives it back; ``object_label(obj)`` names it for
    people ("Dossier 959"); ``build(ctx, obj)`` returns the reportlab flowables of the body (the
    organisation header, the footer and the page numbers are drawn by the reports plugin; ``ctx`` is a
    ``plugins.reports.render.documents.DocumentContext``); ``numbering``: the name of a gapless
    sequence (``coulisses.db.next_number``) and ``number_format`` (``"R{year}-{number:05d}"``) when the
    document is numbered; ``recipient(session, obj)`` → ``Recipient``; ``pagesize``: ``"A4"``;
    ``finish(session, obj, pdf)`` → the bytes stored, when the drawn PDF must be completed (the
    waiting account's invoices embed their Factur-X XML); ``pdfa``: the document is made PDF/A-3b
    (embedded fonts, sRGB OutputIntent, XMP; ``plugins.reports.render.pdfa``) after ``finish``."""

    code: str
    title: Any
    permission: str
    load: Callable[..., Any]
    object_ref: Callable[[Any], str]
    object_label: Callable[[Any], str]
    build: Callable[..., list]
    numbering: str | None = None
    number_format: str = "{number}"
    recipient: Callable[..., Recipient] | None = field(default=None, compare=False)
    description: Any = ""
    finish: Callable[..., bytes] | None = field(default=None, compare=False)
    pdfa: bool = False


class ReportsRegistry:
    """The report definitions and document types of an app (or command, or worker)."""

    def __init__(self, reports: Collected, documents: Collected):
        self.reports, self.documents = reports, documents

    def report(self, code: str) -> ReportDefinition:
        from coulisses import NotFoundError
        from coulisses.i18n import _

        found = self.reports.get(code)
        if found is None:
            raise NotFoundError(_("Rapport inconnu : %(code)s", code=code))
        return found

    def document(self, code: str) -> DocumentType:
        from coulisses import NotFoundError
        from coulisses.i18n import _

        found = self.documents.get(code)
        if found is None:
            raise NotFoundError(_("Type de document inconnu : %(code)s", code=code))
        return found

    def owner(self, code: str) -> str | None:
        return self.reports.owner(code) or self.documents.owner(code)

    def reports_by_plugin(self, can: Callable[[str], bool] | None = None) -> dict[str, list[ReportDefinition]]:
        out: dict[str, list[ReportDefinition]] = {}
        for code, definition in self.reports.items():
            if can is None or can(definition.permission):
                out.setdefault(self.reports.owner(code), []).append(definition)
        return out


_KINDS = {"report": _l("rapport"), "document": _l("type de document")}


def _prefix_check(kind: str):
    def check(plugin: str, item) -> None:
        expected = ReportDefinition if kind == "report" else DocumentType
        if not isinstance(item, expected):
            raise PluginError(plugin, must_return(f"reports_{'definitions' if kind == 'report' else 'documents'}",
                                                  expected.__name__, item))
        if not item.code.startswith(f"{plugin}."):
            raise PluginError(plugin, must_start(_KINDS[kind], item.code, f"{plugin}."))
        if kind == "report":
            keys = [c.key for c in item.columns]
            if len(set(keys)) != len(keys):
                raise PluginError(plugin, _l("rapport « %(code)s » : deux colonnes ont la même clé", code=item.code))
            for chart in item.charts:
                if chart.label not in keys or chart.value not in keys:
                    raise PluginError(plugin, _l("rapport « %(code)s » : les colonnes d'un graphique doivent être des colonnes "
                                                 "du rapport", code=item.code))
            if item.group_by is not None and item.group_by not in keys:
                raise PluginError(plugin, _l("rapport « %(code)s » : group_by doit être la clé d'une colonne", code=item.code))
    return check


def registry_for(pm) -> ReportsRegistry:
    return _slot.for_manager(pm)


def _build(pm) -> ReportsRegistry:
    return ReportsRegistry(collect(pm, "reports_definitions", what=_KINDS["report"], validate=_prefix_check("report")),
                           collect(pm, "reports_documents", what=_KINDS["document"], validate=_prefix_check("document")))


_slot = RegistrySlot("reports", _build, fallback=["reports"])
use_registry = _slot.use


def get_registry() -> ReportsRegistry:
    """The registry of the running app, command or worker (see ``coulisses.registry.RegistrySlot``)."""
    return _slot.get()


def iter_rows(definition: ReportDefinition, rows: Iterable) -> Iterator[dict]:
    """Each row as a mapping by column key (a tuple is read in column order)."""
    keys = [c.key for c in definition.columns]
    for row in rows:
        if isinstance(row, dict):
            yield row
        elif hasattr(row, "_mapping"):
            mapping = row._mapping
            yield {k: mapping[k] for k in keys if k in mapping} if all(k in mapping for k in keys) \
                else dict(zip(keys, row))
        else:
            yield dict(zip(keys, row))
