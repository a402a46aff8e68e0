"""Marshmallow schemas of the sales REST API (``plugins/sales/api.py``). Amounts are strings
("2420.00") both ways: a JSON number is refused for money (floats are never money). Every id, number,
quantity, amount, list and text of a request has the bounds the OpenAPI document states (the host's
``coulisses.web.schemas`` fields)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.web.schemas import Amount, Id, Int, Limit, Money, Number, SafeString

from plugins.sales.models import DELIVERY_MODES

MAX_LINES = 200  # lines of one basket
MAX_TICKETS = 5000  # tickets of one line, barcodes of one request
MAX_PAYMENTS = 50
BARCODE = {"description": "A ticket's barcode (11 digits)", "example": "10000000009"}


# --------------------------------------------------------------------------- catalogue


class SeasonSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    active = fields.Boolean(metadata={"description": "False: deactivated (no longer offered when selling)"})


class EventQuerySchema(Schema):
    season = Id(load_default=None)


class EventSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    title = fields.String()
    season_id = fields.Integer(allow_none=True)
    description = fields.String()
    for_children = fields.Boolean()
    active = fields.Boolean(metadata={"description": "False: deactivated (its performances are off sale)"})


class PerformanceQuerySchema(Schema):
    event = Id(load_default=None)
    season = Id(load_default=None)
    starts_from = fields.AwareDateTime(load_default=None)
    starts_until = fields.AwareDateTime(load_default=None)
    q = SafeString(200, load_default=None, metadata={"description": "Part of the event's title"})
    limit = Limit(100, 1000)


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


class FieldSpecSchema(Schema):
    name = fields.String()
    label = fields.String()
    kind = fields.String(metadata={"description": "text | amount | integer | boolean | choice"})
    required = fields.Boolean()
    description = fields.String()
    choices = fields.List(fields.List(fields.String()), metadata={"description": "[value, label] pairs"})
    max_length = fields.Integer(allow_none=True)


class PaymentModeSchema(Schema):
    code = fields.String()
    label = fields.String()
    type_code = fields.String()
    type_label = fields.String()
    description = fields.String()
    can_pay = fields.Boolean()
    can_refund = fields.Boolean()
    needs_contact = fields.Boolean()
    gives_change = fields.Boolean()
    completes_later = fields.Boolean(metadata={"description": "A payment may stay pending (terminal, online)"})
    operator_fields = fields.List(fields.Nested(FieldSpecSchema),
                         metadata={"description": "What the operator fills: send them as a payment's `details`"})


# --------------------------------------------------------------------------- orders


class LineInSchema(Schema):
    performance = Id(required=True, metadata={"description": "Performance id"})
    category = Id(required=True, metadata={"description": "Seat category id"})
    tariff = Id(required=True, metadata={"description": "Tariff id"})
    quantity = Int(1, MAX_TICKETS, load_default=None, metadata={"description": "Default: the number of seats, else 1"})
    seats = fields.List(Id(), load_default=list, validate=validate.Length(max=MAX_TICKETS),
                        metadata={"description": "Seat ids (seated venues)"})
    attendees = fields.List(Number(allow_none=True), load_default=list, validate=validate.Length(max=MAX_TICKETS),
                            metadata={"description": "Contact numbers, one per ticket (optional)"})
    area = Id(load_default=None)


class PaymentInSchema(Schema):
    mode = SafeString(40, required=True, metadata={"description": "Payment mode code (CASH, CARD…)"})
    amount = Amount(required=True, minimum="0.01")
    contact = Number(load_default=None, metadata={"description": "Contact number (credit balance…)"})
    reference = SafeString(120, load_default="")
    details = fields.Dict(keys=SafeString(40), values=fields.Raw(allow_none=True), load_default=dict,
                          validate=validate.Length(max=20), metadata={
                              "description": "The mode's fields (`operator_fields` of /sales/payment-modes): cheque_number, "
                                             "bank, authorisation, transfer_reference…"})


def _point_of_sale():
    return SafeString(40, load_default=None, metadata={"description": "Point of sale code"})


def _barcodes(description: str):
    return fields.List(SafeString(20, metadata=BARCODE), load_default=None,
                       validate=validate.Length(min=1, max=MAX_TICKETS), metadata={"description": description})


class OrderCreateSchema(Schema):
    action = fields.String(load_default="sell", validate=validate.OneOf(["sell", "reserve"]))
    buyer = Number(required=True, metadata={"description": "The buyer's contact number"})
    payer = Number(load_default=None, metadata={"description": "The paying contact's number"})
    structure = Number(load_default=None, metadata={"description": "The structure a relay buys for"})
    lines = fields.List(fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=MAX_LINES))
    payments = fields.List(fields.Nested(PaymentInSchema), load_default=list,
                           validate=validate.Length(max=MAX_PAYMENTS))
    point_of_sale = _point_of_sale()
    delivery_mode = fields.String(load_default="handed", validate=validate.OneOf(DELIVERY_MODES))
    note = SafeString(2000, multiline=True, load_default="")


class PaySchema(Schema):
    payments = fields.List(fields.Nested(PaymentInSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_PAYMENTS))
    point_of_sale = _point_of_sale()


class CancelSchema(Schema):
    tickets = _barcodes("Barcodes to cancel; default: every reserved ticket")
    point_of_sale = _point_of_sale()


class PrintSchema(Schema):
    tickets = _barcodes("Barcodes to mark printed; default: every sold ticket")
    reprint = fields.Boolean(load_default=False)
    point_of_sale = _point_of_sale()


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
    id = fields.Integer()
    mode = fields.String()
    mode_label = fields.String()
    amount = Money(metadata={"description": "Positive: payment; negative: refund"})
    tendered = Money(allow_none=True)
    change = Money(allow_none=True)
    reference = fields.String()
    at = fields.DateTime()
    operation = fields.Integer(allow_none=True)
    is_refund = fields.Boolean()
    details = fields.Dict(metadata={"description": "The fields the operator filled"})
    correction_of = fields.Integer(allow_none=True, metadata={
        "description": "A change of payer: the payment this reversal / replacement corrects"})


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


class OrderBlockFactSchema(Schema):
    label = fields.String()
    value = fields.String()


class OrderBlockSchema(Schema):
    code = fields.String()
    title = fields.String()
    caption = fields.String()
    facts = fields.List(fields.Nested(OrderBlockFactSchema))
    columns = fields.List(fields.String())
    rows = fields.List(fields.List(fields.String()))
    numeric = fields.List(fields.Integer(), metadata={"description": "Indexes of the columns aligned right"})
    position = fields.Integer()


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
    blocks = fields.List(fields.Nested(OrderBlockSchema), metadata={
        "description": "What other plugins show of the order (sales_order_blocks): the waiting account's schedule…"})


class PendingRowSchema(Schema):
    id = fields.Integer()
    order = fields.Integer()
    mode = fields.String()
    mode_label = fields.String()
    amount = Money(metadata={"description": "Positive: payment; negative: refund"})
    state = fields.String(metadata={"description": "pending | unknown | completed | failed"})
    state_label = fields.String()
    reference = fields.String()
    message = fields.String()
    created_at = fields.DateTime()
    payment = fields.Integer(allow_none=True)


class PayResultSchema(Schema):
    order = fields.Nested(OrderSchema)
    change = Money(metadata={"description": "Cash given back"})
    pending = fields.List(fields.Nested(PendingRowSchema), metadata={
        "description": "Payments that complete later (a terminal): not counted until completed"})


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
    first = SafeString(20, required=True, metadata=BARCODE)
    last = SafeString(20, required=True, metadata=BARCODE)


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
    amount = Amount(required=True, metadata={"description": "Positive: credit; negative: debit (never below zero)"})
    reason = SafeString(200, min_length=1, required=True)
    point_of_sale = _point_of_sale()
