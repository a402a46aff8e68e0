"""XLSX with openpyxl's write-only workbook (rows go to a temporary file as they come): typed cells
(money as numbers with the currency's format, days as dates, moments as date-times), a bold and
frozen header row, sub-totals and totals in bold, the summary and the charts' figures on a second
sheet."""
from __future__ import annotations

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from coulisses.i18n import _

from plugins.reports.render.values import display, typed, typed_converter

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


def money_format() -> str:
    from coulisses.i18n import currency

    symbol = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}.get(currency(), currency())
    return f'#,##0.00 "{symbol}";-#,##0.00 "{symbol}"'


def _formats():
    return {"money": money_format(), "date": DATE_FORMAT, "datetime": DATETIME_FORMAT, "number": "#,##0.##",
            "percent": "0.0%"}


def render_xlsx(definition, meta, lines, outcome, out, finish) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_safe_title(meta.title))
    columns = definition.columns
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE4EE")
    formats = _formats()
    for i, col in enumerate(columns):
        letter = _letter(i)
        ws.column_dimensions[letter].width = max(10, min(60, 14 * col.width))
    ws.freeze_panes = "A2"
    header = []
    for col in columns:
        cell = WriteOnlyCell(ws, value=str(col.label))
        cell.font, cell.fill = bold, fill
        header.append(cell)
    ws.append(header)

    def cells(values: dict, strong: bool = False, label: str | None = None):
        row = []
        for i, col in enumerate(columns):
            value = typed(col, values.get(col.key))
            if label is not None and i == 0 and value is None:
                value = label
            cell = WriteOnlyCell(ws, value=value)
            fmt = formats.get(col.type)
            if fmt and value is not None and not isinstance(value, str):
                cell.number_format = fmt
            if strong:
                cell.font = bold
            row.append(cell)
        return row

    # plain rows: raw values, and a styled cell only where a number format is needed
    plan = []
    for col in columns:
        fmt = formats.get(col.type) if col.type != "number" else None
        plan.append((col.key, typed_converter(col), fmt))

    def fast(values: dict):
        row = []
        for key, convert, fmt in plan:
            value = convert(values.get(key))
            if fmt is not None and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = fmt
                row.append(cell)
            else:
                row.append(value)
        return row

    for line in lines:
        if line.kind == "row":
            ws.append(fast(line.values))
        else:
            group = display(definition.column(definition.group_by), line.group) if definition.group_by else ""
            ws.append(cells(line.values, True, _("Sous-total %(group)s", group=group)))
    result = finish()
    if result.totals:
        ws.append(cells(result.totals, True, _("Total")))
    if result.summary or result.charts:
        extra = wb.create_sheet(title=_safe_title(str(_("Synthèse"))))
        for line in result.summary:
            value = line.value
            cell = WriteOnlyCell(extra, value=value)
            if line.type in formats and value is not None:
                cell.number_format = formats[line.type]
            extra.append([str(line.label), cell])
        for data in result.charts:
            extra.append([])
            extra.append([WriteOnlyCell(extra, value=str(data.chart.title))])
            value_col = definition.column(data.chart.value)
            label_col = definition.column(data.chart.label)
            for label, value in data.series():
                cell = WriteOnlyCell(extra, value=typed(value_col, value))
                if value_col.type in formats:
                    cell.number_format = formats[value_col.type]
                extra.append([display(label_col, label) if not isinstance(label, str) else label, cell])
    wb.save(out)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _safe_title(title: str) -> str:
    cleaned = "".join(c for c in title if c not in '[]:*?/\\')
    return (cleaned or "Rapport")[:31]
