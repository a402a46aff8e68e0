"""What hangs off a contact sheet: notes, criteria, consents, preferred seats, marketing alerts."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import current_actor, utcnow
from coulisses.i18n import _, local_time

from plugins.contacts.models import (
    CONSENT_CHANNELS,
    Consent,
    Contact,
    ContactCriterion,
    Criterion,
    MarketingAlert,
    Note,
    PreferredSeat,
)

# --------------------------------------------------------------------------- notes


def add_note(session: Session, contact: Contact, text: str) -> Note:
    """A free note, dated and signed by the current operator."""
    text = (text or "").strip()
    if not text:
        raise InvalidError(_("La note est vide"), {"text": _("Texte : obligatoire")})
    if len(text) > 10000:
        raise InvalidError(_("La note est trop longue"), {"text": _("10 000 caractères au plus")})
    note = Note(contact_id=contact.id, text=text)
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, contact: Contact) -> list[Note]:
    return list(session.scalars(select(Note).where(Note.contact_id == contact.id)
                                .order_by(Note.created_at.desc(), Note.id.desc())))


def delete_note(session: Session, contact: Contact, note_id: int) -> None:
    note = session.get(Note, note_id)
    if note is None or note.contact_id != contact.id:
        raise NotFoundError(_("Aucune note %(id)s pour le contact %(number)s", id=note_id, number=contact.number))
    session.delete(note)
    session.flush()


# --------------------------------------------------------------------------- criteria


def create_criterion(session: Session, code: str, label: str, applies_to: str = "both", group: str = "",
                     position: int = 0) -> Criterion:
    """A criterion of the organisation's lists; ``applies_to`` individual, structure or both."""
    code = (code or "").strip()
    if not code or not (label or "").strip():
        raise InvalidError(_("Critère incomplet"), {"code" if not code else "label": _("obligatoire")})
    if applies_to not in ("individual", "structure", "both"):
        raise InvalidError(_("Critère non valide"),
                           {"applies_to": _("individuels (individual), structures (structure) ou les deux (both)")})
    if session.scalar(select(Criterion.id).where(Criterion.code == code)) is not None:
        raise ConflictError(_("Le critère %(code)s existe déjà", code=code))
    criterion = Criterion(code=code, label=label.strip(), applies_to=applies_to, group=group, position=position)
    session.add(criterion)
    session.flush()
    return criterion


def criteria_for(session: Session, kind: str) -> list[Criterion]:
    """The active criteria a contact of this kind (individual / structure) may have."""
    return list(session.scalars(select(Criterion).where(
        Criterion.active.is_(True), or_(Criterion.applies_to == kind, Criterion.applies_to == "both"))
        .order_by(Criterion.group, Criterion.position, Criterion.label)))


def criteria_of(session: Session, contact: Contact) -> list[Criterion]:
    return list(session.scalars(select(Criterion).join(ContactCriterion).where(
        ContactCriterion.contact_id == contact.id).order_by(Criterion.group, Criterion.position, Criterion.label)))


def _criterion_for(session: Session, contact: Contact, code: str) -> Criterion:
    criterion = session.scalar(select(Criterion).where(Criterion.code == code))
    if criterion is None:
        raise InvalidError(_("Critère inconnu"), {"criteria": _("Critère inconnu : %(code)s", code=code)})
    if criterion.applies_to not in ("both", contact.kind):
        message = (_("« %(label)s » s'applique aux individuels", label=criterion.label)
                   if criterion.applies_to == "individual"
                   else _("« %(label)s » s'applique aux structures", label=criterion.label))
        raise InvalidError(_("Critère non applicable"), {"criteria": message})
    if not criterion.active:
        raise InvalidError(_("Critère désactivé"),
                           {"criteria": _("« %(label)s » n'est plus utilisé", label=criterion.label)})
    return criterion


def add_criterion(session: Session, contact: Contact, code: str) -> Criterion:
    criterion = _criterion_for(session, contact, code)
    if session.get(ContactCriterion, (contact.id, criterion.id)) is None:
        session.add(ContactCriterion(contact_id=contact.id, criterion_id=criterion.id,
                                     created_by_id=current_actor().operator_id))
        session.flush()
    return criterion


def remove_criterion(session: Session, contact: Contact, code: str) -> None:
    criterion = session.scalar(select(Criterion).where(Criterion.code == code))
    row = session.get(ContactCriterion, (contact.id, criterion.id)) if criterion else None
    if row is None:
        raise NotFoundError(_("Le contact %(number)s n'a pas le critère %(code)s", number=contact.number, code=code))
    session.delete(row)
    session.flush()


def set_criteria(session: Session, contact: Contact, codes: list[str]) -> list[Criterion]:
    """Replace the contact's criteria by ``codes`` (all checked before anything changes)."""
    wanted = [_criterion_for(session, contact, code) for code in dict.fromkeys(codes)]
    wanted_ids = {c.id for c in wanted}
    for row in session.scalars(select(ContactCriterion).where(ContactCriterion.contact_id == contact.id)):
        if row.criterion_id not in wanted_ids:
            session.delete(row)
    session.flush()
    for criterion in wanted:
        add_criterion(session, contact, criterion.code)
    return criteria_of(session, contact)


# --------------------------------------------------------------------------- consents


def set_consent(session: Session, contact: Contact, channel: str, opt_in: bool, source: str = "") -> Consent:
    """Record the contact's opt-in (True) or opt-out (False) for a channel: email, sms, post, phone."""
    if channel not in CONSENT_CHANNELS:
        raise InvalidError(_("Canal inconnu"),
                           {"channel": _("Canal : %(choices)s", choices=", ".join(CONSENT_CHANNELS))})
    consent = session.scalar(select(Consent).where(Consent.contact_id == contact.id, Consent.channel == channel))
    if consent is None:
        consent = Consent(contact_id=contact.id, channel=channel)
        session.add(consent)
    consent.opt_in = bool(opt_in)
    consent.source = (source or "")[:60]
    session.flush()
    return consent


def consents_of(session: Session, contact: Contact) -> dict[str, bool | None]:
    """Every channel with True (opt-in), False (opt-out) or None (never asked)."""
    rows = {c.channel: c.opt_in for c in session.scalars(select(Consent).where(Consent.contact_id == contact.id))}
    return {channel: rows.get(channel) for channel in CONSENT_CHANNELS}


def consent_rows(session: Session, contact: Contact) -> list[Consent]:
    return list(session.scalars(select(Consent).where(Consent.contact_id == contact.id).order_by(Consent.channel)))


# --------------------------------------------------------------------------- preferred seats

SEAT_FIELDS = ("venue", "area", "row", "seat", "comment", "position")


def add_preferred_seat(session: Session, contact: Contact, data: dict[str, Any]) -> PreferredSeat:
    values = {k: data.get(k) for k in SEAT_FIELDS if data.get(k) not in (None, "")}
    unknown = set(data) - set(SEAT_FIELDS)
    if unknown:
        raise InvalidError(_("Champ inconnu"), {k: _("Champ inconnu") for k in unknown})
    if not (values.get("venue") or values.get("seat") or values.get("area")):
        raise InvalidError(_("Place préférée vide"),
                           {"venue": _("Indiquez au moins le lieu, la zone ou la place")})
    for key in ("venue", "area", "row", "seat", "comment"):
        if key in values:
            values[key] = str(values[key]).strip()
    seat = PreferredSeat(contact_id=contact.id, **values)
    session.add(seat)
    session.flush()
    return seat


def preferred_seats_of(session: Session, contact: Contact) -> list[PreferredSeat]:
    return list(session.scalars(select(PreferredSeat).where(PreferredSeat.contact_id == contact.id)
                                .order_by(PreferredSeat.position, PreferredSeat.id)))


def remove_preferred_seat(session: Session, contact: Contact, seat_id: int) -> None:
    seat = session.get(PreferredSeat, seat_id)
    if seat is None or seat.contact_id != contact.id:
        raise NotFoundError(_("Aucune place préférée %(id)s pour le contact %(number)s", id=seat_id,
                              number=contact.number))
    session.delete(seat)
    session.flush()


# --------------------------------------------------------------------------- marketing alerts

ALERT_FIELDS = ("type", "offer", "internal_info", "recipients", "availability", "valid_from", "valid_until", "active")


def add_marketing_alert(session: Session, contact: Contact, data: dict[str, Any]) -> MarketingAlert:
    """An advantage reserved for the contact (the sheet's "Alertes marketing")."""
    errors: dict[str, str] = {}
    for key in set(data) - set(ALERT_FIELDS):
        errors[key] = _("Champ inconnu")
    if not str(data.get("offer") or "").strip():
        errors["offer"] = _("Offre : obligatoire")
    availability = data.get("availability")
    if availability not in (None, ""):
        try:
            availability = int(availability)
            if availability < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["availability"] = _("Disponibilité : entier positif attendu")
    else:
        availability = None
    dates = {}
    for key in ("valid_from", "valid_until"):
        value = data.get(key)
        if isinstance(value, str) and value:
            try:
                value = date.fromisoformat(value)
            except ValueError:
                errors[key] = _("Date AAAA-MM-JJ attendue")
        dates[key] = value or None
    if dates.get("valid_from") and dates.get("valid_until") and dates["valid_until"] < dates["valid_from"]:
        errors["valid_until"] = _("La fin précède le début")
    if errors:
        raise InvalidError(_("L'alerte n'est pas valide"), errors)
    alert = MarketingAlert(contact_id=contact.id, type=str(data.get("type") or "").strip(),
                           offer=str(data["offer"]).strip(), internal_info=str(data.get("internal_info") or ""),
                           recipients=str(data.get("recipients") or ""), availability=availability,
                           active=bool(data.get("active", True)), **dates)
    session.add(alert)
    session.flush()
    return alert


def marketing_alerts_of(session: Session, contact: Contact, active_only: bool = True,
                        on: date | None = None) -> list[MarketingAlert]:
    on = on or local_time(utcnow()).date()
    alerts = session.scalars(select(MarketingAlert).where(MarketingAlert.contact_id == contact.id)
                             .order_by(MarketingAlert.id)).all()
    if not active_only:
        return list(alerts)
    return [a for a in alerts if a.active and (a.valid_from is None or a.valid_from <= on)
            and (a.valid_until is None or on <= a.valid_until)]


def remove_marketing_alert(session: Session, contact: Contact, alert_id: int) -> None:
    alert = session.get(MarketingAlert, alert_id)
    if alert is None or alert.contact_id != contact.id:
        raise NotFoundError(_("Aucune alerte %(id)s pour le contact %(number)s", id=alert_id, number=contact.number))
    session.delete(alert)
    session.flush()
