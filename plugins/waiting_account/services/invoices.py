"""Invoices of orders paid on account: ranges of numbers, issuing (one order, several orders of a
contact: global invoicing), cancellation invoices, credit notes, the change of billing contact.

Numbers: ``<prefix><number>`` from the active range valid on the issue date; the number comes from
the host's gapless counter of the range (``next_number``: its row stays locked until commit), so
concurrent invoices get consecutive numbers with no gap and no duplicate; a range used up refuses
(the transaction rolls back and gives the number back). An issued invoice never changes.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import current_actor, next_number, utcnow
from coulisses.i18n import _, format_money, local_time

from plugins.waiting_account.models import Account, Invoice, InvoiceLine, InvoiceRange, Movement
from plugins.waiting_account.services import accounts
from plugins.waiting_account.services.accounts import ZERO

CENT = Decimal("0.01")


# --------------------------------------------------------------------------- ranges


def create_range(session: Session, prefix: str, first_number: int, last_number: int, valid_from: date,
                 valid_until: date) -> InvoiceRange:
    errors = {}
    prefix = (prefix or "").strip()
    if not prefix or len(prefix) > 20:
        errors["prefix"] = _("Préfixe requis (20 caractères au plus)")
    if first_number is None or int(first_number) < 1:
        errors["first_number"] = _("Premier numéro positif requis")
    elif last_number is None or int(last_number) < int(first_number):
        errors["last_number"] = _("Le dernier numéro suit le premier")
    if not valid_from or not valid_until or valid_until < valid_from:
        errors["valid_until"] = _("La fin de validité suit son début")
    if errors:
        raise InvalidError(_("Plage de factures invalide"), errors)
    rng = InvoiceRange(prefix=prefix, first_number=int(first_number), last_number=int(last_number),
                       valid_from=valid_from, valid_until=valid_until)
    session.add(rng)
    session.flush()
    return rng


def range_for(session: Session, day: date) -> InvoiceRange:
    rng = session.scalar(select(InvoiceRange).where(InvoiceRange.active.is_(True), InvoiceRange.valid_from <= day,
                                                    InvoiceRange.valid_until >= day).order_by(InvoiceRange.id))
    if rng is None:
        raise ConflictError(_("Aucune plage de numéros de facture valide le %(day)s : créez-en une", day=day.isoformat()))
    return rng


def _take_number(session: Session, rng: InvoiceRange) -> tuple[str, int]:
    value = next_number(session, f"waiting_account.invoice.{rng.id}", start=rng.first_number)
    if value > rng.last_number:
        raise ConflictError(_("La plage de factures %(range)s est épuisée", range=str(rng)))
    return f"{rng.prefix}{value}", value


# --------------------------------------------------------------------------- amounts


def vat_split(total: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net, vat) of an amount all taxes included."""
    if rate == 0:
        return total, ZERO
    net = (total / (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP)
    return net, total - net


def _buyer(contact) -> dict:
    address = contact.main_address
    lines = address.street_lines if address is not None else []
    return {"name": contact.display_name, "number": contact.number, "email": contact.email or "",
            "address": [x for x in lines if x], "postal_code": getattr(address, "postal_code", "") or "",
            "city": getattr(address, "city", "") or "", "country": getattr(address, "country", "") or "FR"}


def on_account_by_order(session: Session, account: Account) -> dict[int, Decimal]:
    """What each order owes on this account (sales on account less refunds on account)."""
    out: dict[int, Decimal] = {}
    for order_id, amount in session.execute(select(Movement.order_id, Movement.amount).where(
            Movement.account_id == account.id, Movement.order_id.is_not(None),
            Movement.kind.in_(("sale", "refund")))):
        out[order_id] = out.get(order_id, ZERO) + amount
    return out


def live_invoice_of(session: Session, order_id: int) -> Invoice | None:
    """The order's invoice that no cancellation invoice cancelled."""
    return live_invoices_for(session, [order_id]).get(order_id)


def invoiceable_orders(session: Session, contact: Any) -> list:
    """The orders paid on account by the contact and not yet invoiced (oldest first)."""
    from plugins.sales.models import Order

    account = accounts.account_of(session, accounts.get_contact(session, contact))
    if account is None:
        return []
    ids = [i for i, amount in sorted(on_account_by_order(session, account).items()) if amount > 0]
    invoiced = live_invoices_for(session, ids)
    ids = [i for i in ids if i not in invoiced]
    return list(session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.number))) if ids else []


# --------------------------------------------------------------------------- issuing


def _order_lines(session: Session, order, labels: dict | None = None) -> list[tuple[str, int, Decimal, Decimal]]:
    """(label, quantity, unit price, amount) of each line's live tickets; ``labels`` caches the
    performances' labels over the orders of one invoice."""
    from plugins.sales.services.catalogue import performance_label

    labels = {} if labels is None else labels
    live_by_line: dict[int, list] = {}
    for t in order.tickets:
        if t.state != "cancelled":
            live_by_line.setdefault(t.line_id, []).append(t)
    rows = []
    for line in order.lines:
        live = live_by_line.get(line.id)
        if not live:
            continue
        amount = sum((t.price + t.fees for t in live), ZERO)
        if line.performance_id not in labels:
            labels[line.performance_id] = performance_label(line.performance)
        label = _("Dossier %(number)s — %(performance)s — %(category)s — %(tariff)s", number=order.number,
                  performance=labels[line.performance_id], category=line.category.label, tariff=line.tariff.label)
        rows.append((label, len(live), (amount / len(live)).quantize(CENT), amount))
    return rows


def _issue(session: Session, account: Account, contact, kind: str, rows: list[tuple[int | None, str, int, Decimal, Decimal]],
           *, cancels: Invoice | None = None, when: date | None = None, prepaid: Decimal = ZERO) -> Invoice:
    settings = accounts.organisation_settings(session)
    day = when or local_time(utcnow()).date()
    rng = range_for(session, day)
    number, value = _take_number(session, rng)
    total = sum((r[4] for r in rows), ZERO)
    net, vat = vat_split(total, settings.vat_rate)
    invoice = Invoice(number=number, range_id=rng.id, sequence=value, kind=kind, contact_id=contact.id,
                      account_id=account.id, cancels_id=cancels.id if cancels else None, issued_at=utcnow(),
                      issue_date=day, due_date=day + timedelta(days=settings.payment_days), total=total,
                      net_total=net, vat_total=vat, prepaid=prepaid, buyer=_buyer(contact), operator_id=current_actor().operator_id)
    session.add(invoice)
    session.flush()
    rate = str(settings.vat_rate.normalize())
    for order_id, label, quantity, unit, amount in rows:
        session.add(InvoiceLine(invoice_id=invoice.id, order_id=order_id, label=label[:300], quantity=quantity,
                                unit_price=unit, amount=amount, vat_rate=rate))
    session.flush()
    from plugins.waiting_account import events

    events.invoice_issued(session, invoice, [r[0] for r in rows])
    return invoice


def live_invoices_for(session: Session, order_ids: Iterable[int]) -> dict[int, Invoice]:
    """The live invoice (not cancelled) of each of these orders that has one, in one query."""
    ids = list(order_ids)
    if not ids:
        return {}
    cancelled = select(Invoice.cancels_id).where(Invoice.kind == "cancellation", Invoice.cancels_id.is_not(None))
    rows = session.execute(select(InvoiceLine.order_id, Invoice).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                           .where(InvoiceLine.order_id.in_(ids), Invoice.kind == "invoice",
                                  Invoice.id.not_in(cancelled)).order_by(Invoice.id))
    return {order_id: invoice for order_id, invoice in rows}


def _load_orders(session: Session, refs: list[Any]) -> list:
    """The orders (instances or numbers) with their lines, catalogue and tickets loaded at once."""
    from sqlalchemy.orm import selectinload

    from plugins.sales.models import Order, OrderLine, Performance

    numbers = [o.number if hasattr(o, "number") else int(o) for o in refs]
    found = {o.number: o for o in session.scalars(
        select(Order).where(Order.number.in_(numbers)).options(
            selectinload(Order.tickets),
            selectinload(Order.lines).selectinload(OrderLine.performance).selectinload(Performance.event),
            selectinload(Order.lines).selectinload(OrderLine.category),
            selectinload(Order.lines).selectinload(OrderLine.tariff)))}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise NotFoundError(_("Dossier %(number)s introuvable", number=missing[0]))
    return [found[n] for n in dict.fromkeys(numbers)]


def invoice_orders(session: Session, contact: Any, orders: Iterable[Any], *, when: date | None = None) -> Invoice:
    """One invoice for ``orders`` (one or several: global invoicing), paid on account by ``contact``
    and not yet invoiced. The lines are the orders' tickets; what was paid otherwise is deducted
    as already paid (``prepaid``)."""
    contact = accounts.get_contact(session, contact)
    account = accounts.lock_account(session, contact)
    owed = on_account_by_order(session, account)
    refs = list(orders)
    if not refs:
        raise InvalidError(_("Aucun dossier à facturer"), {"orders": _("Choisissez au moins un dossier")})
    orders = _load_orders(session, refs)
    invoiced = live_invoices_for(session, [o.id for o in orders])
    rows, prepaid, labels = [], ZERO, {}
    for order in sorted(orders, key=lambda o: o.number):
        if owed.get(order.id, ZERO) <= 0:
            raise ConflictError(_("Le dossier %(number)s n'est pas payé par le compte d'attente de %(contact)s",
                                  number=order.number, contact=contact.display_name))
        if order.id in invoiced:
            raise ConflictError(_("Le dossier %(number)s est déjà facturé (facture %(invoice)s)", number=order.number,
                                  invoice=invoiced[order.id].number))
        lines = _order_lines(session, order, labels)
        rows += [(order.id, *r) for r in lines]
        prepaid += sum((r[3] for r in lines), ZERO) - owed[order.id]
    if prepaid < 0:
        raise ConflictError(_("Le compte d'attente porte plus que le montant des billets de ces dossiers"))
    return _issue(session, account, contact, "invoice", rows, when=when, prepaid=prepaid)


def cancel_invoice(session: Session, invoice: Invoice | str, *, when: date | None = None) -> Invoice:
    """A cancellation invoice: the same lines, negative; the orders may be invoiced again."""
    invoice = get_invoice(session, invoice)
    if invoice.kind != "invoice":
        raise ConflictError(_("Seule une facture peut être annulée"))
    if session.scalar(select(Invoice.id).where(Invoice.cancels_id == invoice.id, Invoice.kind == "cancellation")) is not None:
        raise ConflictError(_("La facture %(number)s est déjà annulée", number=invoice.number))
    account = accounts.lock_account(session, invoice.contact_id)
    rows = [(line.order_id, _("Annulation : %(label)s", label=line.label), line.quantity, -line.unit_price,
             -line.amount) for line in invoice.lines]
    return _issue(session, account, invoice.contact, "cancellation", rows, cancels=invoice, when=when,
                  prepaid=-invoice.prepaid)


def change_billing_contact(session: Session, invoice: Invoice | str, new_contact: Any) -> tuple[Invoice, Invoice]:
    """After the invoice: a cancellation invoice, the debt of its orders moved to the new contact's
    account (a movement on each account, the unpaid schedule moved), a new invoice in their name."""
    from plugins.waiting_account.services import schedule

    invoice = get_invoice(session, invoice)
    new_contact = accounts.get_contact(session, new_contact, "contact")
    if new_contact.id == invoice.contact_id:
        raise InvalidError(_("Même contact de facturation"), {"contact": _("Choisissez un autre contact")})
    orders = list(dict.fromkeys(line.order_id for line in invoice.lines if line.order_id))
    cancellation = cancel_invoice(session, invoice)
    old = accounts.lock_account(session, invoice.contact_id)
    new = accounts.lock_account(session, new_contact)
    for order_id in orders:
        unpaid = [(i, left) for i, left in schedule.unpaid_instalments(session, old) if i.order_id == order_id]
        left = sum((x for _, x in unpaid), ZERO)
        if left <= 0:
            continue
        out = accounts.add_movement(session, old, "transfer", -left, order_id=order_id,
                                    reference=_("Vers %(contact)s", contact=new_contact.display_name)[:120])
        schedule.allocate(session, old, out, left, only=[i.id for i, _ in unpaid])
        forced = accounts.check_sale(session, new, left)
        moved = accounts.add_movement(session, new, "sale", left, order_id=order_id, override_reason=forced,
                                      reference=_("Depuis %(contact)s", contact=invoice.contact.display_name)[:120])
        from plugins.waiting_account.models import Instalment

        for i, (inst, part) in enumerate(unpaid, start=1):
            session.add(Instalment(account_id=new.id, movement_id=moved.id, order_id=order_id, position=i,
                                   due_date=inst.due_date, amount=part, state="open"))
        session.flush()
    from plugins.sales.models import Order

    return cancellation, invoice_orders(session, new_contact, [session.get(Order, i) for i in orders])


def credit_note_for_refund(session: Session, account: Account, order, amount: Decimal) -> Invoice | None:
    """A refund on account of an invoiced order issues a credit note of the refunded amount."""
    invoice = live_invoice_of(session, order.id)
    if invoice is None or amount <= 0:
        return None
    rows = [(order.id, _("Avoir sur la facture %(number)s — remboursement du dossier %(order)s",
                         number=invoice.number, order=order.number), 1, -amount, -amount)]
    return _issue(session, account, invoice.contact, "credit_note", rows, cancels=invoice)


def get_invoice(session: Session, ref: Invoice | str | int) -> Invoice:
    if isinstance(ref, Invoice):
        return ref
    invoice = session.get(Invoice, ref) if isinstance(ref, int) else session.scalar(
        select(Invoice).where(Invoice.number == str(ref).strip()))
    if invoice is None:
        raise NotFoundError(_("Facture %(number)s introuvable", number=ref))
    return invoice


def invoices_of(session: Session, contact: Any, limit: int = 200) -> list[Invoice]:
    contact = accounts.get_contact(session, contact)
    return list(session.scalars(select(Invoice).where(Invoice.contact_id == contact.id)
                                .order_by(Invoice.id.desc()).limit(limit)))


def state_label(session: Session, invoice: Invoice) -> str:
    if invoice.kind == "cancellation":
        return _("Facture d'annulation")
    if invoice.kind == "credit_note":
        return _("Avoir")
    if session.scalar(select(Invoice.id).where(Invoice.cancels_id == invoice.id, Invoice.kind == "cancellation")) is not None:
        return _("Annulée")
    return _("Émise")


def describe(invoice: Invoice) -> str:
    return _("Facture %(number)s — %(total)s", number=invoice.number, total=format_money(invoice.total))
