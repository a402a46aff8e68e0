"""Likely duplicates: the detection run, the merge and the false positives.

Detection (``detect(session)``, CLI ``coulisses contacts duplicates detect``, the Doublons screen)
groups valid contacts by a key and proposes every pair of a group as a ``DuplicatePair``:

- ``role + phonetic name + first-name initial + normalised street start + postal code + country`` for
  a contact with a main address (``phonetic_fr``: DUPONT = DUPOND, accents and hyphens ignored;
  street start: the first 8 letters/digits of the normalised first address line, so "12 rue de
  la Paix" = "12, Rue de la paix");
- ``role + phonetic name + first-name initial + e-mail`` for a contact without an address.

A pair already known is never proposed again, whatever its status (a false positive stays one).

Merge (``merge(session, pair_or_head, other, choices)``): the operator keeps one contact (the
"head") and picks field by field which value to keep (``MERGE_FIELDS``). Then every reference to
the merged contact moves to the head — the plugin's own tables and those other plugins declare with
``contacts_references`` (as Tryton's party replace does); a row that would break a uniqueness
(``unique_with``: the head already has an internet account, the same criterion, the same consent
channel…) is dropped instead.

The merged contact is then **deactivated, not deleted** (Tryton's way): it stays as an invalid
record "Fusionné dans le contact N" with nothing attached any more, hidden from searches (unless
invalid contacts are asked for). So its number stays reserved by the row itself and is never reused,
an old reference to that number (a letter, an external file) still finds where it went
(``merged_into``), and the pair keeps its "merged" status as an audit fact. Its personal data goes
with the ordinary personal-data batch (a merged record has no activity of its own any more). A
``MergeLog`` keeps who (``created_by``), when (``created_at``), which number into which, the field
choices, the references moved per table and a full snapshot of the merged record.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import current_actor, metadata, utcnow
from coulisses.i18n import _, _l, lazy_pgettext

from plugins.contacts.models import DUPLICATE_STATUS_LABELS, Address, Contact, DuplicatePair, MergeLog
from plugins.contacts.registry import Registry, get_registry
from plugins.contacts.services.normalize import normalize

# The fields the operator chooses between, with their labels (the merge screen's radio rows).
MERGE_FIELDS: dict[str, str] = {
    "civility": _l("Civilité"), "last_name": lazy_pgettext("contact", "Nom"), "first_name": _l("Prénom"),
    "structure_name": _l("Nom de la structure"), "birth_date": _l("Date de naissance"), "function": _l("Fonction"),
    "language": _l("Langue"), "email": _l("Mél"), "mobile_phone": _l("Téléphone portable"),
    "phone": _l("Téléphone"), "fax": _l("Fax"), "administrative_number": _l("Numéro administratif"),
    "reference_code": _l("Code référence"), "iban": _l("IBAN"), "ambassador": _l("Ambassadeur"),
    "main_address": _l("Adresse principale"),
}


@dataclass
class DetectResult:
    examined: int = 0
    groups: int = 0
    new_pairs: int = 0
    known_pairs: int = 0  # already proposed, merged or false positive: not proposed again
    open_pairs: int = 0


def street_start(line: str | None) -> str:
    return normalize(line).replace(" ", "")[:8]


def duplicate_key(role: str, phonetic: str, first: str, line1: str | None, postal: str | None,
                  country: str | None, email: str | None) -> str | None:
    """The detection key of a contact (None: nothing to compare on)."""
    if not phonetic:
        return None
    initial = normalize(first)[:1]
    if postal or line1:
        return f"{role}|{phonetic}|{initial}|{street_start(line1)}|{(postal or '').replace(' ', '').upper()}|{country or ''}"
    if email:
        return f"{role}|{phonetic}|{initial}|@{email.strip().lower()}"
    return None


def detect(session: Session, *, limit_group: int = 20) -> DetectResult:
    """Propose the likely-duplicate pairs (see the module docstring). Groups larger than
    ``limit_group`` are skipped (a key that common says nothing)."""
    result = DetectResult()
    stmt = (select(Contact.id, Contact.role, Contact.phonetic_name, Contact.search_first, Contact.search_email,
                   Address.line1, Address.postal_code, Address.country)
            .outerjoin(Address, and_(Address.contact_id == Contact.id, Address.usage == "main"))
            .where(Contact.valid.is_(True), Contact.anonymised_at.is_(None))
            .execution_options(yield_per=20_000))
    groups: dict[str, list[int]] = defaultdict(list)
    for row in session.execute(stmt):
        result.examined += 1
        key = duplicate_key(row.role, row.phonetic_name, row.search_first, row.line1, row.postal_code,
                            row.country, row.search_email)
        if key is not None:
            groups[key].append(row.id)
    known = {(a, b) for a, b in session.execute(select(DuplicatePair.contact_a_id, DuplicatePair.contact_b_id))}
    now = utcnow()
    new = []
    for key, ids in groups.items():
        if len(ids) < 2 or len(ids) > limit_group:
            continue
        result.groups += 1
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if (a, b) in known:
                    result.known_pairs += 1
                    continue
                known.add((a, b))
                new.append({"contact_a_id": a, "contact_b_id": b, "key": key[:300], "score": 100 if "@" not in key else 80,
                            "status": "open", "detected_at": now})
    for i in range(0, len(new), 5000):
        session.execute(DuplicatePair.__table__.insert(), new[i:i + 5000])
    result.new_pairs = len(new)
    result.open_pairs = session.scalar(select(func.count()).select_from(DuplicatePair)
                                       .where(DuplicatePair.status == "open"))
    session.flush()
    return result


def open_pairs(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[list[DuplicatePair], int]:
    """The open pairs (best score first, then oldest), and how many there are."""
    base = select(DuplicatePair).where(DuplicatePair.status == "open")
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    rows = list(session.scalars(base.order_by(DuplicatePair.score.desc(), DuplicatePair.id)
                                .limit(limit).offset(offset)))
    return rows, total


def get_pair(session: Session, pair_id: int) -> DuplicatePair:
    pair = session.get(DuplicatePair, pair_id)
    if pair is None:
        raise NotFoundError(_("Aucune paire de doublons %(id)s", id=pair_id))
    return pair


def field_value(contact: Contact, name: str) -> Any:
    if name == "main_address":
        a = contact.main_address
        return None if a is None else ", ".join(p for p in (*a.street_lines, f"{a.postal_code} {a.city}".strip(),
                                                             a.country) if p)
    return getattr(contact, name)


def comparison(pair: DuplicatePair) -> list[dict[str, Any]]:
    """The rows of the merge screen: field, label, value of A, value of B, whether they differ."""
    rows = []
    for name, label in MERGE_FIELDS.items():
        a, b = field_value(pair.contact_a, name), field_value(pair.contact_b, name)
        if a in (None, "") and b in (None, ""):
            continue
        rows.append({"field": name, "label": label, "a": a, "b": b, "differ": a != b})
    return rows


def mark_false_positive(session: Session, pair: DuplicatePair) -> DuplicatePair:
    """Not the same person: the pair is closed and never proposed again."""
    if pair.status != "open":
        raise ConflictError(_("La paire %(id)s est déjà traitée (%(status)s)", id=pair.id,
                                      status=DUPLICATE_STATUS_LABELS.get(pair.status, pair.status)))
    pair.status = "false_positive"
    pair.decided_at = utcnow()
    pair.decided_by_id = current_actor().operator_id
    session.flush()
    return pair


# --------------------------------------------------------------------------- merge


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(session: Session, contact: Contact) -> dict[str, Any]:
    """Everything the contact row and its own small tables hold, as JSON (the merge log's copy)."""
    from plugins.contacts.models import InternetAccount

    data = {c.key: _jsonable(getattr(contact, c.key)) for c in Contact.__table__.columns}
    data["addresses"] = [{c.key: _jsonable(getattr(a, c.key)) for c in Address.__table__.columns}
                         for a in contact.addresses]
    account = session.scalar(select(InternetAccount).where(InternetAccount.contact_id == contact.id))
    if account is not None:
        data["internet_account"] = {"login": account.login, "active": account.active}
    return data


def table_named(session: Session, name: str) -> Table:
    """The declared table: from the shared metadata, else reflected from the database (a plugin whose
    models are not imported in this process)."""
    table = metadata.tables.get(name)
    if table is not None:
        return table
    from sqlalchemy import MetaData
    from sqlalchemy.exc import NoSuchTableError

    try:
        return Table(name, MetaData(), autoload_with=session.connection())
    except NoSuchTableError:
        raise ConflictError(_("Table déclarée par contacts_references introuvable : %(name)s", name=name)) from None


def move_references(session: Session, merged_id: int, head_id: int, registry: Registry | None = None) -> dict[str, int]:
    """Move every declared reference from ``merged_id`` to ``head_id``; returns rows moved (and
    dropped) per ``table.column``."""
    registry = registry or get_registry()
    moved: dict[str, int] = {}
    for ref in registry.references:
        table = table_named(session, ref.table)
        col = table.c[ref.column]
        key = f"{ref.table}.{ref.column}"
        dropped = 0
        if ref.unique_with:
            others = [table.c[c] for c in ref.unique_with if c != ref.column]
            if others:
                # rows whose other unique columns the head already has: dropped
                head_values = select(*others).where(col == head_id)
                cond = and_(col == merged_id, tuple_(*others).in_(head_values)) if len(others) > 1 else \
                    and_(col == merged_id, others[0].in_(head_values))
            else:
                # the column alone is unique (one per contact): the head's row wins
                has_head = session.scalar(select(func.count()).select_from(table).where(col == head_id))
                cond = col == merged_id if has_head else None
            if cond is not None:
                dropped = session.execute(delete(table).where(cond)).rowcount or 0
        count = session.execute(update(table).where(col == merged_id).values({ref.column: head_id})).rowcount or 0
        if count or dropped:
            moved[key] = count
            if dropped:
                moved[key + " (supprimés)"] = dropped
    return moved


def merge(session: Session, pair: DuplicatePair | None, head: Contact, other: Contact,
          choices: dict[str, str] | None = None, *, registry: Registry | None = None) -> MergeLog:
    """Merge ``other`` into ``head``. ``choices`` maps a ``MERGE_FIELDS`` name to ``"head"`` or
    ``"other"`` (the value to keep; default: the head's, or the other's where the head has none).
    ``pair`` (optional) is closed as merged. Returns the ``MergeLog``."""
    from plugins.contacts.services.contacts import update_contact
    from plugins.contacts.services.links import refresh_role
    from plugins.contacts.models import ContactLink

    registry = registry or get_registry()
    choices = dict(choices or {})
    errors = {}
    if head.id == other.id:
        raise InvalidError(_("Un contact ne peut pas être fusionné avec lui-même"),
                           {"head": _("Choisissez l'autre contact")})
    if head.kind != other.kind:
        raise InvalidError(_("Un individuel et une structure ne se fusionnent pas"),
                           {"head": _("Les deux contacts doivent être de même nature")})
    if pair is not None and pair.status != "open":
        raise ConflictError(_("La paire %(id)s est déjà traitée (%(status)s)", id=pair.id,
                                      status=DUPLICATE_STATUS_LABELS.get(pair.status, pair.status)))
    for name, side in choices.items():
        if name not in MERGE_FIELDS:
            errors[name] = _("Champ inconnu")
        elif side not in ("head", "other"):
            errors[name] = _("Attendu : head (contact conservé) ou other (l'autre)")
    if errors:
        raise InvalidError(_("Les choix de fusion ne sont pas valides"), errors)
    # field values taken from the other contact
    updates: dict[str, Any] = {}
    take_other_address = False
    for name in MERGE_FIELDS:
        hv, ov = field_value(head, name), field_value(other, name)
        side = choices.get(name) or ("other" if hv in (None, "") and ov not in (None, "") else "head")
        choices[name] = side
        if side == "other" and hv != ov:
            if name == "main_address":
                take_other_address = True
            else:
                updates[name] = ov
    snap = snapshot(session, other)
    # the other contact's purchase facts are the head's too
    if other.customer_since and (head.customer_since is None or other.customer_since < head.customer_since):
        head.customer_since = other.customer_since
    if other.last_purchase_at and (head.last_purchase_at is None or other.last_purchase_at > head.last_purchase_at):
        head.last_purchase_at = other.last_purchase_at
    other_main = other.main_address
    head_main = head.main_address
    # links between the two would become self links: drop them first
    session.execute(delete(ContactLink).where(or_(
        and_(ContactLink.from_contact_id == head.id, ContactLink.to_contact_id == other.id),
        and_(ContactLink.from_contact_id == other.id, ContactLink.to_contact_id == head.id))))
    # the other pairs of the merged contact: closed as merged
    session.execute(update(DuplicatePair).where(
        or_(DuplicatePair.contact_a_id == other.id, DuplicatePair.contact_b_id == other.id),
        DuplicatePair.status == "open", DuplicatePair.id != (pair.id if pair else -1))
        .values(status="merged", decided_at=utcnow(), decided_by_id=current_actor().operator_id))
    # addresses: keep one main address (the chosen one); the other becomes an extra entry
    if other_main is not None:
        other_main.usage = "main" if (take_other_address or head_main is None) else "delivery"
        if take_other_address and head_main is not None:
            head_main.usage = "delivery"
    session.flush()
    moved = move_references(session, other.id, head.id, registry)
    session.expire(head)
    session.expire(other)
    merged_number = other.number
    log = MergeLog(head_contact_id=head.id, head_number=head.number, merged_number=merged_number,
                   choices=choices, snapshot=snap, moved=moved)
    session.add(log)
    if pair is not None:
        pair.status = "merged"
        pair.decided_at = utcnow()
        pair.decided_by_id = current_actor().operator_id
    session.execute(update(MergeLog).where(MergeLog.head_contact_id == other.id).values(head_contact_id=head.id))
    other.valid = False
    other.invalid_reason = _("Fusionné dans le contact %(number)s", number=head.number)[:200]
    other.role = "public"
    session.flush()
    if updates:
        update_contact(session, head, updates, registry=registry,  # the other's function, even off the list
                       accepted_functions=(updates.get("function"),) if updates.get("function") else ())
    refresh_role(session, head)
    session.flush()
    from plugins.contacts import events

    events.merged(session, log)
    return log


def merge_pair(session: Session, pair: DuplicatePair, head_number: int, choices: dict[str, str] | None = None,
               *, registry: Registry | None = None) -> MergeLog:
    """Merge the two contacts of ``pair`` into the one numbered ``head_number``."""
    a, b = pair.contact_a, pair.contact_b
    if head_number == a.number:
        head, other = a, b
    elif head_number == b.number:
        head, other = b, a
    else:
        raise InvalidError(_("Le contact conservé doit être l'un des deux"),
                           {"head": _("Attendu : %(a)s ou %(b)s", a=a.number, b=b.number)})
    return merge(session, pair, head, other, choices, registry=registry)


def merged_into(session: Session, number: int) -> int | None:
    """The number of the contact that ``number`` was merged into (following chains), or None."""
    seen = set()
    current = None
    while number not in seen:
        seen.add(number)
        head = session.scalar(select(MergeLog.head_number).where(MergeLog.merged_number == number)
                              .order_by(MergeLog.id.desc()).limit(1))
        if head is None:
            return current
        current = number = head
    return current


def merge_logs(session: Session, *, limit: int = 50) -> list[MergeLog]:
    return list(session.scalars(select(MergeLog).order_by(MergeLog.id.desc()).limit(limit)))
