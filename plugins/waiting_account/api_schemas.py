"""Marshmallow schemas of the waiting account's REST API (amounts are strings both ways)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.web.schemas import Amount, Money, Number, SafeString


class AccountSchema(Schema):
    contact = fields.Integer(metadata={"description": "Contact number"})
    name = fields.String()
    authorised = fields.Boolean()
    ceiling = Money()
    outstanding = Money()
    available = Money()


class AuthorisationSchema(Schema):
    authorised = fields.Boolean(required=True)
    ceiling = Amount(required=True)
    note = SafeString(200, load_default="")


class MovementSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    kind = fields.String()
    amount = Money()
    balance_after = Money()
    order = fields.Integer(allow_none=True)
    reference = fields.String()
    status = fields.String()
    override_reason = fields.String()


class InstalmentSchema(Schema):
    id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    position = fields.Integer()
    due_date = fields.Date()
    amount = Money()
    paid = Money()
    left = Money()
    state = fields.String()
    return_reason = fields.String()


class InvoiceLineSchema(Schema):
    order = fields.Integer(allow_none=True)
    label = fields.String()
    quantity = fields.Integer()
    unit_price = Money()
    amount = Money()
    vat_rate = fields.String()


class InvoiceSchema(Schema):
    number = fields.String()
    kind = fields.String()
    contact = fields.Integer()
    issue_date = fields.Date()
    due_date = fields.Date()
    total = Money()
    net_total = Money()
    vat_total = Money()
    prepaid = Money()
    cancels = fields.String(allow_none=True)
    state = fields.String()
    lines = fields.List(fields.Nested(InvoiceLineSchema))


class InvoiceCreateSchema(Schema):
    orders = fields.List(Number(), required=True, validate=validate.Length(min=1))


class BillingContactSchema(Schema):
    contact = Number(required=True)


class AccountSettleSchema(Schema):
    mode = SafeString(40, min_length=1, required=True)
    amount = Amount(required=True)
    cheque_number = SafeString(60, load_default="")
    bank = SafeString(60, load_default="")
    transfer_reference = SafeString(60, load_default="")
    reference = SafeString(60, load_default="")
    instalments = fields.List(fields.Integer(), load_default=None)


class ReceiptSchema(Schema):
    number = fields.Integer()
    amount = Money()
    to_account = Money()
    to_credit = Money()
    reference = fields.String()
    outstanding = Money()


class ProposedScheduleQuery(Schema):
    mode = SafeString(40, min_length=1, required=True, metadata={"description": "Code of a payment mode of type "
                                                                            "waiting_account (ATTENTE_SUIVI)"})
    amount = Amount(required=True, minimum="0.01", metadata={"description": "The amount paid on account"})
    contact = Number(load_default=None, metadata={"description": "The payment's contact (the order's payer, "
                                                                 "else its buyer): adds its account's outstanding"})


class ProposedInstalmentSchema(Schema):
    due_date = fields.Date()
    amount = Money()


class ProposedContactSchema(Schema):
    number = fields.Integer()
    name = fields.String()


class ProposedScheduleSchema(Schema):
    mode = fields.String()
    follow_up = fields.Boolean(metadata={"description": "True: instalments (\"avec suivi\")"})
    amount = Money()
    schedule = fields.List(fields.Nested(ProposedInstalmentSchema), metadata={
        "description": "The proposed schedule; adjust it and give it as the payment's details.schedule"})
    contact = fields.Nested(ProposedContactSchema, allow_none=True)
    authorised = fields.Boolean()
    outstanding = Money(metadata={"description": "What the contact owes on account now"})
    outstanding_after = Money(metadata={"description": "What it will owe after this sale"})
    ceiling = Money(metadata={"description": "Maximum outstanding"})
    refusal = fields.String(allow_none=True, metadata={"description": "Why the sale would be refused; null: accepted"})
