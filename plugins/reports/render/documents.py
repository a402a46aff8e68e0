"""Drawing a document: the organisation header with its logo, the document's title and number, the
body the document type builds (``DocumentType.build(ctx, obj)``), the legal footer, page x / y."""
from __future__ import annotations

import io
from functools import partial
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from coulisses.i18n import format_date, format_datetime, format_money

from plugins.reports.render.pdf_base import (BOLD, FONT, CountingCanvas, PageDecor, add_page_template, make_doc,
                                             pdf_text, styles)


@dataclass
class DocumentContext:
    """What a document type's ``build`` gets: the identity, the number, who and when, the styles and
    formatting helpers (the operator's locale is already in force)."""

    title: str
    number: str | None
    identity: Any
    generated_at: datetime
    generated_by: str
    locale: str
    width: float = 0.0
    font: str = FONT
    bold: str = BOLD
    styles: dict = field(default=None)

    def __post_init__(self):
        if self.styles is None:
            self.styles = styles(self.font, self.bold)

    # helpers, so that document types write little reportlab
    def text(self, value: Any, style: str = "body") -> Paragraph:
        return Paragraph(escape(pdf_text(value)).replace("\n", "<br/>"), self.styles[style])

    def money(self, value: Decimal | None) -> str:
        return pdf_text(format_money(value)) if value is not None else ""

    def date(self, value) -> str:
        return pdf_text(format_date(value))

    def datetime(self, value) -> str:
        return pdf_text(format_datetime(value))

    def table(self, rows: list[list[Any]], widths: list[float] | None = None, *, header: bool = True,
              numeric: tuple[int, ...] = (), total_row: bool = False) -> Table:
        """A plain table: ``widths`` as fractions of the page width; ``numeric`` columns right-aligned."""
        cells = [[c if not isinstance(c, str) else pdf_text(c) for c in row] for row in rows]
        col_widths = [self.width * w for w in widths] if widths else None
        table = Table(cells, colWidths=col_widths, repeatRows=1 if header else 0, hAlign="LEFT")
        style = [("FONT", (0, 0), (-1, -1), self.font, 8.5), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                 ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB"))]
        if header:
            style += [("FONT", (0, 0), (-1, 0), self.bold, 8.5), ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDE4EE"))]
        if total_row:
            style += [("FONT", (0, -1), (-1, -1), self.bold, 8.5), ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black)]
        style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numeric]
        table.setStyle(TableStyle(style))
        return table


def render_document(doc_type, obj, *, number: str | None, identity, generated_by: str, generated_at: datetime,
                    locale: str, finish: Callable[[bytes], bytes] | None = None) -> bytes:
    """The PDF of ``obj`` as ``doc_type`` draws it, completed by ``finish`` (the document type's
    finishing step) and, for a ``pdfa`` document type, made PDF/A-3b (``render.pdfa``) last."""
    pdfa = bool(getattr(doc_type, "pdfa", False))
    if pdfa:
        from plugins.reports.render.pdfa import fonts

        font, bold = fonts()
    else:
        font, bold = FONT, BOLD
    out = io.BytesIO()
    title = str(doc_type.title)
    heading = f"{title} {number}" if number else title
    label = str(doc_type.object_label(obj))
    doc = make_doc(out, title=heading, author=generated_by)
    decor = PageDecor(title=heading, identity=identity, generated_by=generated_by, generated_at=generated_at,
                      header_right=f"{heading} — {label}", font=font, bold=bold, opaque=pdfa)
    add_page_template(doc, decor)
    ctx = DocumentContext(title=title, number=number, identity=identity, generated_at=generated_at,
                          generated_by=generated_by, locale=locale, width=doc.width, font=font, bold=bold)
    story = _identity_block(ctx)
    story += [Spacer(1, 6), ctx.text(heading, "title")]
    story += list(doc_type.build(ctx, obj))
    mentions = getattr(identity, "invoice_mentions", "")
    legal = identity.legal_line() if hasattr(identity, "legal_line") else ""
    if legal or mentions:
        story += [Spacer(1, 14)]
        if legal:
            story.append(ctx.text(legal, "small"))
        if mentions:
            story.append(ctx.text(mentions, "small"))
    doc.initialFontName = font  # the font reportlab sets at the top of every page (else Helvetica)
    doc.build(story, canvasmaker=partial(CountingCanvas, count_font=font))
    data = out.getvalue()
    if finish is not None:
        data = finish(data)
    if pdfa:
        from plugins.reports.render.pdfa import PdfAInfo, conform

        data = conform(data, PdfAInfo(title=pdf_text(label), author=pdf_text(getattr(identity, "name", "") or ""),
                                      subject=pdf_text(heading), lang=locale, created=generated_at))
    return data


def _identity_block(ctx: DocumentContext) -> list:
    ident = ctx.identity
    lines = [x for x in (getattr(ident, "name", ""), getattr(ident, "address", "")) if x]
    contact = " — ".join(x for x in (getattr(ident, "phone", ""), getattr(ident, "email", ""),
                                     getattr(ident, "website", "")) if x)
    if contact:
        lines.append(contact)
    return [ctx.text("\n".join(lines), "small")] if lines else []
