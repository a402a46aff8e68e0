"""The basket on the screens: the block the sell screen draws for a basket (its number, the orders it
works on with their live tickets, what they owe) and "Paniers", the list of the baskets waiting at
the operator's point of sale, from which any operator of that point of sale resumes or abandons one.

Shared by ``admin_sell.py`` (which imports this module, never the other way round).
"""
from __future__ import annotations

from flask_admin import expose
from sqlalchemy import select

from coulisses import NotFoundError
from coulisses.i18n import format_datetime
from coulisses.security import Operator
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.sales.admin_common import SALES, current_point_of_sale  # noqa: F401 - SALES: the menu
from plugins.sales.models import TICKET_STATE_LABELS, Basket, Ticket
from plugins.sales.services import baskets, catalogue
from plugins.sales.services.common import ZERO


def load_basket(ref) -> Basket | None:
    """The basket named by a form or query value (its "Ordre" number), or None."""
    ref = (ref or "").strip() if isinstance(ref, str) else ref
    if not ref or not str(ref).isdigit():
        return None
    try:
        return baskets.get_basket(db.session, int(ref))
    except NotFoundError:
        return None


def basket_block(work: Basket) -> dict:
    """What the sell screen shows of a basket: ``number``, ``state``, ``orders`` (each with its live
    tickets and, for reserved ones, the other tariffs of their category), ``due``."""
    rows = []
    for order in baskets.basket_orders(db.session, work):
        tickets = list(db.session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state != "cancelled")
                                          .order_by(Ticket.id)))
        prices: dict[int, list] = {}
        out = []
        for t in tickets:
            if t.state == "reserved" and t.performance_id not in prices:
                prices[t.performance_id] = catalogue.prices_for(db.session, t.performance_id,
                                                                channel=order.channel_id)
            tariffs = [(p.tariff_id, p.tariff_label, p.amount) for p in prices.get(t.performance_id, [])
                       if p.category_id == t.category_id] if t.state == "reserved" else []
            out.append({"id": t.id, "barcode": t.barcode, "performance": catalogue.performance_label(t.performance),
                        "category": t.category.label, "tariff": t.tariff.full_label, "tariff_id": t.tariff_id,
                        "seat": str(t.seat) if t.seat_id else "", "amount": t.price + t.fees, "state": t.state,
                        "state_label": str(TICKET_STATE_LABELS[t.state]), "tariffs": tariffs})
        rows.append({"number": order.number, "state_label": order.state_label, "total": order.total,
                     "paid": order.paid, "balance": order.total - order.paid, "tickets": out})
    return {"number": work.number, "state": work.state, "state_label": work.state_label, "orders": rows,
            "due": sum((r["balance"] for r in rows), ZERO), "note": work.note}


class BasketListView(CoulissesBaseView):
    """"Paniers": the baskets waiting (METTRE EN ATTENTE) at the operator's point of sale, and those
    left open; REPRENDRE and ABANDONNER post to the sell screen (permission ``sales.sell``)."""

    permission = "sales.sell"

    @expose("/")
    def index(self):
        pos, pos_error = current_point_of_sale()
        rows = []
        if pos is not None:
            held = baskets.held_baskets(db.session, pos, states=("held", "open"))
            logins = {o.id: o.login for o in db.session.scalars(select(Operator).where(
                Operator.id.in_({b.held_by_id for b in held} | {b.operator_id for b in held} - {None})))}
            for b in held:
                found = baskets.basket_orders(db.session, b)
                rows.append({"number": b.number, "state": b.state, "state_label": b.state_label,
                             "contact": b.contact.display_name if b.contact_id else "",
                             "contact_number": b.contact.number if b.contact_id else None,
                             "since": format_datetime(b.held_at or b.created_at),
                             "by": logins.get(b.held_by_id if b.state == "held" else b.operator_id, ""),
                             "orders": [o.number for o in found], "note": b.note,
                             "due": sum((o.total - o.paid for o in found), ZERO)})
        return self.render("sales/baskets.html", rows=rows, pos=pos, pos_error=pos_error)
