"""The engine and the renderers on generated rows: CSV in both separators, XLSX typed cells, PDF read
back, totals and sub-totals, charts, locale, parameters refused with each field named."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from coulisses.i18n import use_locale
from plugins.reports.params import ParamsError
from plugins.reports.services import engine


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\xa0", " ").replace("\u202f", " ").replace(" /\n", " / ")


def test_csv_comma_and_semicolon(rdb):
    data, name, ctype = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "4"}, "csv")
    assert data.startswith("\ufeff".encode()) and name.endswith(".csv") and ctype.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Groupe", "Libellé", "Jour", "Quantité", "Montant", "Contact"]
    assert rows[1] == ["A", "Ligne 0", "2015-11-02", "0", "1234.50", "DUPONT, Chantal 0 [7611]"]
    assert len(rows) == 5  # no total lines in a CSV
    data, _n, _c = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "4"}, "csv", options={"separator": ";"})
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[2] == ["A", "Ligne 1", "2015-11-03", "1", "1235,50", "DUPONT, Chantal 1 [7612]"]


def test_xlsx_typed_cells_frozen_header_totals(rdb):
    data, name, _c = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "4"}, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == ["Groupe", "Libellé", "Jour", "Quantité", "Montant", "Contact"]
    assert ws["C2"].value == datetime(2015, 11, 2) and ws["C2"].number_format == "DD/MM/YYYY"
    assert ws["E2"].value == Decimal("1234.5") or ws["E2"].value == 1234.5
    assert "€" in ws["E2"].number_format
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert values[2][0] == "Sous-total A" and values[2][3] == 1 and values[2][4] == pytest.approx(2470.0)
    assert values[-1][0] == "Total" and values[-1][3] == 6 and values[-1][4] == pytest.approx(4944.0)
    summary = wb.worksheets[1]
    assert ["Montant par groupe", None] in [[c.value for c in r][:2] for r in summary.iter_rows()] or \
        "Montant par groupe" in [r[0].value for r in summary.iter_rows() if r]


def test_pdf_read_back_in_french_and_english(rdb):
    data, name, ctype = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "4", "start": "02.11.2015"}, "pdf")
    assert ctype == "application/pdf"
    text = pdf_text(data)
    assert "Nombres" in text and "Premier jour" in text and "02.11.2015" in text
    assert "1 234,50 €" in text and "Sous-total A" in text and "4 944,00 €" in text
    assert "DUPONT, Chantal 3 [7614]" in text
    pages = len(PdfReader(io.BytesIO(data)).pages)
    assert f"Page 1 / {pages}" in text and f"Page {pages} / {pages}" in text
    with use_locale("en"):
        data, _n, _c = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "4", "start": "2015-11-02"}, "pdf")
    text = pdf_text(data)
    assert "€1,234.50" in text and "02/11/2015" in text


def test_pdf_of_many_rows_repeats_the_header_and_counts_pages(rdb):
    data, _n, _c = engine.render_bytes(rdb, "tp_rep.numbers", {"n": "700"}, "pdf")
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages > 5
    last = reader.pages[-1].extract_text().replace("\xa0", " ")
    for page in reader.pages[:3]:
        text = page.extract_text()
        assert "Libellé" in text and "Montant" in text  # header repeated on every page
    assert f"Page {pages} / {pages}" in pdf_text(data)
    assert "Total" in last or "Montant par groupe" in last


def test_parameters_refused_name_each_field(rdb):
    with pytest.raises(ParamsError) as caught:
        engine.render_bytes(rdb, "tp_rep.numbers", {"n": "beaucoup", "start": "31.02.2015", "kind": "z",
                                                    "colour": "red"}, "csv")
    fields = caught.value.fields
    assert set(fields) == {"n", "start", "kind", "colour"}
    assert "jj.mm.aaaa" in fields["start"]


def test_charts_svg_have_a_text_alternative():
    from plugins.reports.render.charts import svg

    out = svg("bar", "Ventes par jour", [("02.11", Decimal("10")), ("03.11", Decimal("25.5"))], str, "c1")
    assert 'role="img"' in out and "<title id=\"c1-title\">Ventes par jour</title>" in out
    assert out.count("<rect") == 2 and "03.11: 25.5" in out
    pie = svg("pie", "Modes", [("Espèces", Decimal("30")), ("Carte", Decimal("70"))], str, "c2")
    assert pie.count("<path") == 2 and "70,0" in pie
    line = svg("line", "Courbe", [("a", Decimal("1")), ("b", Decimal("2")), ("c", Decimal("0"))], str, "c3")
    assert "<polyline" in line and line.count("<circle") == 3
    assert "&lt;script&gt;" in svg("bar", "<script>", [("x", Decimal(1))], str, "c4")


def test_days_relative_to_today_for_scheduled_favourites():
    from datetime import date, datetime, timezone

    from coulisses.db import clock
    from plugins.reports.params import relative_day

    with clock(lambda: datetime(2015, 11, 2, 23, 30, tzinfo=timezone.utc)):  # already the 3rd in Paris
        assert relative_day("aujourd'hui") == date(2015, 11, 3)
        assert relative_day("Hier") == date(2015, 11, 2) and relative_day("yesterday") == date(2015, 11, 2)
        assert relative_day("J-7") == date(2015, 10, 27) and relative_day("d-1") == date(2015, 11, 2)
        assert relative_day("02.11.2015") is None
