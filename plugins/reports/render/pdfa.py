"""PDF/A-3b (ISO 19005-3, level B) for the documents that must be archived as they are (the waiting
account's Factur-X invoices: ``DocumentType(pdfa=True)``).

Two steps around the drawing (``render_document`` calls both):

- ``fonts()``: the text is drawn with TrueType fonts that reportlab embeds as subsets with a
  ToUnicode map (DejaVu Sans from Debian's ``fonts-dejavu-core``, or reportlab's own Bitstream Vera,
  which DejaVu extends, where DejaVu is not installed) instead of the standard 14 fonts, which are
  never embedded (ISO 19005-3 6.2.11.4);
- ``conform(pdf, ...)``, after the document type's finishing step (the Factur-X XML attached by the
  ``factur-x`` library): the OutputIntent with the sRGB profile of ``plugins/reports/data`` (6.2.2,
  6.2.4.3), the XMP metadata (6.6.2) — the PDF/A identification ``pdfaid:part=3``,
  ``pdfaid:conformance=B`` (6.6.4), the properties and extension schemas the finishing step wrote
  kept (the Factur-X schema), ``rdf:about`` on each description, an uncompressed stream — and the
  document information dictionary holding exactly the same values as the XMP; the trailer's ID
  (6.1.3, also the XMP ``xmpMM:DocumentID``); an encrypted PDF, JavaScript or a transparency group
  are refused rather than passed on as PDF/A.
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from lxml import etree

ICC_PROFILE = Path(__file__).resolve().parent.parent / "data" / "sRGB.icc"
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# Debian's fonts-dejavu-core (installed by .ci/run); reportlab's Bitstream Vera otherwise
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
REGULAR, BOLD = "CoulissesSans", "CoulissesSans-Bold"
PRODUCER = "Coulisses"

NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "dc": "http://purl.org/dc/elements/1.1/", "pdf": "http://ns.adobe.com/pdf/1.3/",
      "xmp": "http://ns.adobe.com/xap/1.0/", "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
      "pdfaid": "http://www.aiim.org/pdfa/ns/id/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RDF = "{%s}" % NS["rdf"]
# the properties this module writes (any other one in the XMP is kept as it is)
MANAGED = ("dc:title", "dc:creator", "dc:description", "pdf:Producer", "pdf:Keywords", "pdf:Trapped",
           "xmp:CreatorTool", "xmp:CreateDate", "xmp:ModifyDate", "xmp:MetadataDate", "xmpMM:DocumentID",
           "xmpMM:InstanceID", "pdfaid:part", "pdfaid:conformance", "pdfaid:amd", "pdfaid:rev")


class PdfAError(ValueError):
    """The PDF cannot be made PDF/A-3b as it is (encrypted, JavaScript, transparency)."""


@dataclass(frozen=True)
class PdfAInfo:
    """What the document says of itself (XMP and document information dictionary alike)."""

    title: str
    author: str = ""
    subject: str = ""
    keywords: str = ""
    lang: str = ""
    created: datetime | None = None


def font_files() -> tuple[Path, Path]:
    for folder in FONT_DIRS:
        regular, bold = (folder / name for name in FONT_FILES)
        if regular.is_file() and bold.is_file():
            return regular, bold
    import reportlab

    base = Path(reportlab.__file__).resolve().parent / "fonts"
    return base / "Vera.ttf", base / "VeraBd.ttf"


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """The names of the embedded TrueType fonts (regular, bold), registered once per process."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = font_files()
    pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
    pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return REGULAR, BOLD


@lru_cache(maxsize=1)
def icc_profile() -> bytes:
    return ICC_PROFILE.read_bytes()


def _utc(when: datetime | None) -> datetime:
    when = when or datetime.now(timezone.utc)
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)


def pdf_date(when: datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%S+00'00'")


def xmp_date(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _xmp_tree(pdf) -> etree._Element:
    """The document's XMP (``x:xmpmeta``), or a new empty one."""
    if "/Metadata" in pdf.Root:
        parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
        try:
            root = etree.fromstring(pdf.Root.Metadata.read_bytes(), parser)
        except etree.XMLSyntaxError:
            root = None
        if root is not None:
            if root.tag == f"{RDF}RDF":
                meta = etree.Element(_q("x:xmpmeta"), nsmap={"x": NS["x"]})
                meta.append(root)
                root = meta
            if root.find(f"{RDF}RDF") is not None:
                return root
    meta = etree.Element(_q("x:xmpmeta"), nsmap={"x": NS["x"]})
    etree.SubElement(meta, f"{RDF}RDF", nsmap={"rdf": NS["rdf"]})
    return meta


def _existing(rdf, name: str) -> str:
    """A simple property's value in the XMP (an element or an attribute of a description), or ""."""
    for description in rdf.findall(f"{RDF}Description"):
        node = description.find(_q(name))
        if node is not None:
            return "".join(node.itertext()).strip()
        if description.get(_q(name)):
            return description.get(_q(name))
    return ""


def _write_xmp(pdf, info: PdfAInfo, created: datetime, keywords: str, document_id: str) -> dict[str, str]:
    """Rewrites the XMP with the managed properties; returns them as the information dictionary."""
    meta = _xmp_tree(pdf)
    rdf = meta.find(f"{RDF}RDF")
    for description in rdf.findall(f"{RDF}Description"):
        description.set(f"{RDF}about", "")
        for name in MANAGED:
            for node in description.findall(_q(name)):
                description.remove(node)
            description.attrib.pop(_q(name), None)
        if len(description) == 0 and all(key == f"{RDF}about" for key in description.attrib):
            rdf.remove(description)
    values = {"dc:title": info.title, "dc:creator": info.author, "dc:description": info.subject,
              "pdf:Keywords": keywords, "pdf:Producer": PRODUCER, "xmp:CreatorTool": PRODUCER,
              "xmp:CreateDate": xmp_date(created), "xmp:ModifyDate": xmp_date(created),
              "xmp:MetadataDate": xmp_date(created), "xmpMM:DocumentID": document_id,
              "xmpMM:InstanceID": document_id, "pdfaid:part": "3", "pdfaid:conformance": "B"}
    description = etree.Element(f"{RDF}Description", {f"{RDF}about": ""},
                                nsmap={p: NS[p] for p in ("dc", "pdf", "xmp", "xmpMM", "pdfaid")})
    rdf.insert(0, description)
    for name, value in values.items():
        if not value:
            continue
        node = etree.SubElement(description, _q(name))
        if name in ("dc:title", "dc:description"):
            etree.SubElement(etree.SubElement(node, f"{RDF}Alt"), f"{RDF}li", {XML_LANG: "x-default"}).text = value
        elif name == "dc:creator":
            etree.SubElement(etree.SubElement(node, f"{RDF}Seq"), f"{RDF}li").text = value
        else:
            node.text = value
    body = etree.tostring(meta, encoding="unicode")
    packet = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n<?xpacket end="w"?>'
    import pikepdf

    stream = pikepdf.Stream(pdf, packet.encode("utf-8"))
    stream.Type, stream.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    pdf.Root.Metadata = pdf.make_indirect(stream)
    return {"/Title": info.title, "/Author": info.author, "/Subject": info.subject, "/Keywords": keywords,
            "/Creator": PRODUCER, "/Producer": PRODUCER, "/CreationDate": pdf_date(created),
            "/ModDate": pdf_date(created)}


def _refuse_what_pdfa_forbids(pdf) -> None:
    import pikepdf

    if "/Names" in pdf.Root and "/JavaScript" in pdf.Root.Names:
        raise PdfAError("JavaScript")
    if "/OpenAction" in pdf.Root or "/AA" in pdf.Root:
        raise PdfAError("actions")
    for page in pdf.pages:
        if "/Group" in page.obj:
            raise PdfAError("transparency group")
        for _name, xobject in (page.Resources.get("/XObject") or pikepdf.Dictionary()).items():
            if "/SMask" in xobject or "/Group" in xobject:
                raise PdfAError("transparency")


def _output_intent(pdf) -> None:
    import pikepdf

    profile = pikepdf.Stream(pdf, icc_profile())
    profile.N = 3
    intent = pikepdf.Dictionary(Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
                                OutputConditionIdentifier=pikepdf.String(OUTPUT_CONDITION),
                                Info=pikepdf.String(OUTPUT_CONDITION),
                                RegistryName=pikepdf.String("http://www.color.org"),
                                DestOutputProfile=pdf.make_indirect(profile))
    pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(intent)])


def conform(data: bytes, info: PdfAInfo) -> bytes:
    """``data`` (drawn with ``fonts()``) made PDF/A-3b; ``PdfAError`` if it cannot be."""
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise PdfAError("encrypted") from exc
    with pdf:
        if pdf.is_encrypted:
            raise PdfAError("encrypted")
        _refuse_what_pdfa_forbids(pdf)
        _output_intent(pdf)
        created = _utc(info.created)
        old = pdf.trailer.get("/Info")
        keywords = info.keywords or (str(old.get("/Keywords", "")) if old is not None else "") or \
            _existing(_xmp_tree(pdf).find(f"{RDF}RDF"), "pdf:Keywords")
        first = bytes(pdf.trailer.ID[0]) if "/ID" in pdf.trailer else uuid.uuid4().bytes
        document_id = f"uuid:{uuid.UUID(bytes=(first + bytes(16))[:16])}"
        values = _write_xmp(pdf, info, created, keywords, document_id)
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary(
            {key: pikepdf.String(value) for key, value in values.items() if value}))
        if info.lang:
            pdf.Root.Lang = pikepdf.String(info.lang.replace("_", "-"))
        pdf.trailer.ID = pikepdf.Array([pikepdf.String(first), pikepdf.String(first)])
        out = io.BytesIO()
        pdf.save(out, min_version="1.7", fix_metadata_version=False, deterministic_id=False)
    return out.getvalue()
