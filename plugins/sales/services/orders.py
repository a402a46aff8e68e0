"""Orders ("dossiers"): reserve, sell, confirm, cancel a reservation, release sold tickets (for the
refunds plugin), mark printed, find tickets; the order's totals and state.

The top layer of the services: it imports ``payments`` (a sale records its payments) and re-exports
the order's state and lock from ``state`` and the look-ups from ``finding`` (SERVICES.md names them
all as ``orders.*``). ``payments`` imports ``state``, never this module.
"""
from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import begin_write, current_actor, next_number, utcnow
from coulisses.i18n import _, format_money

from plugins.sales.models import (
    ACTIVE_TICKET_STATES, DELIVERY_MODES, TICKET_STATE_LABELS, Event, Order, OrderLine, Performance, Price, Season, Seat,
    SeatBooking, SeatCategory, Tariff, Ticket, Venue,
)
from plugins.sales.registry import get_registry
from plugins.sales.services import barcodes, capacity, events
from plugins.sales.services.catalogue import fees_by_performance, performance_label
from plugins.sales.services.common import ZERO, contact as get_contact, money
from plugins.sales.services.finding import (  # noqa: F401 - part of this module's interface (SERVICES.md)
    _valid_barcode, find_ticket, find_tickets_range, get_order, orders_of, when_label,
)
from plugins.sales.services.journal import pos_ref, record_operation
from plugins.sales.services.payments import pay
from plugins.sales.services.settings import resolve_point_of_sale
from plugins.sales.services.state import (  # noqa: F401 - part of this module's interface (SERVICES.md)
    check_order, computed_totals, confirm, lock_order, mark_new, record_purchase, recompute_order, refresh,
)

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


def _point_of_sale(session: Session, ref: Any, operation=None):
    """The operation's point of sale (instance, id or code; default: the joined operation's),
    refused when unknown or closed — before anything is locked or written."""
    return resolve_point_of_sale(session, pos_ref(ref, operation))


# --------------------------------------------------------------------------- creating orders


def reserve(session: Session, buyer: Any, lines: Iterable[LineInput], *, payer: Any = None, structure: Any = None,
            point_of_sale: Any = None, delivery_mode: str = "handed", note: str = "", operation=None) -> Order:
    """Hold places for ``buyer``: tickets ``reserved``, nothing due until confirmed (deposits may be paid).
    ``operation``: the basket's operation to join (default: a ``reserve`` operation of its own)."""
    return _create(session, "reserve", buyer, list(lines), payer=payer, structure=structure,
                   point_of_sale=point_of_sale, delivery_mode=delivery_mode, note=note, operation=operation)[0]


def sell(session: Session, buyer: Any, lines: Iterable[LineInput], *, payments: Iterable[Any] = (), payer: Any = None,
         structure: Any = None, point_of_sale: Any = None, delivery_mode: str = "handed", note: str = "",
         operation=None) -> Order:
    """Sell tickets to ``buyer`` and record ``payments`` (``PaymentInput``s) at once, in one
    operation: ``operation`` (a basket's) when given, else a ``sell`` operation of its own."""
    order, operation, pos = _create(session, "sell", buyer, list(lines), payer=payer, structure=structure,
                                    point_of_sale=point_of_sale, delivery_mode=delivery_mode, note=note,
                                    operation=operation)
    payments = list(payments)
    if payments:  # at the point of sale the order was just created at (resolved once)
        pay(session, order, payments, point_of_sale=pos, operation=operation)
    return order


def add_lines(session: Session, order: Order, lines: Iterable[LineInput], *, sell: bool = False,
              point_of_sale: Any = None, operation=None) -> list[Ticket]:
    """Add tickets to an existing order ("reprise de dossier"): reserved (``sell=False``) or sold;
    the order's buyer, payer, delivery mode and channel are kept. Returns the new tickets."""
    begin_write(session)
    order = lock_order(session, order)
    before = set(session.scalars(select(Ticket.id).where(Ticket.order_id == order.id)))
    _create(session, "sell" if sell else "reserve", order.buyer_id, list(lines), payer=order.payer_id,
            structure=order.structure_id, point_of_sale=point_of_sale, delivery_mode=order.delivery_mode,
            note=order.note, operation=operation, into=order)
    return list(session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.id.not_in(before))
                                .order_by(Ticket.id)))


def _create(session: Session, kind: str, buyer: Any, lines: list[LineInput], *, payer, structure, point_of_sale,
            delivery_mode: str, note: str, operation=None, into: Order | None = None) -> tuple[Order, Any, Any]:
    begin_write(session)  # SQLite: the write lock first; PostgreSQL: the rows are locked below
    registry = get_registry()
    lines = [dataclasses.replace(line) for line in lines]  # the caller's inputs are left as they were
    errors: dict[str, str] = {}
    if not lines:
        errors["lines"] = _("Le panier est vide")
    if delivery_mode not in DELIVERY_MODES:
        errors["delivery_mode"] = _("Mode de livraison : %(modes)s", modes=", ".join(DELIVERY_MODES))
    for i, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            errors[f"lines.{i}.quantity"] = _("La quantité doit être un entier positif")
        elif line.seats and len(line.seats) != line.quantity:
            errors[f"lines.{i}.seats"] = _("Une place par billet")
        if len(line.attendees) > max(line.quantity, 0):
            errors[f"lines.{i}.attendees"] = _("Plus de bénéficiaires que de billets")
    if errors:
        raise InvalidError(_("La commande n'est pas valide"), errors)
    buyer = get_contact(session, buyer, "buyer")
    if buyer is None or not buyer.valid:
        raise InvalidError(_("Acheteur invalide"), {"buyer": _("Contact invalide ou fusionné")})
    payer = get_contact(session, payer, "payer")
    structure = get_contact(session, structure, "structure")
    if structure is not None and structure.kind != "structure":
        raise InvalidError(_("La structure doit être un contact structure"), {"structure": _("Pas une structure")})
    pos = resolve_point_of_sale(session, pos_ref(point_of_sale, operation))

    wanted: Counter = Counter()
    for line in lines:
        line.performance, line.category, line.tariff = _id(line.performance), _id(line.category), _id(line.tariff)
        wanted[(line.performance, line.category)] += line.quantity

    def unknown_performances(missing: set[int]) -> None:  # the input's fault (422), not a missing order (404)
        i, line = next((i, ln) for i, ln in enumerate(lines) if ln.performance in missing)
        raise InvalidError(_("Séance introuvable"),
                           {f"lines.{i}.performance": _("Séance introuvable : %(ref)s", ref=line.performance)})

    performances, quotas = capacity.lock_places(session, set(wanted), on_missing=unknown_performances)
    _load_catalogue(session, performances.values())
    prices = _prices(session, lines)
    tariffs = {t.id: t for t in session.scalars(select(Tariff).where(Tariff.id.in_({ln.tariff for ln in lines}))
                                                .options(joinedload(Tariff.audience)))}
    for i, line in enumerate(lines):
        performance = performances[line.performance]
        if not performance.on_sale:
            raise ConflictError(_("La séance %(performance)s n'est pas en vente",
                                  performance=performance_label(performance)))
        tariff_row = tariffs.get(line.tariff)
        if tariff_row is not None and not tariff_row.active:
            raise ConflictError(_("Le tarif %(tariff)s n'est plus en vigueur", tariff=tariff_row.full_label))
        withdrawn = _withdrawn(session, performance, line.category, tariff_row)
        if withdrawn:
            raise ConflictError(withdrawn)
        if (line.performance, line.category) not in quotas:
            raise InvalidError(_("Catégorie non vendue pour cette séance"),
                               {f"lines.{i}.category": _("Catégorie absente de la séance")})
        if (line.performance, line.category, line.tariff) not in prices:
            raise InvalidError(_("Pas de prix pour ce tarif"),
                               {f"lines.{i}.tariff": _("Aucun prix pour cette catégorie et ce tarif")})
        if performance.venue.seated and not line.seats:
            raise InvalidError(_("Lieu placé : choisissez les places"), {f"lines.{i}.seats": _("Places requises")})
        if not performance.venue.seated and line.seats:
            raise InvalidError(_("Lieu non placé : pas de places numérotées"), {f"lines.{i}.seats": _("Lieu non placé")})
    capacity.take(session, wanted, performances, quotas)
    seats = _check_seats(session, lines)

    # the reads up to the new order's number need nothing of this sale's pending changes (the counters
    # ``take`` moved): not flushed before each of them, they are written with the order, in one flush
    with session.no_autoflush:
        now = utcnow()
        fee_cache: dict[int, tuple[Decimal, Decimal]] = {}
        fees = fees_by_performance(session, [performances[p] for p in dict.fromkeys(ln.performance for ln in lines)],
                                   pos.channel_id)
        for perf_id, perf_fees in fees.items():
            fee_cache[perf_id] = (sum((f.amount for f in perf_fees), ZERO),
                                  sum((f.amount for f in perf_fees if f.refundable), ZERO))
        total = sum(((prices[(ln.performance, ln.category, ln.tariff)] + fee_cache[ln.performance][0]) * ln.quantity
                     for ln in lines), ZERO)  # of the new tickets
        codes = iter(barcodes.allocate(session, sum(ln.quantity for ln in lines)))
        state = "reserved" if kind == "reserve" else "paid"
        # the attendees, loaded at once (then found in the session by ``get_contact``, one per ticket)
        attendee_rows = _load_contacts(session, {a for ln in lines for a in ln.attendees if isinstance(a, int)})
        if into is None:
            # a new order: everything it holds is known now, so it is written once. Its state is what
            # ``refresh`` would compute: all its tickets are new and in ``state``, nothing is paid yet.
            # The gapless counters are taken here, after every check and read (their rows stay locked
            # until the commit: the later they are taken, the less concurrent sales wait on them).
            order = Order(number=next_number(session, ORDER_SEQUENCE), buyer_id=buyer.id,
                          payer_id=payer.id if payer else None, structure_id=structure.id if structure else None,
                          state="reserved" if kind == "reserve" else ("settled" if total == 0 else "not_settled"),
                          point_of_sale_id=pos.id, updated_point_of_sale_id=pos.id, channel_id=pos.channel_id,
                          delivery_mode=delivery_mode, note=note or "", total=total, paid=ZERO,
                          created_at=now, updated_at=now, updated_by_id=current_actor().operator_id)
    if into is None:
        session.add(order)
        session.flush()
        mark_new(session, order)
        now = order.updated_at  # as the audit stamped it: the operation's time, no second write of the row
    else:
        order = into
    operation = record_operation(session, kind, order=order, point_of_sale=pos, registry=registry, amount=total,
                                 details={"lines": [{"performance": ln.performance, "category": ln.category,
                                                     "tariff": ln.tariff, "quantity": ln.quantity} for ln in lines],
                                          **({"added_to": order.number} if into is not None else {})},
                                 operation=operation, at=now)
    rows = _insert_lines(session, [dict(order_id=order.id, performance_id=line.performance, category_id=line.category,
                                        tariff_id=line.tariff, quantity=line.quantity,
                                        unit_price=prices[(line.performance, line.category, line.tariff)],
                                        unit_fees=fee_cache[line.performance][0], operation_id=operation.id)
                                   for line in lines])
    values: list[dict] = []
    for line, row in zip(lines, rows):
        unit_fees, refundable = fee_cache[line.performance]
        attendees = list(line.attendees) + [None] * (line.quantity - len(line.attendees))
        for i in range(line.quantity):
            seat = seats.get(line.seats[i]) if line.seats else None
            attendee = attendees[i]
            if attendee is not None:
                attendee = get_contact(session, attendee, "attendees").id
            values.append(dict(
                barcode=next(codes), order_id=order.id, line_id=row.id, performance_id=line.performance,
                category_id=line.category, tariff_id=line.tariff, seat_id=seat.id if seat else None,
                area_id=seat.area_id if seat else line.area, attendee_id=attendee, type="ticket", state=state,
                delivery_mode=delivery_mode, print_state="not_printed", print_count=0, price=row.unit_price,
                fees=unit_fees, fees_refundable=refundable, retained=ZERO, created_at=now,
                operation_id=operation.id, sold_at=now if state == "paid" else None))
    tickets = _insert_tickets(session, values)
    bookings = [dict(performance_id=t.performance_id, seat_id=t.seat_id, ticket_id=t.id)
                for t in tickets if t.seat_id is not None]
    if bookings:
        session.execute(insert(SeatBooking), bookings)
    if into is None:
        set_committed_value(order, "tickets", list(tickets))  # all of a new order's tickets: no reload
    if kind == "sell":
        record_purchase(session, order, registry)
        events.emit(session, "tickets_to_print", order=order, operation=operation, tickets=tickets, registry=registry)
    if into is not None:  # a new order's total and state were written with it
        refresh(session, order)
    if into is None:
        registry.hook("sales_order_created", session=session, order=order)
        events.emit(session, "order_created", order=order, operation=operation, registry=registry)
    return order, operation, pos


@functools.cache
def _season_aliases():
    """Built once (not at import: the mappers are configured by then): a new alias per call costs a
    copy of the table's columns and a new statement cache key."""
    return aliased(Season), aliased(Season)


def _load_catalogue(session: Session, performances: Iterable[Performance]) -> None:
    """Load the events, venues and seasons of ``performances`` in one statement (into the session:
    ``performance.event``, ``.venue``, ``.season`` then read them without a query each)."""
    by_id = {p.id: p for p in performances}
    perf_season, event_season = _season_aliases()
    rows = session.execute(select(Performance.id, Event, Venue, perf_season, event_season)
                           .join(Event, Event.id == Performance.event_id)
                           .join(Venue, Venue.id == Performance.venue_id)
                           .outerjoin(perf_season, perf_season.id == Performance.season_id)
                           .outerjoin(event_season, event_season.id == Event.season_id)
                           .where(Performance.id.in_(list(by_id)))).all()
    for perf_id, event, venue, season, event_season_row in rows:
        performance = by_id[perf_id]
        set_committed_value(performance, "event", event)
        set_committed_value(performance, "venue", venue)
        set_committed_value(performance, "season", season)
        set_committed_value(event, "season", event_season_row)


def _load_contacts(session: Session, ids: set[int]) -> list:
    from plugins.contacts.models import Contact

    return list(session.scalars(select(Contact).where(Contact.id.in_(ids)))) if ids else []


def _insert_lines(session: Session, values: list[dict]) -> list[OrderLine]:
    """Insert the order lines in one statement and return them in the order of ``values``. RETURNING
    is matched by the lines' values (two lines with the same values are the same to the database;
    the lower id goes to the first), so its order does not matter."""
    returned: dict[tuple, list[OrderLine]] = {}
    for row in sorted(session.scalars(insert(OrderLine).returning(OrderLine), values), key=lambda r: r.id):
        returned.setdefault(_line_key(row.__dict__), []).append(row)
    return [returned[_line_key(v)].pop(0) for v in values]


def _line_key(v: dict) -> tuple:
    return (v["performance_id"], v["category_id"], v["tariff_id"], v["quantity"], v["unit_price"], v["unit_fees"])


def _insert_tickets(session: Session, values: list[dict]) -> list[Ticket]:
    """Insert the tickets in one statement (whatever their number) and return them in order, in the
    session. Barcodes are unique: the rows RETURNING gives back are matched by barcode, so no
    ordering of RETURNING is needed (SQLite would otherwise insert them one by one)."""
    if not values:
        return []
    by_barcode = {t.barcode: t for t in session.scalars(insert(Ticket).returning(Ticket), values)}
    return [by_barcode[v["barcode"]] for v in values]


def _withdrawn(session: Session, performance: Performance, category_id: int, tariff: Tariff | None) -> str | None:
    """Why a line cannot be sold because part of the catalogue was deactivated (screens hide such rows;
    this refuses them on every path, the API included), or None."""
    seasons = [s for s in (performance.season, performance.event.season) if s is not None]
    if not performance.event.active or not performance.venue.active or any(not s.active for s in seasons):
        return _("La séance %(performance)s n'est pas en vente", performance=performance_label(performance))
    category = session.get(SeatCategory, category_id)
    if category is not None and not category.active:
        return _("La catégorie %(category)s n'est plus proposée à la vente", category=category.label)
    if tariff is not None and tariff.audience is not None and not tariff.audience.active:
        return _("Le tarif %(tariff)s n'est plus en vigueur", tariff=tariff.full_label)
    return None


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
        raise InvalidError(_("La même place est demandée deux fois"), {"seats": _("Place en double")})
    seats = {s.id: s for s in session.scalars(select(Seat).where(Seat.id.in_(ids)))}
    for perf_id, seat_id, cat_id in wanted:
        seat = seats.get(seat_id)
        performance = session.get(Performance, perf_id)
        if seat is None or seat.venue_id != performance.venue_id:
            raise InvalidError(_("Place inconnue dans ce lieu"), {"seats": _("Place %(seat)s inconnue", seat=seat_id)})
        if seat.category_id is not None and seat.category_id != cat_id:
            raise InvalidError(_("La place n'est pas de cette catégorie"),
                               {"seats": _("Place %(seat)s : autre catégorie", seat=seat)})
    taken = session.execute(select(SeatBooking.performance_id, SeatBooking.seat_id).where(
        SeatBooking.seat_id.in_(ids))).all()
    taken = {(p, s) for p, s in taken} & {(p, s) for p, s, _ in wanted}
    if taken:
        labels = ", ".join(str(seats[s]) for _, s in sorted(taken))
        raise ConflictError(_("Place(s) déjà vendue(s) : %(seats)s", seats=labels))
    return seats


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
            raise InvalidError(_("Billet étranger au dossier"), {"tickets": _(
                "Le billet %(ticket)s n'est pas du dossier %(number)s", ticket=i, number=order.number)})
        out.append(t)
    return out


def cancel_reservation(session: Session, order: Order, tickets: Iterable[Any] | None = None, *,
                       point_of_sale: Any = None, operation=None) -> list[Ticket]:
    """Cancel reserved tickets (all the order's reserved ones by default); paid ones are refused.
    ``operation``: the basket's operation to join (default: one of its own)."""
    pos = _point_of_sale(session, point_of_sale, operation)
    begin_write(session)
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, tickets, ("reserved",))
    if not chosen:
        raise ConflictError(_("Le dossier %(number)s n'a pas de place réservée à annuler", number=order.number))
    for t in chosen:
        if t.state == "cancelled":
            raise ConflictError(_("Le billet %(barcode)s est déjà annulé", barcode=t.barcode))
        if t.state != "reserved":
            raise ConflictError(_("Le billet %(barcode)s est payé : il s'annule par un remboursement", barcode=t.barcode))
    registry = get_registry()
    locked = capacity.lock_places(session, {(t.performance_id, t.category_id) for t in chosen})  # before the counter
    operation = record_operation(session, "cancel_reservation", order=order, point_of_sale=pos,
                                 registry=registry, details={"tickets": [t.barcode for t in chosen]},
                                 operation=operation)
    _cancel(session, chosen, operation, locked=locked)
    refresh(session, order)
    registry.hook("sales_tickets_cancelled", session=session, order=order, tickets=chosen)
    events.emit(session, "tickets_cancelled", order=order, operation=operation, tickets=chosen, registry=registry)
    return chosen


def _cancel(session: Session, tickets: list[Ticket], operation, retained: dict[int, Decimal] | None = None,
            locked=None) -> None:
    capacity.release(session, tickets, locked)
    now = utcnow()
    for t in tickets:
        t.state, t.cancelled_at, t.cancel_operation_id = "cancelled", now, operation.id
        t.retained = (retained or {}).get(t.id, ZERO)
    session.flush()


def release_tickets(session: Session, order: Order, tickets: Iterable[Any], *, kind: str,
                    retained: dict[int, Any] | None = None, details: dict | None = None,
                    point_of_sale: Any = None, operation=None):
    """Cancel sold tickets for the refunds plugin, in one operation of ``kind`` (or, given
    ``operation``, an entry of ``kind`` in that basket's operation); ``retained`` maps a ticket id to
    what the organisation keeps (at least its non-refundable fees, at most its price and fees).
    Money is not moved here: record the refund with ``payments.refund(..., operation=...)``."""
    pos = _point_of_sale(session, point_of_sale, operation)
    begin_write(session)
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, list(tickets), ())
    kept: dict[int, Decimal] = {}
    for t in chosen:
        if t.state not in ("paid", "printed"):
            raise ConflictError(_("Le billet %(barcode)s n'est pas vendu (état : %(state)s)", barcode=t.barcode,
                                  state=TICKET_STATE_LABELS.get(t.state, t.state)))
        floor = t.fees - t.fees_refundable
        value = money((retained or {}).get(t.id, floor), "retained")
        if value < floor or value > t.price + t.fees:
            raise InvalidError(_("Montant retenu invalide"), {"retained": _(
                "Billet %(barcode)s : entre %(low)s et %(high)s", barcode=t.barcode, low=format_money(floor),
                high=format_money(t.price + t.fees))})
        kept[t.id] = value
    registry = get_registry()
    locked = capacity.lock_places(session, {(t.performance_id, t.category_id) for t in chosen})  # before the counter
    operation = record_operation(session, kind, order=order, point_of_sale=pos, registry=registry,
                                 details={"tickets": [t.barcode for t in chosen], **(details or {})},
                                 operation=operation)
    _cancel(session, chosen, operation, kept, locked)
    refresh(session, order)
    registry.hook("sales_tickets_cancelled", session=session, order=order, tickets=chosen)
    events.emit(session, "tickets_cancelled", order=order, operation=operation, tickets=chosen, registry=registry)
    return operation


# --------------------------------------------------------------------------- printing, delivery


def mark_printed(session: Session, tickets: Iterable[Any], *, reprint: bool = False, point_of_sale: Any = None,
                 operation=None) -> list[Ticket]:
    """Mark sold tickets printed (one ``print`` operation per order, or entries of the basket's
    ``operation``); reserved ones are refused. Their orders are locked before the tickets' state is
    read: two prints of the same tickets print once."""
    ids = [_id(t) for t in tickets]
    if not ids:
        raise InvalidError(_("Aucun billet à imprimer"), {"tickets": _("Aucun billet")})
    pos = _point_of_sale(session, point_of_sale, operation)
    begin_write(session)
    orders = {oid: lock_order(session, oid) for oid in sorted(set(  # a ticket never changes order
        session.scalars(select(Ticket.order_id).where(Ticket.id.in_(ids)))))}
    found = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)
                                 .execution_options(populate_existing=True)))
    if len(found) != len(set(ids)):
        raise NotFoundError(_("Billet introuvable"))
    by_order: dict[int, list[Ticket]] = {}
    for t in found:
        if t.state in ("reserved", "cancelled"):
            raise ConflictError(_("Le billet %(barcode)s est réservé : il ne peut pas être imprimé", barcode=t.barcode)
                                if t.state == "reserved" else
                                _("Le billet %(barcode)s est annulé : il ne peut pas être imprimé", barcode=t.barcode))
        if t.print_state == "printed" and not reprint:
            raise ConflictError(_("Le billet %(barcode)s est déjà imprimé (duplicata : réimpression)", barcode=t.barcode))
        by_order.setdefault(t.order_id, []).append(t)
    registry = get_registry()
    now = utcnow()
    for order_id, group in sorted(by_order.items()):
        order = orders[order_id]
        record_operation(session, "print", order=order, point_of_sale=pos, registry=registry,
                         details={"tickets": [t.barcode for t in group], "reprint": reprint}, operation=operation)
        for t in group:
            t.state, t.print_state, t.printed_at, t.print_count = "printed", "printed", now, t.print_count + 1
        session.flush()
        registry.hook("sales_tickets_printed", session=session, order=order, tickets=group)
    return found


def set_delivery_mode(session: Session, order: Order, mode: str, tickets: Iterable[Any] | None = None, *,
                      operation=None) -> None:
    if mode not in DELIVERY_MODES:
        raise InvalidError(_("Mode de livraison inconnu"),
                           {"delivery_mode": _("Modes : %(modes)s", modes=", ".join(DELIVERY_MODES))})
    order = lock_order(session, order)
    chosen = _tickets_of(session, order, tickets, ACTIVE_TICKET_STATES)
    record_operation(session, "update", order=order, details={"delivery_mode": mode, "tickets": [t.barcode for t in chosen]},
                     operation=operation)
    if tickets is None:
        order.delivery_mode = mode
    for t in chosen:
        t.delivery_mode = mode
    session.flush()


def set_payer(session: Session, order: Order, payer: Any, *, operation=None) -> None:
    order = lock_order(session, order)
    payer = get_contact(session, payer, "payer")
    record_operation(session, "update", order=order, details={"payer": payer.number if payer else None},
                     operation=operation)
    order.payer_id = payer.id if payer else None
    session.flush()


def set_attendee(session: Session, ticket: Ticket, attendee: Any, *, operation=None) -> None:
    """The contact who attends with ``ticket`` (None: nobody named); a cancelled ticket is refused."""
    order = lock_order(session, ticket.order_id)
    if ticket.state == "cancelled":
        raise ConflictError(_("Le billet %(barcode)s est annulé : pas de participant à affecter", barcode=ticket.barcode))
    attendee = get_contact(session, attendee, "attendee")
    if attendee is not None and not attendee.valid:
        raise InvalidError(_("Participant invalide"), {"attendee": _("Contact invalide ou fusionné")})
    record_operation(session, "update", order=order,
                     details={"ticket": ticket.barcode, "attendee": attendee.number if attendee else None},
                     operation=operation)
    ticket.attendee_id = attendee.id if attendee else None
    session.flush()
