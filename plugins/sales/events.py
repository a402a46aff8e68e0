"""The events the sales plugin raises (webhooks and the change feed, ``coulisses.webhooks``),
from its own event hooks: an order created (sold or reserved) and an order paid (its balance reached
zero; again after a later payment or refund settles it anew). Refunds and exchanges are the refunds
plugin's events (``refunds.order.refunded``, ``refunds.order.exchanged``)."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses import webhooks
from coulisses.i18n import _l

CREATED, PAID = "sales.order.created", "sales.order.paid"


class OrderEventSchema(Schema):
    number = fields.Integer(metadata={"description": "The order's number (GET /api/v1/orders/{number})"})
    state = fields.String(metadata={"description": "reserved, not_settled, settled…"})
    total = fields.Decimal(as_string=True, metadata={"description": "Amount in the deployment's currency, e.g. \"220.00\""})
    paid = fields.Decimal(as_string=True)
    buyer = fields.Function(lambda order: order.buyer.number if order.buyer is not None else None,
                            metadata={"description": "The buyer's contact number"})
    tickets = fields.Function(lambda order: len(order.tickets), metadata={"description": "How many tickets"})
    created_at = fields.DateTime()


EVENTS = [
    webhooks.WebhookEvent(CREATED, _l("Dossier créé"), OrderEventSchema, "sales.view",
                          _l("Une vente ou une réservation a créé un dossier.")),
    webhooks.WebhookEvent(PAID, _l("Dossier soldé"), OrderEventSchema, "sales.view",
                          _l("Le solde du dossier est à zéro après un règlement (ou un remboursement).")),
]


def emit(session, code: str, order) -> None:
    webhooks.emit(session, code, order, subject=f"order:{order.number}")
