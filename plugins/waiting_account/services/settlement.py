"""Settling a waiting account with a physical payment (cheque with number and bank, administrative
mandate, transfer with its reference…): the oldest unpaid instalment first; what exceeds what is
owed goes to the contact's credit balance ("solde avoir"); a numbered receipt records it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.db import current_actor, next_number
from coulisses.i18n import _, format_money

from plugins.waiting_account.models import Account, Invoice, Receipt
from plugins.waiting_account.services import accounts, schedule
from plugins.waiting_account.services.accounts import ZERO

# the physical modes a settlement accepts, and what each asks for
DETAILS = {"cheque": ("cheque_number", "bank"), "bank_transfer": ("transfer_reference",),
           "other": ("reference",), "cash": (), "card": ()}


def settlement_modes(session: Session) -> list:
    """Active payment modes of a physical type (not the waiting account, not the credit balance)."""
    from plugins.sales.models import PaymentMode

    return [m for m in session.scalars(select(PaymentMode).where(PaymentMode.active.is_(True))
                                       .order_by(PaymentMode.position, PaymentMode.id))
            if m.type_code in DETAILS]


def find_account(session: Session, *, contact: Any = None, invoice_number: str | None = None) -> Account:
    """By contact (instance or id) or by the number of one of its invoices."""
    if invoice_number:
        invoice = session.scalar(select(Invoice).where(Invoice.number == invoice_number.strip()))
        if invoice is None:
            raise NotFoundError(_("Facture %(number)s introuvable", number=invoice_number))
        return session.get(Account, invoice.account_id)
    account = accounts.account_of(session, accounts.get_contact(session, contact))
    if account is None:
        raise NotFoundError(_("Ce contact n'a pas de compte d'attente"))
    return account


def settle(session: Session, account: Account | int, mode: Any, amount: Any, *, details: dict | None = None,
           instalments: list[int] | None = None, point_of_sale: Any = None) -> Receipt:
    """Receive ``amount`` by ``mode`` on ``account``. ``details``: what the mode asks for (cheque
    number and bank, transfer reference…). ``instalments``: only these (else all, oldest first)."""
    from plugins.sales.services.credit import move_credit
    from plugins.sales.services.journal import record_operation
    from plugins.sales.services.settings import get_payment_mode

    amount = accounts.money(amount)
    if amount <= 0:
        raise InvalidError(_("Montant positif requis"), {"amount": _("Montant positif requis")})
    mode = get_payment_mode(session, mode)
    if not mode.active or mode.type_code not in DETAILS:
        raise InvalidError(_("Mode de règlement refusé pour solder un compte"), {"mode": _("Mode refusé")})
    details = {k: str(v).strip()[:60] for k, v in (details or {}).items() if str(v or "").strip()}
    missing = {k: _("Champ requis") for k in DETAILS[mode.type_code] if not details.get(k)}
    if missing:
        raise InvalidError(_("Informations du règlement incomplètes"), missing)
    account_id = account if isinstance(account, int) else account.id
    account = accounts.lock_account(session, session.get(Account, account_id).contact_id)
    owed = accounts.balance(session, account)
    if instalments:
        open_ids = {i.id: left for i, left in schedule.unpaid_instalments(session, account)}
        unknown = [i for i in instalments if i not in open_ids]
        if unknown:
            raise InvalidError(_("Échéance déjà payée ou inconnue"), {"instalments": ", ".join(map(str, unknown))})
        owed = min(owed, sum((open_ids[i] for i in instalments), ZERO))
    to_account = min(amount, owed)
    to_credit = amount - to_account
    reference = " ".join(details.values())[:120]
    operation = record_operation(session, "waiting_account_settlement", point_of_sale=point_of_sale, amount=amount,
                                 details={"contact": account.contact.number, "mode": mode.code, **details})
    movement = None
    if to_account > 0:
        movement = accounts.add_movement(session, account, "settlement", -to_account, operation_id=operation.id,
                                         payment_mode_id=mode.id, reference=reference)
        schedule.allocate(session, account, movement, to_account, only=instalments)
    if to_credit > 0:
        move_credit(session, account.contact_id, to_credit,
                    _("Trop-perçu du règlement du compte d'attente (%(mode)s %(amount)s)", mode=mode.label,
                      amount=format_money(amount)), operation=operation)
    receipt = Receipt(number=next_number(session, "waiting_account.receipt"), account_id=account.id,
                      movement_id=movement.id if movement else None, payment_mode_id=mode.id, amount=amount,
                      to_account=to_account, to_credit=to_credit, reference=reference, details=details,
                      operator_id=current_actor().operator_id)
    session.add(receipt)
    session.flush()
    from plugins.waiting_account import events

    events.account_settled(session, account, via="settlement", amount=amount, to_account=to_account,
                           to_credit=to_credit, reference=reference, receipt=receipt, mode=mode)
    return receipt


def get_receipt(session: Session, number: int) -> Receipt:
    receipt = session.scalar(select(Receipt).where(Receipt.number == int(number)))
    if receipt is None:
        raise NotFoundError(_("Reçu %(number)s introuvable", number=number))
    return receipt


def total_received(receipt: Receipt) -> Decimal:
    return receipt.to_account + receipt.to_credit
