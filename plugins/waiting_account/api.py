"""The waiting account's REST API (``/api/v1``): accounts, movements, instalments, invoices,
settlement. POSTs that move money are idempotent (``Idempotency-Key``)."""
from __future__ import annotations

from coulisses.web.extensions import db

from plugins.waiting_account.api_schemas import (
    AccountSchema, AuthorisationSchema, BillingContactSchema, InstalmentSchema, InvoiceCreateSchema, InvoiceSchema,
    MovementSchema, ProposedScheduleQuery, ProposedScheduleSchema, ReceiptSchema, AccountSettleSchema,
)
from plugins.waiting_account.models import Invoice
from plugins.waiting_account.services import accounts, invoices, schedule, settlement

TAG = ["waiting_account"]


def _contact(number):
    from plugins.contacts.services.contacts import get_contact

    return get_contact(db.session, number)


def _account(contact) -> dict:
    state = accounts.state_of(db.session, contact)
    return {"contact": contact.number, "name": contact.display_name, "authorised": state.authorised,
            "ceiling": state.ceiling, "outstanding": state.outstanding, "available": state.available}


def invoice_dict(invoice: Invoice) -> dict:
    cancels = db.session.get(Invoice, invoice.cancels_id) if invoice.cancels_id else None
    return {"number": invoice.number, "kind": invoice.kind, "contact": invoice.contact.number,
            "issue_date": invoice.issue_date, "due_date": invoice.due_date, "total": invoice.total,
            "net_total": invoice.net_total, "vat_total": invoice.vat_total, "prepaid": invoice.prepaid,
            "cancels": cancels.number if cancels else None, "state": invoices.state_label(db.session, invoice),
            "lines": [{"order": _order_number(line.order_id), "label": line.label, "quantity": line.quantity,
                       "unit_price": line.unit_price, "amount": line.amount, "vat_rate": line.vat_rate}
                      for line in invoice.lines]}


def _order_number(order_id):
    from plugins.sales.models import Order

    return db.session.get(Order, order_id).number if order_id else None


def _waiting_mode(code: str):
    from sqlalchemy import select

    from plugins.sales.models import PaymentMode

    from coulisses import InvalidError
    from coulisses.i18n import _

    mode = db.session.scalar(select(PaymentMode).where(PaymentMode.code == code))
    if mode is None or mode.type_code != schedule.TYPE_CODE or not mode.active:
        raise InvalidError(_("Mode de règlement inconnu"), {"mode": _("Un mode actif de type « Compte d'attente »")})
    return mode


def register_routes(api) -> None:
    @api.route("/waiting-account/proposed-schedule", permission="waiting_account.view", query=ProposedScheduleQuery,
               response=ProposedScheduleSchema, summary="The schedule proposed for a payment on account", tags=TAG)
    def proposed_schedule(args):
        """What the operator reviews before confirming a payment of ``amount`` by mode ``mode``: the
        proposed instalments and, with ``contact``, the account's outstanding now and after the sale.
        To adjust the schedule, give the instalments (dates in order, amounts adding up to the
        payment) as the payment's ``details.schedule`` when selling or paying
        (``[{"due_date": "2026-12-05", "amount": "110.00"}]``): 422 naming
        ``payments.<i>.details.schedule`` otherwise."""
        from coulisses import InvalidError, NotFoundError

        try:
            contact = _contact(args["contact"]) if args.get("contact") is not None else None
        except NotFoundError as exc:
            raise InvalidError(str(exc), {"contact": str(exc)}) from None
        return schedule.preview(db.session, _waiting_mode(args["mode"]), args["amount"], contact)

    @api.route("/contacts/<int:number>/waiting-account", permission="waiting_account.view", response=AccountSchema,
               summary="A contact's waiting account: authorisation, ceiling, outstanding", tags=TAG)
    def get_account(number):
        return _account(_contact(number))

    @api.route("/contacts/<int:number>/waiting-account", methods=["PUT"], permission="waiting_account.manage",
               body=AuthorisationSchema, response=AccountSchema, summary="Authorise a contact and set its ceiling",
               tags=TAG)
    def set_account(number, body):
        contact = _contact(number)
        accounts.set_authorisation(db.session, contact, authorised=body["authorised"], ceiling=body["ceiling"],
                                   note=body["note"])
        return _account(contact)

    @api.route("/contacts/<int:number>/waiting-account/movements", permission="waiting_account.view",
               response=MovementSchema, many=True, summary="The movements of a contact's account (newest first)",
               tags=TAG)
    def list_movements(number):
        account = accounts.account_of(db.session, _contact(number))
        if account is None:
            return []
        return [{"id": m.id, "at": m.at, "kind": m.kind, "amount": m.amount, "balance_after": m.balance_after,
                 "order": _order_number(m.order_id), "reference": m.reference,
                 "status": schedule.movement_status(db.session, m), "override_reason": m.override_reason}
                for m in accounts.movements(db.session, account)]

    @api.route("/contacts/<int:number>/waiting-account/instalments", permission="waiting_account.view",
               response=InstalmentSchema, many=True, summary="The schedule of a contact's account", tags=TAG)
    def list_instalments(number):
        account = accounts.account_of(db.session, _contact(number))
        return schedule.schedule_of(db.session, account_id=account.id) if account else []

    @api.route("/contacts/<int:number>/waiting-account/settlements", methods=["POST"],
               permission="waiting_account.settle", body=AccountSettleSchema, response=ReceiptSchema, status=201,
               idempotent=True, summary="Settle all or part of a contact's account with a physical payment",
               tags=TAG)
    def settle(number, body):
        account = settlement.find_account(db.session, contact=_contact(number))
        details = {k: body[k] for k in ("cheque_number", "bank", "transfer_reference", "reference")}
        receipt = settlement.settle(db.session, account, body["mode"], body["amount"], details=details,
                                    instalments=body["instalments"])
        return {"number": receipt.number, "amount": receipt.amount, "to_account": receipt.to_account,
                "to_credit": receipt.to_credit, "reference": receipt.reference,
                "outstanding": accounts.balance(db.session, account)}

    @api.route("/contacts/<int:number>/invoices", permission="waiting_account.view", response=InvoiceSchema,
               many=True, summary="A contact's invoices (newest first)", tags=TAG)
    def list_invoices(number):
        return [invoice_dict(i) for i in invoices.invoices_of(db.session, _contact(number))]

    @api.route("/contacts/<int:number>/invoices", methods=["POST"], permission="waiting_account.invoice",
               body=InvoiceCreateSchema, response=InvoiceSchema, status=201, idempotent=True,
               summary="Invoice one or several orders paid on account (global invoicing)", tags=TAG)
    def create_invoice(number, body):
        return invoice_dict(invoices.invoice_orders(db.session, _contact(number), body["orders"]))

    @api.route("/invoices/<number>", permission="waiting_account.view", response=InvoiceSchema,
               summary="An invoice", tags=TAG)
    def get_invoice(number):
        return invoice_dict(invoices.get_invoice(db.session, number))

    @api.route("/invoices/<number>/cancel", methods=["POST"], permission="waiting_account.invoice",
               response=InvoiceSchema, status=201, idempotent=True, summary="Issue the invoice's cancellation invoice",
               tags=TAG)
    def cancel_invoice(number):
        return invoice_dict(invoices.cancel_invoice(db.session, number))

    @api.route("/invoices/<number>/billing-contact", methods=["POST"], permission="waiting_account.invoice",
               body=BillingContactSchema, response=InvoiceSchema, status=201, idempotent=True,
               summary="Change the billing contact: a cancellation invoice and a new invoice", tags=TAG)
    def change_billing_contact(number, body):
        _cancellation, new = invoices.change_billing_contact(db.session, number, _contact(body["contact"]))
        return invoice_dict(new)
