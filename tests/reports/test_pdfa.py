"""The ``pdfa`` option of the document renderer: a document type with ``pdfa=True`` comes out as a
strictly conforming PDF/A-3b (checked clause by clause by ``tests/reports/pdfa_check.py``), the same
document without it is not (the checker names what is missing), and what PDF/A forbids is refused."""
from __future__ import annotations

import io
from datetime import datetime, timezone
from types import SimpleNamespace

import pikepdf
import pdfplumber
import pytest
from PIL import Image

from coulisses.i18n import use_locale
from plugins.reports.registry import DocumentType
from plugins.reports.render import pdfa
from plugins.reports.render.documents import render_document
from tests.reports.pdfa_check import violations

WHEN = datetime(2026, 3, 5, 14, 30, 12, tzinfo=timezone.utc)


def _logo() -> bytes:
    """A PNG with an alpha channel (half transparent): drawn with a soft mask unless flattened."""
    image = Image.new("RGBA", (40, 20), (200, 30, 30, 128))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _doc_type(pdfa_on: bool) -> DocumentType:
    return DocumentType(code="tp.receipt", title="Reçu", permission="reports.view", load=lambda s, r: r,
                        object_ref=str, object_label=lambda obj: f"Dossier {obj}",
                        build=lambda ctx, obj: [ctx.text("Łódź, Dvořák, Ñandú — 1 234,50 € ; N.º 7", "h2"),
                                                ctx.table([["Désignation", "Montant"], ["Billet", "12,00 €"]])],
                        pdfa=pdfa_on)


def _render(pdfa_on: bool, finish=None) -> bytes:
    identity = SimpleNamespace(name="Opéra de Lyon", address="1 place de la Comédie\n69001 LYON", phone="",
                               email="billetterie@example.org", website="", footer="SIRET 73282932000074",
                               logo=_logo())
    with use_locale("fr"):
        return render_document(_doc_type(pdfa_on), "959", number="R2026-00001", identity=identity,
                               generated_by="caisse1", generated_at=WHEN, locale="fr", finish=finish)


def test_a_pdfa_document_conforms_and_keeps_its_text():
    data = _render(True)
    assert violations(data) == []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        fonts = {str(f.BaseFont) for page in pdf.pages for f in page.Resources.Font.values()}
        assert fonts and all("+" in name for name in fonts)  # embedded subsets only, no base-14 font
        assert str(pdf.Root.OutputIntents[0].OutputConditionIdentifier) == pdfa.OUTPUT_CONDITION
        assert pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes() == pdfa.ICC_PROFILE.read_bytes()
        assert str(pdf.docinfo.Title) == "Dossier 959" and str(pdf.docinfo.CreationDate) == "D:20260305143012+00'00'"
        assert str(pdf.Root.Lang) == "fr"
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # ToUnicode: the text reads back, beyond Latin-1
        text = pdf.pages[0].extract_text()
    assert "Ñandú" in text and "1 234,50 €" in text and "Opéra de Lyon" in text
    if pdfa.font_files()[0].name == "DejaVuSans.ttf":  # Debian's fonts-dejavu-core (CI installs it)
        assert "Łódź, Dvořák" in text


def test_the_same_document_without_the_option_is_not_pdfa():
    clauses = {clause for clause, _message in violations(_render(False))}
    # base-14 fonts not embedded, no OutputIntent, no XMP, the logo's soft mask
    assert {"6.2.11.4.1", "6.2.2", "6.6.2.1", "6.2.10"} <= clauses


def test_the_finishing_step_runs_before_and_its_xmp_extension_is_kept():
    """What the document type's ``finish`` writes (an XMP with an extension schema, a Keywords entry)
    is kept, made to agree with the information dictionary, and still PDF/A."""
    import facturx

    xmp = facturx.facturx.generate_xmp_bytes("factur-x", "en16931", None, {"title": "x", "author": "y"})

    def finish(pdf: bytes) -> bytes:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            doc.Root.Metadata = doc.make_stream(xmp)
            doc.docinfo["/Keywords"] = "Factur-X"
            doc.docinfo["/Trapped"] = pikepdf.Name("/False")
            out = io.BytesIO()
            doc.save(out)
        return out.getvalue()

    data = _render(True, finish)
    assert violations(data) == []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        raw = pdf.Root.Metadata.read_bytes()
        assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in raw and b"Factur-X PDFA Extension" in raw
        assert str(pdf.docinfo.Keywords) == "Factur-X" and "/Trapped" not in pdf.docinfo


def test_the_checker_sees_a_broken_agreement_between_info_and_xmp():
    data = _render(True)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.docinfo["/Title"] = "Autre titre"
        out = io.BytesIO()
        pdf.save(out)
    assert ("6.6.2.3.1", "Info /Title 'Autre titre' but XMP 'Dossier 959'") in violations(out.getvalue())


@pytest.mark.parametrize("damage", ["encrypt", "javascript"])
def test_what_pdfa_forbids_is_refused(damage):
    data = _render(False)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        out = io.BytesIO()
        if damage == "javascript":
            action = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
            pdf.Root.OpenAction = action
            pdf.save(out)
        else:
            pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    with pytest.raises(pdfa.PdfAError):
        pdfa.conform(out.getvalue(), pdfa.PdfAInfo(title="x"))
