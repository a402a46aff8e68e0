"""What is sold in exchange: exchange lines of a product kind (``registry.ProductKind``), the
built-in kind ``performance`` (the ÉVÉNEMENT tab), and AUTO-ÉCHANGE (the basket's own tickets taken
back for a change of tariff or category, keeping their seats when the category allows it).

The sale itself happens when the basket is settled (``services.settle``): after the old tickets are
released, so that a self-exchange gets its own seats back.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _, _l

from plugins.refunds.models import CancellationBasket, ExchangeLine
from plugins.refunds.registry import ProductKind, get_registry
from plugins.refunds.services.baskets import _editable
from plugins.sales.models import Performance, PointOfSale, Price, Seat, SeatCategory, Tariff
from plugins.sales.services.catalogue import fees_for, performance_label, performances_on_sale
from plugins.sales.services.orders import LineInput

ZERO = Decimal("0.00")


# --------------------------------------------------------------------------- the performance kind


def _performance_unit(session: Session, line: ExchangeLine, basket: CancellationBasket) -> Decimal:
    price = session.scalar(select(Price.amount).where(Price.performance_id == line.performance_id,
                                                      Price.category_id == line.category_id,
                                                      Price.tariff_id == line.tariff_id))
    if price is None:
        raise InvalidError(_("Pas de prix pour ce tarif"), {"tariff": _("Aucun prix pour cette catégorie et ce tarif")})
    pos = session.get(PointOfSale, basket.point_of_sale_id) if basket.point_of_sale_id else None
    fees = fees_for(session, session.get(Performance, line.performance_id), pos.channel_id if pos else None)
    return price + sum((f.amount for f in fees), ZERO)


def _performance_line(session: Session, line: ExchangeLine) -> LineInput:
    return LineInput(line.performance_id, line.category_id, line.tariff_id, line.quantity, seats=list(line.seats or ()))


def _performance_describe(session: Session, line: ExchangeLine) -> tuple[str, str]:
    performance = session.get(Performance, line.performance_id)
    category = session.get(SeatCategory, line.category_id)
    tariff = session.get(Tariff, line.tariff_id)
    return performance_label(performance), f"{category.label} {tariff.full_label}"


def _performance_choices(session: Session, q: str = "") -> list[dict]:
    return [{"id": p.id, "label": p.label, "available": p.available,
             "categories": [{"id": c.category_id, "label": c.label, "available": c.available} for c in p.categories]}
            for p in performances_on_sale(session, q=q or None, limit=50)]


PERFORMANCE_KIND = ProductKind("performance", _l("Événement"), _performance_unit, _performance_line,
                               _performance_describe, _performance_choices, position=10)


# --------------------------------------------------------------------------- exchange lines


def add_performance(session: Session, basket: CancellationBasket, performance: Any, category: Any, tariff: Any,
                    quantity: int = 1, seats: list[int] | None = None) -> ExchangeLine:
    """Sell ``quantity`` places of ``performance`` in exchange (checked now; taken when settled)."""
    _editable(basket)
    errors = {}
    perf = session.get(Performance, int(getattr(performance, "id", performance) or 0))
    cat = session.get(SeatCategory, int(getattr(category, "id", category) or 0))
    tar = session.get(Tariff, int(getattr(tariff, "id", tariff) or 0))
    if perf is None:
        errors["performance"] = _("Séance introuvable")
    if cat is None:
        errors["category"] = _("Catégorie introuvable")
    if tar is None:
        errors["tariff"] = _("Tarif introuvable")
    if not isinstance(quantity, int) or quantity <= 0:
        errors["quantity"] = _("La quantité doit être un entier positif")
    seats = [int(s) for s in (seats or [])]
    if seats and len(seats) != quantity:
        errors["seats"] = _("Une place par billet")
    if errors:
        raise InvalidError(_("Produit d'échange invalide"), errors)
    line = ExchangeLine(kind="performance", performance_id=perf.id, category_id=cat.id, tariff_id=tar.id,
                        quantity=quantity, seats=seats)
    basket.exchange_lines.append(line)
    session.flush()
    _performance_unit(session, line, basket)  # refused now when there is no price
    return line


def add_product(session: Session, basket: CancellationBasket, kind: str, **data: Any) -> ExchangeLine:
    """An exchange line of any registered kind (``performance``: performance, category, tariff,
    quantity, seats; another kind keeps its own fields in ``data``)."""
    if kind == "performance":
        return add_performance(session, basket, data.get("performance"), data.get("category"), data.get("tariff"),
                               data.get("quantity", 1), data.get("seats"))
    _editable(basket)
    get_registry().product_kind(kind)
    line = ExchangeLine(kind=kind, quantity=int(data.pop("quantity", 1)), data=data)
    basket.exchange_lines.append(line)
    session.flush()
    return line


def change_line(session: Session, basket: CancellationBasket, line_id: int, *, category: Any = None,
                tariff: Any = None, quantity: int | None = None) -> ExchangeLine:
    """Change an exchange line's tariff, category or quantity (AUTO-ÉCHANGE: a change of tariff).
    Seats are kept while they belong to the new category; otherwise they are dropped (a seated
    venue then needs seats chosen again: refused when settling)."""
    _editable(basket)
    line = next((ln for ln in basket.exchange_lines if ln.id == int(line_id)), None)
    if line is None:
        raise NotFoundError(_("Ligne d'échange introuvable : %(id)s", id=line_id))
    if tariff is not None:
        if session.get(Tariff, int(tariff)) is None:
            raise InvalidError(_("Tarif introuvable"), {"tariff": _("Tarif introuvable")})
        line.tariff_id = int(tariff)
    if category is not None:
        if session.get(SeatCategory, int(category)) is None:
            raise InvalidError(_("Catégorie introuvable"), {"category": _("Catégorie introuvable")})
        line.category_id = int(category)
        if line.seats:
            seats = session.scalars(select(Seat).where(Seat.id.in_(line.seats))).all()
            if any(s.category_id not in (None, line.category_id) for s in seats):
                line.seats = []
    if quantity is not None:
        if not isinstance(quantity, int) or quantity <= 0:
            raise InvalidError(_("Quantité invalide"), {"quantity": _("La quantité doit être un entier positif")})
        if line.seats and quantity != len(line.seats):
            line.seats = list(line.seats)[:quantity] if quantity < len(line.seats) else []
        line.quantity = quantity
    session.flush()
    _performance_unit(session, line, basket) if line.kind == "performance" else None
    return line


def remove_line(session: Session, basket: CancellationBasket, line_id: int) -> None:
    _editable(basket)
    line = next((ln for ln in basket.exchange_lines if ln.id == int(line_id)), None)
    if line is None:
        raise NotFoundError(_("Ligne d'échange introuvable : %(id)s", id=line_id))
    basket.exchange_lines.remove(line)
    session.flush()


def self_exchange(session: Session, basket: CancellationBasket, tickets: list[Any] | None = None) -> list[ExchangeLine]:
    """AUTO-ÉCHANGE: the basket's tickets (all, or the given ids / barcodes) sold again in exchange,
    same performance, category, tariff and seats; change the tariff or category on the lines."""
    _editable(basket)
    chosen = [bt for bt in basket.tickets
              if tickets is None or str(bt.ticket_id) in {str(t) for t in tickets} or bt.ticket.barcode in
              {str(t) for t in tickets}]
    if not chosen:
        raise InvalidError(_("Aucun billet à reprendre"), {"tickets": _("Ajoutez d'abord les billets à annuler")})
    groups: dict[tuple, list] = {}
    for bt in chosen:
        t = bt.ticket
        bt.self_exchange = True
        groups.setdefault((t.performance_id, t.category_id, t.tariff_id), []).append(t)
    lines = []
    for (perf, cat, tar), group in groups.items():
        seats = [t.seat_id for t in group if t.seat_id is not None]
        line = ExchangeLine(kind="performance", performance_id=perf, category_id=cat, tariff_id=tar,
                            quantity=len(group), seats=seats if len(seats) == len(group) else [],
                            data={"self_exchange": True})
        basket.exchange_lines.append(line)
        lines.append(line)
    session.flush()
    return lines
