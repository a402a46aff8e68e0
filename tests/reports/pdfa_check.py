"""A focused PDF/A-3b checker for the tests (no PDF/A validator can be installed from the registries
this project reaches: veraPDF is a Java program from elsewhere). ``violations(data)`` reads the PDF
back with pikepdf and lxml — not with the code that wrote it — and returns ``(clause, message)`` for
each requirement the file breaks; the clauses are those of ISO 19005-3:2012 (whose clauses 6.1 to 6.7
are those of ISO 19005-2:2011; 6.8 is PDF/A-3's own). What it checks is what our documents could
break; it is not a full validator (no check of the font programs' glyph widths against /Widths, of the
content streams' implementation limits, or of the XMP value types beyond the ones named here).
"""
from __future__ import annotations

import io
import re

import pikepdf
from lxml import etree

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
PDFA_EXTENSION = "http://www.aiim.org/pdfa/ns/extension/"
PDFA_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
PDFA_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
# the schemas the XMP specification (2005) and ISO 19005 predefine (6.6.2.3.1)
PREDEFINED = {"http://purl.org/dc/elements/1.1/", "http://ns.adobe.com/pdf/1.3/", "http://ns.adobe.com/xap/1.0/",
              "http://ns.adobe.com/xap/1.0/mm/", "http://ns.adobe.com/xap/1.0/rights/",
              "http://ns.adobe.com/photoshop/1.0/", "http://ns.adobe.com/xap/1.0/t/pg/", PDFAID, PDFA_EXTENSION,
              "http://ns.adobe.com/xap/1.0/sType/ResourceRef#", "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#"}
# document information entries and their XMP equivalents (ISO 19005-1 6.7.3, Table 1; ISO 32000-1 14.3.2)
INFO_TO_XMP = {"/Title": ("http://purl.org/dc/elements/1.1/", "title"),
               "/Author": ("http://purl.org/dc/elements/1.1/", "creator"),
               "/Subject": ("http://purl.org/dc/elements/1.1/", "description"),
               "/Keywords": ("http://ns.adobe.com/pdf/1.3/", "Keywords"),
               "/Creator": ("http://ns.adobe.com/xap/1.0/", "CreatorTool"),
               "/Producer": ("http://ns.adobe.com/pdf/1.3/", "Producer"),
               "/CreationDate": ("http://ns.adobe.com/xap/1.0/", "CreateDate"),
               "/ModDate": ("http://ns.adobe.com/xap/1.0/", "ModifyDate")}


def _pdf_date_to_xmp(value: str) -> str:
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}'\d{2}'?)?", value)
    if not m:
        return value
    zone = m.group(7) or ""
    zone = "Z" if zone == "Z" else zone.rstrip("'").replace("'", ":")
    return f"{m[1]}-{m[2]}-{m[3]}T{m[4]}:{m[5]}:{m[6]}{zone}"


def _xmp_values(rdf) -> dict[tuple[str, str], str]:
    out = {}
    for description in rdf.iter(f"{{{RDF}}}Description"):
        if description.getparent() is not rdf:
            continue
        for name, value in description.attrib.items():
            if name.startswith("{") and not name.startswith(f"{{{RDF}}}"):
                out[tuple(name[1:].split("}"))] = value
        for node in description:
            if isinstance(node.tag, str):
                out[tuple(node.tag[1:].split("}"))] = " ".join(t.strip() for t in node.itertext() if t.strip())
    return out


def _cmap_encodings(program: bytes) -> list[tuple[int, int]]:
    """The (platform, encoding) pairs of a TrueType program's cmap table."""
    tables = int.from_bytes(program[4:6], "big")
    for i in range(tables):
        record = program[12 + 16 * i:28 + 16 * i]
        if record[:4] == b"cmap":
            start = int.from_bytes(record[8:12], "big")
            count = int.from_bytes(program[start + 2:start + 4], "big")
            return [(int.from_bytes(program[start + 4 + 8 * j:start + 6 + 8 * j], "big"),
                     int.from_bytes(program[start + 6 + 8 * j:start + 8 + 8 * j], "big")) for j in range(count)]
    return []


def _all_fonts(pdf):
    """Every font dictionary reachable from the pages (their resources and their form XObjects')."""
    seen, out = set(), []

    def walk(resources):
        if resources is None:
            return
        for _name, font in (resources.get("/Font") or {}).items():
            if font.objgen not in seen or font.objgen == (0, 0):
                seen.add(font.objgen)
                out.append(font)
        for _name, xobject in (resources.get("/XObject") or {}).items():
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                walk(xobject.get("/Resources"))

    for page in pdf.pages:
        walk(page.obj.get("/Resources"))
    return out


def _content_streams(pdf):
    for page in pdf.pages:
        yield page.obj.get("/Resources"), page
        for _name, xobject in (page.obj.get("/Resources", {}).get("/XObject") or {}).items():
            if xobject.get("/Subtype") == "/Form":
                yield xobject.get("/Resources"), xobject


def violations(data: bytes) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []

    def fail(clause: str, message: str) -> None:
        found.append((clause, message))

    # 6.1.2 File header: %PDF-1.n, then a comment of at least four bytes above 127
    lines = data.split(b"\n", 2)
    if not re.match(rb"%PDF-1\.[0-7]\r?$", lines[0]):
        fail("6.1.2", f"header {lines[0][:10]!r}")
    if len(lines) < 2 or not lines[1].startswith(b"%") or sum(b > 127 for b in lines[1][1:5]) < 4:
        fail("6.1.2", "no binary comment after the header")
    # 6.1.3 File trailer: nothing but an end of line after the last %%EOF
    if data.rstrip(b"\r\n")[-5:] != b"%%EOF":
        fail("6.1.3", "data after the last %%EOF")
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return [*found, ("6.1.3", "encrypted (Encrypt in the trailer)")]
    with pdf:
        trailer = pdf.trailer
        # 6.1.3: the trailer has an ID of two strings and no Encrypt
        if "/Encrypt" in trailer or pdf.is_encrypted:
            fail("6.1.3", "Encrypt in the trailer")
        ids = trailer.get("/ID")
        if ids is None or len(ids) != 2 or not all(isinstance(x, pikepdf.String) and len(bytes(x)) for x in ids):
            fail("6.1.3", "no ID in the trailer")
        # 6.1.7.1 / 6.1.7.2 Streams: no external file, no LZW, no Crypt filter
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                for key in ("/F", "/FFilter", "/FDecodeParms"):
                    if key in obj.stream_dict:
                        fail("6.1.7.1", f"stream {obj.objgen} has {key}")
                filters = obj.stream_dict.get("/Filter")
                names = [str(f) for f in (filters if isinstance(filters, pikepdf.Array) else [filters] if filters else [])]
                if "/LZWDecode" in names or "/Crypt" in names:
                    fail("6.1.7.2", f"stream {obj.objgen} filtered by {names}")
        root = pdf.Root
        # 6.2.2 Output intent: a GTS_PDFA1 output intent with an ICC profile
        intents = [i for i in (root.get("/OutputIntents") or []) if i.get("/S") == "/GTS_PDFA1"]
        rgb_intent = False
        if not intents:
            fail("6.2.2", "no PDF/A OutputIntent (S /GTS_PDFA1)")
        for intent in intents:
            profile = intent.get("/DestOutputProfile")
            if not isinstance(profile, pikepdf.Stream):
                fail("6.2.2", "OutputIntent without DestOutputProfile")
                continue
            icc = profile.read_bytes()
            # 6.2.3: a valid ICC profile (ICC.1 / ISO 15076-1: major version below 5), output or
            # display class, colour space matching N
            if len(icc) < 128 or icc[36:40] != b"acsp" or int.from_bytes(icc[0:4], "big") != len(icc):
                fail("6.2.3", "DestOutputProfile is not an ICC profile")
                continue
            if icc[8] >= 5:
                fail("6.2.3", f"ICC profile version {icc[8]}")
            if icc[12:16] not in (b"prtr", b"mntr"):
                fail("6.2.3", f"ICC profile class {icc[12:16]!r}")
            components = {b"RGB ": 3, b"CMYK": 4, b"GRAY": 1}.get(icc[16:20])
            if components is None or int(profile.get("/N", 0)) != components:
                fail("6.2.3", f"ICC colour space {icc[16:20]!r} and N {profile.get('/N')}")
            rgb_intent = rgb_intent or icc[16:20] == b"RGB "
        # 6.2.4.3 Device colour spaces: DeviceRGB only under an RGB output intent, no DeviceCMYK
        for resources, holder in _content_streams(pdf):
            for operands, operator in pikepdf.parse_content_stream(holder):
                op = str(operator)
                if op in ("k", "K"):
                    fail("6.2.4.3", "DeviceCMYK colour in a content stream")
                if op in ("rg", "RG") and not rgb_intent:
                    fail("6.2.4.3", "DeviceRGB colour without an RGB output intent")
                if op == "gs" and resources is not None:
                    state = resources.get("/ExtGState", {}).get(str(operands[0]))
                    # 6.2.10 Transparency (we draw nothing transparent): no soft mask, opaque, normal blending
                    if state is not None:
                        if state.get("/SMask") not in (None, pikepdf.Name("/None")):
                            fail("6.2.10", "soft mask in a graphics state")
                        if float(state.get("/CA", 1)) != 1 or float(state.get("/ca", 1)) != 1:
                            fail("6.2.10", "transparent graphics state")
                        if str(state.get("/BM", "/Normal")) not in ("/Normal", "/Compatible"):
                            fail("6.2.10", "blend mode")
                        if "/TR" in state:
                            fail("6.2.5", "transfer function in a graphics state")
        for page in pdf.pages:
            # 6.2.10: no transparency group on the pages
            if "/Group" in page.obj:
                fail("6.2.10", "transparency group on a page")
            # 6.3.2 Annotations: only printable ones (none expected)
            for annot in page.obj.get("/Annots") or []:
                if not int(annot.get("/F", 0)) & 4:
                    fail("6.3.2", "annotation without the Print flag")
                if annot.get("/Subtype") == "/Link" and "/A" in annot and annot.A.get("/S") == "/JavaScript":
                    fail("6.5.1", "JavaScript action")
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Subtype") == "/Image":
                # 6.2.8 Images: no Alternates, no OPI, Interpolate false; 6.2.10: no soft mask
                for key in ("/Alternates", "/OPI"):
                    if key in obj.stream_dict:
                        fail("6.2.8", f"image with {key}")
                if bool(obj.stream_dict.get("/Interpolate", False)):
                    fail("6.2.8", "image with Interpolate true")
                if "/SMask" in obj.stream_dict:
                    fail("6.2.10", "image with a soft mask")
                if str(obj.stream_dict.get("/ColorSpace", "")) == "/DeviceCMYK":
                    fail("6.2.4.3", "DeviceCMYK image")
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Subtype") == "/Form":
                # 6.2.9 Form XObjects: no OPI, no PostScript; 6.2.10: no transparency group
                for key in ("/OPI", "/PS", "/Subtype2"):
                    if key in obj.stream_dict:
                        fail("6.2.9", f"form XObject with {key}")
                if "/Group" in obj.stream_dict:
                    fail("6.2.10", "transparency group on a form XObject")
            if isinstance(obj, pikepdf.Stream) and obj.stream_dict.get("/Subtype") == "/PS":
                fail("6.2.9", "PostScript XObject")
        # 6.2.11 Fonts
        fonts = _all_fonts(pdf)
        for font in fonts:
            subtype = str(font.get("/Subtype"))
            name = str(font.get("/BaseFont", "")).lstrip("/")
            if subtype == "/Type3":
                continue
            described = font.DescendantFonts[0] if subtype == "/Type0" else font
            descriptor = described.get("/FontDescriptor")
            # 6.2.11.4.1 Embedded font programs: every font used for rendering is embedded
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                fail("6.2.11.4.1", f"font {name} is not embedded")
                continue
            program = descriptor.get("/FontFile2")
            if program is not None and ("/Length1" not in program or not program.read_bytes()):
                fail("6.2.11.4.1", f"font {name}: empty or incomplete TrueType program")
            # subsets are named ABCDEF+Name (ISO 32000-1 9.6.4) and hold the glyphs shown
            if "+" in name and not re.match(r"^[A-Z]{6}\+", name):
                fail("6.2.11.4.1", f"font subset {name} badly tagged")
            # 6.2.11.6 Character encodings: a symbolic TrueType font has no Encoding, and its cmap
            # table holds exactly one encoding, or the (3,0) one
            if subtype == "/TrueType" and int(descriptor.get("/Flags", 0)) & 4:
                if "/Encoding" in font:
                    fail("6.2.11.6", f"symbolic TrueType font {name} with an Encoding")
                encodings = _cmap_encodings(program.read_bytes()) if program is not None else []
                if len(encodings) != 1 and (3, 0) not in encodings:
                    fail("6.2.11.6", f"symbolic TrueType font {name}: cmap encodings {encodings}")
            if subtype == "/TrueType" and not int(descriptor.get("/Flags", 0)) & 4 and \
                    str(font.get("/Encoding")) not in ("/MacRomanEncoding", "/WinAnsiEncoding"):
                fail("6.2.11.6", f"non-symbolic TrueType font {name} without a standard Encoding")
            # 6.2.11.5 Font metrics: one width per code
            if subtype in ("/TrueType", "/Type1") and "/Widths" in font and \
                    len(font.Widths) != int(font.LastChar) - int(font.FirstChar) + 1:
                fail("6.2.11.5", f"font {name}: Widths do not match FirstChar..LastChar")
            # 6.2.11.7 Unicode character maps (PDF/A-3u, asked for here too): text extractable
            if "/ToUnicode" not in font:
                fail("6.2.11.7", f"font {name} without ToUnicode")
        # 6.5.1 / 6.5.2 Actions: no JavaScript, no additional actions on the catalog or the pages
        if "/Names" in root and "/JavaScript" in root.Names:
            fail("6.5.1", "JavaScript name tree")
        if "/AA" in root or any("/AA" in page.obj for page in pdf.pages):
            fail("6.5.2", "additional actions (AA)")
        if "/OpenAction" in root and root.OpenAction.get("/S") in ("/JavaScript", "/Launch"):
            fail("6.5.1", "forbidden OpenAction")
        # 6.4.1 Interactive forms: no NeedAppearances; 6.1.13 no optional content configs needed
        if "/AcroForm" in root and bool(root.AcroForm.get("/NeedAppearances", False)):
            fail("6.4.1", "NeedAppearances true")
        # 6.6.2.1 Metadata: the catalog's Metadata is an XMP stream, well-formed, no bytes/encoding
        metadata = root.get("/Metadata")
        if not isinstance(metadata, pikepdf.Stream) or metadata.get("/Type") != "/Metadata" or \
                metadata.get("/Subtype") != "/XML":
            fail("6.6.2.1", "no Metadata stream (Type Metadata, Subtype XML) in the catalog")
            return found
        raw = metadata.read_bytes()
        header = re.search(rb"<\?xpacket begin=[^>]*\?>", raw)
        if header is None:
            fail("6.6.2.1", "no xpacket header")
        elif b"bytes=" in header.group(0) or b"encoding=" in header.group(0):
            fail("6.6.2.1", "bytes or encoding attribute in the xpacket header")
        try:
            xmp = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            fail("6.6.2.1", f"XMP not well-formed: {exc}")
            return found
        rdf = xmp if xmp.tag == f"{{{RDF}}}RDF" else xmp.find(f"{{{RDF}}}RDF")
        if rdf is None:
            fail("6.6.2.1", "no rdf:RDF in the XMP")
            return found
        for description in rdf.findall(f"{{{RDF}}}Description"):
            if f"{{{RDF}}}about" not in description.attrib:
                fail("6.6.2.1", "rdf:Description without rdf:about (XMP specification 7.4)")
        values = _xmp_values(rdf)
        # 6.6.4 Version and conformance level identification
        if values.get((PDFAID, "part")) != "3":
            fail("6.6.4", f"pdfaid:part is {values.get((PDFAID, 'part'))!r}, not 3")
        if values.get((PDFAID, "conformance")) not in ("B", "U", "A"):
            fail("6.6.4", f"pdfaid:conformance is {values.get((PDFAID, 'conformance'))!r}")
        # 6.6.2.3 Extension schemas: every property's namespace is predefined or described in a
        # pdfaExtension:schemas container with its properties (6.6.2.3.2, 6.6.2.3.3)
        described: dict[str, set[str]] = {}
        for schema in rdf.iter(f"{{{PDFA_EXTENSION}}}schemas"):
            for item in schema.iter(f"{{{RDF}}}li"):
                uri = item.findtext(f"{{{PDFA_SCHEMA}}}namespaceURI")
                if uri is None:
                    continue
                if item.findtext(f"{{{PDFA_SCHEMA}}}prefix") is None or item.findtext(f"{{{PDFA_SCHEMA}}}schema") is None:
                    fail("6.6.2.3.3", f"extension schema {uri} without prefix or schema")
                names = {p.findtext(f"{{{PDFA_PROPERTY}}}name") for p in item.iter(f"{{{RDF}}}li")
                         if p.find(f"{{{PDFA_PROPERTY}}}name") is not None}
                for prop in item.iter(f"{{{RDF}}}li"):
                    if prop.find(f"{{{PDFA_PROPERTY}}}name") is not None and any(
                            prop.find(f"{{{PDFA_PROPERTY}}}{k}") is None for k in ("valueType", "category", "description")):
                        fail("6.6.2.3.3", f"property {prop.findtext(f'{{{PDFA_PROPERTY}}}name')} incompletely described")
                described[uri] = names
        for (namespace, local) in values:
            if namespace in PREDEFINED:
                continue
            if local not in described.get(namespace, set()):
                fail("6.6.2.3.1", f"XMP property {{{namespace}}}{local} in no predefined or extension schema")
        # the document information dictionary agrees with the XMP (ISO 19005-1 6.7.3, ISO 32000-1 14.3.2)
        info = trailer.get("/Info")
        for key, value in (info.items() if info is not None else []):
            if key in INFO_TO_XMP:
                expected = str(value)
                if key in ("/CreationDate", "/ModDate"):
                    expected = _pdf_date_to_xmp(expected)
                got = values.get(INFO_TO_XMP[key])
                if got != expected:
                    fail("6.6.2.3.1", f"Info {key} {expected!r} but XMP {got!r}")
            elif key == "/Trapped":
                fail("6.6.2.3.1", "Info /Trapped without its XMP equivalent")
        # 6.8 Embedded files (PDF/A-3): MIME type, modification date, F and UF, AFRelationship, in an AF array
        associated = {f.objgen for f in (root.get("/AF") or [])}
        names_tree = root.get("/Names", {}).get("/EmbeddedFiles")
        pairs = list(names_tree.get("/Names", [])) if names_tree is not None else []
        for spec in pairs[1::2]:
            label = str(spec.get("/UF", spec.get("/F", "")))
            for key in ("/F", "/UF", "/AFRelationship"):
                if key not in spec:
                    fail("6.8", f"embedded file {label}: file specification without {key}")
            stream = spec.get("/EF", {}).get("/F")
            if not isinstance(stream, pikepdf.Stream):
                fail("6.8", f"embedded file {label}: no EF stream")
                continue
            if "/Subtype" not in stream.stream_dict:
                fail("6.8", f"embedded file {label}: no MIME type (Subtype)")
            if "/ModDate" not in stream.stream_dict.get("/Params", {}):
                fail("6.8", f"embedded file {label}: no Params/ModDate")
            if spec.objgen not in associated:
                fail("6.8", f"embedded file {label} not associated (AF) with the document")
    return found


def embedded_files(data: bytes) -> dict[str, tuple[str, str, bytes]]:
    """``{name: (AFRelationship, MIME type, bytes)}`` of the document's embedded files."""
    out = {}
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree = pdf.Root.get("/Names", {}).get("/EmbeddedFiles")
        pairs = list(tree.get("/Names", [])) if tree is not None else []
        for name, spec in zip(pairs[0::2], pairs[1::2]):
            stream = spec.EF.F
            out[str(name)] = (str(spec.get("/AFRelationship", "")), str(stream.stream_dict.get("/Subtype", "")),
                              stream.read_bytes())
    return out
