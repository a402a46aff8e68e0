"""The B2B portal's domain (no Flask): who pays for a portal customer, buying on account, what the
customer may see, paying an instalment online through a payment provider.

The account charged for a customer is their own when it is authorised, else that of a structure
they are the relay or member of whose account is authorised (a partner's buyer buys on the
partner's account); without one, the portal offers no purchase on account.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.i18n import _

from plugins.contacts.models import Contact
from plugins.waiting_account.models import Account, Instalment, Invoice
from plugins.waiting_account.services import accounts, schedule

PORTAL_MODE = "ATTENTE"


def account_holder(session: Session, contact: Contact) -> Contact | None:
    """The contact whose account pays for ``contact``'s purchases on the portal (see the module)."""
    from plugins.contacts.services.links import links_of

    candidates = [contact] + [v.other for v in links_of(session, contact, active_only=True)
                              if v.direction == "out" and v.kind in ("relay_of", "member_of")]
    for candidate in candidates:
        account = accounts.account_of(session, candidate)
        if account is not None and account.authorised:
            return candidate
    return None


def holders(session: Session, contact: Contact) -> list[int]:
    """The contacts whose orders, instalments and invoices the customer may see: themselves and the
    account holder paying for them."""
    holder = account_holder(session, contact)
    return list(dict.fromkeys([contact.id] + ([holder.id] if holder is not None else [])))


def portal_point_of_sale(session: Session):
    """The active point of sale of the ``internet`` channel, else the default one."""
    from plugins.sales.models import PointOfSale, SalesChannel

    pos = session.scalar(select(PointOfSale).join(SalesChannel, SalesChannel.id == PointOfSale.channel_id)
                         .where(SalesChannel.code == "internet", PointOfSale.active.is_(True)).order_by(PointOfSale.id))
    return pos.code if pos is not None else None


def buy_on_account(session: Session, contact: Contact, performance: Any, category: Any, tariff: Any, quantity: Any):
    """Sell ``quantity`` places to ``contact``, paid on the account holder's waiting account."""
    from plugins.sales.services.catalogue import prices_for
    from plugins.sales.services.orders import LineInput, sell
    from plugins.sales.services.payments import PaymentInput, pay

    holder = account_holder(session, contact)
    if holder is None:
        raise ConflictError(_("Votre compte ne permet pas d'acheter par compte d'attente"))
    try:
        quantity = int(quantity)
        performance, category, tariff = int(performance), int(category), int(tariff)
    except (TypeError, ValueError):
        raise InvalidError(_("Choix invalide"), {"quantity": _("Nombre de places invalide")}) from None
    if not 1 <= quantity <= 50:
        raise InvalidError(_("Choix invalide"), {"quantity": _("Entre 1 et 50 places")})
    if not any(p.category_id == category and p.tariff_id == tariff for p in prices_for(session, performance)):
        raise InvalidError(_("Choix invalide"), {"tariff": _("Ce tarif n'est pas vendu pour cette séance")})
    structure = holder if holder.id != contact.id else None
    pos = portal_point_of_sale(session)
    order = sell(session, contact, [LineInput(performance, category, tariff, quantity)], payer=holder,
                 structure=structure, delivery_mode="eticket",
                 point_of_sale=pos)
    pay(session, order, [PaymentInput(PORTAL_MODE, order.total, contact=holder.id)], point_of_sale=pos)
    return order


def visible_order(session: Session, contact: Contact, number: int):
    from plugins.sales.services.orders import get_order

    order = get_order(session, number)
    if not {order.buyer_id, order.payer_id, order.structure_id} & set(holders(session, contact)):
        raise NotFoundError(_("Dossier %(number)s introuvable", number=number))
    return order


def visible_invoice(session: Session, contact: Contact, number: str) -> Invoice:
    invoice = session.scalar(select(Invoice).where(Invoice.number == number))
    if invoice is None or invoice.contact_id not in holders(session, contact):
        raise NotFoundError(_("Facture %(number)s introuvable", number=number))
    return invoice


def portal_view(session: Session, contact: Contact) -> dict:
    from plugins.sales.services.orders import orders_of
    from plugins.waiting_account.services import invoices

    holder = account_holder(session, contact)
    seen, orders = set(), []
    for cid in holders(session, contact):
        for order in orders_of(session, cid, limit=50):
            if order.id not in seen and (order.buyer_id == contact.id or cid != contact.id):
                seen.add(order.id)
                orders.append(order)
    state = accounts.state_of(session, holder) if holder is not None else None
    account = accounts.account_of(session, holder) if holder is not None else None
    return {"contact": contact, "holder": holder, "state": state,
            "orders": sorted(orders, key=lambda o: o.number, reverse=True),
            "instalments": _with_numbers(session, schedule.schedule_of(session, account_id=account.id)) if account else [],
            "invoices": invoices.invoices_of(session, holder) if holder is not None else []}


def _with_numbers(session: Session, rows: list[dict]) -> list[dict]:
    from plugins.sales.models import Order

    numbers = dict(session.execute(select(Order.id, Order.number).where(
        Order.id.in_({r["order_id"] for r in rows if r["order_id"]}))).all())
    return [{**r, "order": numbers.get(r["order_id"])} for r in rows]


def pay_instalment_online(session: Session, contact: Contact, instalment_id: int, provider_code: str,
                          card_number: str):
    """Charge what is left on the instalment through the provider; when approved, settle it (a
    receipt). Declined: ``ConflictError`` with the provider's message, nothing recorded."""
    from plugins.waiting_account.registry import ChargeRequest, get_registry
    from plugins.waiting_account.services.settlement import settle

    instalment = session.get(Instalment, instalment_id)
    account = session.get(Account, instalment.account_id) if instalment is not None else None
    if account is None or account.contact_id not in holders(session, contact):
        raise NotFoundError(_("Échéance introuvable"))
    left = instalment.amount - schedule.paid_of(session, [instalment.id]).get(instalment.id, accounts.ZERO)
    if left <= 0 or instalment.state == "sent":
        raise ConflictError(_("Cette échéance n'est pas à payer en ligne"))
    if not (card_number or "").strip():
        raise InvalidError(_("Numéro de carte requis"), {"card_number": _("Numéro de carte requis")})
    provider = get_registry().provider(provider_code)
    result = provider.charge(ChargeRequest(amount=left, reference=f"WA-{instalment.id}", card_number=card_number,
                                           contact_number=contact.number))
    if not result.ok:
        raise ConflictError(_("Paiement refusé : %(reason)s", reason=result.message))
    return settle(session, account, provider.settlement_mode, left, instalments=[instalment.id],
                  details={"reference": result.transaction_id}, point_of_sale=portal_point_of_sale(session))
