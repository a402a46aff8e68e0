"""Marshmallow schemas of the sales REST API (``plugins/sales/api.py``). Amounts are strings
("2420.00") both ways: a JSON number is refused for money (floats are never money)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugins.sales.models import DELIVERY_MODES

AMOUNT = {"description": "An amount as a decimal string, e.g. \"2420.00\"", "type": "string",
          "pattern": r"^-?\d+(\.\d+)?$", "example": "2420.00"}


def Money(**kw):  # noqa: N802 - a field factory
    kw["metadata"] = {**AMOUNT, **kw.get("metadata", {})}
    return fields.Decimal(as_string=True, **kw)


# --------------------------------------------------------------------------- catalogue


class SeasonSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()


class EventQuerySchema(Schema):
    season = fields.Integer(load_default=None)


class EventSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    season_id = fields.Integer(allow_none=True)
    description = fields.String()
    for_children = fields.Boolean()


class PerformanceQuerySchema(Schema):
    event = fields.Integer(load_default=None)
    season = fields.Integer(load_default=None)
    starts_from = fields.AwareDateTime(load_default=None)
    starts_until = fields.AwareDateTime(load_default=None)
    q = fields.String(load_default=None, metadata={"description": "Part of the event's title"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))


class CategoryAvailabilitySchema(Schema):
    category_id = fields.Integer()
    code = fields.String()
    label = fields.String()
    capacity = fields.Integer()
    taken = fields.Integer()
    available = fields.Integer()


class PriceSchema(Schema):
    category_id = fields.Integer()
    category_label = fields.String()
    tariff_id = fields.Integer()
    tariff_code = fields.String()
    tariff_label = fields.String()
    amount = Money()
    fees = Money()


class PerformanceSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    event_title = fields.String()
    venue_id = fields.Integer()
    venue_name = fields.String()
    seated = fields.Boolean()
    season_id = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    label = fields.String(metadata={"description": "\"Joyaux - Lun 02.11.2015 20:15\" (local time)"})
    on_sale = fields.Boolean()
    capacity = fields.Integer()
    taken = fields.Integer()
    available = fields.Integer()
    categories = fields.List(fields.Nested(CategoryAvailabilitySchema))
    prices = fields.List(fields.Nested(PriceSchema))


class SeatStateSchema(Schema):
    seat_id = fields.Integer()
    area_id = fields.Integer()
    area_name = fields.String()
    row = fields.String()
    number = fields.String()
    label = fields.String()
    category_id = fields.Integer(allow_none=True)
    x = fields.Integer(allow_none=True)
    y = fields.Integer(allow_none=True)
    free = fields.Boolean()


class TariffSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    full_label = fields.String()
    audience_id = fields.Integer(allow_none=True)


class PaymentModeSchema(Schema):
    code = fields.String()
    label = fields.String()
    type_code = fields.String()
    can_pay = fields.Boolean()
    can_refund = fields.Boolean()
    needs_contact = fields.Boolean()
    gives_change = fields.Boolean()


# --------------------------------------------------------------------------- orders


class LineInSchema(Schema):
    performance = fields.Integer(required=True, metadata={"description": "Performance id"})
    category = fields.Integer(required=True, metadata={"description": "Seat category id"})
    tariff = fields.Integer(required=True, metadata={"description": "Tariff id"})
    quantity = fields.Integer(load_default=None, validate=validate.Range(1, 5000),
                              metadata={"description": "Default: the number of seats, else 1"})
    seats = fields.List(fields.Integer(), load_default=list, metadata={"description": "Seat ids (seated venues)"})
    attendees = fields.List(fields.Integer(allow_none=True), load_default=list,
                            metadata={"description": "Contact numbers, one per ticket (optional)"})
    area = fields.Integer(load_default=None)


class PaymentInSchema(Schema):
    mode = fields.String(required=True, metadata={"description": "Payment mode code (CASH, CARD…)"})
    amount = fields.String(required=True, metadata=AMOUNT)
    contact = fields.Integer(load_default=None, metadata={"description": "Contact number (credit balance…)"})
    reference = fields.String(load_default="")


class OrderCreateSchema(Schema):
    action = fields.String(load_default="sell", validate=validate.OneOf(["sell", "reserve"]))
    buyer = fields.Integer(required=True, metadata={"description": "The buyer's contact number"})
    payer = fields.Integer(load_default=None, metadata={"description": "The paying contact's number"})
    structure = fields.Integer(load_default=None, metadata={"description": "The structure a relay buys for"})
    lines = fields.List(fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1))
    payments = fields.List(fields.Nested(PaymentInSchema), load_default=list)
    point_of_sale = fields.String(load_default=None, metadata={"description": "Point of sale code"})
    delivery_mode = fields.String(load_default="handed", validate=validate.OneOf(DELIVERY_MODES))
    note = fields.String(load_default="")


class PaySchema(Schema):
    payments = fields.List(fields.Nested(PaymentInSchema), required=True, validate=validate.Length(min=1))
    point_of_sale = fields.String(load_default=None)


class CancelSchema(Schema):
    tickets = fields.List(fields.String(), load_default=None,
                          metadata={"description": "Barcodes to cancel; default: every reserved ticket"})


class PrintSchema(Schema):
    tickets = fields.List(fields.String(), load_default=None,
                          metadata={"description": "Barcodes to mark printed; default: every sold ticket"})
    reprint = fields.Boolean(load_default=False)


class TicketRowSchema(Schema):
    barcode = fields.String()
    performance = fields.String()
    category = fields.String()
    tariff = fields.String()
    area = fields.String()
    seat = fields.String()
    row = fields.String()
    type = fields.String()
    price = Money()
    fees = Money()
    state = fields.String()
    print_state = fields.String()
    printed_at = fields.DateTime(allow_none=True)
    delivery_mode = fields.String()
    created_at = fields.DateTime()
    point_of_sale = fields.String()
    channel = fields.String()
    operator = fields.String()
    attendee_number = fields.Integer(allow_none=True)
    line = fields.String(metadata={"description": "The ticket as the order detail screen shows it"})


class PaymentRowSchema(Schema):
    mode = fields.String()
    mode_label = fields.String()
    amount = Money(metadata={"description": "Positive: payment; negative: refund"})
    tendered = Money(allow_none=True)
    change = Money(allow_none=True)
    reference = fields.String()
    at = fields.DateTime()
    operation = fields.Integer(allow_none=True)
    is_refund = fields.Boolean()


class OperationRowSchema(Schema):
    number = fields.Integer()
    label = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    at = fields.DateTime()
    operator = fields.String()
    point_of_sale = fields.String()
    amount = Money(allow_none=True)


class ActionSchema(Schema):
    code = fields.String()
    label = fields.String()
    endpoint = fields.String(allow_none=True)
    url = fields.String(allow_none=True)
    permission = fields.String(allow_none=True)
    method = fields.String()


class OrderSchema(Schema):
    number = fields.Integer()
    state = fields.String(metadata={"description": "reserved | not_settled | settled | cancelled"})
    state_label = fields.String()
    header = fields.String()
    buyer_number = fields.Integer()
    buyer_label = fields.String()
    payer_number = fields.Integer(allow_none=True)
    structure_number = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    created_line = fields.String()
    updated_line = fields.String()
    point_of_sale = fields.String()
    channel = fields.String()
    delivery_mode = fields.String()
    ticket_count = fields.Integer()
    tickets = fields.List(fields.Nested(TicketRowSchema))
    payments = fields.List(fields.Nested(PaymentRowSchema))
    operations = fields.List(fields.Nested(OperationRowSchema))
    subtotal_paid = Money()
    refunded = Money()
    total = Money()
    balance = Money(metadata={"description": "total − payments + refunds"})
    actions = fields.List(fields.Nested(ActionSchema))


class PayResultSchema(Schema):
    order = fields.Nested(OrderSchema)
    change = Money(metadata={"description": "Cash given back"})


class TicketSchema(Schema):
    barcode = fields.String()
    order = fields.Integer()
    performance_id = fields.Integer()
    performance = fields.String()
    starts_at = fields.DateTime()
    venue = fields.String()
    category = fields.String()
    tariff = fields.String()
    area = fields.String()
    seat = fields.String()
    row = fields.String()
    state = fields.String()
    print_state = fields.String()
    delivery_mode = fields.String()
    price = Money()
    fees = Money()
    attendee_number = fields.Integer(allow_none=True)
    buyer_number = fields.Integer()


class TicketRangeQuerySchema(Schema):
    first = fields.String(required=True)
    last = fields.String(required=True)


class CreditMovementSchema(Schema):
    at = fields.DateTime()
    amount = Money()
    balance_after = Money()
    reason = fields.String()
    order = fields.Integer(allow_none=True)
    operation = fields.Integer(allow_none=True)


class CreditSchema(Schema):
    contact = fields.Integer()
    balance = Money()
    movements = fields.List(fields.Nested(CreditMovementSchema))


class CreditAdjustSchema(Schema):
    amount = fields.String(required=True, metadata=AMOUNT)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
