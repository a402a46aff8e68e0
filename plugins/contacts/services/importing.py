"""Import of external contact files: CSV and XLSX, a column mapping, a dry run, a report.

    report = import_file(session, path, mapping=None, dry_run=False, delimiter=None, encoding="utf-8-sig")

- The file is streamed (CSV through ``csv``; XLSX through openpyxl's read-only mode), never loaded
  whole: 1,000,000 rows stay well under 500 MB.
- ``mapping`` maps a file header to a contact field (``IMPORT_FIELDS``); headers it leaves out are
  guessed by ``default_mapping`` (French and English headers: Nom, Prénom, Civilité, Mél, Téléphone
  portable, Code postal, Ville, Pays, Adresse…); a header mapped to ``""`` is ignored.
- Each row is validated on its own with the domain's rules (``services.validation``: civility,
  phones per country, e-mail, IBAN, SIRET, postal code per country, birth date); a bad row is
  rejected with its line number and every reason, and never stops the good rows.
- Good rows are inserted in chunks with Core bulk inserts (``services.bulk``): contact numbers are
  taken per chunk from the gapless sequence inside the transaction, the search columns computed with
  ``normalize.search_columns``' rules. ``commit=True`` commits after each chunk (CLI, screen: other
  operators are not blocked for the whole import); otherwise the caller owns the transaction.
- ``dry_run=True`` validates everything and writes nothing.
- Rejected rows: the report keeps the first ``keep_rejects`` in memory; ``rejects_out`` (a text
  stream) receives all of them as CSV: the original columns plus ``erreur``.

A row describes one contact: an individual (needs a last name), or a structure (a "Structure" /
"Raison sociale" column and no last name, or ``type_code`` of a structure type). The main address
is created when the row has any address field; the country defaults to France (``FR`` or a country
name, "FRANCE", "Belgique", "Germany"…). French postal codes that lost their leading zero in a
spreadsheet (``7000``) get it back.
"""
from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator

from sqlalchemy.orm import Session

from coulisses import InvalidError

from plugins.contacts.services import validation as v
from plugins.contacts.services.bulk import insert_contacts, take_numbers
from plugins.contacts.services.normalize import normalize

CONTACT_IMPORT_FIELDS = (
    "civility", "last_name", "first_name", "structure_name", "type_code", "birth_date", "function", "language",
    "email", "mobile_phone", "phone", "fax", "administrative_number", "reference_code", "iban",
)
ADDRESS_IMPORT_FIELDS = ("line1", "line2", "line3", "postal_code", "city", "country", "department", "region")
IMPORT_FIELDS = CONTACT_IMPORT_FIELDS + ADDRESS_IMPORT_FIELDS

FIELD_LABELS = {
    "civility": "Civilité", "last_name": "Nom", "first_name": "Prénom", "structure_name": "Structure",
    "type_code": "Type", "birth_date": "Date de naissance", "function": "Fonction", "language": "Langue",
    "email": "Mél", "mobile_phone": "Téléphone portable", "phone": "Téléphone", "fax": "Fax",
    "administrative_number": "Numéro administratif", "reference_code": "Code référence", "iban": "IBAN",
    "line1": "Adresse", "line2": "Adresse (2)", "line3": "Adresse (3)", "postal_code": "Code postal",
    "city": "Ville", "country": "Pays", "department": "Département", "region": "Région",
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

CHUNK = 5000
EMAIL_FAST = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")
_FR_PHONE = re.compile(r"(?:\+33\s?|0033\s?|0)([1-9](?:[\s.-]?\d{2}){4})")
_NOT_DIGIT = re.compile(r"\D")
_UNREADABLE = re.compile("[\udc80-\udcff]")
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home", "lan", "alt"}


class ImportError_(InvalidError):
    """The file itself cannot be read (not a row: the whole file)."""


@dataclass
class Rejected:
    line: int
    reason: str
    values: list[str]


@dataclass
class ImportReport:
    dry_run: bool
    filename: str = ""
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # header → field
    unmapped: list[str] = field(default_factory=list)
    total: int = 0
    imported: int = 0  # would be imported, in a dry run
    rejected: int = 0
    rejects: list[Rejected] = field(default_factory=list)  # the first keep_rejects
    first_number: int | None = None
    last_number: int | None = None
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "filename": self.filename, "headers": self.headers,
                "mapping": self.mapping, "unmapped": self.unmapped, "total": self.total,
                "imported": self.imported, "rejected": self.rejected,
                "rejects": [{"line": r.line, "reason": r.reason, "values": r.values} for r in self.rejects],
                "first_number": self.first_number, "last_number": self.last_number,
                "seconds": round(self.seconds, 3)}


# --------------------------------------------------------------------------- mapping


def default_mapping(headers: Iterable[str]) -> dict[str, str]:
    """Guess the field of each header (French and English names); unknown headers map to ``""``."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = normalize(header)
        fld = key if key in IMPORT_FIELDS else HEADER_ALIASES.get(key, "")
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
            errors[header] = "Colonne absente du fichier"
            continue
        fld = (fld or "").strip()
        if fld and fld not in IMPORT_FIELDS:
            errors[header] = f"Champ inconnu : {fld}"
            continue
        result[header] = fld
    seen: dict[str, str] = {}
    for header, fld in result.items():
        if fld and fld in seen and header not in (mapping or {}) and seen[fld] in (mapping or {}):
            result[header] = ""  # the explicit mapping wins over a guess
        elif fld and fld in seen:
            errors[header] = f"{FIELD_LABELS[fld]} est déjà lu dans la colonne « {seen[fld]} »"
        elif fld:
            seen[fld] = header
    if errors:
        raise InvalidError("Le plan de correspondance des colonnes n'est pas valide", errors)
    if not any(f in ("last_name", "structure_name") for f in result.values()):
        raise InvalidError("Aucune colonne Nom ni Structure : indiquez la correspondance des colonnes",
                           {"mapping": "Associez une colonne au champ last_name (Nom) ou structure_name"})
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
            raise InvalidError("Correspondance illisible", {"mapping": f"« {part} » : attendu Colonne=champ"})
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
        raise ImportError_("Classeur illisible", {"file": f"Fichier XLSX illisible : {exc}"}) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        headers = [_cell(c) for c in next(rows)]
    except StopIteration:
        raise ImportError_("Fichier vide", {"file": "Le classeur est vide"}) from None
    while headers and not headers[-1]:
        headers.pop()

    def iterate():
        for line, row in enumerate(rows, start=2):
            values = [_cell(c) for c in row[:len(headers)]]
            if any(values):
                yield line, values
        workbook.close()

    return headers, iterate()


def _read_csv(stream, delimiter: str | None, encoding: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    try:
        text = io.TextIOWrapper(stream, encoding=encoding or "utf-8-sig", errors="surrogateescape", newline="")
    except LookupError:
        raise ImportError_("Encodage inconnu", {"encoding": f"Encodage inconnu : {encoding}"}) from None
    first = text.readline()
    if not first.strip():
        raise ImportError_("Fichier vide", {"file": "Le fichier est vide (pas de ligne d'en-tête)"})
    if not delimiter:
        counts = {d: first.count(d) for d in (";", ",", "\t", "|")}
        delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    headers = [h.strip() for h in next(csv.reader([first], delimiter=delimiter))]
    reader = csv.reader(text, delimiter=delimiter)

    def iterate():
        try:
            for values in reader:
                if not any(v.strip() for v in values):
                    continue
                yield reader.line_num + 1, values
        except csv.Error as exc:
            raise ImportError_("Fichier CSV illisible",
                               {"file": f"ligne {reader.line_num + 1} : {exc}"}) from None

    return headers, iterate()


# --------------------------------------------------------------------------- validation


class RowValidator:
    """Validates and cleans one row (a dict field → text) with the domain's rules; memoises what
    repeats across a file (countries, postal codes, civilities, types)."""

    def __init__(self, registry=None):
        from babel import Locale

        from plugins.contacts.registry import get_registry

        self.registry = registry or get_registry()
        self._countries: dict[str, str] = {}
        for loc in ("fr", "en"):
            for code, label in Locale(loc).territories.items():
                if len(code) == 2 and code.isalpha():
                    self._countries[normalize(label)] = code
        self._countries.update({"france metropolitaine": "FR", "uk": "GB", "angleterre": "GB", "usa": "US"})
        self._postal: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        self._civility: dict[str, tuple[str | None, str | None]] = {}
        self._country_cache: dict[str, tuple[str | None, str | None]] = {}
        self._phone_prefix: dict[str, bool] = {}

    def country(self, value: str) -> str:
        if not value:
            return "FR"
        hit = self._country_cache.get(value)
        if hit is None:
            try:
                hit = (v.parse_country(value), None)
            except ValueError as exc:
                code = self._countries.get(normalize(value))
                hit = (code, None) if code else (None, f"Pays inconnu : {value}" if len(value) != 2 else str(exc))
            self._country_cache[value] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def postal_code(self, country: str, code: str) -> str:
        key = (country, code)
        hit = self._postal.get(key)
        if hit is None:
            fixed = "0" + code if country == "FR" and code.isdigit() and len(code) == 4 else code
            try:
                hit = (v.check_postal_code(country, fixed), None)
            except ValueError as exc:
                hit = (None, str(exc))
            if len(self._postal) < 100_000:
                self._postal[key] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def civility(self, value: str) -> str | None:
        hit = self._civility.get(value)
        if hit is None:
            try:
                hit = (v.parse_civility(value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._civility[value] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def phone(self, value: str, region: str) -> str | None:
        """``validation.parse_phone``; for French numbers written the usual ways ("06 12 34 56 78",
        "+33 6…", "0033…") the verdict of ``parse_phone`` is memoised per 4-digit prefix (French
        numbering plans decide validity on the first digits of the 9-digit national number; a test
        compares the two on random numbers)."""
        if region == "FR":
            m = _FR_PHONE.fullmatch(value.strip())
            if m:
                national = _NOT_DIGIT.sub("", m.group(1))
                key = national[:4]
                valid = self._phone_prefix.get(key)
                if valid is None:
                    try:
                        valid = v.parse_phone("0" + national, "FR") == "+33" + national
                    except ValueError:
                        valid = False
                    self._phone_prefix[key] = valid
                if valid:
                    return "+33" + national
        return v.parse_phone(value, region)

    @staticmethod
    def email(value: str) -> str | None:
        """``validation.parse_email``, with a fast path for the plain addresses most files hold
        (same result: a test compares them)."""
        if not value:
            return None
        value = value.strip()
        if len(value) <= 254 and EMAIL_FAST.fullmatch(value):
            local, domain = value.rsplit("@", 1)
            if len(local) <= 64 and domain.rsplit(".", 1)[-1] not in _SPECIAL_TLDS:
                return value
        return v.parse_email(value)

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        """A row for ``bulk.insert_contacts`` (without its number), or ``ValueError`` with every
        reason ("Mél : …; Code postal : …")."""
        from plugins.contacts.services.contacts import _title

        errors: list[str] = []

        def fail(fld: str, message: str) -> None:
            errors.append(f"{FIELD_LABELS.get(fld, fld)} : {message}")

        type_code = values.get("type_code", "")
        if type_code:
            ctype = self.registry.types.get(type_code) or next(
                (t for t in self.registry.types.values() if normalize(t.label) == normalize(type_code)), None)
            if ctype is None:
                fail("type_code", f"type inconnu : {type_code}")
                kind = "individual"
            else:
                type_code, kind = ctype.code, ctype.kind
        else:
            kind = "structure" if values.get("structure_name") and not values.get("last_name") else "individual"
            type_code = kind
        row: dict[str, Any] = {"kind": kind, "type_code": type_code}
        country = "FR"
        try:
            country = self.country(values.get("country", ""))
        except ValueError as exc:
            fail("country", str(exc))
        if kind == "structure":
            name = values.get("structure_name") or values.get("last_name", "")
            if not name:
                fail("structure_name", "obligatoire")
            elif len(name) > 200:
                fail("structure_name", "200 caractères au plus")
            row["structure_name"] = name
        else:
            last = values.get("last_name", "").upper()
            if not last:
                fail("last_name", "obligatoire")
            elif len(last) > 120:
                fail("last_name", "120 caractères au plus")
            row["last_name"] = last
            first = _title(values.get("first_name", ""))
            if len(first) > 120:
                fail("first_name", "120 caractères au plus")
            row["first_name"] = first
            if values.get("civility"):
                try:
                    row["civility"] = self.civility(values["civility"])
                except ValueError as exc:
                    fail("civility", str(exc))
            if values.get("birth_date"):
                try:
                    row["birth_date"] = v.parse_birth_date(values["birth_date"])
                except ValueError as exc:
                    fail("birth_date", str(exc))
        if values.get("email"):
            try:
                row["email"] = self.email(values["email"])
            except ValueError as exc:
                fail("email", str(exc))
        for fld in ("mobile_phone", "phone", "fax"):
            if values.get(fld):
                try:
                    row[fld] = self.phone(values[fld], country)
                except ValueError as exc:
                    fail(fld, str(exc))
        if values.get("iban"):
            try:
                row["iban"] = v.parse_iban(values["iban"])
            except ValueError as exc:
                fail("iban", str(exc))
        if values.get("administrative_number"):
            try:
                row["administrative_number"] = v.parse_administrative_number(values["administrative_number"], country)
            except ValueError as exc:
                fail("administrative_number", str(exc))
        if values.get("language"):
            lang = values["language"].lower()[:2]
            if lang not in v.LANGUAGES:
                fail("language", f"langue inconnue : {values['language']}")
            row["language"] = lang
        for fld, size in (("function", 120), ("reference_code", 60)):
            if values.get(fld):
                if len(values[fld]) > size:
                    fail(fld, f"{size} caractères au plus")
                row[fld] = values[fld]
        if any(values.get(f) for f in ADDRESS_IMPORT_FIELDS if f != "country"):
            address = {"country": country}
            code = values.get("postal_code", "")
            if code:
                try:
                    address["postal_code"] = self.postal_code(country, code)
                except ValueError as exc:
                    fail("postal_code", str(exc))
            for fld, size in (("line1", 200), ("line2", 200), ("line3", 200), ("city", 120),
                              ("department", 80), ("region", 80)):
                value = values.get(fld, "")
                if len(value) > size:
                    fail(fld, f"{size} caractères au plus")
                address[fld] = value or (None if fld in ("department", "region") else "")
            address["city"] = address["city"].upper()
            row["address"] = address
        if errors:
            raise ValueError("; ".join(errors))
        return row


# --------------------------------------------------------------------------- import


def import_rows(session: Session, headers: list[str], rows: Iterable[tuple[int, list[str]]], *,
                mapping: dict[str, str] | None = None, dry_run: bool = False, commit: bool = False,
                chunk: int = CHUNK, keep_rejects: int = 1000, rejects_out: IO[str] | None = None,
                progress: Callable[[int], None] | None = None, filename: str = "",
                registry=None) -> ImportReport:
    """Validate and import rows (see the module docstring); returns the report."""
    started = time.perf_counter()
    resolved = resolve_mapping(headers, mapping)
    report = ImportReport(dry_run=dry_run, filename=filename, headers=list(headers), mapping=resolved,
                          unmapped=[h for h, f in resolved.items() if not f])
    columns = [(i, f) for i, f in enumerate(resolved[h] for h in headers) if f]
    validator = RowValidator(registry)
    writer = None
    if rejects_out is not None:
        writer = csv.writer(rejects_out, delimiter=";")
        writer.writerow([*headers, "erreur"])
    good: list[dict[str, Any]] = []

    def reject(line: int, reason: str, values: list[str]) -> None:
        report.rejected += 1
        if len(report.rejects) < keep_rejects:
            report.rejects.append(Rejected(line, reason, values))
        if writer is not None:
            writer.writerow([*values, f"ligne {line} : {reason}"])

    def flush() -> None:
        if not good:
            return
        if not dry_run:
            first = take_numbers(session, len(good))
            for offset, row in enumerate(good):
                row["number"] = first + offset
            insert_contacts(session, good)
            if report.first_number is None:
                report.first_number = first
            report.last_number = first + len(good) - 1
            if commit:
                session.commit()
        report.imported += len(good)
        if progress:
            progress(len(good))
        good.clear()

    pending_progress = 0
    for line, raw in rows:
        report.total += 1
        values = {}
        for i, fld in columns:
            value = raw[i].strip() if i < len(raw) else ""
            if value:
                values[fld] = value
        try:
            if _UNREADABLE.search("".join(values.values())):
                raise ValueError("caractères illisibles : le fichier n'est pas dans l'encodage indiqué")
            if len(raw) > len(headers) and any(x.strip() for x in raw[len(headers):]):
                raise ValueError(f"{len(raw)} colonnes pour {len(headers)} en-têtes")
            good.append(validator.clean(values))
        except ValueError as exc:
            reject(line, str(exc), raw)
            pending_progress += 1
        if len(good) >= chunk:
            flush()
            if progress and pending_progress:
                progress(pending_progress)
                pending_progress = 0
    flush()
    if progress and pending_progress:
        progress(pending_progress)
    report.seconds = time.perf_counter() - started
    return report


def import_file(session: Session, source: str | Path | IO, *, filename: str = "",
                mapping: dict[str, str] | None = None, dry_run: bool = False, delimiter: str | None = None,
                encoding: str = "utf-8-sig", **kwargs) -> ImportReport:
    """Import a CSV or XLSX file (a path or a binary stream). See ``import_rows`` for the options."""
    name = filename or (Path(source).name if isinstance(source, (str, Path)) else getattr(source, "name", ""))
    headers, rows = read_rows(source, filename=str(name), delimiter=delimiter, encoding=encoding)
    return import_rows(session, headers, rows, mapping=mapping, dry_run=dry_run, filename=str(name), **kwargs)


def preview(source: str | Path | IO, *, filename: str = "", mapping: dict[str, str] | None = None,
            delimiter: str | None = None, encoding: str = "utf-8-sig", rows: int = 5) -> dict[str, Any]:
    """The headers, the guessed (or given) mapping and the first ``rows`` rows (the screen's preview)."""
    headers, iterator = read_rows(source, filename=filename, delimiter=delimiter, encoding=encoding)
    sample = []
    for line, values in iterator:
        sample.append((line, values))
        if len(sample) >= rows:
            break
    merged = default_mapping(headers)
    merged.update({h: f for h, f in (mapping or {}).items() if h in merged})
    return {"headers": headers, "mapping": merged, "rows": sample}


def rejects_csv(report: ImportReport) -> str:
    """The rejected rows the report kept, as CSV (original columns + ``erreur``)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([*report.headers, "erreur"])
    for r in report.rejects:
        writer.writerow([*r.values, f"ligne {r.line} : {r.reason}"])
    return out.getvalue()
