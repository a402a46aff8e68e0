"""Reading contact files for the import (``services.importing``): the importable fields and their
labels, the column mapping (header → field; French and English headers guessed), and the streamed
reading of CSV and XLSX files (``read_rows``).
"""
from __future__ import annotations

import codecs
import csv
from collections import deque
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from coulisses import InvalidError
from coulisses.i18n import _, _l, lazy_pgettext

from plugins.contacts.services.normalize import normalize

CONTACT_IMPORT_FIELDS = (
    "civility", "last_name", "first_name", "structure_name", "type_code", "birth_date", "function", "language",
    "email", "mobile_phone", "phone", "fax", "administrative_number", "reference_code", "iban",
)
ADDRESS_IMPORT_FIELDS = ("line1", "line2", "line3", "postal_code", "city", "country", "department", "region")
IMPORT_FIELDS = CONTACT_IMPORT_FIELDS + ADDRESS_IMPORT_FIELDS

FIELD_LABELS = {
    "civility": _l("Civilité"), "last_name": lazy_pgettext("contact", "Nom"), "first_name": _l("Prénom"), "structure_name": _l("Structure"),
    "type_code": _l("Type"), "birth_date": _l("Date de naissance"), "function": _l("Fonction"),
    "language": _l("Langue"), "email": _l("Mél"), "mobile_phone": _l("Téléphone portable"),
    "phone": _l("Téléphone"), "fax": _l("Fax"), "administrative_number": _l("Numéro administratif"),
    "reference_code": _l("Code référence"), "iban": _l("IBAN"), "line1": _l("Adresse"), "line2": _l("Adresse (2)"),
    "line3": _l("Adresse (3)"), "postal_code": _l("Code postal"), "city": _l("Ville"), "country": _l("Pays"),
    "department": _l("Département"), "region": _l("Région"),
}

# Normalised header → field. French and English, with the usual variants.
HEADER_ALIASES: dict[str, str] = {}
for _field, _aliases in {
    "civility": ("civilite", "civ", "civility", "title", "titre", "salutation"),
    "last_name": ("nom", "nom de famille", "last name", "lastname", "surname", "family name", "name", "nom contact"),
    "first_name": ("prenom", "first name", "firstname", "given name", "forename"),
    "structure_name": ("structure", "raison sociale", "organisme", "organisation", "organization", "company",
                       "societe", "entreprise", "nom structure", "nom de la structure", "company name"),
    "type_code": ("type", "type de contact", "contact type", "nature"),
    "birth_date": ("date de naissance", "naissance", "ne le", "birth date", "birthdate", "date of birth", "dob"),
    "function": ("fonction", "function", "job title", "poste"),
    "language": ("langue", "langue de communication", "language"),
    "email": ("mel", "email", "e mail", "courriel", "adresse email", "adresse e mail", "adresse mel", "mail",
              "email address", "e mail address"),
    "mobile_phone": ("telephone portable", "tel portable", "portable", "mobile", "mobile phone", "cell",
                     "cell phone", "gsm", "telephone mobile", "tel mobile"),
    "phone": ("telephone", "tel", "telephone fixe", "tel fixe", "phone", "phone number", "home phone"),
    "fax": ("fax", "telecopie"),
    "administrative_number": ("numero administratif", "numero administratif de structure", "siret", "siren",
                              "administrative number", "company number"),
    "reference_code": ("code reference", "reference", "ref", "reference code", "code", "id externe", "external id"),
    "iban": ("iban",),
    "line1": ("adresse", "adresse 1", "adresse ligne 1", "address", "address 1", "address line 1", "rue", "street"),
    "line2": ("adresse 2", "adresse ligne 2", "complement d adresse", "complement", "address 2", "address line 2"),
    "line3": ("adresse 3", "adresse ligne 3", "address 3", "address line 3", "lieu dit"),
    "postal_code": ("code postal", "cp", "postal code", "postcode", "zip", "zip code", "code postale"),
    "city": ("ville", "commune", "localite", "city", "town"),
    "country": ("pays", "country", "code pays", "country code"),
    "department": ("departement", "department", "county"),
    "region": ("region", "state", "province"),
}.items():
    for _alias in _aliases:
        HEADER_ALIASES[_alias] = _field


_LABEL_ALIASES: dict[str, str] = {}


def label_aliases() -> dict[str, str]:
    """Normalised header → field for the field labels and the export's headers in every language (a
    file exported in English or Spanish imports again)."""
    if not _LABEL_ALIASES:
        from coulisses.i18n import LANGUAGES, use_locale

        from plugins.contacts.services.exporting import EXPORT_COLUMNS

        found: dict[str, str] = {}
        for lang in LANGUAGES:
            with use_locale(lang):
                for fld, label in (*FIELD_LABELS.items(), *EXPORT_COLUMNS):
                    if fld in IMPORT_FIELDS:
                        found.setdefault(normalize(str(label)), fld)
        _LABEL_ALIASES.update(found)
    return _LABEL_ALIASES


class ImportError_(InvalidError):
    """The file itself cannot be read (not a row: the whole file)."""


# --------------------------------------------------------------------------- mapping


def default_mapping(headers: Iterable[str]) -> dict[str, str]:
    """Guess the field of each header (French and English names); unknown headers map to ``""``."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = normalize(header)
        fld = key if key in IMPORT_FIELDS else HEADER_ALIASES.get(key) or label_aliases().get(key, "")
        if fld in used:
            fld = ""
        out[header] = fld
        if fld:
            used.add(fld)
    return out


def resolve_mapping(headers: list[str], mapping: dict[str, str] | None) -> dict[str, str]:
    """The mapping to use: the given one (header → field, ``""`` to ignore) over the default guess.
    Unknown fields and a field given twice are refused (``InvalidError``)."""
    result = default_mapping(headers)
    errors: dict[str, str] = {}
    for header, fld in (mapping or {}).items():
        if header not in headers:
            errors[header] = _("Colonne absente du fichier")
            continue
        fld = (fld or "").strip()
        if fld and fld not in IMPORT_FIELDS:
            errors[header] = _("Champ inconnu : %(field)s", field=fld)
            continue
        result[header] = fld
    seen: dict[str, str] = {}
    for header, fld in result.items():
        if fld and fld in seen and header not in (mapping or {}) and seen[fld] in (mapping or {}):
            result[header] = ""  # the explicit mapping wins over a guess
        elif fld and fld in seen:
            errors[header] = _("%(field)s est déjà lu dans la colonne « %(column)s »", field=FIELD_LABELS[fld],
                               column=seen[fld])
        elif fld:
            seen[fld] = header
    if errors:
        raise InvalidError(_("Le plan de correspondance des colonnes n'est pas valide"), errors)
    if not any(f in ("last_name", "structure_name") for f in result.values()):
        raise InvalidError(_("Aucune colonne Nom ni Structure : indiquez la correspondance des colonnes"),
                           {"mapping": _("Associez une colonne au champ Nom (last_name) ou Structure "
                                         "(structure_name)")})
    return result


def parse_mapping_option(text: str | None) -> dict[str, str]:
    """``"Surname=last_name,Given=first_name,Notes="`` (or a JSON object) → dict."""
    if not text:
        return {}
    text = text.strip()
    if text.startswith("{"):
        import json

        return {str(k): str(v or "") for k, v in json.loads(text).items()}
    out = {}
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise InvalidError(_("Correspondance illisible"),
                                   {"mapping": _("« %(part)s » : attendu Colonne=champ", part=part)})
        header, fld = part.split("=", 1)
        out[header.strip()] = fld.strip()
    return out


# --------------------------------------------------------------------------- reading


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(source: str | Path | IO, *, filename: str = "", delimiter: str | None = None,
              encoding: str = "utf-8-sig") -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """``(headers, iterator of (line number, values))`` of a CSV or XLSX file (by extension or
    content). ``source`` is a path or a binary stream."""
    name = filename or (str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "") or "")
    stream = open(source, "rb") if isinstance(source, (str, Path)) else source
    head = stream.read(4)
    stream.seek(0)
    if name.lower().endswith((".xlsx", ".xlsm")) or head == b"PK\x03\x04":
        headers, rows = _read_xlsx(stream)
    else:
        headers, rows = _read_csv(stream, delimiter, encoding)
    if stream is not source:  # opened here: closed when the rows are read
        return headers, _closing(rows, stream)
    return headers, rows


def _closing(rows, stream):
    try:
        yield from rows
    finally:
        stream.close()


def _read_xlsx(stream) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook
        raise ImportError_(_("Classeur illisible"), {"file": _("Fichier XLSX illisible : %(error)s", error=exc)}) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        headers = [_cell(c) for c in next(rows)]
    except StopIteration:
        raise ImportError_(_("Fichier vide"), {"file": _("Le classeur est vide")}) from None
    while headers and not headers[-1]:
        headers.pop()

    def iterate():
        for line, row in enumerate(rows, start=2):
            values = [_cell(c) for c in row[:len(headers)]]
            if any(values):
                yield line, values
        workbook.close()

    return headers, iterate()


# A quoted value may span lines (an address with a line break), at most this many lines, and none of
# its continuation lines may look like a record of its own (as many separators as the header has). A
# quote that is not closed by then is reported at the line where it opened, and the reading goes on
# at the next line: the lines after a stray quote are never swallowed.
MAX_QUOTED_LINES = 10


class BadLine(list):
    """A line that cannot be read (not valid in the file's encoding, a quote never closed): its
    values as well as they can be shown, and the reason (``import_rows`` rejects it)."""

    def __init__(self, values, reason: str):
        super().__init__(values)
        self.reason = reason


def _decode(raw: bytes, encoding: str) -> tuple[str, str | None]:
    try:
        return raw.decode(encoding), None
    except UnicodeDecodeError as exc:
        return raw.decode(encoding, errors="replace"), _(
            "ligne illisible : elle n'est pas dans l'encodage du fichier (%(encoding)s, octet %(position)s)",
            encoding=encoding, position=exc.start + 1)


def _loose(text: str, delimiter: str) -> list[str]:
    """The values of one line, read leniently (to show a line that cannot be read strictly)."""
    try:
        return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
    except csv.Error:
        return text.rstrip("\r\n").split(delimiter)


def csv_records(lines: Iterable[tuple[int, bytes]], delimiter: str, encoding: str,
                columns: int) -> Iterator[tuple[int, list[str]]]:
    """``(line number, values)`` of each record of a CSV, from its physical lines (bytes). Each line
    is decoded on its own: a line not valid in ``encoding`` becomes a ``BadLine``, and so does the line
    where a quote opens and is never closed (see ``MAX_QUOTED_LINES``); the reading goes on after it."""
    pushed: deque[tuple[int, bytes]] = deque()
    source = iter(lines)

    def take():
        return pushed.popleft() if pushed else next(source, None)

    while True:
        item = take()
        if item is None:
            return
        line, raw = item
        text, error = _decode(raw, encoding)
        if error:
            yield line, BadLine(_loose(text, delimiter), error)
            continue
        parts, taken = [text], [item]
        while True:
            try:
                reader = csv.reader(parts, delimiter=delimiter, strict=True)
                values = next(reader, [])
                break
            except csv.Error as exc:
                if "unexpected end of data" not in str(exc):  # another oddity: read leniently, as before
                    values = next(csv.reader(parts, delimiter=delimiter), [])
                    break
            more = take() if len(parts) < MAX_QUOTED_LINES else None
            more_text, more_error = _decode(more[1], encoding) if more else ("", "x")
            if more is None or more_error or (columns > 1 and more_text.count(delimiter) >= columns - 1):
                if more is not None:
                    pushed.appendleft(more)
                for back in reversed(taken[1:]):
                    pushed.appendleft(back)
                values = None
                break
            parts.append(more_text)
            taken.append(more)
        if values is None:
            yield line, BadLine(_loose(text, delimiter), _(
                "guillemet ouvert sur cette ligne et jamais fermé : la ligne est rejetée, la lecture "
                "reprend à la ligne suivante"))
            continue
        if any(v.strip() for v in values):
            yield line, values


def _read_csv(stream, delimiter: str | None, encoding: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    encoding = encoding or "utf-8-sig"
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ImportError_(_("Encodage inconnu"),
                           {"encoding": _("Encodage inconnu : %(encoding)s", encoding=encoding)}) from None
    head = stream.read(1 << 16)
    stream.seek(0)
    lines = _cr_lines(stream) if b"\r" in head and b"\n" not in head else iter(stream)
    first_raw = next(lines, b"")
    first = _decode(first_raw, encoding)[0]
    if first.startswith("\ufeff"):
        first = first[1:]
    if not first.strip():
        raise ImportError_(_("Fichier vide"), {"file": _("Le fichier est vide (pas de ligne d'en-tête)")})
    if not delimiter:
        counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
        delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    headers = [h.strip() for h in _loose(first, delimiter)]
    body_encoding = "utf-8" if codecs.lookup(encoding).name == "utf-8-sig" else encoding
    return headers, csv_records(enumerate(lines, start=2), delimiter, body_encoding, len(headers))


def _cr_lines(stream) -> Iterator[bytes]:
    """The lines of a file whose lines end with a carriage return alone (old spreadsheets on Mac)."""
    rest = b""
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        *whole, rest = (rest + chunk).split(b"\r")
        for line in whole:
            yield line + b"\r"
    if rest:
        yield rest
