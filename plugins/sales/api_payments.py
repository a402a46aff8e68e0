"""The REST API of payment modes and payments beyond paying (``/api/v1``): a mode's settings, the
payments that complete later and their resolution by an operator, changing the payer of an order's
payments. Schemas here; amounts are strings ("2420.00"); every POST that moves money is idempotent."""
from __future__ import annotations

from flask_login import current_user
from marshmallow import Schema, fields, validate

from coulisses import InvalidError, NotFoundError
from coulisses.web.extensions import db
from coulisses.web.schemas import Id, Number, SafeString

from plugins.sales.api_schemas import OrderSchema, PaymentModeSchema, PendingRowSchema
from plugins.sales.models import PaymentMode
from plugins.sales.payment_types import field_specs
from plugins.sales.registry import get_registry
from plugins.sales.services import orders, payer_change, pending, settings
from plugins.sales.services.detail import order_detail

TAG = ["sales"]


# --------------------------------------------------------------------------- schemas


class PaymentModeSettingsSchema(Schema):
    code = fields.String()
    type_code = fields.String()
    settings = fields.Dict(metadata={"description": "The mode's settings (amounts as strings)"})
    settings_fields = fields.List(fields.Dict(), metadata={"description": "The settings' fields, as a form draws them"})


class SettingsInSchema(Schema):
    settings = fields.Dict(keys=SafeString(40), values=fields.Raw(allow_none=True), required=True,
                           validate=validate.Length(max=50),
                           metadata={"description": "Every setting of the mode's type (missing ones: defaults)"})


class PendingQuerySchema(Schema):
    order = Number(load_default=None, metadata={"description": "Order number"})


class PendingPaymentResolveSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(pending.OUTCOMES),
                            metadata={"description": "completed (the money moved) | failed (it did not)"})
    note = SafeString(500, min_length=1, required=True, metadata={"description": "What the operator checked"})
    reference = SafeString(120, load_default="")
    point_of_sale = SafeString(40, load_default=None)


class PayerChangeSchema(Schema):
    payer = Number(required=True, metadata={"description": "The new paying contact's number"})
    payments = fields.List(Id(), load_default=None, validate=validate.Length(min=1, max=200),
                           metadata={"description": "Payment ids (default: every standing payment)"})
    reason = SafeString(500, load_default="")
    point_of_sale = SafeString(40, load_default=None)


# --------------------------------------------------------------------------- shapes


def payment_mode_dict(mode: PaymentMode) -> dict:
    t = get_registry().payment_mode_type(mode.type_code)
    return {"code": mode.code, "label": mode.label, "type_code": mode.type_code, "type_label": str(t.label),
            "description": str(t.description or ""), "can_pay": t.can_pay, "can_refund": t.can_refund,
            "needs_contact": t.needs_contact, "gives_change": t.gives_change, "completes_later": t.completes_later,
            "operator_fields": [f.as_dict() for f in field_specs(t.fields_schema)]}


def settings_dict(mode: PaymentMode) -> dict:
    t = get_registry().payment_mode_type(mode.type_code)
    return {"code": mode.code, "type_code": mode.type_code, "settings": t.load_settings(t.settings_of(mode)),
            "settings_fields": [f.as_dict() for f in field_specs(t.settings_schema)]}


def pending_dict(p) -> dict:
    return {"id": p.id, "order": p.order.number, "mode": p.payment_mode.code, "mode_label": p.payment_mode.label,
            "amount": p.amount, "state": p.state, "state_label": p.state_label, "reference": p.reference,
            "message": p.message, "created_at": p.created_at, "payment": p.payment_id}


def _detail(order) -> dict:
    return order_detail(db.session, order, can=current_user.has_permission)


def _contact_id(number, field: str) -> int:
    from plugins.sales.api import _contact_id as contact_id

    return contact_id(number, field)


# --------------------------------------------------------------------------- routes


def register_routes(api) -> None:
    @api.route("/sales/payment-modes/<code>", permission="sales.view", response=PaymentModeSchema,
               summary="A payment mode and the fields its operator fills", tags=TAG)
    def get_payment_mode(code):
        return payment_mode_dict(settings.get_payment_mode(db.session, code))

    @api.route("/sales/payment-modes/<code>/settings", permission="sales.settings.manage",
               response=PaymentModeSettingsSchema, summary="A payment mode's settings and their form", tags=TAG)
    def get_payment_mode_settings(code):
        return settings_dict(settings.get_payment_mode(db.session, code))

    @api.route("/sales/payment-modes/<code>/settings", methods=["PUT"], permission="sales.settings.manage",
               body=SettingsInSchema, response=PaymentModeSettingsSchema,
               summary="Replace a payment mode's settings (validated by its type: 422 naming settings.<field>)",
               tags=TAG)
    def put_payment_mode_settings(code, body):
        return settings_dict(settings.update_payment_mode_settings(db.session, code, body["settings"]))

    @api.route("/sales/pending-payments", permission="sales.view", query=PendingQuerySchema,
               response=PendingRowSchema, many=True,
               summary="Payments that complete later, still pending or of unknown outcome", tags=TAG)
    def list_pending(args):
        try:  # an unknown order in a filter is the query's fault (422), not a missing resource (404)
            order = orders.get_order(db.session, args["order"]) if args["order"] is not None else None
        except NotFoundError as exc:
            raise InvalidError(str(exc), {"order": str(exc)}) from None
        return [pending_dict(p) for p in pending.open_pending(db.session, order=order)]

    @api.route("/sales/pending-payments/<int:pending_id>/resolve", methods=["POST"],
               permission="sales.payments.resolve", body=PendingPaymentResolveSchema, response=PendingRowSchema,
               idempotent=True, summary="An operator decides the outcome of a pending or unknown payment", tags=TAG)
    def resolve_pending(pending_id, body):
        """Never retried automatically: the operator checked the terminal's journal or the bank. 409
        when it is already resolved."""
        row = pending.get_pending(db.session, pending_id)
        pending.resolve_pending(db.session, row, body["outcome"], note=body["note"], reference=body["reference"],
                                point_of_sale=body["point_of_sale"])
        return pending_dict(row)

    @api.route("/orders/<int:number>/payer", methods=["POST"], permission="sales.payer.change",
               body=PayerChangeSchema, response=OrderSchema, status=201, idempotent=True,
               summary="Change the paying contact of an order's payments (correction entries)", tags=TAG)
    def change_order_payer(number, body):
        """Each payment moved gets a reversal (old contact) and a replacement (new contact) naming it in
        ``correction_of``; the original rows never change. 409 when nothing can move or a mode refuses
        (the new payer's credit balance is too small)."""
        order = orders.get_order(db.session, number)
        payer_change.change_payer(db.session, order, _contact_id(body["payer"], "payer"), payments=body["payments"],
                                  reason=body["reason"], point_of_sale=body["point_of_sale"])
        return _detail(order)
