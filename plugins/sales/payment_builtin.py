"""The built-in payment mode types, each a ``PaymentModeType`` (``plugins.sales.payment_types``):
cash (tendered and change), card (authorisation), cheque (number and bank), bank transfer
(reference), credit balance ("solde avoir") and "other".

Their behaviour, in one place:
- ``cash`` (Espèces): gives change; settings ``max_amount`` (e.g. the legal cash limit), ``min_amount``;
  refunded in person only (``refund_in_person``: never by a batch).
- ``card`` (Carte bancaire): the authorisation number (required when ``require_authorisation``);
  a refund to the card is at most what was paid by card on the order (net of card refunds).
- ``cheque`` (Chèque): cheque number and bank (required when ``require_number`` / ``require_bank``);
  refunds by cheque unless ``can_refund_by_cheque`` is off.
- ``bank_transfer`` (Virement): the transfer's reference (required when ``require_reference``).
- ``credit_balance`` (Solde avoir): needs a contact; paying spends their credit (refused beyond it,
  with the balance in the reason), refunding credits it (``refund_is_credit``: not capped by what the
  order received by it, nothing paid out); changing the payer moves the credit spent
  from one contact to the other.
- ``other`` (Autre paiement): a free reference, required when ``require_reference``.
"""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from coulisses.db import Money
from coulisses.i18n import _, _l, format_money

from plugins.sales.payment_types import AmountLimits, PaymentContext, PaymentModeType, PaymentOutcome, TrimmedString

ZERO = Decimal("0.00")


def _text(label, *, required=False, max_length=60, description=""):
    meta = {"label": label}
    if description:
        meta["description"] = description
    if required:
        return TrimmedString(required=True, metadata=meta, validate=validate.Length(max=max_length))
    return TrimmedString(load_default=None, allow_none=True, validate=validate.Length(max=max_length), metadata=meta)


def _required_if(ctx: PaymentContext, setting: str, name: str) -> None:
    """The field ``name`` is required when the mode's setting ``setting`` says so (InvalidError)."""
    if ctx.settings.get(setting):
        ctx.require(name)


# --------------------------------------------------------------------------- cash


class Cash(PaymentModeType):
    code = "cash"
    label = _l("Espèces")
    description = _l("Billets et pièces ; la monnaie est rendue quand le client donne plus.")
    gives_change = True
    refund_in_person = True  # counted out at the desk
    settings_schema = AmountLimits


# --------------------------------------------------------------------------- card


class CardSettings(AmountLimits):
    require_authorisation = fields.Boolean(load_default=False, metadata={
        "label": _l("N° d'autorisation obligatoire")})


class CardFields(Schema):
    authorisation = _text(_l("N° d'autorisation"), max_length=40)


class Card(PaymentModeType):
    code = "card"
    label = _l("Carte bancaire")
    description = _l("Un remboursement sur la carte ne dépasse pas ce qui a été payé par carte sur le dossier.")
    settings_schema = CardSettings
    fields_schema = CardFields
    reference_field = "authorisation"

    def check_payment(self, ctx):
        _required_if(ctx, "require_authorisation", "authorisation")
        return super().check_payment(ctx)

    def refundable(self, session, order, mode):
        return paid_with_type(session, order, self.code)


# --------------------------------------------------------------------------- cheque


class ChequeSettings(AmountLimits):
    require_number = fields.Boolean(load_default=False, metadata={"label": _l("N° de chèque obligatoire")})
    require_bank = fields.Boolean(load_default=False, metadata={"label": _l("Banque obligatoire")})
    can_refund_by_cheque = fields.Boolean(load_default=True, metadata={
        "label": _l("Rembourser par chèque"),
        "description": _l("L'organisme émet des chèques pour rembourser.")})


class ChequeFields(Schema):
    cheque_number = _text(_l("N° de chèque"), max_length=30)
    bank = _text(_l("Banque"), max_length=60)


class Cheque(PaymentModeType):
    code = "cheque"
    label = _l("Chèque")
    settings_schema = ChequeSettings
    fields_schema = ChequeFields
    reference_field = "cheque_number"

    def check_payment(self, ctx):
        _required_if(ctx, "require_number", "cheque_number")
        _required_if(ctx, "require_bank", "bank")
        return super().check_payment(ctx)

    def check_refund(self, ctx):
        if not ctx.settings.get("can_refund_by_cheque", True):
            return _("Le mode %(mode)s ne permet pas de rembourser", mode=ctx.mode.label)
        return super().check_refund(ctx)


# --------------------------------------------------------------------------- bank transfer


class TransferSettings(AmountLimits):
    require_reference = fields.Boolean(load_default=False, metadata={
        "label": _l("Référence du virement obligatoire"),
        "description": _l("Pour rapprocher le virement du relevé bancaire.")})


class TransferFields(Schema):
    transfer_reference = _text(_l("Référence du virement"), max_length=120)


class BankTransfer(PaymentModeType):
    code = "bank_transfer"
    label = _l("Virement")
    settings_schema = TransferSettings
    fields_schema = TransferFields
    reference_field = "transfer_reference"

    def check_payment(self, ctx):
        _required_if(ctx, "require_reference", "transfer_reference")
        return super().check_payment(ctx)


# --------------------------------------------------------------------------- credit balance


class CreditBalance(PaymentModeType):
    code = "credit_balance"
    label = _l("Solde avoir")
    description = _l("Dépense l'avoir du contact (jamais en dessous de zéro) ; un remboursement par ce mode "
                     "crédite son avoir.")
    needs_contact = True
    refund_is_credit = True  # a refund credits the contact's balance: nothing leaves the till

    def check_payment(self, ctx):
        reason = super().check_payment(ctx)
        if reason is not None:
            return reason
        from plugins.sales.services.credit import credit_balance

        available = credit_balance(ctx.session, ctx.contact)
        if available < ctx.amount:
            return _("Avoir insuffisant : %(balance)s disponible(s), %(wanted)s demandé(s)",
                     balance=format_money(available), wanted=format_money(ctx.amount))
        return None

    def pay(self, ctx):
        from plugins.sales.services.credit import move_credit

        move_credit(ctx.session, ctx.contact, -ctx.amount,
                    _("Paiement du dossier %(number)s", number=ctx.order.number),
                    order=ctx.order, operation=ctx.operation)  # locks the contact: refused beyond the balance
        return PaymentOutcome()

    def refund(self, ctx):
        from plugins.sales.services.credit import move_credit

        move_credit(ctx.session, ctx.contact, ctx.amount,
                    _("Remboursement du dossier %(number)s", number=ctx.order.number),
                    order=ctx.order, operation=ctx.operation)
        return PaymentOutcome()

    def check_transfer(self, source, target):
        reason = super().check_transfer(source, target)
        if reason is not None:
            return reason
        from plugins.sales.services.credit import credit_balance

        if source.amount > 0:  # a payment moves to the new payer: their credit pays it
            available = credit_balance(target.session, target.contact)
            if available < source.amount:
                return _("Avoir insuffisant : %(balance)s disponible(s), %(wanted)s demandé(s)",
                         balance=format_money(available), wanted=format_money(source.amount))
        return None

    def transfer(self, source, target):
        """A payment by credit balance moves to another payer: the first contact's credit is given
        back, the new one's is spent (a refund to credit: the reverse)."""
        from plugins.sales.services.credit import move_credit

        reason = _("Changement de payeur du dossier %(number)s", number=source.order.number)
        move_credit(source.session, source.contact, source.amount, reason, order=source.order,
                    operation=source.operation)
        move_credit(target.session, target.contact, -target.amount, reason, order=target.order,
                    operation=target.operation)


# --------------------------------------------------------------------------- other


class OtherSettings(AmountLimits):
    require_reference = fields.Boolean(load_default=False, metadata={"label": _l("Référence obligatoire")})


class OtherFields(Schema):
    reference = _text(_l("Référence"), max_length=120)


class Other(PaymentModeType):
    code = "other"
    label = _l("Autre paiement")
    settings_schema = OtherSettings
    fields_schema = OtherFields
    reference_field = "reference"

    def check_payment(self, ctx):
        _required_if(ctx, "require_reference", "reference")
        return super().check_payment(ctx)


# --------------------------------------------------------------------------- helpers


def paid_with_type(session, order, type_code: str) -> Decimal:
    """What the order received (payments − refunds) through modes of ``type_code``."""
    from plugins.sales.models import Payment, PaymentMode

    return session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0, type_=Money()))
        .join(PaymentMode, Payment.payment_mode_id == PaymentMode.id)
        .where(Payment.order_id == order.id, PaymentMode.type_code == type_code)) or ZERO


BUILTIN_TYPES = [Cash(), Card(), Cheque(), BankTransfer(), CreditBalance(), Other()]
