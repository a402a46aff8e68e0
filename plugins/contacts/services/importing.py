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
- No line is ever lost (one reading path for the CLI, the API and the screen: ``import_reading``):
  each CSV line is decoded on its own, so a line not valid in the file's encoding is rejected with its
  number and the reason; a quote that is never closed (within ``MAX_QUOTED_LINES``, or before a line
  that looks like a record of its own) is rejected at the line where it opened and the reading goes
  on at the next line; a repeated header line is rejected. The rejects stream always receives every
  rejected line (values it cannot decode are shown with replacement characters).
- Large files use every core: the rows are checked (cleaning, search columns, duplicate keys) by a
  pool of fresh processes, in order and a few chunks at a time (``import_pool``; ``processes``,
  ``CONTACTS_IMPORT_PROCESSES``); small files, and processes that may not start children, check them
  here. The report is the same either way, byte for byte.
- ``dry_run=True`` validates everything and writes nothing.
- Rejected rows: the report keeps the first ``keep_rejects`` in memory; ``rejects_out`` (a text
  stream) receives all of them as CSV: the original columns plus ``erreur``.

A row describes one contact: an individual (needs a last name), or a structure (a "Structure" /
"Raison sociale" column and no last name, or ``type_code`` of a structure type). The same rules
as every other way a contact is created: the main address is required, with its postal code, city
and country (``contacts.required_address_errors``, the quick creation's rule); the country is
``FR`` or a country name ("FRANCE", "Belgique", "Germany"…) — a file without any country column is
read as France, an empty cell of a country column is refused. Likely duplicates (of an existing
contact or of an earlier line, with the duplicates detection's key) are imported and listed in
``report.duplicates``; ``contacts_contact_created`` is called for each imported contact. French postal codes that lost their leading zero in a
spreadsheet (``7000``) get it back.

Modules: the fields, the mapping and the reading of CSV / XLSX files are in ``import_reading``; the
cleaning of a row (``RowValidator``) in ``import_cleaning``; the checks of a row and the pool that
runs them in ``import_pool``; the import itself, its report, the preview and the rejects here. Every name stays importable from here.
"""
from __future__ import annotations

import csv
import io
import time
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from sqlalchemy.orm import Session

from coulisses.db import utcnow
from coulisses.i18n import _

from plugins.contacts import events
from plugins.contacts.models import display_name_of
from plugins.contacts.registry import get_registry
from plugins.contacts.services import import_pool
from plugins.contacts.services.bulk import insert_contacts, take_numbers
from plugins.contacts.services.import_cleaning import EMAIL_FAST, RowValidator
from plugins.contacts.services.import_reading import (
    ADDRESS_IMPORT_FIELDS,
    BadLine,
    CONTACT_IMPORT_FIELDS,
    FIELD_LABELS,
    HEADER_ALIASES,
    IMPORT_FIELDS,
    ImportError_,
    default_mapping,
    parse_mapping_option,
    read_rows,
    resolve_mapping,
)
from plugins.contacts.services.import_cleaning import _FR_PHONE, _NOT_DIGIT, _SPECIAL_TLDS  # noqa: F401
from plugins.contacts.services.import_reading import _cell, _closing, _read_csv, _read_xlsx  # noqa: F401

__all__ = [
    "CONTACT_IMPORT_FIELDS", "ADDRESS_IMPORT_FIELDS", "IMPORT_FIELDS", "FIELD_LABELS", "HEADER_ALIASES", "CHUNK",
    "EMAIL_FAST", "ImportError_", "Rejected", "Duplicate", "ImportReport", "default_mapping", "resolve_mapping",
    "parse_mapping_option", "read_rows", "RowValidator", "import_rows", "import_file", "preview", "rejects_csv",
]

CHUNK = 5000


@dataclass
class Rejected:
    line: int
    reason: str
    values: list[str]


@dataclass
class Duplicate:
    """A line imported as a likely duplicate of an existing contact or of an earlier line of the file
    (``services.duplicates.duplicate_key``: the key of the duplicates detection)."""
    line: int
    reason: str
    number: int | None = None  # the existing contact it looks like
    other_line: int | None = None  # the earlier line of the file it looks like


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
    duplicates: list[Duplicate] = field(default_factory=list)  # likely duplicates (imported all the same)
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
                "duplicates": [{"line": d.line, "reason": d.reason, "number": d.number, "other_line": d.other_line}
                               for d in self.duplicates],
                "first_number": self.first_number, "last_number": self.last_number,
                "seconds": round(self.seconds, 3)}



# --------------------------------------------------------------------------- import


def import_rows(session: Session, headers: list[str], rows: Iterable[tuple[int, list[str]]], *,
                mapping: dict[str, str] | None = None, dry_run: bool = False, commit: bool = False,
                chunk: int = CHUNK, keep_rejects: int = 1000, rejects_out: IO[str] | None = None,
                progress: Callable[[int], None] | None = None, filename: str = "",
                registry=None, processes: int | None = None,
                parallel_min_rows: int | None = None) -> ImportReport:
    """Validate and import rows (see the module docstring); returns the report.

    ``processes``: how many processes check the rows of a large file (``import_pool``); default:
    ``CONTACTS_IMPORT_PROCESSES``. Files under ``parallel_min_rows`` rows (default:
    ``import_pool.PARALLEL_MIN_ROWS``) are checked here."""
    import_pool.refuse_while_bootstrapping()
    started = time.perf_counter()
    resolved = resolve_mapping(headers, mapping)
    report = ImportReport(dry_run=dry_run, filename=filename, headers=list(headers), mapping=resolved,
                          unmapped=[h for h, f in resolved.items() if not f])
    validator = RowValidator(registry)
    if "country" in resolved.values():
        validator.default_country = None  # a country column: an empty cell is refused, as quick creation does
    if processes is None:
        processes = import_pool.processes_wanted(validator.registry.config)
    plan = import_pool.RowPlan.of(headers, resolved, validator)
    writer = None
    if rejects_out is not None:
        writer = csv.writer(rejects_out, delimiter=";")
        writer.writerow([*headers, _("erreur")])
    good: list[dict[str, Any]] = []
    good_lines: list[int] = []
    good_keys: list[str | None] = []
    keys_seen: dict[str, int] = {}  # duplicate key → line, for the lines of this file
    imported = Imported()

    def reject(line: int, reason: str, values: list[str]) -> None:
        report.rejected += 1
        if len(report.rejects) < keep_rejects:
            report.rejects.append(Rejected(line, reason, values))
        if writer is not None:
            writer.writerow([*values, _("ligne %(line)s : %(reason)s", line=line, reason=reason)])

    def flush() -> None:
        if not good:
            return
        find_duplicates(session, good, good_lines, keys_seen, report, keys=good_keys, imported=imported)
        if not dry_run:
            first = take_numbers(session, len(good))
            for offset, row in enumerate(good):
                row["number"] = first + offset
            now = utcnow()
            created = [_Created(r["number"], r["kind"], r["type_code"], r.get("email"), now,
                                display_name_of(r["kind"], r.get("structure_name", ""), r.get("last_name", ""),
                                                r.get("first_name", ""))) for r in good]
            data = helpers.submit(events.created_data, created)  # dumped by another process meanwhile
            ids = insert_contacts(session, good, now=now)
            imported.add(good_lines, first)
            announce_created(session, ids, validator.registry, created=created, data=data)
            if report.first_number is None:
                report.first_number = first
            report.last_number = first + len(good) - 1
            if commit:
                session.commit()
        report.imported += len(good)
        if progress:
            progress(len(good))
        good.clear()
        good_lines.clear()
        good_keys.clear()

    pending_progress = 0
    helpers = import_pool.Helpers(processes)
    try:
        min_rows = import_pool.PARALLEL_MIN_ROWS if parallel_min_rows is None else parallel_min_rows
        for line, raw, outcome in import_pool.checked(plan, rows, helpers, min_rows=min_rows, validator=validator):
            report.total += 1
            if isinstance(outcome, str):
                reject(line, outcome, raw)
                pending_progress += 1
            else:
                good.append(outcome[0])
                good_lines.append(line)
                good_keys.append(outcome[1])
            if len(good) >= chunk:
                flush()
                if progress and pending_progress:
                    progress(pending_progress)
                    pending_progress = 0
        flush()
    finally:
        helpers.close()
    if progress and pending_progress:
        progress(pending_progress)
    report.seconds = time.perf_counter() - started
    return report


class Imported:
    """The contacts an import inserted so far: their numbers (one block per chunk, taken under the
    sequence's lock, so nobody else's) and the number of each line (16 bytes a line)."""

    def __init__(self):
        self.ranges: list[list[int]] = []  # [first, last] numbers, adjacent blocks merged
        self.lines = array("q")
        self.numbers = array("q")

    def add(self, lines: list[int], first: int) -> None:
        self.lines.extend(lines)
        self.numbers.extend(range(first, first + len(lines)))
        last = first + len(lines) - 1
        if self.ranges and self.ranges[-1][1] + 1 == first:
            self.ranges[-1][1] = last
        else:
            self.ranges.append([first, last])

    def number_of(self, line: int) -> int | None:
        i = bisect_left(self.lines, line)
        return self.numbers[i] if i < len(self.lines) and self.lines[i] == line else None


def find_duplicates(session: Session, rows: list[dict[str, Any]], lines: list[int], keys_seen: dict[str, int],
                    report: ImportReport, keys: list[str | None] | None = None,
                    imported: Imported | None = None) -> None:
    """Report the rows that are likely duplicates of an existing contact or of an earlier line, with
    the duplicates detection's key (``services.duplicates.duplicate_key``; ``keys``: the rows' keys,
    when ``import_pool.check_rows`` computed them). They are imported all the same: the duplicates
    screen (``coulisses contacts duplicates detect``) proposes the merge.

    A line that repeats a line of an earlier chunk, already inserted, is reported as a duplicate of
    that line's contact. ``imported`` (the contacts this import inserted) spares reading them back
    from the database for every chunk: the query leaves their numbers out, and their keys are those
    of ``keys_seen``."""
    from sqlalchemy import and_, not_, select

    from plugins.contacts.models import Address, Contact
    from plugins.contacts.services.bulk import search_values
    from plugins.contacts.services.duplicates import duplicate_key

    if keys is None:
        keys = []
        for row in rows:
            kind = row["kind"]
            sv = search_values(kind, row.get("last_name", ""), row.get("first_name", ""),
                               row.get("structure_name", ""), row.get("email"))
            address = row.get("address") or {}
            keys.append(duplicate_key("public", sv["phonetic_name"], sv["search_first"], address.get("line1"),
                                      address.get("postal_code"), address.get("country"), sv["search_email"]))
    phonetics = {k.split("|", 2)[1] for k in keys if k}
    existing: dict[str, int] = {}
    phonetics = sorted(phonetics)
    for i in range(0, len(phonetics), 1000):
        batch = phonetics[i:i + 1000]
        stmt = (select(Contact.number, Contact.role, Contact.phonetic_name, Contact.search_first, Contact.search_email,
                       Address.line1, Address.postal_code, Address.country)
                .outerjoin(Address, and_(Address.contact_id == Contact.id, Address.usage == "main"))
                .where(Contact.phonetic_name.in_(batch), Contact.valid.is_(True), Contact.anonymised_at.is_(None),
                       *[not_(Contact.number.between(a, b)) for a, b in (imported.ranges if imported else ())]))
        for r in session.execute(stmt):
            key = duplicate_key(r.role, r.phonetic_name, r.search_first, r.line1, r.postal_code, r.country,
                                r.search_email)
            if key is not None:
                existing.setdefault(key, r.number)
    for line, key in zip(lines, keys):
        if key is None:
            continue
        if key in existing:
            report.duplicates.append(Duplicate(line, _("doublon probable du contact %(number)s",
                                                       number=existing[key]), number=existing[key]))
        elif key in keys_seen:
            other = keys_seen[key]
            number = imported.number_of(other) if imported else None
            if number is not None:  # inserted with an earlier chunk: that contact
                report.duplicates.append(Duplicate(line, _("doublon probable du contact %(number)s",
                                                           number=number), number=number))
            else:
                report.duplicates.append(Duplicate(line, _("doublon probable de la ligne %(line)s",
                                                           line=other), other_line=other))
        else:
            keys_seen[key] = line


def announce_created(session: Session, ids: list[int], registry, *, created: list["_Created"] | None = None,
                     data=None) -> None:
    """``contacts_contact_created`` for each imported contact, as for every other way a contact is
    created. The contacts plugin's own implementation (the ``contacts.contact.created`` event) is
    run once for the whole chunk (``events.created_many``: the same changes in the feed, written in
    multi-row statements; from ``created``, what the rows just inserted hold, when given, else from
    the columns; ``data``: a task whose result is their ``events.created_data``). Any other plugin's
    implementation is called for each contact, loaded only then."""
    from sqlalchemy import select

    from coulisses.plugins import ordered_impls
    from plugins.contacts import hooks
    from plugins.contacts.models import Contact

    registry = registry or get_registry()
    impls = ordered_impls(registry.pm, "contacts_contact_created") if ids else []
    others = [impl for impl in impls if impl.function is not hooks.contacts_contact_created]
    if len(others) < len(impls):
        if created is None:
            columns = (Contact.number, Contact.kind, Contact.type_code, Contact.structure_name, Contact.last_name,
                       Contact.first_name, Contact.email, Contact.created_at)
            created, data = [], None
            for i in range(0, len(ids), 1000):
                created += [_Created(r.number, r.kind, r.type_code, r.email, r.created_at,
                                     display_name_of(r.kind, r.structure_name, r.last_name, r.first_name))
                            for r in session.execute(select(*columns).where(Contact.id.in_(ids[i:i + 1000]))
                                                     .order_by(Contact.id))]
        events.created_many(session, created, data.result() if data is not None else None)
    if not others:
        return
    for i in range(0, len(ids), 1000):
        for contact in session.scalars(select(Contact).where(Contact.id.in_(ids[i:i + 1000])).order_by(Contact.id)):
            for impl in others:
                impl.function(**{k: v for k, v in {"session": session, "contact": contact}.items()
                                 if k in impl.argnames})


@dataclass
class _Created:
    """What ``events.ContactCreatedSchema`` reads of a contact just imported."""
    number: int
    kind: str
    type_code: str
    email: str | None
    created_at: Any
    display_name: str


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
    writer.writerow([*report.headers, _("erreur")])
    for r in report.rejects:
        writer.writerow([*r.values, _("ligne %(line)s : %(reason)s", line=r.line, reason=r.reason)])
    return out.getvalue()
