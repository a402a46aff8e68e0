"""Baskets ("paniers"): one basket is exactly one numbered operation ("Ordre 1271"), whatever it
reserves, sells, cancels and pays across several orders.

``open_basket`` takes the operation's number (gapless, never reused) and every service called with
``operation=basket.operation`` joins it (``orders.reserve``/``sell``/``add_lines``/
``cancel_reservation``/``release_tickets``/``mark_printed``, ``payments.pay``/``refund``,
``credit.adjust_credit``, ``journal.record_operation``…). A basket is ``open`` while an operator
works in it, ``held`` (METTRE EN ATTENTE) until any operator of its point of sale resumes it,
``settled`` when done, ``abandoned`` (ABANDONNER ORDRE) after releasing what it reserved: its
operation stays in the journal with an ``abandon`` entry, so the numbering has no gap.

Every change locks the basket row first (``lock_rows``): a hold, an abandon and a sale in the same
basket cannot cross. "Reprise de dossier" (``take_up``) brings an existing order into the basket to
add tickets (``add_lines``), remove reserved ones (``remove_tickets``), change a reserved ticket's
tariff (``change_tariff``) and pay what remains due (``pay_due``), all in the basket's operation.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import current_actor, lock_rows, utcnow
from coulisses.i18n import _, format_money

from plugins.sales.models import Basket, Operation, OperationEntry, Order, Payment, Ticket
from plugins.sales.services import orders as order_services
from plugins.sales.services.common import ZERO, contact as get_contact, money
from plugins.sales.services.journal import joined_by_basket, record_operation
from plugins.sales.services.payments import PaymentInput, PayResult, balance, pay
from plugins.sales.services.settings import resolve_point_of_sale


# --------------------------------------------------------------------------- the basket itself


def open_basket(session: Session, *, point_of_sale: Any = None, contact: Any = None, note: str = "") -> Basket:
    """Open a basket at ``point_of_sale`` (default: the operator's) for ``contact`` (optional): its
    operation takes the next operation number now."""
    pos = resolve_point_of_sale(session, point_of_sale)
    contact = get_contact(session, contact, "contact")
    operation = record_operation(session, "basket", point_of_sale=pos,
                                 details={"contact": contact.number} if contact is not None else {})
    now = utcnow()
    joined_by_basket(session, operation)
    basket = Basket(operation_id=operation.id, state="open", contact_id=contact.id if contact else None,
                    point_of_sale_id=pos.id, operator_id=current_actor().operator_id, created_at=now,
                    updated_at=now, note=(note or "")[:200])
    session.add(basket)
    session.flush()
    return basket


def get_basket(session: Session, ref: Any) -> Basket:
    """A basket by instance, operation number ("Ordre 1271": ``1271``) or ``Operation``."""
    if isinstance(ref, Basket):
        return ref
    if isinstance(ref, Operation):
        basket = session.scalar(select(Basket).where(Basket.operation_id == ref.id))
    else:
        try:
            number = int(ref)
        except (TypeError, ValueError):
            number = None
        basket = None if number is None else session.scalar(
            select(Basket).join(Operation, Operation.id == Basket.operation_id).where(Operation.number == number))
    if basket is None:
        raise NotFoundError(_("Panier introuvable : %(ref)s", ref=ref))
    return basket


def lock_basket(session: Session, basket: Any, *, states: tuple[str, ...] = ("open",)) -> Basket:
    """Lock the basket row (until the transaction ends), read it again, and refuse it unless its
    state is one of ``states`` (``ConflictError`` naming the state)."""
    basket = get_basket(session, basket)
    locked = lock_rows(session, select(Basket).where(Basket.id == basket.id)
                       .execution_options(populate_existing=True)).scalar()
    if locked.state not in states:
        raise ConflictError(_("L'ordre %(number)s est %(state)s", number=locked.number, state=locked.state_label))
    return locked


def _touch(basket: Basket) -> None:
    basket.updated_at = utcnow()


def set_contact(session: Session, basket: Any, contact: Any) -> Basket:
    """The basket's contact (the buyer of what it sells)."""
    basket = lock_basket(session, basket)
    contact = get_contact(session, contact, "contact")
    basket.contact_id = contact.id if contact is not None else None
    _touch(basket)
    session.flush()
    return basket


def hold(session: Session, basket: Any, *, note: str | None = None) -> Basket:
    """METTRE EN ATTENTE: the basket waits, what it reserved stays reserved; any operator of its
    point of sale resumes it from the "Paniers" list."""
    basket = lock_basket(session, basket)
    record_operation(session, "hold", operation=basket.operation)
    actor = current_actor()
    basket.state, basket.held_at, basket.held_by_id = "held", utcnow(), actor.operator_id
    if note is not None:
        basket.note = note[:200]
    _touch(basket)
    session.flush()
    return basket


def resume(session: Session, basket: Any, *, point_of_sale: Any = None) -> Basket:
    """Take a held basket back (by any operator working at the basket's point of sale)."""
    basket = lock_basket(session, basket, states=("held",))
    pos = resolve_point_of_sale(session, point_of_sale)
    if pos.id != basket.point_of_sale_id:
        raise ConflictError(_("L'ordre %(number)s a été mis en attente sur %(pos)s : reprenez-le depuis ce point "
                              "de vente", number=basket.number, pos=basket.point_of_sale.label))
    basket.state = "open"
    basket.operator_id = current_actor().operator_id
    session.flush()
    record_operation(session, "resume", operation=basket.operation)
    _touch(basket)
    session.flush()
    return basket


def abandon(session: Session, basket: Any) -> Basket:
    """ABANDONNER ORDRE: release every ticket the basket reserved (its places and seats are free
    again); the operation stays recorded with an ``abandon`` entry. Refused once the basket moved
    money or sold tickets (refund them instead)."""
    basket = lock_basket(session, basket, states=("open", "held"))
    operation = basket.operation
    if session.scalar(select(Payment.id).where(Payment.operation_id == operation.id).limit(1)) is not None:
        raise ConflictError(_("L'ordre %(number)s a enregistré des règlements : il ne peut plus être abandonné "
                              "(remboursez plutôt)", number=basket.number))
    sold = session.scalar(select(Ticket.barcode).where(Ticket.operation_id == operation.id,
                                                       Ticket.state.in_(("paid", "printed"))).limit(1))
    if sold is not None:
        raise ConflictError(_("L'ordre %(number)s a vendu le billet %(barcode)s : il ne peut plus être abandonné "
                              "(remboursez plutôt)", number=basket.number, barcode=sold))
    basket.state = "open"  # (locked) its own entries may still be written
    session.flush()
    released: list[str] = []
    held = list(session.scalars(select(Ticket).where(Ticket.operation_id == operation.id, Ticket.state == "reserved")
                                .order_by(Ticket.order_id, Ticket.id)))
    by_order: dict[int, list[Ticket]] = {}
    for t in held:
        by_order.setdefault(t.order_id, []).append(t)
    for order_id, tickets in sorted(by_order.items()):
        order_services.cancel_reservation(session, order_id, tickets, operation=operation)
        released += [t.barcode for t in tickets]
    record_operation(session, "abandon", operation=operation, details={"released": released})
    basket.state, basket.closed_at = "abandoned", utcnow()
    _touch(basket)
    session.flush()
    return basket


def settle(session: Session, basket: Any) -> Basket:
    """Close the basket: its work is done (the orders it touched may still have money due: a
    reservation, a deposit)."""
    basket = lock_basket(session, basket)
    summary = basket_orders(session, basket)
    record_operation(session, "settle", operation=basket.operation,
                     details={"orders": [o.number for o in summary]})
    basket.state, basket.closed_at = "settled", utcnow()
    _touch(basket)
    session.flush()
    return basket


# --------------------------------------------------------------------------- what a basket holds


def basket_orders(session: Session, basket: Any) -> list[Order]:
    """The orders the basket touched (created, taken up, paid, cancelled), in the order it did."""
    basket = get_basket(session, basket)
    ids = list(dict.fromkeys(session.scalars(
        select(OperationEntry.order_id).where(OperationEntry.operation_id == basket.operation_id,
                                              OperationEntry.order_id.is_not(None)).order_by(OperationEntry.id))))
    found = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def amount_due(session: Session, basket: Any) -> Decimal:
    """What the basket's orders still owe together (negative: what the organisation owes back)."""
    return sum((balance(o) for o in basket_orders(session, basket)), ZERO)


def held_baskets(session: Session, point_of_sale: Any = None, *, states: tuple[str, ...] = ("held",)) -> list[Basket]:
    """The baskets waiting at ``point_of_sale`` (default: the operator's), oldest first; ``states``:
    ``("held", "open")`` adds those still open (left by an operator in the middle of a sale)."""
    pos = resolve_point_of_sale(session, point_of_sale)
    return list(session.scalars(select(Basket).where(Basket.point_of_sale_id == pos.id, Basket.state.in_(states))
                                .order_by(Basket.created_at, Basket.id)))


def open_baskets_of(session: Session, order: Order) -> list[Basket]:
    """Open or held baskets that took ``order`` up (or work on it)."""
    ops = select(OperationEntry.operation_id).where(OperationEntry.order_id == order.id)
    return list(session.scalars(select(Basket).where(Basket.operation_id.in_(ops),
                                                     Basket.state.in_(("open", "held")))))


# --------------------------------------------------------------------------- reprise de dossier


def take_up(session: Session, basket: Any, order: Any) -> Order:
    """REPRENDRE: bring an existing order (reserved or sold) into the basket. Refused when the order
    is in another open or held basket, or when nothing in it can change (cancelled)."""
    basket = lock_basket(session, basket)
    order = order_services.lock_order(session, order_services.get_order(session, order).id
                                      if not isinstance(order, Order) else order)
    if order.state == "cancelled":
        raise ConflictError(_("Le dossier %(number)s est annulé : il ne peut pas être repris", number=order.number))
    others = [b for b in open_baskets_of(session, order) if b.id != basket.id]
    if others:
        raise ConflictError(_("Le dossier %(number)s est déjà repris dans l'ordre %(other)s",
                              number=order.number, other=others[0].number))
    if session.scalar(select(OperationEntry.id).where(OperationEntry.operation_id == basket.operation_id,
                                                      OperationEntry.order_id == order.id).limit(1)) is None:
        record_operation(session, "take_up", order=order, operation=basket.operation,
                         details={"state": order.state, "balance": str(balance(order))})
    if basket.contact_id is None:
        basket.contact_id = order.buyer_id
    _touch(basket)
    session.flush()
    return order


def take_up_scanned(session: Session, basket: Any, code: str) -> tuple[Order, Any]:
    """A barcode scanned (or typed) on the sales screen: the ticket's order is taken up into the basket
    (REPRENDRE, as from the order detail: its reserved tickets can then be removed or change tariff,
    what it owes paid). Returns ``(order, ticket)``. An unknown code: NotFoundError "Code-barres
    inconnu"; an order taken up elsewhere or cancelled: ConflictError (``take_up``)."""
    from plugins.sales.services.finding import find_ticket

    ticket = find_ticket(session, (code or "").strip())
    return take_up(session, basket, ticket.order), ticket


def _order_in(session: Session, basket: Basket, order: Any) -> Order:
    order = order if isinstance(order, Order) else order_services.get_order(session, order)
    if order not in basket_orders(session, basket):
        raise ConflictError(_("Le dossier %(number)s n'est pas dans l'ordre %(basket)s : reprenez-le d'abord",
                              number=order.number, basket=basket.number))
    return order


def add_lines(session: Session, basket: Any, order: Any, lines: Iterable[Any], *, sell: bool = False) -> list[Ticket]:
    """Add tickets (``orders.LineInput``) to an order of the basket: reserved, or sold (``sell``)."""
    basket = lock_basket(session, basket)
    order = _order_in(session, basket, order)
    tickets = order_services.add_lines(session, order, lines, sell=sell, operation=basket.operation)
    _touch(basket)
    return tickets


def remove_tickets(session: Session, basket: Any, order: Any, tickets: Iterable[Any]) -> list[Ticket]:
    """Remove reserved tickets of an order of the basket (their places are free again)."""
    basket = lock_basket(session, basket)
    order = _order_in(session, basket, order)
    removed = order_services.cancel_reservation(session, order, list(tickets), operation=basket.operation)
    _touch(basket)
    return removed


def change_tariff(session: Session, basket: Any, order: Any, ticket: Any, tariff: Any) -> Ticket:
    """Change a reserved ticket's tariff: the ticket is cancelled and a new one, same performance,
    category, seat (or area) and attendee, is reserved at the new tariff's price; returns it."""
    basket = lock_basket(session, basket)
    order = _order_in(session, basket, order)
    ticket = ticket if isinstance(ticket, Ticket) else session.get(Ticket, int(ticket))
    if ticket is None or ticket.order_id != order.id:
        raise InvalidError(_("Billet étranger au dossier"), {"ticket": _("Billet introuvable dans ce dossier")})
    if ticket.state != "reserved":
        raise ConflictError(_("Le billet %(barcode)s n'est pas réservé : son tarif ne change que par un échange",
                              barcode=ticket.barcode))
    tariff_id = tariff if isinstance(tariff, int) else int(getattr(tariff, "id", tariff))
    if tariff_id == ticket.tariff_id:
        raise InvalidError(_("Même tarif"), {"tariff": _("Choisissez un autre tarif")})
    old = {"barcode": ticket.barcode, "tariff": ticket.tariff_id, "price": str(ticket.price)}
    line = order_services.LineInput(performance=ticket.performance_id, category=ticket.category_id, tariff=tariff_id,
                                    quantity=1, seats=[ticket.seat_id] if ticket.seat_id else [],
                                    attendees=[ticket.attendee_id] if ticket.attendee_id else [],
                                    area=None if ticket.seat_id else ticket.area_id)
    order_services.cancel_reservation(session, order, [ticket], operation=basket.operation)
    (new,) = order_services.add_lines(session, order, [line], operation=basket.operation)
    record_operation(session, "change_tariff", order=order, operation=basket.operation,
                     details={"from": old, "to": {"barcode": new.barcode, "tariff": new.tariff_id,
                                                  "price": str(new.price)}})
    _touch(basket)
    return new


def pay_due(session: Session, basket: Any, payments: Iterable[PaymentInput], *,
            partial: bool = False) -> list[PayResult]:
    """Pay what the basket's orders owe with ``payments`` (filled order after order, in the order
    the basket touched them; cash beyond the total gives change on the last one). An order paid in
    full has its reserved tickets sold. Payments short of what is due are refused ("tout payer")
    unless ``partial`` (a deposit, an amount left due: the last orders keep their balance)."""
    basket = lock_basket(session, basket)
    payments = list(payments)
    if not payments:
        raise InvalidError(_("Aucun règlement"), {"payments": _("Au moins un règlement")})
    due_orders = [o for o in basket_orders(session, basket) if o.state != "cancelled" and balance(o) > 0]
    if not due_orders:
        raise ConflictError(_("L'ordre %(number)s n'a rien à régler", number=basket.number))
    remaining = [[p, money(p.amount, f"payments.{i}.amount")] for i, p in enumerate(payments)]
    offered = sum((a for _, a in remaining), ZERO)
    due = sum((balance(o) for o in due_orders), ZERO)
    if offered < due and not partial:
        raise ConflictError(_("Règlements de %(offered)s pour %(due)s à régler : tout payer", offered=format_money(offered),
                              due=format_money(due)))
    results = []
    for index, order in enumerate(due_orders):
        last = index == len(due_orders) - 1
        owed, plan = balance(order), []
        if not any(left > 0 for _, left in remaining):
            break
        for item in remaining:
            if item[1] <= 0:
                continue
            take = item[1] if last else min(item[1], owed - sum((a for _, a in plan), ZERO))
            if take <= 0:
                break
            plan.append((item[0], take))
            item[1] -= take
        inputs = [PaymentInput(mode=p.mode, amount=a, contact=p.contact, reference=p.reference, details=p.details)
                  for p, a in plan]
        results.append(pay(session, order, inputs, operation=basket.operation))
        if balance(order) <= 0 and session.scalar(select(Ticket.id).where(
                Ticket.order_id == order.id, Ticket.state == "reserved").limit(1)) is not None:
            order_services.confirm(session, order, operation=basket.operation)
    _touch(basket)
    return results
