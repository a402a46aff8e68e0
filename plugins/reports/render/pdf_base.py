"""What every PDF of Coulisses shares (reports and documents): the organisation header with its
logo, the title, "page x / y", who generated it and when; the styles; text made safe for the
standard PDF fonts. Pages are numbered "x / y" without keeping the pages in memory: the total is a
form drawn on every page and defined once, when the file is saved."""
from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from coulisses.i18n import _, format_datetime

PAGE_COUNT_FORM = "coulisses-page-count"
FONT, BOLD = "Helvetica", "Helvetica-Bold"


def pdf_text(value: Any) -> str:
    """Text for the standard fonts: babel's narrow no-break space (U+202F) becomes a no-break space."""
    return str(value).replace("\u202f", "\u00a0").replace("\u2009", " ")


class CountingCanvas(Canvas):
    """Defines the page-count form (the number of pages) when the document is saved
    (``functools.partial(CountingCanvas, count_font=...)`` for a document in other fonts)."""

    def __init__(self, *args, count_font: str = FONT, **kwargs):
        self.count_font = count_font
        super().__init__(*args, **kwargs)

    def save(self):
        pages = self.getPageNumber() - 1
        self.beginForm(PAGE_COUNT_FORM)
        self.setFont(self.count_font, 8)
        self.drawString(0, 0, str(pages))
        self.endForm()
        super().save()


def styles(font: str = FONT, bold: str = BOLD) -> dict[str, ParagraphStyle]:
    """The paragraph styles, in the standard fonts or in ``font`` and ``bold`` (the embedded ones of
    a PDF/A document)."""
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=bold, fontSize=15, leading=18,
                                alignment=0, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=bold, fontSize=11, leading=14, spaceBefore=8,
                             spaceAfter=4),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontName=font, fontSize=9, leading=11.5),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontName=font, fontSize=7.5, leading=9.5,
                                textColor=colors.HexColor("#333333")),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontName=font, fontSize=7.5, leading=9),
        "cell_right": ParagraphStyle("cell_right", parent=base["BodyText"], fontName=font, fontSize=7.5, leading=9,
                                     alignment=2),
        "right": ParagraphStyle("right", parent=base["BodyText"], fontName=font, fontSize=9, leading=11.5,
                                alignment=2),
    }


def logo_image(identity, max_w: float = 30 * mm, max_h: float = 14 * mm, *, opaque: bool = False):
    """The organisation's logo as a reportlab ImageReader and its size, or None; ``opaque``: its
    transparent parts laid on white (no soft mask: a PDF/A document draws nothing transparent)."""
    data = getattr(identity, "logo", None)
    if not data:
        return None
    from reportlab.lib.utils import ImageReader

    try:
        if opaque:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as source:
                rgba = source.convert("RGBA")
            flat = Image.new("RGB", rgba.size, (255, 255, 255))
            flat.paste(rgba, mask=rgba.getchannel("A"))
            image = ImageReader(flat)
        else:
            image = ImageReader(io.BytesIO(data))
        w, h = image.getSize()
    except Exception:  # noqa: BLE001 - a broken logo must not stop a document
        return None
    scale = min(max_w / w, max_h / h)
    return image, w * scale, h * scale


class PageDecor:
    """Draws the header and footer of each page."""

    def __init__(self, *, title: str, identity, generated_by: str, generated_at, header_right: str = "",
                 font: str = FONT, bold: str = BOLD, opaque: bool = False):
        self.title, self.identity = title, identity
        self.font, self.bold, self.opaque = font, bold, opaque
        self.generated = _("Généré par %(who)s le %(when)s", who=generated_by or "—",
                           when=format_datetime(generated_at))
        self.header_right = header_right
        self.logo = logo_image(identity, opaque=opaque)

    def __call__(self, canv: Canvas, doc) -> None:
        width, height = doc.pagesize
        canv.saveState()
        top = height - 10 * mm
        x = doc.leftMargin
        if self.logo is not None:
            image, w, h = self.logo
            canv.drawImage(image, x, top - h + 3 * mm, width=w, height=h, mask=None if self.opaque else "auto")
            x += w + 4 * mm
        name = getattr(self.identity, "name", "") or ""
        canv.setFont(self.bold, 10)
        canv.drawString(x, top, pdf_text(name))
        canv.setFont(self.font, 8)
        canv.drawRightString(width - doc.rightMargin, top, pdf_text(self.header_right or self.title))
        canv.setStrokeColor(colors.HexColor("#999999"))
        canv.line(doc.leftMargin, top - 5 * mm, width - doc.rightMargin, top - 5 * mm)
        bottom = 8 * mm
        canv.line(doc.leftMargin, bottom + 4 * mm, width - doc.rightMargin, bottom + 4 * mm)
        canv.setFont(self.font, 7)
        footer = getattr(self.identity, "footer", "") or ""
        canv.drawString(doc.leftMargin, bottom, pdf_text(self.generated + (" — " + footer if footer else ""))[:170])
        label = pdf_text(_("Page %(page)s /", page=canv.getPageNumber()))
        canv.setFont(self.font, 8)
        right = width - doc.rightMargin - 12
        canv.drawRightString(right, bottom, label)
        canv.translate(right + 2, bottom)
        canv.doForm(PAGE_COUNT_FORM)
        canv.restoreState()


def make_doc(out, *, title: str, wide: bool = False, author: str = "") -> BaseDocTemplate:
    size = landscape(A4) if wide else A4
    doc = BaseDocTemplate(out, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm, topMargin=20 * mm,
                          bottomMargin=16 * mm, title=pdf_text(title), author=pdf_text(author),
                          creator="Coulisses")
    return doc


def add_page_template(doc: BaseDocTemplate, decor: PageDecor) -> None:
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0,
                  rightPadding=0, topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decor, pagesize=doc.pagesize)])


class LazyStory(list):
    """A story that pulls its flowables from a generator as platypus consumes them (the rows of a
    large report never sit in memory all at once)."""

    def __init__(self, flowables):
        super().__init__()
        self._source = iter(flowables)

    def _fill(self, n: int = 3) -> None:
        while self._source is not None and list.__len__(self) < n:
            try:
                list.append(self, next(self._source))
            except StopIteration:
                self._source = None

    def __len__(self) -> int:
        self._fill()
        return list.__len__(self)
