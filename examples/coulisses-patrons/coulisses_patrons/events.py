"""The event this plugin raises (webhooks and the change feed, through the host's
``coulisses_webhook_events`` hook and ``coulisses.webhooks.emit``)."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses import webhooks
from coulisses.i18n import _l

PLEDGED = "patrons.pledge.recorded"


class PledgeEventSchema(Schema):
    id = fields.Integer()
    donor = fields.String(attribute="donor_name")
    amount = fields.Decimal(as_string=True)
    pledged_on = fields.Date()
    contact = fields.Function(lambda pledge: pledge.contact.number if pledge.contact is not None else None)


EVENTS = [webhooks.WebhookEvent(PLEDGED, _l("Promesse de mécénat enregistrée"), PledgeEventSchema, "patrons.view")]
