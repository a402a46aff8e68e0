"""Orders ("dossiers"): reserve, sell, confirm, cancel a reservation, release sold tickets (for the
refunds plugin), mark printed, find tickets; the order's totals and state.

State of an order (``refresh``): ``reserved`` while its live tickets are all reserved;
``settled`` when it has sold tickets and its balance is zero; ``not_settled`` when money is due
either way (sold and unpaid, or overpaid after a cancellation: to refund); ``cancelled`` when no
ticket is live and the balance is zero.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import Money, begin_write, lock_rows, next_number, utcnow

from plugins.sales.models import (
    ACTIVE_TICKET_STATES, DELIVERY_MODES, Order, OrderLine, Payment, Performance, Price, Seat, SeatBooking, Ticket,
)
from plugins.sales.registry import Registry, get_registry
from plugins.sales.services import barcodes, capacity
from plugins.sales.services.common import ZERO, contact as get_contact, get
from plugins.sales.services.finding import (  # noqa: F401 - part of this module's interface (SERVICES.md)
    _valid_barcode, find_ticket, find_tickets_range, get_order, orders_of, when_label,
)
from plugins.sales.services.journal import record_operation

ORDER_SEQUENCE = "sales.order"


@dataclass
class LineInput:
    """What the operator puts in the basket: ``quantity`` tickets of ``category`` at ``tariff`` for
    ``performance`` (ids or instances); ``seats`` (seat ids, seated venues: one per ticket),
    ``attendees`` (contact ids, one per ticket, optional), ``area`` (an area id, unseated venues)."""

    performance: Any
    category: Any
    tariff: Any
    quantity: int = 1
    seats: Sequence[int] = ()
    attendees: Sequence[int | None] = ()
    area: int | None = None


def _id(ref: Any) -> int:
    return ref if isinstance(ref, int) else int(ref.id)


def _point_of_sale(session: Session, ref: Any):
    """The operation's point of sale (instance, id or code), refused when unknown or closed — before
    anything is locked or written."""
    from plugins.sales.services.settings import resolve_point_of_sale

    return resolve_point_of_sale(session, ref)


# --------------------------------------------------------------------------- creating orders


def reserve(session: Session, buyer: Any, lines: Iterable[LineInput], *, payer: Any = None, structure: Any = None,
            point_of_sale: Any = None, delivery_mode: str = "handed", note: str = "") -> Order:
    """Hold places for ``buyer``: tickets ``reserved``, nothing due until confirmed (deposits may be paid)."""
    return _create(session, "reserve", buyer, list(lines), payer=payer, structure=structure,
                   point_of_sale=point_of_sale, delivery_mode=delivery_mode, note=note)


def sell(session: Session, buyer: Any, lines: Iterable[LineInput], *, payments: Iterable[Any] = (), payer: Any = None,
         structure: Any = None, point_of_sale: Any = None, delivery_mode: str = "handed", note: str = "") -> Order:
    """Sell tickets to ``buyer`` and record ``payments`` (``PaymentInput``s) at once."""
    order = _create(session, "sell", buyer, list(lines), payer=payer, structure=structure,
                    point_of_sale=point_of_sale, delivery_mode=delivery_mode, note=note)
    payments = list(payments)
    if payments:
        from plugins.sales.services.payments import pay

        pay(session, order, payments, point_of_sale=point_of_sale)
    return order


def _create(session: Session, kind: str, buyer: Any, lines: list[LineInput], *, payer, structure, point_of_sale,
            delivery_mode: str, note: str) -> Order:
    from plugins.sales.services.settings import resolve_point_of_sale

    begin_write(session)  # SQLite: the write lock first; PostgreSQL: the rows are locked below
    registry = get_registry()
    lines = [dataclasses.replace(line) for line in lines]  # the caller's inputs are left as they were
    errors: dict[str, str] = {}
    if not lines:
        errors["lines"] = "Le panier est vide"
    if delivery_mode not in DELIVERY_MODES:
        errors["delivery_mode"] = f"Mode de livraison : {', '.join(DELIVERY_MODES)}"
    for i, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            errors[f"lines.{i}.quantity"] = "La quantité doit être un entier positif"
        elif line.seats and len(line.seats) != line.quantity:
            errors[f"lines.{i}.seats"] = "Une place par billet"
        if len(line.attendees) > max(line.quantity, 0):
            errors[f"lines.{i}.attendees"] = "Plus de bénéficiaires que de billets"
    if errors:
        raise InvalidError("La commande n'est pas valide", errors)
    buyer = get_contact(session, buyer, "buyer")
    if buyer is None or not buyer.valid:
        raise InvalidError("Acheteur invalide", {"buyer": "Contact invalide ou fusionné"})
    payer = get_contact(session, payer, "payer")
    structure = get_contact(session, structure, "structure")
    if structure is not None and structure.kind != "structure":
        raise InvalidError("La structure doit être un contact structure", {"structure": "Pas une structure"})
    pos = resolve_point_of_sale(session, point_of_sale)

    wanted: Counter = Counter()
    for line in lines:
        line.performance, line.category, line.tariff = _id(line.performance), _id(line.category), _id(line.tariff)
        wanted[(line.performance, line.category)] += line.quantity
    known = set(session.scalars(select(Performance.id).where(Performance.id.in_({ln.performance for ln in lines}))))
    for i, line in enumerate(lines):
        if line.performance not in known:  # the input's fault (422), not a missing order (404)
            raise InvalidError("Séance introuvable", {f"lines.{i}.performance": f"Séance introuvable : {line.performance}"})
    performances, quotas = capacity.lock_places(session, set(wanted))
    prices = _prices(session, lines)
    for i, line in enumerate(lines):
        performance = performances[line.performance]
        if not performance.on_sale:
            raise ConflictError(f"La séance {performance} n'est pas en vente")
        if (line.performance, line.category) not in quotas:
            raise InvalidError("Catégorie non vendue pour cette séance", {f"lines.{i}.category": "Catégorie absente de la séance"})
        if (line.performance, line.category, line.tariff) not in prices:
            raise InvalidError("Pas de prix pour ce tarif", {f"lines.{i}.tariff": "Aucun prix pour cette catégorie et ce tarif"})
        if performance.venue.seated and not line.seats:
            raise InvalidError("Lieu placé : choisissez les places", {f"lines.{i}.seats": "Places requises"})
        if not performance.venue.seated and line.seats:
            raise InvalidError("Lieu non placé : pas de places numérotées", {f"lines.{i}.seats": "Lieu non placé"})
    capacity.take(session, wanted, performances, quotas)
    seats = _check_seats(session, lines)

    now = utcnow()
    order = Order(number=next_number(session, ORDER_SEQUENCE), buyer_id=buyer.id,
                  payer_id=payer.id if payer else None, structure_id=structure.id if structure else None,
                  state="reserved", point_of_sale_id=pos.id, updated_point_of_sale_id=pos.id,
                  channel_id=pos.channel_id, delivery_mode=delivery_mode, note=note or "", total=ZERO, paid=ZERO)
    session.add(order)
    session.flush()
    from plugins.sales.services.catalogue import fees_for

    fee_cache: dict[int, tuple[Decimal, Decimal]] = {}
    total = ZERO
    for line in lines:
        if line.performance not in fee_cache:
            fees = fees_for(session, performances[line.performance], pos.channel_id)
            fee_cache[line.performance] = (sum((f.amount for f in fees), ZERO),
                                           sum((f.amount for f in fees if f.refundable), ZERO))
        total += (prices[(line.performance, line.category, line.tariff)] + fee_cache[line.performance][0]) * line.quantity
    operation = record_operation(session, kind, order=order, point_of_sale=pos, registry=registry, amount=total,
                                 details={"lines": [{"performance": ln.performance, "category": ln.category,
                                                     "tariff": ln.tariff, "quantity": ln.quantity} for ln in lines]})
    codes = iter(barcodes.allocate(session, sum(ln.quantity for ln in lines)))
    state = "reserved" if kind == "reserve" else "paid"
    tickets: list[Ticket] = []
    for line in lines:
        unit_fees, refundable = fee_cache[line.performance]
        price = prices[(line.performance, line.category, line.tariff)]
        row = OrderLine(order_id=order.id, performance_id=line.performance, category_id=line.category,
                        tariff_id=line.tariff, quantity=line.quantity, unit_price=price, unit_fees=unit_fees,
                        operation_id=operation.id)
        session.add(row)
        session.flush()
        attendees = list(line.attendees) + [None] * (line.quantity - len(line.attendees))
        for i in range(line.quantity):
            seat = seats.get(line.seats[i]) if line.seats else None
            attendee = attendees[i]
            if attendee is not None:
                attendee = get_contact(session, attendee, "attendees").id
            tickets.append(Ticket(
                barcode=next(codes), order_id=order.id, line_id=row.id, performance_id=line.performance,
                category_id=line.category, tariff_id=line.tariff, seat_id=seat.id if seat else None,
                area_id=seat.area_id if seat else line.area, attendee_id=attendee, state=state,
                delivery_mode=delivery_mode, price=price, fees=unit_fees, fees_refundable=refundable,
                retained=ZERO, created_at=now, operation_id=operation.id, sold_at=now if state == "paid" else None))
    session.add_all(tickets)
    session.flush()
    bookings = [SeatBooking(performance_id=t.performance_id, seat_id=t.seat_id, ticket_id=t.id)
                for t in tickets if t.seat_id is not None]
    if bookings:
        session.add_all(bookings)
    order.total = total
    session.flush()
    if kind == "sell":
        _record_purchase(session, order, registry)
    refresh(session, order)
    registry.hook("sales_order_created", session=session, order=order)
    return order


def _prices(session: Session, lines: list[LineInput]) -> dict[tuple[int, int, int], Decimal]:
    keys = {(ln.performance, ln.category, ln.tariff) for ln in lines}
    perf_ids = {k[0] for k in keys}
    rows = session.execute(select(Price.performance_id, Price.category_id, Price.tariff_id, Price.amount)
                           .where(Price.performance_id.in_(perf_ids))).all()
    return {(p, c, t): amount for p, c, t, amount in rows if (p, c, t) in keys}


def _check_seats(session: Session, lines: list[LineInput]) -> dict[int, Seat]:
    """The seats of the lines: of the performance's venue, of the line's category, not taken."""
    wanted = [(ln.performance, s, ln.category) for ln in lines for s in ln.seats]
    if not wanted:
        return {}
    ids = [s for _, s, _ in wanted]
    if len(set(zip([p for p, _, _ in wanted], ids))) != len(wanted):
        raise InvalidError("La même place est demandée deux fois", {"seats": "Place en double"})
    seats = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(ids)))}
    for perf_id, seat_id, cat_id in wanted:
        seat = seats.get(seat_id)
        performance = session.get(Performance, perf_id)
        if seat is None or seat.venue_id != performance.venue_id:
            raise InvalidError("Place inconnue dans ce lieu", {"seats": f"Place {seat_id} inconnue"})
        if seat.category_id is not None and seat.category_id != cat_id:
            raise InvalidError("La place n'est pas de cette catégorie", {"seats": f"Place {seat} : autre catégorie"})
    taken = session.execute(select(SeatBooking.performance_id, SeatBooking.seat_id).where(
        SeatBooking.seat_id.in_(ids))).all()
    taken = {(p, s) for p, s in taken} & {(p, s) for p, s, _ in wanted}
    if taken:
        labels = ", ".join(str(seats[s]) for _, s in sorted(taken))
        raise ConflictError(f"Place(s) déjà vendue(s) : {labels}")
    return seats


def _record_purchase(session: Session, order: Order, registry: Registry) -> None:
    from plugins.contacts.services.activity import record_purchase

    record_purchase(session, order.buyer_id, utcnow(), registry=registry.contacts())


# --------------------------------------------------------------------------- totals and state


def lock_order(session: Session, order: Order | int) -> Order:
    """Lock the order row (and refresh it) for a change of its tickets or money."""
    order_id = order if isinstance(order, int) else order.id
    locked = lock_rows(session, select(Order).where(Order.id == order_id)
                       .execution_options(populate_existing=True)).scalar()
    if locked is None:
        raise NotFoundError(f"Dossier introuvable : {order_id}")
    return locked


def _amount_column():
    return case((Ticket.state == "cancelled", Ticket.retained), else_=Ticket.price + Ticket.fees)


def computed_totals(session: Session, order: Order) -> tuple[Decimal, Decimal]:
    """(total, paid) computed from the tickets and the payments."""
    total = session.scalar(select(func.coalesce(func.sum(_amount_column()), 0, type_=Money()))
                           .where(Ticket.order_id == order.id))
    paid = session.scalar(select(func.coalesce(func.sum(Payment.amount), 0, type_=Money()))
                          .where(Payment.order_id == order.id))
    return total, paid


def refresh(session: Session, order: Order) -> str:
    """Recompute ``total``, ``paid`` and ``state``; returns the previous state."""
    session.flush()
    previous = order.state
    order.total, order.paid = computed_totals(session, order)
    counts = dict(session.execute(select(Ticket.state, func.count()).where(Ticket.order_id == order.id)
                                  .group_by(Ticket.state)).all())
    live = sum(counts.get(s, 0) for s in ACTIVE_TICKET_STATES)
    sold = counts.get("paid", 0) + counts.get("printed", 0)
    balance = order.total - order.paid
    if live == 0:
        order.state = "cancelled" if balance == 0 else "not_settled"
    elif sold == 0:
        order.state = "reserved"
    else:
        order.state = "settled" if balance == 0 else "not_settled"
    session.flush()
    return previous


recompute_order = refresh


def check_order(session: Session, order: Order) -> list[str]:
    """The order's invariants as messages (empty: all hold)."""
    problems = []
    total, paid = computed_totals(session, order)
    if order.total != total:
        problems.append(f"total {order.total} != tickets {total}")
    if order.paid != paid:
        problems.append(f"paid {order.paid} != payments {paid}")
    payments = session.scalars(select(Payment.amount).where(Payment.order_id == order.id)).all()
    payments_in = sum((a for a in payments if a > 0), ZERO)
    refunds = sum((-a for a in payments if a < 0), ZERO)
    if order.total - order.paid != total - payments_in + refunds:
        problems.append("balance != total - payments + refunds")
    for t in session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.seat_id.is_not(None))):
        booked = session.get(SeatBooking, (t.performance_id, t.seat_id))
        if t.active and (booked is None or booked.ticket_id != t.id):
            problems.append(f"ticket {t.barcode} holds no booking of its seat")
        if not t.active and booked is not None and booked.ticket_id == t.id:
            problems.append(f"cancelled ticket {t.barcode} still books its seat")
    return problems


def confirm(session: Session, order: Order, *, point_of_sale: Any = None, _locked: bool = False) -> Order:
    """A reservation becomes a sale: its reserved tickets are sold (money may still be due)."""
    pos = _point_of_sale(session, point_of_sale)
    if not _locked:
        begin_write(session)
        order = lock_order(session, order)
    reserved = list(session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state == "reserved")))
    if not reserved:
        raise ConflictError(f"Le dossier {order.number} n'a pas de billet réservé à confirmer")
    registry = get_registry()
    record_operation(session, "confirm", order=order, point_of_sale=pos, registry=registry,
                     details={"tickets": [t.barcode for t in reserved]})
    now = utcnow()
    for t in reserved:
        t.state, t.sold_at = "paid", now
    session.flush()
    _record_purchase(session, order, registry)
    previous = refresh(session, order)
    if order.state == "settled" and previous != "settled":
        registry.hook("sales_order_paid", session=session, order=order)
    return order


# --------------------------------------------------------------------------- cancelling


def _tickets_of(session: Session, order: Order, tickets: Iterable[Any] | None, states: tuple[str, ...]) -> list[Ticket]:
    if tickets is None:
        return list(session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state.in_(states))
                                    .order_by(Ticket.id)))
    ids = [_id(t) for t in tickets]
    found = {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids))
                                             .execution_options(populate_existing=True))}
    out = []
    for i in ids:
        t = found.get(i)
        if t is None or t.order_id != order.id:
            raise InvalidError("Billet étranger au dossier", {"tickets": f"Le billet {i} n'est pas du dossier {order.number}"})
        out.append(t)
    return out


def cancel_reservation(session: Session, order: Order, tickets: Iterable[Any] | None = None, *,
                       point_of_sale: Any = None) -> list[Ticket]:
    """Cancel reserved tickets (all the order's reserved ones by default); paid ones are refused."""
    pos = _point_of_sale(session, point_of_sale)
    begin_write(session)
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, tickets, ("reserved",))
    if not chosen:
        raise ConflictError(f"Le dossier {order.number} n'a pas de place réservée à annuler")
    for t in chosen:
        if t.state == "cancelled":
            raise ConflictError(f"Le billet {t.barcode} est déjà annulé")
        if t.state != "reserved":
            raise ConflictError(f"Le billet {t.barcode} est payé : il s'annule par un remboursement")
    registry = get_registry()
    capacity.lock_places(session, {(t.performance_id, t.category_id) for t in chosen})  # before the counter
    operation = record_operation(session, "cancel_reservation", order=order, point_of_sale=pos,
                                 registry=registry, details={"tickets": [t.barcode for t in chosen]})
    _cancel(session, chosen, operation)
    refresh(session, order)
    registry.hook("sales_tickets_cancelled", session=session, order=order, tickets=chosen)
    return chosen


def _cancel(session: Session, tickets: list[Ticket], operation, retained: dict[int, Decimal] | None = None) -> None:
    capacity.release(session, tickets)
    now = utcnow()
    for t in tickets:
        t.state, t.cancelled_at, t.cancel_operation_id = "cancelled", now, operation.id
        t.retained = (retained or {}).get(t.id, ZERO)
    session.flush()


def release_tickets(session: Session, order: Order, tickets: Iterable[Any], *, kind: str,
                    retained: dict[int, Any] | None = None, details: dict | None = None,
                    point_of_sale: Any = None):
    """Cancel sold tickets for the refunds plugin, in one operation of ``kind``; ``retained`` maps a
    ticket id to what the organisation keeps (at least its non-refundable fees, at most its price
    and fees). Money is not moved here: record the refund with ``payments.refund``."""
    from plugins.sales.services.common import money

    pos = _point_of_sale(session, point_of_sale)
    begin_write(session)
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, list(tickets), ())
    kept: dict[int, Decimal] = {}
    for t in chosen:
        if t.state not in ("paid", "printed"):
            raise ConflictError(f"Le billet {t.barcode} n'est pas vendu (état : {t.state})")
        floor = t.fees - t.fees_refundable
        value = money((retained or {}).get(t.id, floor), "retained")
        if value < floor or value > t.price + t.fees:
            raise InvalidError("Montant retenu invalide",
                               {"retained": f"Billet {t.barcode} : entre {floor} et {t.price + t.fees}"})
        kept[t.id] = value
    registry = get_registry()
    capacity.lock_places(session, {(t.performance_id, t.category_id) for t in chosen})  # before the counter
    operation = record_operation(session, kind, order=order, point_of_sale=pos, registry=registry,
                                 details={"tickets": [t.barcode for t in chosen], **(details or {})})
    _cancel(session, chosen, operation, kept)
    refresh(session, order)
    registry.hook("sales_tickets_cancelled", session=session, order=order, tickets=chosen)
    return operation


# --------------------------------------------------------------------------- printing, delivery


def mark_printed(session: Session, tickets: Iterable[Any], *, reprint: bool = False, point_of_sale: Any = None) -> list[Ticket]:
    """Mark sold tickets printed (one ``print`` operation per order); reserved ones are refused. Their
    orders are locked before the tickets' state is read: two prints of the same tickets print once."""
    ids = [_id(t) for t in tickets]
    if not ids:
        raise InvalidError("Aucun billet à imprimer", {"tickets": "Aucun billet"})
    pos = _point_of_sale(session, point_of_sale)
    begin_write(session)
    orders = {oid: lock_order(session, oid) for oid in sorted(set(  # a ticket never changes order
        session.scalars(select(Ticket.order_id).where(Ticket.id.in_(ids)))))}
    found = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)
                                 .execution_options(populate_existing=True)))
    if len(found) != len(set(ids)):
        raise NotFoundError("Billet introuvable")
    by_order: dict[int, list[Ticket]] = {}
    for t in found:
        if t.state in ("reserved", "cancelled"):
            raise ConflictError(f"Le billet {t.barcode} est {'réservé' if t.state == 'reserved' else 'annulé'} : "
                                "il ne peut pas être imprimé")
        if t.print_state == "printed" and not reprint:
            raise ConflictError(f"Le billet {t.barcode} est déjà imprimé (duplicata : réimpression)")
        by_order.setdefault(t.order_id, []).append(t)
    registry = get_registry()
    now = utcnow()
    for order_id, group in sorted(by_order.items()):
        order = orders[order_id]
        record_operation(session, "print", order=order, point_of_sale=pos, registry=registry,
                         details={"tickets": [t.barcode for t in group], "reprint": reprint})
        for t in group:
            t.state, t.print_state, t.printed_at, t.print_count = "printed", "printed", now, t.print_count + 1
        session.flush()
        registry.hook("sales_tickets_printed", session=session, order=order, tickets=group)
    return found


def set_delivery_mode(session: Session, order: Order, mode: str, tickets: Iterable[Any] | None = None) -> None:
    if mode not in DELIVERY_MODES:
        raise InvalidError("Mode de livraison inconnu", {"delivery_mode": f"Modes : {', '.join(DELIVERY_MODES)}"})
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, tickets, ACTIVE_TICKET_STATES)
    record_operation(session, "update", order=order, details={"delivery_mode": mode, "tickets": [t.barcode for t in chosen]})
    if tickets is None:
        order.delivery_mode = mode
    for t in chosen:
        t.delivery_mode = mode
    session.flush()


def set_payer(session: Session, order: Order, payer: Any) -> None:
    order = lock_order(session, order)
    payer = get_contact(session, payer, "payer")
    record_operation(session, "update", order=order, details={"payer": payer.number if payer else None})
    order.payer_id = payer.id if payer else None
    session.flush()


def set_attendee(session: Session, ticket: Ticket, attendee: Any) -> None:
    """The contact who attends with ``ticket`` (None: nobody named); a cancelled ticket is refused."""
    order = lock_order(session, ticket.order_id)
    if ticket.state == "cancelled":
        raise ConflictError(f"Le billet {ticket.barcode} est annulé : pas de participant à affecter")
    attendee = get_contact(session, attendee, "attendee")
    if attendee is not None and not attendee.valid:
        raise InvalidError("Participant invalide", {"attendee": "Contact invalide ou fusionné"})
    record_operation(session, "update", order=order,
                     details={"ticket": ticket.barcode, "attendee": attendee.number if attendee else None})
    ticket.attendee_id = attendee.id if attendee else None
    session.flush()
