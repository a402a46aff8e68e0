"""Links between contacts (roles): typed, reversible, dated, validated.

``A child_of B`` (individual → parent individual), ``A relay_of S`` / ``A member_of S`` (individual →
structure), ``S subsidiary_of P`` (structure → parent structure). A link reads from both sides
("Relais de UNIVERSITY PARIS" / "A pour relais AKOKA"). The role of a contact follows from its active
links: individual public / child / relay / member; structure public / subsidiary.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import utcnow
from coulisses.i18n import _, _l, local_time

from plugins.contacts.models import KIND_LABELS, LINK_KINDS, ROLE_LABELS, Contact, ContactLink, display_name_of

LINK_LABELS = {
    # kind: (seen from the "from" side, seen from the "to" side)
    "child_of": (_l("Enfant de"), _l("Parent de")),
    "relay_of": (_l("Relais de"), _l("A pour relais")),
    "member_of": (_l("Membre de"), _l("A pour membre")),
    "subsidiary_of": (_l("Filiale de"), _l("Structure mère de")),
}
# ROLE_LABELS, KIND_LABELS: from models (imported here for the modules that read them from links).
_KIND_WITH_ARTICLE = {"individual": _l("un individuel"), "structure": _l("une structure")}
# Role priority when an individual has several links.
_ROLE_OF_LINK = {"relay_of": "relay", "member_of": "member", "child_of": "child", "subsidiary_of": "subsidiary"}
_PRIORITY = ("relay_of", "member_of", "child_of", "subsidiary_of")
_SINGLE_PARENT = ("subsidiary_of",)  # at most one active parent at a time
_ACYCLIC = ("child_of", "subsidiary_of")


@dataclass
class LinkView:
    link: ContactLink
    direction: str  # "out": the contact is the link's from side; "in": its to side
    kind: str
    label: str
    other: Contact
    active: bool


def get_link(session: Session, link_id: int) -> ContactLink:
    link = session.get(ContactLink, link_id)
    if link is None:
        raise NotFoundError(_("Aucun lien %(id)s", id=link_id))
    return link


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    lo = max(a_start or date.min, b_start or date.min)
    hi = min(a_end or date.max, b_end or date.max)
    return lo <= hi


def _parents(session: Session, contact_id: int, kind: str) -> list[int]:
    return list(session.scalars(select(ContactLink.to_contact_id).where(
        ContactLink.from_contact_id == contact_id, ContactLink.kind == kind)))


def _would_cycle(session: Session, child_id: int, parent_id: int, kind: str) -> bool:
    """True when ``parent`` is ``child`` itself or already below it in the ``kind`` chain."""
    seen, stack = set(), [parent_id]
    while stack:
        current = stack.pop()
        if current == child_id:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(_parents(session, current, kind))
    return False


def _validate(session: Session, from_contact: Contact, kind: str, to_contact: Contact,
              start_date: date | None, end_date: date | None, ignore_id: int | None = None) -> None:
    if kind not in LINK_KINDS:
        raise InvalidError(_("Type de lien inconnu"),
                           {"kind": _("Attendu : %(choices)s", choices=", ".join(LINK_KINDS))})
    if from_contact.id == to_contact.id:
        raise InvalidError(_("Un contact ne peut pas être lié à lui-même"),
                           {"to": _("Choisissez un autre contact")})
    want_from, want_to = LINK_KINDS[kind]
    if from_contact.kind != want_from or to_contact.kind != want_to:
        f_label, t_label = str(KIND_LABELS[want_from]).lower(), str(KIND_LABELS[want_to]).lower()
        raise InvalidError(
            _("Lien « %(link)s » : de %(source)s vers %(target)s seulement", link=LINK_LABELS[kind][0],
              source=f_label, target=t_label),
            {"to" if from_contact.kind == want_from else "from":
             _("« %(link)s » relie %(source)s à %(target)s", link=LINK_LABELS[kind][0],
               source=_KIND_WITH_ARTICLE[want_from], target=_KIND_WITH_ARTICLE[want_to])})
    if start_date and end_date and end_date < start_date:
        raise InvalidError(_("Dates du lien incohérentes"), {"end_date": _("La fin précède le début")})
    existing = session.scalars(select(ContactLink).where(
        ContactLink.from_contact_id == from_contact.id, ContactLink.kind == kind)).all()
    for link in existing:
        if link.id == ignore_id:
            continue
        if link.to_contact_id == to_contact.id and _overlaps(link.start_date, link.end_date, start_date, end_date):
            raise ConflictError(_("Ce lien existe déjà (%(link)s %(name)s)", link=LINK_LABELS[kind][0],
                                  name=to_contact.display_name))
        if kind in _SINGLE_PARENT and _overlaps(link.start_date, link.end_date, start_date, end_date):
            raise ConflictError(_("%(name)s est déjà filiale de %(parent)s sur cette période",
                                  name=from_contact.display_name, parent=link.to_contact.display_name))
    if kind in _ACYCLIC and _would_cycle(session, from_contact.id, to_contact.id, kind):
        raise ConflictError(_("Ce lien créerait un cycle : %(name)s dépend déjà de %(other)s",
                              name=to_contact.display_name, other=from_contact.display_name))


def add_link(session: Session, from_contact: Contact, kind: str, to_contact: Contact,
             start_date: date | None = None, end_date: date | None = None,
             comment: str | None = None) -> ContactLink:
    session.flush()
    _validate(session, from_contact, kind, to_contact, start_date, end_date)
    link = ContactLink(kind=kind, from_contact_id=from_contact.id, to_contact_id=to_contact.id,
                       start_date=start_date, end_date=end_date, comment=(comment or None))
    session.add(link)
    session.flush()
    refresh_role(session, from_contact)
    refresh_role(session, to_contact)
    return link


def update_link(session: Session, link: ContactLink, *, start_date=..., end_date=..., comment=...) -> ContactLink:
    new_start = link.start_date if start_date is ... else start_date
    new_end = link.end_date if end_date is ... else end_date
    _validate(session, link.from_contact, link.kind, link.to_contact, new_start, new_end, ignore_id=link.id)
    link.start_date, link.end_date = new_start, new_end
    if comment is not ...:
        link.comment = comment or None
    session.flush()
    refresh_role(session, link.from_contact)
    refresh_role(session, link.to_contact)
    return link


def remove_link(session: Session, link: ContactLink) -> None:
    ends = (link.from_contact, link.to_contact)
    session.delete(link)
    session.flush()
    for contact in ends:
        refresh_role(session, contact)


def _links(session: Session, contact: Contact) -> list[ContactLink]:
    return list(session.scalars(select(ContactLink).where(
        or_(ContactLink.from_contact_id == contact.id, ContactLink.to_contact_id == contact.id)
    ).order_by(ContactLink.kind, ContactLink.id)))


def links_of(session: Session, contact: Contact, active_only: bool = False,
             on: date | None = None) -> list[LinkView]:
    """Every link of ``contact``, each read from its side."""
    on = on or local_time(utcnow()).date()
    views = []
    for link in _links(session, contact):
        active = link.is_active(on)
        if active_only and not active:
            continue
        out = link.from_contact_id == contact.id
        views.append(LinkView(link, "out" if out else "in", link.kind, str(LINK_LABELS[link.kind][0 if out else 1]),
                              link.to_contact if out else link.from_contact, active))
    return views


def compute_role(session: Session, contact: Contact, on: date | None = None) -> str:
    on = on or local_time(utcnow()).date()
    kinds = {link.kind for link in session.scalars(select(ContactLink).where(
        ContactLink.from_contact_id == contact.id)) if link.is_active(on)}
    for kind in _PRIORITY:
        if kind in kinds:
            return _ROLE_OF_LINK[kind]
    return "public"


def refresh_role(session: Session, contact: Contact) -> str:
    role = compute_role(session, contact)
    if contact.role != role:
        contact.role = role
    return role


def relay_contact(session: Session, contact: Contact) -> Contact | None:
    """For a relay (or member), the structure it stands for; for a structure, its (first) relay."""
    on = local_time(utcnow()).date()
    if contact.kind == "individual":
        for kind in ("relay_of", "member_of"):
            for link in session.scalars(select(ContactLink).where(
                    ContactLink.from_contact_id == contact.id, ContactLink.kind == kind).order_by(ContactLink.id)):
                if link.is_active(on):
                    return link.to_contact
        return None
    for link in session.scalars(select(ContactLink).where(
            ContactLink.to_contact_id == contact.id, ContactLink.kind == "relay_of").order_by(ContactLink.id)):
        if link.is_active(on):
            return link.from_contact
    return None


def relay_map(session: Session, contact_ids: list[int]) -> dict[int, tuple[Contact, str]]:
    """For many contacts at once (result lists): ``{contact_id: (relay contact, link kind)}``."""
    if not contact_ids:
        return {}
    on = local_time(utcnow()).date()
    out: dict[int, tuple[Contact, str]] = {}
    links = session.scalars(select(ContactLink).where(
        ContactLink.kind.in_(("relay_of", "member_of")),
        or_(ContactLink.from_contact_id.in_(contact_ids), ContactLink.to_contact_id.in_(contact_ids)),
    ).order_by(ContactLink.kind.desc(), ContactLink.id)).all()  # relay_of before member_of
    wanted = set(contact_ids)
    for link in links:
        if not link.is_active(on):
            continue
        if link.from_contact_id in wanted and link.from_contact_id not in out:
            out[link.from_contact_id] = (link.to_contact, link.kind)
        if link.kind == "relay_of" and link.to_contact_id in wanted and link.to_contact_id not in out:
            out[link.to_contact_id] = (link.from_contact, link.kind)
    return out


@functools.cache
def _relay_statement():
    """The statement of ``relay_names`` (built once: the ids are an expanding parameter)."""
    link = ContactLink.__table__.c
    src, dst = Contact.__table__.alias("relay_from"), Contact.__table__.alias("relay_to")
    ids = bindparam("ids", expanding=True)
    return (select(link.kind, link.from_contact_id, link.to_contact_id, link.start_date, link.end_date,
                   src.c.kind.label("from_kind"), src.c.structure_name.label("from_structure"),
                   src.c.last_name.label("from_last"), src.c.first_name.label("from_first"),
                   dst.c.kind.label("to_kind"), dst.c.structure_name.label("to_structure"),
                   dst.c.last_name.label("to_last"), dst.c.first_name.label("to_first"))
            .join_from(ContactLink.__table__, src, src.c.id == link.from_contact_id)
            .join(dst, dst.c.id == link.to_contact_id)
            .where(link.kind.in_(("relay_of", "member_of")), or_(link.from_contact_id.in_(ids), link.to_contact_id.in_(ids)))
            .order_by(link.kind.desc(), link.id))  # relay_of before member_of, then the oldest link


def relay_names(session: Session, contact_ids: list[int]) -> dict[int, tuple[str, str]]:
    """``relay_map`` for the search hits, from one Core query: ``{contact_id: (the relay's display
    name, link kind)}``, the same link chosen (relay_of before member_of, then the oldest link)."""
    if not contact_ids:
        return {}
    on = local_time(utcnow()).date()
    rows = session.execute(_relay_statement(), {"ids": list(contact_ids)}).all()
    wanted = set(contact_ids)
    out: dict[int, tuple[str, str]] = {}
    for r in rows:
        if not ((r.start_date is None or r.start_date <= on) and (r.end_date is None or on <= r.end_date)):
            continue  # ContactLink.is_active
        if r.from_contact_id in wanted and r.from_contact_id not in out:
            out[r.from_contact_id] = (display_name_of(r.to_kind, r.to_structure, r.to_last, r.to_first), r.kind)
        if r.kind == "relay_of" and r.to_contact_id in wanted and r.to_contact_id not in out:
            out[r.to_contact_id] = (display_name_of(r.from_kind, r.from_structure, r.from_last, r.from_first), r.kind)
    return out


def refresh_all_roles(session: Session) -> int:
    """Recompute the stored role of every linked contact (links start and end with time); nightly."""
    ids = set(session.scalars(select(ContactLink.from_contact_id)))
    ids |= set(session.scalars(select(Contact.id).where(Contact.role != "public")))
    changed = 0
    for contact_id in ids:
        contact = session.get(Contact, contact_id)
        if contact is not None and contact.role != compute_role(session, contact):
            refresh_role(session, contact)
            changed += 1
    session.flush()
    return changed
