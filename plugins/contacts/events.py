"""The events the contacts plugin raises (webhooks and the change feed, ``coulisses.webhooks``):
a contact created (every way: quick creation, screen, API, import), merged, anonymised."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses import webhooks
from coulisses.i18n import _l

CREATED, MERGED, ANONYMISED = "contacts.contact.created", "contacts.contact.merged", "contacts.contact.anonymised"


class ContactCreatedSchema(Schema):
    number = fields.Integer(metadata={"description": "The contact's number (GET /api/v1/contacts/{number})"})
    kind = fields.String(metadata={"description": "individual or structure"})
    type = fields.String(attribute="type_code", metadata={"description": "The contact type's code"})
    name = fields.String(attribute="display_name")
    email = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ContactMergedSchema(Schema):
    number = fields.Integer(attribute="head_number", metadata={"description": "The contact kept"})
    merged_number = fields.Integer(metadata={"description": "The contact merged into it (now invalid)"})


class ContactAnonymisedSchema(Schema):
    number = fields.Integer(metadata={"description": "The contact whose personal data was erased"})


EVENTS = [
    webhooks.WebhookEvent(CREATED, _l("Contact créé"), ContactCreatedSchema, "contacts.view"),
    webhooks.WebhookEvent(MERGED, _l("Contacts fusionnés"), ContactMergedSchema, "contacts.view"),
    webhooks.WebhookEvent(ANONYMISED, _l("Contact anonymisé"), ContactAnonymisedSchema, "contacts.view",
                          _l("Les données personnelles du contact ont été effacées : effacez-les aussi.")),
]


def created(session, contact) -> None:
    webhooks.emit(session, CREATED, contact, subject=f"contact:{contact.number}")


def created_many(session, contacts, data=None) -> int:
    """``created`` for many contacts (the import): objects with the schema's attributes; ``data``:
    their ``created_data``, when it was computed elsewhere."""
    return webhooks.emit_many(session, CREATED, [(c, f"contact:{c.number}") for c in contacts], data)


def created_data(contacts) -> list[str]:
    """The data of the ``contacts.contact.created`` event of each contact (no database: the import
    has another process compute it while it writes)."""
    return [webhooks.dump_data(ContactCreatedSchema, c) for c in contacts]


def merged(session, log) -> None:
    webhooks.emit(session, MERGED, log, subject=f"contact:{log.head_number}")


def anonymised(session, numbers) -> None:
    for number in numbers:
        webhooks.emit(session, ANONYMISED, {"number": number}, subject=f"contact:{number}")
