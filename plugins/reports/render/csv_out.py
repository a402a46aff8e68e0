"""CSV: UTF-8 with a BOM (spreadsheets then read the accents), ``,`` or ``;`` (Excel in French
locales, with decimal commas); one line per row, written as it comes; no sub-total lines (a CSV is
data for another program)."""
from __future__ import annotations

import csv
import io


class _Lines:
    """A text sink for ``csv.writer`` that encodes each written line to the binary output."""

    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))


def render_csv(definition, meta, lines, outcome, out, finish) -> None:
    separator = ";" if meta.options.get("separator") == ";" else ","
    decimal_comma = separator == ";"
    from plugins.reports.render.values import plain_converter

    out.write("\ufeff".encode("utf-8"))
    writer = csv.writer(_Lines(out), delimiter=separator, lineterminator="\r\n")
    columns = definition.columns
    writer.writerow([str(c.label) for c in columns])
    converters = [(c.key, plain_converter(c, decimal_comma)) for c in columns]
    for line in lines:
        if line.kind != "row":
            continue
        values = line.values
        writer.writerow([convert(values.get(key)) for key, convert in converters])
    finish()


__all__ = ["render_csv", "io"]
