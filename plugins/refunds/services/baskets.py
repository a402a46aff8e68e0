"""The cancellation basket ("Échange - annulation"): open it (one operation, "Ordre 1271"), take
tickets in (barcodes scanned one after another, the first and last barcode of a range, a typed list
or range of numbers, a whole order), the contact, who asked and why, hold, resume, abandon.

A ticket that cannot be cancelled here (unknown, not paid, already cancelled, already in the basket)
is refused with its reason and the basket keeps the rest (``AddResult``). Nothing here moves money or
cancels anything: ``services.settle`` does, under locks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import lock_rows
from coulisses.i18n import _, format_money

from plugins.refunds.models import REQUESTERS, BasketTicket, CancellationBasket, RefundCause
from plugins.sales.models import DELIVERY_MODES, Order, Ticket
from plugins.sales.services.common import contact as get_contact, money
from plugins.sales.services.delivery import check_email
from plugins.sales.services.finding import find_ticket, find_tickets_range, get_order
from plugins.sales.services.settings import resolve_point_of_sale

OPERATION_KIND = "cancellation"
RANGE_LIMIT = 1000
_SPLIT = re.compile(r"[\s,;]+")
_RANGE = re.compile(r"^(\d+)\s*(?:-|\.\.|→|à)\s*(\d+)$")


@dataclass
class AddResult:
    """What happened to each ticket asked for: ``added`` (barcodes), ``refused`` ((what was typed,
    reason) pairs)."""

    added: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: "AddResult") -> "AddResult":
        self.added += other.added
        self.refused += other.refused
        return self


# --------------------------------------------------------------------------- life cycle


def open_basket(session: Session, *, contact: Any = None, point_of_sale: Any = None,
                sales_basket: Any = None) -> CancellationBasket:
    """A new cancellation basket on a sales basket (one operation: the number shown, "Ordre 1271").
    ``sales_basket``: one already open or held (the order detail's REPRENDRE, the demo's "Ordre
    1271"), else a new one is opened at ``point_of_sale``."""
    from plugins.sales.services import baskets as sales_baskets

    person = get_contact(session, contact, "contact")
    if sales_basket is None:
        sales_basket = sales_baskets.open_basket(session, point_of_sale=point_of_sale, contact=person)
    else:
        sales_basket = sales_baskets.get_basket(session, sales_basket)
        if sales_basket.state not in ("open", "held"):
            raise ConflictError(_("Le panier (Ordre %(number)s) est déjà réglé", number=sales_basket.number))
    basket = CancellationBasket(operation_id=sales_basket.operation_id, contact_id=person.id if person else None,
                                point_of_sale_id=sales_basket.point_of_sale_id,
                                state="held" if sales_basket.state == "held" else "open",
                                requested_by="public", refund_fees=True)
    cause = default_cause(session)
    basket.cause_id = cause.id if cause else None
    session.add(basket)
    session.flush()
    return basket


def sales_basket_of(session: Session, basket: CancellationBasket):
    """The sales basket (``plugins.sales.models.Basket``) the cancellation basket works in."""
    from plugins.sales.services.journal import basket_of

    return basket_of(session, basket.operation_id)


def get_basket(session: Session, ref: Any) -> CancellationBasket:
    """A basket by instance, id, or its operation number."""
    from plugins.sales.models import Operation

    if isinstance(ref, CancellationBasket):
        return ref
    basket = session.get(CancellationBasket, int(ref)) if str(ref).isdigit() else None
    if basket is None:
        raise NotFoundError(_("Panier d'annulation introuvable : %(ref)s", ref=ref))
    return basket


def basket_by_operation(session: Session, number: int) -> CancellationBasket:
    from plugins.sales.models import Operation

    basket = session.scalar(select(CancellationBasket).join(Operation, Operation.id == CancellationBasket.operation_id)
                            .where(Operation.number == int(number)))
    if basket is None:
        raise NotFoundError(_("Panier d'annulation introuvable : Ordre %(ref)s", ref=number))
    return basket


def lock_basket(session: Session, basket: CancellationBasket | int) -> CancellationBasket:
    basket_id = basket if isinstance(basket, int) else basket.id
    locked = lock_rows(session, select(CancellationBasket).where(CancellationBasket.id == basket_id)
                       .execution_options(populate_existing=True)).scalar()
    if locked is None:
        raise NotFoundError(_("Panier d'annulation introuvable : %(ref)s", ref=basket_id))
    return locked


def _editable(basket: CancellationBasket) -> None:
    if basket.state == "settled":
        raise ConflictError(_("Le panier (Ordre %(number)s) est déjà réglé", number=basket.number))
    if basket.state == "abandoned":
        raise ConflictError(_("Le panier (Ordre %(number)s) a été abandonné", number=basket.number))


def hold(session: Session, basket: CancellationBasket) -> CancellationBasket:
    """METTRE EN ATTENTE: the basket is kept as it is, to be resumed at its point of sale."""
    from plugins.sales.services import baskets as sales_baskets

    basket = lock_basket(session, basket)
    _editable(basket)
    if basket.state == "open":
        sales_baskets.hold(session, sales_basket_of(session, basket))
    basket.state = "held"
    session.flush()
    return basket


def resume(session: Session, basket: CancellationBasket, *, point_of_sale: Any = None) -> CancellationBasket:
    from plugins.sales.services import baskets as sales_baskets

    basket = lock_basket(session, basket)
    _editable(basket)
    if sales_basket_of(session, basket).state == "held":
        sales_baskets.resume(session, sales_basket_of(session, basket), point_of_sale=point_of_sale)
    basket.state = "open"
    session.flush()
    return basket


def abandon(session: Session, basket: CancellationBasket) -> CancellationBasket:
    """ABANDONNER ORDRE: nothing is cancelled; the operation number stays used (gapless journal)."""
    from plugins.sales.services import baskets as sales_baskets

    basket = lock_basket(session, basket)
    _editable(basket)
    sales_baskets.abandon(session, sales_basket_of(session, basket))
    basket.state = "abandoned"
    session.flush()
    return basket


def held_baskets(session: Session, *, point_of_sale: Any = None, limit: int = 50) -> list[CancellationBasket]:
    stmt = select(CancellationBasket).where(CancellationBasket.state.in_(("held", "open")))
    if point_of_sale is not None:
        stmt = stmt.where(CancellationBasket.point_of_sale_id == resolve_point_of_sale(session, point_of_sale).id)
    return list(session.scalars(stmt.order_by(CancellationBasket.id.desc()).limit(limit)))


# --------------------------------------------------------------------------- options


def default_cause(session: Session) -> RefundCause | None:
    return session.scalar(select(RefundCause).where(RefundCause.active.is_(True))
                          .order_by(RefundCause.position, RefundCause.id).limit(1))


def set_options(session: Session, basket: CancellationBasket, *, contact: Any = ..., requested_by: str | None = None,
                cause: Any = ..., refund_fees: bool | None = None, fee_override: Any = ...,
                delivery_mode: str | None = None, note: str | None = None, delivery_email: str | None = None,
                delivery_address: str | None = None, immediate_print: bool | None = None) -> CancellationBasket:
    """Change what the operator chose; only the given keys change (``...``: unchanged).
    ``delivery_*`` and ``immediate_print``: "Livraison billets" of the exchange's new tickets, as on
    the sell screen (empty e-mail or address: the contact's), given to the exchange order when settled.
    ``fee_override`` (the cause's fee typed by hand, for the whole basket; None: the cause's) needs
    the permission ``refunds.fee.override`` — checked by the screen and the API."""
    _editable(basket)
    errors = {}
    if requested_by is not None and requested_by not in REQUESTERS:
        errors["requested_by"] = _("Demandé par : %(values)s", values=", ".join(REQUESTERS))
    if delivery_mode is not None and delivery_mode not in DELIVERY_MODES:
        errors["delivery_mode"] = _("Mode de livraison inconnu")
    if delivery_email is not None and delivery_email.strip():
        try:
            delivery_email = check_email(delivery_email)
        except InvalidError as exc:
            errors.update(exc.fields)
    if cause is not ... and cause not in (None, ""):
        found = _cause(session, cause)
        if found is None or not found.active:
            errors["cause"] = _("Cause inconnue : %(cause)s", cause=cause)
    if fee_override is not ... and fee_override not in (None, ""):
        value = money(fee_override, "fee_override")
        if value < 0:
            errors["fee_override"] = _("Montant positif requis")
    if errors:
        raise InvalidError(_("Les choix du panier ne sont pas valides"), errors)
    if contact is not ...:
        person = get_contact(session, contact, "contact")
        if person is not None and not person.valid:
            raise InvalidError(_("Contact invalide"), {"contact": _("Contact invalide ou fusionné")})
        basket.contact_id = person.id if person else None
    if requested_by is not None:
        basket.requested_by = requested_by
    if cause is not ...:
        basket.cause_id = _cause(session, cause).id if cause not in (None, "") else None
    if refund_fees is not None:
        basket.refund_fees = bool(refund_fees)
    if fee_override is not ...:
        basket.fee_override = money(fee_override, "fee_override") if fee_override not in (None, "") else None
    if delivery_mode is not None:
        basket.delivery_mode = delivery_mode
    if delivery_email is not None:
        basket.delivery_email = delivery_email.strip()[:200]
    if delivery_address is not None:
        basket.delivery_address = delivery_address.strip()[:2000]
    if immediate_print is not None:
        basket.immediate_print = bool(immediate_print)
    if note is not None:
        basket.note = note
    session.flush()
    return basket


def _cause(session: Session, ref: Any) -> RefundCause | None:
    if isinstance(ref, RefundCause):
        return ref
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        return session.get(RefundCause, int(ref))
    return session.scalar(select(RefundCause).where(RefundCause.code == str(ref)))


# --------------------------------------------------------------------------- adding tickets


def refusal(session: Session, ticket: Ticket, basket: CancellationBasket | None = None) -> str | None:
    """Why ``ticket`` cannot be taken into the basket (None: it can)."""
    if ticket.state == "cancelled":
        return _("Billet %(barcode)s déjà annulé", barcode=ticket.barcode)
    if ticket.state == "reserved":
        return _("Billet %(barcode)s non payé (réservé) : il s'annule dans le panier de vente", barcode=ticket.barcode)
    order = ticket.order
    if order.total - order.paid > 0:
        return _("Billet %(barcode)s non payé : le dossier %(number)s doit encore %(due)s", barcode=ticket.barcode,
                 number=order.number, due=format_money(order.total - order.paid))
    if basket is not None and any(bt.ticket_id == ticket.id for bt in basket.tickets):
        return _("Billet %(barcode)s déjà dans le panier", barcode=ticket.barcode)
    return None


def _take(session: Session, basket: CancellationBasket, tickets: Iterable[Ticket], result: AddResult,
          *, self_exchange: bool = False) -> AddResult:
    for ticket in tickets:
        reason = refusal(session, ticket, basket)
        if reason:
            result.refused.append((ticket.barcode, reason))
            continue
        basket.tickets.append(BasketTicket(ticket_id=ticket.id, order_id=ticket.order_id, self_exchange=self_exchange))
        result.added.append(ticket.barcode)
        if basket.contact_id is None:
            basket.contact_id = ticket.order.buyer_id
    session.flush()
    return result


def add_barcodes(session: Session, basket: CancellationBasket, barcodes: Iterable[str]) -> AddResult:
    """Scanned or typed barcodes, one after another."""
    _editable(basket)
    result = AddResult()
    for code in barcodes:
        code = (code or "").strip()
        if not code:
            continue
        try:
            ticket = find_ticket(session, code)
        except (NotFoundError, InvalidError):
            result.refused.append((code, _("Code-barres inconnu : %(barcode)s", barcode=code)))
            continue
        _take(session, basket, [ticket], result)
    return result


def add_range(session: Session, basket: CancellationBasket, first: str, last: str) -> AddResult:
    """The first and the last barcode of a range ("Plage numéros"): every ticket between them."""
    _editable(basket)
    first, last = (first or "").strip(), (last or "").strip()
    if not first or not last:
        raise InvalidError(_("Plage incomplète"), {"range": _("Premier et dernier numéro requis")})
    if first > last:
        first, last = last, first
    tickets = find_tickets_range(session, first, last, limit=RANGE_LIMIT + 1)
    if len(tickets) > RANGE_LIMIT:
        raise InvalidError(_("Plage trop grande"), {"range": _("%(limit)s billets au plus", limit=RANGE_LIMIT)})
    result = AddResult()
    if not tickets:
        result.refused.append((f"{first}-{last}", _("Aucun billet entre %(first)s et %(last)s", first=first,
                                                     last=last)))
        return result
    return _take(session, basket, tickets, result)


def set_scan_range(session: Session, basket: CancellationBasket, on: bool) -> None:
    """"Plage" on: the next scans come in pairs, the first and the last ticket of a range (the
    workstation's scanner, or the "Code-barres" field); off: one ticket per scan. Either way a first
    ticket scanned and waiting for its last is forgotten."""
    _editable(basket)
    basket.scan_range = bool(on)
    basket.scan_range_first = ""
    session.flush()


def add_scanned(session: Session, basket: CancellationBasket, code: str) -> AddResult:
    """A scanned barcode: its ticket; with "Plage" on, the first scan is kept (nothing added yet) and
    the second one adds every ticket from the first to it (``add_range``). What cannot be added is in
    the result's ``refused`` (never raised: a scan has no form to come back to); a refused last scan
    ends the pair, the next scan starts a new range."""
    _editable(basket)
    code = (code or "").strip()
    result = AddResult()
    if not code:
        return result
    if not basket.scan_range:
        return add_barcodes(session, basket, [code])
    if not basket.scan_range_first:
        try:
            find_ticket(session, code)
        except (NotFoundError, InvalidError):
            result.refused.append((code, _("Code-barres inconnu : %(barcode)s", barcode=code)))
            return result
        basket.scan_range_first = code
        session.flush()
        return result
    first, basket.scan_range_first = basket.scan_range_first, ""
    session.flush()
    try:
        return add_range(session, basket, first, code)
    except InvalidError as exc:
        result.refused.append((f"{first}-{code}", str(exc)))
        return result


def add_numbers(session: Session, basket: CancellationBasket, text: str) -> AddResult:
    """A typed list of numbers ("01010002748, 01010002746") and ranges ("01010002727-01010002748")."""
    _editable(basket)
    text = (text or "").strip()
    if not text:
        raise InvalidError(_("Aucun numéro"), {"numbers": _("Tapez des numéros de billets")})
    text = re.sub(r"\s*(-|\.\.|→)\s*", r"\1", text)
    result = AddResult()
    for token in _SPLIT.split(text):
        if not token:
            continue
        match = _RANGE.match(token)
        if match:
            result.merge(add_range(session, basket, match.group(1), match.group(2)))
        else:
            result.merge(add_barcodes(session, basket, [token]))
    return result


def add_order(session: Session, basket: CancellationBasket, order: Any, tickets: Iterable[Any] | None = None) -> AddResult:
    """"Reprendre": the whole order (its live tickets), or the selected ones (ids or barcodes)."""
    _editable(basket)
    if not isinstance(order, Order):
        try:
            order = get_order(session, int(order))
        except (TypeError, ValueError):
            raise InvalidError(_("Numéro de dossier invalide"), {"order": _("Un numéro")}) from None
    stmt = select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.id)
    rows = list(session.scalars(stmt))
    if tickets is not None:
        wanted = {str(t) for t in tickets}
        rows = [t for t in rows if str(t.id) in wanted or t.barcode in wanted]
    else:
        rows = [t for t in rows if t.state != "cancelled"]
    result = AddResult()
    if not rows:
        result.refused.append((str(order.number), _("Le dossier %(number)s n'a aucun billet à annuler",
                                                    number=order.number)))
        return result
    return _take(session, basket, rows, result)


def remove_tickets(session: Session, basket: CancellationBasket, tickets: Iterable[Any]) -> int:
    """SUPPRIMER: take tickets (ids or barcodes) out of the basket."""
    _editable(basket)
    wanted = {str(t) for t in tickets}
    gone = [bt for bt in basket.tickets if str(bt.ticket_id) in wanted or bt.ticket.barcode in wanted]
    for bt in gone:
        basket.tickets.remove(bt)
    session.flush()
    return len(gone)


def basket_orders(session: Session, basket: CancellationBasket) -> list[Order]:
    ids = sorted({bt.order_id for bt in basket.tickets})
    return list(session.scalars(select(Order).where(Order.id.in_(ids)).order_by(Order.number))) if ids else []


ZERO = Decimal("0.00")
