"""The events the refunds plugin raises (webhooks and the change feed, ``coulisses.webhooks``), from
``services.settle.settle``, inside the settlement's transaction: for each order whose tickets a
settled cancellation basket cancelled, ``refunds.order.refunded`` (a basket without exchange) or
``refunds.order.exchanged`` (a basket that sold an exchange: ``exchange_order`` is the new order).
A basket touching two orders raises two events, sharing their ``operation`` (the basket's "Ordre")."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses import webhooks
from coulisses.i18n import _l

REFUNDED, EXCHANGED = "refunds.order.refunded", "refunds.order.exchanged"


class RefundModeSchema(Schema):
    mode = fields.String(metadata={"description": "The payment mode's code (CASH, CARD…)"})
    amount = fields.Decimal(as_string=True, metadata={"description": "Paid back by this mode, e.g. \"110.00\""})


class OrderRefundEventSchema(Schema):
    order = fields.Integer(metadata={"description": "The order whose tickets were cancelled (GET /api/v1/orders/{number})"})
    operation = fields.Integer(metadata={"description": "The basket's operation number (one per basket, shared by its events)"})
    tickets = fields.List(fields.String(), metadata={"description": "The barcodes of the cancelled tickets"})
    value = fields.Decimal(as_string=True, metadata={
        "description": "What the cancelled tickets were worth, less what the organisation keeps"})
    kept = fields.Decimal(as_string=True, metadata={"description": "What the organisation keeps (fees not refunded, the cause's fee)"})
    refunds = fields.List(fields.Nested(RefundModeSchema), metadata={
        "description": "What was paid back, by payment mode (empty when all of it paid the exchange)"})
    transferred = fields.Decimal(as_string=True, metadata={
        "description": "The part of value that paid the exchange order (through the credit balance)"})
    exchange_order = fields.Integer(allow_none=True, metadata={
        "description": "The order sold in exchange (refunds.order.exchanged), else null"})
    cause = fields.String(allow_none=True, metadata={"description": "The cancellation cause's code"})
    contact = fields.Integer(allow_none=True, metadata={"description": "The basket's contact number"})


EVENTS = [
    webhooks.WebhookEvent(REFUNDED, _l("Dossier remboursé"), OrderRefundEventSchema, "sales.view",
                          _l("Des billets du dossier ont été annulés et remboursés (panier d'annulation réglé).")),
    webhooks.WebhookEvent(EXCHANGED, _l("Dossier échangé"), OrderRefundEventSchema, "sales.view",
                          _l("Des billets du dossier ont été annulés et échangés contre un nouveau dossier "
                             "(exchange_order).")),
]


def emit_settled(session, basket, operation, per_order: list[dict]) -> None:
    """One event per order of a settled basket; ``per_order``: the payload of each (see the schema)."""
    code = EXCHANGED if basket.exchange_order_id else REFUNDED
    for data in per_order:
        webhooks.emit(session, code, {**data, "operation": operation.number}, subject=f"order:{data['order']}")
