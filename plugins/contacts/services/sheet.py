"""The contact sheet as data (screen and ``GET /api/v1/contacts/<number>``), and the four histories."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.i18n import _, _l
from coulisses.security import Operator

from plugins.contacts.models import CONSENT_CHANNEL_LABELS, STATUS_LABELS, Address, Contact, TicketingSend
from plugins.contacts.registry import HISTORY_KINDS, HistoryRow, Registry, get_registry
from plugins.contacts.services import details, validation as v
from plugins.contacts.services.accounts import account_of
from plugins.contacts.services.addresses import addresses_of
from plugins.contacts.services.contacts import header
from plugins.contacts.services.indicators import indicators_of
from plugins.contacts.services.links import KIND_LABELS, ROLE_LABELS, links_of

HISTORY_LABELS = {
    "sends": _l("Liste des envois billetterie"),
    "purchases": _l("Historique d'achat"),
    "cultural": _l("Historique culturel"),
    "financial": _l("Historique financier"),
}
TAB_LABELS = {
    "summary": _l("Résumé"), "general": _l("Général"), "marketing": _l("Marketing"), "management": _l("Gestion"),
    "notes": _l("Notes"), "administration": _l("Administration"),
}
CONSENT_LABELS = CONSENT_CHANNEL_LABELS


def _operators(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {op.id: op.login for op in session.scalars(select(Operator).where(Operator.id.in_(ids)))}


def address_dict(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "id": address.id, "usage": address.usage, "line1": address.line1, "line2": address.line2,
        "line3": address.line3, "postal_code": address.postal_code, "city": address.city,
        "country": address.country, "country_name": v.country_name(address.country),
        "department": address.department, "region": address.region,
    }


def _extra_fields(contact: Contact, registry: Registry) -> list[dict[str, Any]]:
    ctype = registry.types.get(contact.type_code)
    if ctype is None:
        return []
    extra = contact.extra or {}
    out = []
    for f in ctype.fields:
        value = extra.get(f.name)
        display = dict(f.choices).get(value, value) if f.type == "choice" else value
        out.append({"name": f.name, "label": str(f.label), "type": f.type, "value": value,
                    "display": "" if display is None else str(display)})
    return out


def get_sheet(session: Session, contact: Contact, *, can: Callable[[str], bool] | None = None,
              registry: Registry | None = None) -> dict[str, Any]:
    """Everything the contact sheet shows, tab by tab and menu by menu.

    ``can(permission)`` filters the sections other plugins contribute (None: all of them).
    """
    registry = registry or get_registry()
    ctype = registry.types.get(contact.type_code)
    account = account_of(session, contact)
    notes = details.notes_of(session, contact)
    ops = _operators(session, {contact.created_by_id, contact.updated_by_id,
                               account.updated_by_id if account else None, *(n.created_by_id for n in notes)})
    general = {
        "civility": contact.civility, "civility_label": str(v.CIVILITIES.get(contact.civility or "", "")),
        "last_name": contact.last_name, "first_name": contact.first_name,
        "structure_name": contact.structure_name, "birth_date": contact.birth_date,
        "age": v.age(contact.birth_date), "function": contact.function, "language": contact.language,
        "email": contact.email,
        "mobile_phone": contact.mobile_phone, "mobile_phone_display": v.format_phone(contact.mobile_phone),
        "phone": contact.phone, "phone_display": v.format_phone(contact.phone),
        "fax": contact.fax, "fax_display": v.format_phone(contact.fax),
        "administrative_number": contact.administrative_number, "reference_code": contact.reference_code,
        "iban": contact.iban, "iban_display": v.format_iban(contact.iban), "ambassador": contact.ambassador,
        "extra": _extra_fields(contact, registry),
    }
    sections = []
    for section in registry.sections:
        if section.permission and can is not None and not can(section.permission):
            continue
        data = section.data(session, contact)
        if data is None:  # the section does not apply to this contact
            continue
        sections.append({"code": section.code, "label": str(section.label), "tab": section.tab,
                         "template": section.template, "data": data})
    links = [{"id": lv.link.id, "kind": lv.kind, "direction": lv.direction, "label": str(lv.label),
              "other_number": lv.other.number, "other_name": lv.other.display_name,
              "start_date": lv.link.start_date, "end_date": lv.link.end_date, "active": lv.active,
              "comment": lv.link.comment}
             for lv in links_of(session, contact)]
    consents = details.consents_of(session, contact)
    return {
        "id": contact.id,
        "number": contact.number,
        "header": header(contact),
        "type_code": contact.type_code,
        "type_label": str(ctype.label) if ctype else contact.type_code,
        "kind": contact.kind,
        "kind_label": str(KIND_LABELS[contact.kind]),
        "role": contact.role,
        "role_label": str(ROLE_LABELS.get(contact.role, contact.role)),
        "status": contact.status,
        "status_label": str(STATUS_LABELS[contact.status]),
        "valid": contact.valid,
        "invalid_reason": contact.invalid_reason,
        "general": general,
        "internet_account": None if account is None else {
            "login": account.login, "active": account.active, "updated_at": account.updated_at,
            "updated_by": ops.get(account.updated_by_id, ""), "password_set_at": account.password_set_at,
            "last_login_at": account.last_login_at,
        },
        "main_address": address_dict(contact.main_address),
        "addresses": [address_dict(a) for a in addresses_of(session, contact)],
        "marketing_alerts": [{"id": a.id, "type": a.type, "offer": a.offer, "internal_info": a.internal_info,
                              "recipients": a.recipients, "availability": a.availability,
                              "valid_from": a.valid_from, "valid_until": a.valid_until}
                             for a in details.marketing_alerts_of(session, contact)],
        "consents": [{"channel": ch, "label": str(CONSENT_LABELS[ch]), "opt_in": val} for ch, val in consents.items()],
        "indicators": [vars(iv) for iv in indicators_of(session, contact, registry)],
        "notes": [{"id": n.id, "text": n.text, "created_at": n.created_at,
                   "created_by": ops.get(n.created_by_id, "")} for n in notes],
        "criteria": [{"code": c.code, "label": c.label, "group": c.group}
                     for c in details.criteria_of(session, contact)],
        "preferred_seats": [{"id": s.id, "venue": s.venue, "area": s.area, "row": s.row, "seat": s.seat,
                             "comment": s.comment} for s in details.preferred_seats_of(session, contact)],
        "links": links,
        "sections": sections,
        "histories": [{"kind": k, "label": str(HISTORY_LABELS[k])} for k in HISTORY_KINDS],
        "administration": {
            "created_at": contact.created_at, "created_by": ops.get(contact.created_by_id, ""),
            "updated_at": contact.updated_at, "updated_by": ops.get(contact.updated_by_id, ""),
            "customer_since": contact.customer_since, "last_purchase_at": contact.last_purchase_at,
        },
    }


def _sort_key(row: HistoryRow):
    d = row.date
    if isinstance(d, datetime):
        return d.replace(tzinfo=None) if d.tzinfo is None else d.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(d, date):
        return datetime(d.year, d.month, d.day)
    return datetime.min


def _rows_of(session: Session, contact: Contact, kind: str, registry: Registry) -> list[HistoryRow]:
    rows: list[HistoryRow] = []
    for plugin, result in registry.call("contacts_history", session=session, contact=contact, kind=kind):
        for row in result or ():
            if not row.source:
                row.source = plugin
            rows.append(row)
    return rows


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


HISTORY_ROLE_LABELS = {
    "buyer": _l("acheteur"), "payer": _l("payeur"), "structure": _l("structure"), "attendee": _l("bénéficiaire"),
    "via_relay": _l("par un relais"),
}


def _merge_same(rows: list[HistoryRow]) -> list[HistoryRow]:
    """One row per thing (an order, a payment, a performance): rows of the same plugin carrying the
    same ``details["key"]`` (the contact's own and those through a relay) are merged, their
    ``details["roles"]`` united; ``details["roles_label"]`` says them ("acheteur, payeur"), except on a
    row that comes only through a relay (the screen's "par AKOKA, Viviane [15]" says it)."""
    merged: dict[tuple, HistoryRow] = {}
    out: list[HistoryRow] = []
    for row in rows:
        key = row.details.get("key")
        if key is None:
            out.append(row)
            continue
        seen = merged.get((row.source, row.kind, key))
        if seen is None:
            merged[(row.source, row.kind, key)] = row
            out.append(row)
            continue
        roles = list(dict.fromkeys([*seen.details.get("roles", []), *row.details.get("roles", [])]))
        extra = {k: v for k, v in row.details.items() if k.startswith("via_") and k not in seen.details}
        seen.details = {**seen.details, **extra, "roles": roles}
    for row in out:
        roles = row.details.get("roles")
        if roles and roles != ["via_relay"]:  # a row only through a relay says so by its "par …" line
            row.details["roles_label"] = ", ".join(str(HISTORY_ROLE_LABELS.get(r, r)) for r in roles)
    return out


def history(session: Session, contact: Contact, kind: str, limit: int = 100,
            registry: Registry | None = None) -> list[HistoryRow]:
    """One of the four histories, merged from every plugin (``contacts_history``), newest first.

    A structure's history also gathers the rows of the individuals linked to it as relay or member
    (the seeds' "Structure publique : fiche regroupant les historiques des différents individuels qui
    lui sont liés"), each row dated within the link's period; such rows carry
    ``details["via_number"]`` / ``details["via_name"]``, the individual they come from.
    """
    if kind not in HISTORY_KINDS:
        raise InvalidError(_("Historique inconnu"),
                           {"kind": _("Attendu : %(choices)s", choices=", ".join(HISTORY_KINDS))})
    registry = registry or get_registry()
    rows = _rows_of(session, contact, kind, registry)
    if contact.kind == "structure":
        for lv in links_of(session, contact):
            if lv.direction != "in" or lv.kind not in ("relay_of", "member_of"):
                continue
            start, end = lv.link.start_date, lv.link.end_date
            for row in _rows_of(session, lv.other, kind, registry):
                day = _day(row.date)
                if (start is None or start <= day) and (end is None or day <= end):
                    row.details = {**row.details, "via_number": lv.other.number, "via_name": lv.other.display_name,
                                   "roles": ["via_relay"]}
                    rows.append(row)
    rows = _merge_same(rows)
    rows.sort(key=_sort_key, reverse=True)
    return rows[:max(1, int(limit))]


def sends_history(session: Session, contact: Contact) -> list[HistoryRow]:
    """The contacts plugin's own contribution to the "sends" history."""
    return [HistoryRow(kind="sends", date=s.sent_at, label=s.subject, reference=s.reference or s.campaign,
                       status=s.status, details={"channel": s.channel, "campaign": s.campaign})
            for s in session.scalars(select(TicketingSend).where(TicketingSend.contact_id == contact.id)
                                     .order_by(TicketingSend.sent_at.desc()).limit(1000))]
