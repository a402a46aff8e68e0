"""Export of a search result to CSV, streamed.

``export_csv(session, criteria)`` takes the advanced-search criteria (``search.ADVANCED_KEYS``,
``q`` included) and yields CSV lines (``;`` separated, a header first, UTF-8 text; the caller adds a
BOM for spreadsheets if it wants one). Rows are read in pages of ``page`` contacts ordered by name,
so a million contacts never sit in memory. Columns: the importer's headers (``EXPORT_COLUMNS``), so
that an exported file can be imported again elsewhere.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from coulisses.i18n import _, _l, current_locale, lazy_pgettext, use_locale

from plugins.contacts.models import Address, Contact
from plugins.contacts.services.validation import CIVILITIES

EXPORT_COLUMNS = (
    ("number", _l("Numéro")), ("type_code", _l("Type")), ("role", _l("Rôle")), ("civility", _l("Civilité")),
    ("last_name", lazy_pgettext("contact", "Nom")), ("first_name", _l("Prénom")), ("structure_name", _l("Structure")),
    ("birth_date", _l("Date de naissance")), ("email", _l("Mél")), ("mobile_phone", _l("Téléphone portable")),
    ("phone", _l("Téléphone")), ("line1", _l("Adresse")), ("line2", _l("Adresse 2")), ("line3", _l("Adresse 3")),
    ("postal_code", _l("Code postal")), ("city", _l("Ville")), ("country", _l("Pays")), ("status", _l("Statut")),
    ("valid", _l("Valide")),
)

ADDRESS_KEYS = ("line1", "line2", "line3", "postal_code", "city", "country")


def _line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerow(values)
    return out.getvalue()


def _words(locale: str | None) -> dict[str, Any]:
    """The translated words of the export, taken once (the lines are produced outside the request)."""
    from plugins.contacts.models import ROLE_LABELS, STATUS_LABELS
    from plugins.contacts.registry import get_registry

    with use_locale(locale or current_locale()):
        return {"header": [str(label) for _key, label in EXPORT_COLUMNS],
                "yes": _("oui"), "no": _("non"),
                "customer": str(STATUS_LABELS["customer"]), "prospect": str(STATUS_LABELS["prospect"]),
                "role": {code: str(label) for code, label in ROLE_LABELS.items()},
                "type": {code: str(t.label) for code, t in get_registry().types.items()},
                "civility": {code: str(label) for code, label in CIVILITIES.items()}}


def export_csv(session: Session, criteria: dict[str, Any] | None = None, *, page: int = 2000,
               locale: str | None = None) -> Iterator[str]:
    """CSV lines of the contacts the advanced search ``criteria`` finds (see the module docstring),
    headers and words in ``locale`` (default: the current one). Invalid criteria raise
    ``InvalidError`` before the first line."""
    from plugins.contacts.services.search import advanced_condition

    addr = aliased(Address)
    conds, addr = advanced_condition(dict(criteria or {}), main_address=addr)
    words = _words(locale)
    yield _line(words["header"])
    contact_cols = [getattr(Contact, k) for k, _l in EXPORT_COLUMNS
                    if k not in ADDRESS_KEYS and k not in ("status",)]
    stmt = (select(*contact_cols, Contact.customer_since, Contact.sort_last, Contact.sort_first,
                   *[getattr(addr, k) for k in ADDRESS_KEYS])
            .outerjoin(addr, and_(addr.contact_id == Contact.id, addr.usage == "main"))
            .where(*conds))
    last = None
    while True:
        q = stmt
        if last is not None:
            q = q.where(
                (Contact.sort_last > last[0])
                | ((Contact.sort_last == last[0]) & (Contact.sort_first > last[1]))
                | ((Contact.sort_last == last[0]) & (Contact.sort_first == last[1]) & (Contact.number > last[2])))
        # the display order of every contact list (ix_contacts_contact_sort_name), keyset-paged
        rows = session.execute(q.order_by(Contact.sort_last, Contact.sort_first, Contact.number).limit(page)).all()
        if not rows:
            return
        for row in rows:
            values = []
            for key, _label in EXPORT_COLUMNS:
                value = getattr(row, key, None) if key != "status" else None
                if key == "status":
                    value = words["customer"] if row.customer_since is not None else words["prospect"]
                elif key == "valid":
                    value = words["yes"] if row.valid else words["no"]
                elif key in ("type_code", "role", "civility") and value:
                    value = words["type" if key == "type_code" else key].get(value, value)
                elif key == "birth_date":
                    value = row.birth_date.strftime("%d.%m.%Y") if row.birth_date else ""
                values.append("" if value is None else value)
            yield _line(values)
        last = (rows[-1].sort_last, rows[-1].sort_first, rows[-1].number)
        if len(rows) < page:
            return


def stream_csv(bind, criteria: dict[str, Any] | None = None, locale: str | None = None) -> Iterator[str]:
    """See ``_stream_csv``; the language is the caller's (taken now, the body is produced later)."""
    return _stream_csv(bind, criteria, locale or current_locale())


def _stream_csv(bind, criteria: dict[str, Any] | None, locale: str) -> Iterator[str]:
    """The export as a download body: a BOM (spreadsheets then read the accents) and the CSV lines,
    read through a session of its own on ``bind`` — the body is produced after the request that
    started it has ended — closed when the stream ends or is abandoned. Check the criteria first
    (``search.advanced_condition``): errors must be raised before the download starts."""
    with Session(bind) as session:
        yield "\ufeff"
        yield from export_csv(session, criteria, locale=locale)
