"""The events the waiting_account plugin raises (webhooks and the change feed, ``coulisses.webhooks``),
inside the business transaction:

- ``waiting_account.invoice.issued``: every numbered document ``services.invoices`` issues (an
  invoice, a cancellation invoice, a credit note; ``kind`` says which);
- ``waiting_account.account.settled``: money received on a waiting account (a settlement by cheque,
  transfer… with its receipt, ``services.settlement.settle``; or a direct debit the bank collected,
  ``services.sepa.record_collected``, one event per instalment); ``balance`` is what the contact
  still owes after it (0.00: nothing left)."""
from __future__ import annotations

from marshmallow import Schema, fields
from sqlalchemy import select

from coulisses import webhooks
from coulisses.i18n import _l

ISSUED, SETTLED = "waiting_account.invoice.issued", "waiting_account.account.settled"


class InvoiceIssuedSchema(Schema):
    number = fields.String(metadata={"description": "The invoice's number, e.g. FA2015-00012"})
    kind = fields.String(metadata={"description": "invoice, cancellation (cancels an invoice) or credit_note"})
    contact = fields.Integer(metadata={"description": "The billing contact's number"})
    orders = fields.List(fields.Integer(), metadata={"description": "The numbers of the orders invoiced"})
    total = fields.Decimal(as_string=True, metadata={"description": "All taxes included (negative for a cancellation or a credit note)"})
    net_total = fields.Decimal(as_string=True)
    vat_total = fields.Decimal(as_string=True)
    prepaid = fields.Decimal(as_string=True, metadata={"description": "Already paid otherwise, deducted"})
    issue_date = fields.Date()
    due_date = fields.Date()
    cancels = fields.String(allow_none=True, metadata={
        "description": "The invoice this one cancels or refers to (a cancellation, a credit note), else null"})


class AccountSettledSchema(Schema):
    contact = fields.Integer(metadata={"description": "The account holder's contact number"})
    via = fields.String(metadata={"description": "settlement (a payment received, with a receipt) or direct_debit"})
    receipt = fields.Integer(allow_none=True, metadata={"description": "The receipt's number (settlement), else null"})
    mode = fields.String(allow_none=True, metadata={"description": "The payment mode's code (settlement), else null"})
    amount = fields.Decimal(as_string=True, metadata={"description": "What was received"})
    to_account = fields.Decimal(as_string=True, metadata={"description": "The part that paid what was owed"})
    to_credit = fields.Decimal(as_string=True, metadata={"description": "The overpayment put on the credit balance"})
    balance = fields.Decimal(as_string=True, metadata={"description": "What the contact still owes on the account"})
    reference = fields.String(metadata={"description": "Cheque number and bank, transfer reference, debit file…"})


EVENTS = [
    webhooks.WebhookEvent(ISSUED, _l("Facture émise"), InvoiceIssuedSchema, "waiting_account.view",
                          _l("Une facture, une facture d'annulation ou un avoir a été émis (kind).")),
    webhooks.WebhookEvent(SETTLED, _l("Compte d'attente réglé"), AccountSettledSchema, "waiting_account.view",
                          _l("Un règlement ou un prélèvement a été reçu sur un compte d'attente ; balance : ce qui "
                             "reste dû.")),
]


def invoice_issued(session, invoice, order_ids) -> None:
    from plugins.sales.models import Order
    from plugins.waiting_account.models import Invoice

    order_ids = {i for i in order_ids if i}
    orders = sorted(session.scalars(select(Order.number).where(Order.id.in_(order_ids)))) if order_ids else []
    cancels = session.get(Invoice, invoice.cancels_id).number if invoice.cancels_id else None
    data = {"number": invoice.number, "kind": invoice.kind, "contact": invoice.contact.number, "orders": orders,
            "total": invoice.total, "net_total": invoice.net_total, "vat_total": invoice.vat_total,
            "prepaid": invoice.prepaid, "issue_date": invoice.issue_date, "due_date": invoice.due_date,
            "cancels": cancels}
    webhooks.emit(session, ISSUED, data, subject=f"invoice:{invoice.number}")


def account_settled(session, account, *, via: str, amount, to_account, to_credit, reference: str = "",
                    receipt=None, mode=None) -> None:
    from plugins.waiting_account.services.accounts import balance

    data = {"contact": account.contact.number, "via": via, "receipt": receipt.number if receipt is not None else None,
            "mode": mode.code if mode is not None else None, "amount": amount, "to_account": to_account,
            "to_credit": to_credit, "balance": balance(session, account), "reference": reference}
    webhooks.emit(session, SETTLED, data, subject=f"contact:{account.contact.number}")
