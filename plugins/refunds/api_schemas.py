"""Marshmallow schemas of the refunds REST API (``plugins/refunds/api.py``). Amounts are strings
("660.00") both ways."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.web.schemas import Amount, Id, Int, Money, Number, SafeString

from plugins.refunds.models import REQUESTERS
from plugins.sales.api_schemas import MAX_PAYMENTS, MAX_TICKETS, PaymentInSchema
from plugins.sales.models import DELIVERY_MODES

BARCODE = {"description": "A ticket's barcode", "example": "01010002748"}


def _point_of_sale():
    return SafeString(40, load_default=None, metadata={"description": "Point of sale code"})


class BasketCreateSchema(Schema):
    contact = Number(load_default=None, metadata={"description": "Contact number"})
    point_of_sale = _point_of_sale()


class BasketChangeSchema(Schema):
    contact = Number(allow_none=True, metadata={"description": "Contact number (null: none)"})
    requested_by = fields.String(validate=validate.OneOf(REQUESTERS))
    cause = SafeString(40, allow_none=True, metadata={"description": "Cause code"})
    refund_fees = fields.Boolean(metadata={"description": "Refund the simple fees"})
    fee_override = Amount(allow_none=True, metadata={"description": "The cancellation fee for the whole basket "
                                                                    "(permission refunds.fee.override)"})
    delivery_mode = fields.String(validate=validate.OneOf(DELIVERY_MODES),
                                  metadata={"description": "Delivery of the exchange's new tickets"})
    delivery_email = SafeString(200, metadata={"description": "Delivery e-mail (empty: the contact's)"})
    delivery_address = SafeString(2000, multiline=True,
                                  metadata={"description": "Delivery address (empty: the contact's)"})
    immediate_print = fields.Boolean(metadata={"description": "Print the exchange's documents at once"})
    note = SafeString(2000)


class AddTicketsSchema(Schema):
    barcodes = fields.List(SafeString(20, metadata=BARCODE), load_default=None,
                           validate=validate.Length(max=MAX_TICKETS))
    first = SafeString(20, load_default=None, metadata={"description": "First barcode of a range"})
    last = SafeString(20, load_default=None, metadata={"description": "Last barcode of a range"})
    numbers = SafeString(20000, load_default=None,
                         metadata={"description": "Typed list and ranges: '01010002748, 01010002727-01010002740'"})
    order = Number(load_default=None, metadata={"description": "Take an order (all its tickets, or `tickets`)"})
    tickets = fields.List(SafeString(20), load_default=None, validate=validate.Length(max=MAX_TICKETS),
                          metadata={"description": "With `order`: the selected tickets (barcodes)"})


class CancellationRemoveTicketsSchema(Schema):
    tickets = fields.List(SafeString(20, metadata=BARCODE), required=True,
                          validate=validate.Length(min=1, max=MAX_TICKETS))


class ExchangeSchema(Schema):
    kind = SafeString(40, load_default="performance", metadata={"description": "Product kind (registry)"})
    performance = Id(load_default=None)
    category = Id(load_default=None)
    tariff = Id(load_default=None)
    quantity = Int(1, 5000, load_default=1)
    seats = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_TICKETS))


class SelfExchangeSchema(Schema):
    tickets = fields.List(SafeString(20), load_default=None, validate=validate.Length(max=MAX_TICKETS),
                          metadata={"description": "Barcodes (default: every ticket of the basket)"})


class ExchangeLineChangeSchema(Schema):
    category = Id(load_default=None)
    tariff = Id(load_default=None)
    quantity = Int(1, 5000, load_default=None)


class RefundInSchema(Schema):
    mode = SafeString(40, required=True, metadata={"description": "Payment mode code (CASH, CREDIT, CARD…)"})
    amount = Amount(required=True, minimum="0.01")


class BasketSettleSchema(Schema):
    refunds = fields.List(fields.Nested(RefundInSchema), load_default=list, validate=validate.Length(max=MAX_PAYMENTS))
    payments = fields.List(fields.Nested(PaymentInSchema), load_default=list,
                           validate=validate.Length(max=MAX_PAYMENTS))


class GroupSchema(Schema):
    label = fields.String()
    quantity = fields.Integer()
    price = Money(allow_none=True)
    fees = Money()
    amount = Money()
    tickets = fields.List(fields.String())
    children = fields.List(fields.Nested(lambda: GroupSchema()))


class ModeOptionSchema(Schema):
    code = fields.String()
    label = fields.String()
    type = fields.String()
    group = fields.String()
    available = fields.Boolean()
    limit = Money(allow_none=True)
    paid = Money()
    reason = fields.String()


class ReminderSchema(Schema):
    mode = fields.String()
    label = fields.String()
    amount = Money()


class ExchangeDocumentSchema(Schema):
    type = fields.String(metadata={"description": "Document type (sales.ticket, sales.receipt…)"})
    label = fields.String()
    send = fields.String(metadata={"description": "print or email"})


class ExchangeDeliverySchema(Schema):
    mode = fields.String()
    email = fields.String()
    address = fields.String()
    immediate_print = fields.Boolean()
    documents = fields.List(fields.Nested(ExchangeDocumentSchema),
                            metadata={"description": "What the exchange order will produce once settled"})


class CancellationBasketSchema(Schema):
    basket = fields.Integer()
    operation = fields.Integer(metadata={"description": "The basket's operation number (\"Ordre 1271\")"})
    state = fields.String()
    contact = fields.Integer(allow_none=True)
    contact_label = fields.String()
    orders = fields.List(fields.Integer())
    tickets = fields.List(fields.String())
    refund_groups = fields.List(fields.Nested(GroupSchema))
    exchange_groups = fields.List(fields.Nested(GroupSchema))
    subtotal_refunded = Money()
    subtotal_sold = Money()
    total = Money()
    to_pay = Money()
    to_refund = Money()
    payment_reminder = fields.List(fields.Nested(ReminderSchema))
    refund_options = fields.List(fields.Nested(ModeOptionSchema))
    requested_by = fields.String()
    cause = fields.String(allow_none=True)
    refund_fees = fields.Boolean()
    fee_override = Money(allow_none=True)
    delivery = fields.Nested(ExchangeDeliverySchema, metadata={"description": "\"Livraison billets\" and the documents of "
                                                                        "the exchange's new tickets"})


class RefusedSchema(Schema):
    input = fields.String()
    reason = fields.String()


class AddResultSchema(Schema):
    added = fields.List(fields.String())
    refused = fields.List(fields.Nested(RefusedSchema))
    basket = fields.Nested(CancellationBasketSchema)


class RefundOutSchema(Schema):
    order = fields.Integer()
    mode = fields.String()
    amount = Money()


class SettleResultSchema(Schema):
    basket = fields.Nested(CancellationBasketSchema)
    refunded = Money()
    kept = Money()
    sold = Money()
    transferred = Money()
    change = Money()
    refunds = fields.List(fields.Nested(RefundOutSchema))
    exchange_order = fields.Integer(allow_none=True)


class CauseSchema(Schema):
    code = fields.String()
    label = fields.String()
    fee_kind = fields.String()
    fee_value = Money()
    exchange = fields.Boolean()


class PayoutSchema(Schema):
    order = fields.Integer()
    mode = fields.String()
    amount = Money()
    state = fields.String()


class CancellationSchema(Schema):
    fallback_mode = SafeString(40, load_default=None, metadata={"description": "Mode used when the original "
                                                                                "cannot refund (default: credit)"})
    cause = SafeString(40, load_default="CANCELLED")


class SimulationSchema(Schema):
    performance = fields.String()
    orders = fields.Integer()
    automatic = fields.Integer()
    tickets = fields.Integer()
    amount = Money()
    by_mode = fields.Dict(keys=fields.String(), values=Money())
    needs_operator = fields.List(fields.Dict())


class CancellationStateSchema(Schema):
    performance_id = fields.Integer()
    state = fields.String()
    job = fields.Integer(allow_none=True)
    report = fields.Dict()
