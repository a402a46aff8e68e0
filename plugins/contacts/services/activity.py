"""What other plugins tell the contacts plugin: purchases (customer vs prospect) and sends."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.db import current_actor, utcnow
from coulisses.i18n import _

from plugins.contacts.models import CONSENT_CHANNELS, Contact, TicketingSend
from plugins.contacts.registry import Registry, get_registry

SEND_CHANNELS = CONSENT_CHANNELS + ("campaign",)


def _contact(session: Session, contact: Contact | int) -> Contact:
    if isinstance(contact, Contact):
        return contact
    from plugins.contacts.services.contacts import get_contact_by_id

    return get_contact_by_id(session, int(contact))


def record_purchase(session: Session, contact: Contact | int, when: datetime | None = None, *,
                    registry: Registry | None = None, recompute: bool = True) -> Contact:
    """Called by the sales plugin inside the transaction of each paid order (``contact`` is the
    Contact or its id). The first purchase makes the contact a customer (``customer_since``); every
    purchase moves ``last_purchase_at``; the contact's indicators are recomputed, unless
    ``recompute=False`` (the caller has them recomputed after its commit: the sales plugin's job; the
    contact's change is then written by the session's next flush)."""
    from plugins.contacts.services.indicators import recompute_indicators

    contact = _contact(session, contact)
    when = when or utcnow()
    if when.tzinfo is None:
        raise ValueError("record_purchase needs an aware datetime")
    if contact.customer_since is None or when < contact.customer_since:
        contact.customer_since = when
    if contact.last_purchase_at is None or when > contact.last_purchase_at:
        contact.last_purchase_at = when
    if recompute:
        session.flush()
        recompute_indicators(session, contact, registry=registry or get_registry())
    return contact


def mark_customer(session: Session, contact: Contact, since: datetime) -> None:
    """Make a contact a customer by hand (an import of customers bought elsewhere)."""
    record_purchase(session, contact, since)


def mark_prospect(session: Session, contact: Contact) -> None:
    """Back to prospect (a purchase recorded by mistake)."""
    contact.customer_since = None
    contact.last_purchase_at = None
    session.flush()


def record_send(session: Session, contact: Contact, channel: str, subject: str, sent_at: datetime | None = None,
                campaign: str = "", reference: str = "", source: str = "", status: str = "sent") -> TicketingSend:
    """Add a line to the contact's ticketing sends (an e-mail, an SMS, a campaign…)."""
    if channel not in SEND_CHANNELS:
        raise InvalidError(_("Canal inconnu"),
                           {"channel": _("Canal : %(choices)s", choices=", ".join(SEND_CHANNELS))})
    send = TicketingSend(contact_id=contact.id, channel=channel, subject=(subject or "")[:200],
                         campaign=campaign[:120], reference=reference[:120], source=source[:40],
                         status=status[:20], sent_at=sent_at or utcnow(),
                         created_by_id=current_actor().operator_id)
    session.add(send)
    session.flush()
    return send
