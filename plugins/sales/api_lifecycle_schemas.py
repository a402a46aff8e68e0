"""Marshmallow schemas of the order's life in the REST API (``api_lifecycle.py``): availability,
reservation expiry, delivery and documents, tills. Amounts are strings both ways."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.web.schemas import Amount, Id, Int, Limit, Money, SafeString

from plugins.sales.models import DELIVERY_MODES, DOCUMENT_SENDS, DOCUMENT_TYPES, TILL_STATES


def _point_of_sale():
    return SafeString(40, load_default=None, metadata={"description": "Point of sale code"})


class CategoryFiguresSchema(Schema):
    category_id = fields.Integer()
    code = fields.String()
    label = fields.String()
    contingent = fields.String(allow_none=True)
    contingent_label = fields.String()
    capacity = fields.Integer()
    sold = fields.Integer()
    reserved = fields.Integer()
    held = fields.Integer()
    available = fields.Integer()


class AvailabilitySchema(Schema):
    id = fields.Integer()
    label = fields.String()
    event_title = fields.String()
    venue_name = fields.String()
    starts_at = fields.AwareDateTime()
    on_sale = fields.Boolean()
    capacity = fields.Integer()
    sold = fields.Integer()
    reserved = fields.Integer()
    held = fields.Integer()
    available = fields.Integer()
    categories = fields.List(fields.Nested(CategoryFiguresSchema))


class AvailabilityQuerySchema(Schema):
    starts_from = fields.AwareDateTime(load_default=None)
    limit = Limit(100, 500)


class OptionSchema(Schema):
    expires_at = fields.AwareDateTime(required=True, allow_none=True,
                                      metadata={"description": "When the reservation expires; null: never"})
    point_of_sale = _point_of_sale()


class OptionResultSchema(Schema):
    number = fields.Integer()
    state = fields.String()
    option_expires_at = fields.AwareDateTime(allow_none=True)


class OrderDocumentSchema(Schema):
    id = fields.Integer(allow_none=True)
    type_code = fields.String()
    type_label = fields.String()
    quantity = fields.Integer()
    send = fields.String()
    send_label = fields.String()
    state = fields.String()
    state_label = fields.String()
    document_id = fields.Integer(allow_none=True)
    error = fields.String()


class DeliverySchema(Schema):
    number = fields.Integer()
    mode = fields.String()
    mode_label = fields.String()
    contact_number = fields.Integer(allow_none=True)
    contact = fields.String()
    address = fields.String()
    email = fields.String()
    immediate_print = fields.Boolean()
    documents = fields.List(fields.Nested(OrderDocumentSchema))


class DeliveryInSchema(Schema):
    delivery_mode = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_MODES))
    contact = Id(load_default=None, metadata={"description": "The delivery contact's number"})
    address = SafeString(2000, multiline=True, load_default=None)
    email = SafeString(200, load_default=None)
    immediate_print = fields.Boolean(load_default=None)
    point_of_sale = _point_of_sale()


class DocumentInSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(DOCUMENT_TYPES))
    send = fields.String(required=True, validate=validate.OneOf(DOCUMENT_SENDS))
    quantity = Int(1, 20, load_default=1)


class TillQuerySchema(Schema):
    point_of_sale = _point_of_sale()
    state = fields.String(load_default=None, validate=validate.OneOf(TILL_STATES))
    limit = Limit(50, 500)


class TillOpenSchema(Schema):
    opening_float = Amount(minimum=0, load_default="0.00")
    point_of_sale = _point_of_sale()


class TillCloseSchema(Schema):
    counts = fields.Dict(keys=SafeString(40), values=Amount(minimum=0), required=True,
                         validate=validate.Length(max=50),
                         metadata={"description": "Payment mode code → amount counted", "example": {"CASH": "365.00"}})
    reason = SafeString(2000, multiline=True, load_default="")


class TillModeSchema(Schema):
    code = fields.String()
    label = fields.String()
    is_cash = fields.Boolean()
    payments = Money()
    refunds = Money()
    expected = Money()
    counted = Money(allow_none=True)
    difference = Money(allow_none=True)


class TillOperationSchema(Schema):
    number = fields.Integer()
    at = fields.AwareDateTime()
    kind = fields.String()
    kind_label = fields.String()
    order = fields.Integer(allow_none=True)
    amount = Money(allow_none=True)


class TillSchema(Schema):
    id = fields.Integer()
    number = fields.Integer()
    state = fields.String()
    point_of_sale = fields.String()
    point_of_sale_code = fields.String()
    operator = fields.String()
    opened_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    opening_float = Money()
    expected_cash = Money()
    payments = Money()
    refunds = Money()
    difference = Money(allow_none=True)
    reason = fields.String()
    modes = fields.List(fields.Nested(TillModeSchema))
    operations = fields.List(fields.Nested(TillOperationSchema))
