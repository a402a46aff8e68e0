"""Marshmallow schemas of the baskets' REST API (``plugins/sales/api_baskets.py``). Amounts are
strings both ways; the bounds are the host's fields' (``coulisses.web.schemas``)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.web.schemas import Id, Money, Number, SafeString

from plugins.sales.api_schemas import (
    BARCODE, MAX_LINES, MAX_PAYMENTS, MAX_TICKETS, LineInSchema, OrderSchema, PaymentInSchema,
)
from plugins.sales.models import BASKET_STATES, DELIVERY_MODES


def _point_of_sale():
    return SafeString(40, load_default=None, metadata={"description": "Point of sale code"})


ORDER = {"description": "An order number of the basket (taken up or created in it)"}


class BasketOpenSchema(Schema):
    point_of_sale = _point_of_sale()
    contact = Number(load_default=None, metadata={"description": "The basket's contact number"})
    note = SafeString(200, load_default="")


class BasketQuerySchema(Schema):
    state = fields.String(load_default="held", validate=validate.OneOf(BASKET_STATES))
    point_of_sale = _point_of_sale()


class BasketLinesSchema(Schema):
    action = fields.String(load_default="reserve", validate=validate.OneOf(["reserve", "sell"]),
                           metadata={"description": "reserve (held until paid) or sell"})
    order = Number(load_default=None, metadata={"description": "Add to this order of the basket; default: a new "
                                                               "order for ``buyer``"})
    buyer = Number(load_default=None, metadata={"description": "The buyer's contact number (a new order)"})
    payer = Number(load_default=None)
    structure = Number(load_default=None)
    lines = fields.List(fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1, max=MAX_LINES))
    delivery_mode = fields.String(load_default="handed", validate=validate.OneOf(DELIVERY_MODES))
    note = SafeString(2000, multiline=True, load_default="")


class TakeUpSchema(Schema):
    order = Number(required=True, metadata={"description": "The order number to take up"})


class RemoveTicketsSchema(Schema):
    order = Number(required=True, metadata=ORDER)
    tickets = fields.List(SafeString(20, metadata=BARCODE), required=True,
                          validate=validate.Length(min=1, max=MAX_TICKETS))


class ChangeTariffSchema(Schema):
    order = Number(required=True, metadata=ORDER)
    ticket = SafeString(20, required=True, metadata=BARCODE)
    tariff = Id(required=True, metadata={"description": "The new tariff's id"})


class BasketPaySchema(Schema):
    payments = fields.List(fields.Nested(PaymentInSchema), required=True,
                           validate=validate.Length(min=1, max=MAX_PAYMENTS))
    partial = fields.Boolean(load_default=False, metadata={"description": "Accept less than what is due (a "
                                                                          "deposit); default: pay it all"})


class HoldSchema(Schema):
    note = SafeString(200, load_default=None)


class ResumeSchema(Schema):
    point_of_sale = _point_of_sale()


class BasketOrderSchema(Schema):
    number = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    total = Money()
    paid = Money()
    balance = Money()


class BasketEntrySchema(Schema):
    kind = fields.String()
    kind_label = fields.String()
    order = fields.Integer(allow_none=True)
    amount = Money(allow_none=True)
    at = fields.DateTime()
    operator = fields.String()


class BasketSchema(Schema):
    number = fields.Integer(metadata={"description": "The basket's operation number (\"Ordre 1271\")"})
    state = fields.String()
    state_label = fields.String()
    point_of_sale = fields.String()
    contact = fields.Integer(allow_none=True)
    operator = fields.String()
    created_at = fields.DateTime()
    held_at = fields.DateTime(allow_none=True)
    held_by = fields.String()
    closed_at = fields.DateTime(allow_none=True)
    note = fields.String()
    due = Money(metadata={"description": "What the basket's orders still owe together"})
    orders = fields.List(fields.Nested(BasketOrderSchema))
    entries = fields.List(fields.Nested(BasketEntrySchema))


class BasketPayResultSchema(Schema):
    basket = fields.Nested(BasketSchema)
    change = Money(metadata={"description": "Cash given back"})
    orders = fields.List(fields.Nested(OrderSchema))
