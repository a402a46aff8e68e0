""""Paniers": the baskets waiting at the operator's point of sale (METTRE EN ATTENTE, or left open),
from which any operator of that point of sale resumes or abandons one (through the sell screen's
actions). The block the sell screen draws for a basket is ``admin_common.basket_block``.
"""
from __future__ import annotations

from flask_admin import expose
from sqlalchemy import select

from coulisses.i18n import format_datetime
from coulisses.security import Operator
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.sales.admin_common import current_point_of_sale
from plugins.sales.services import baskets
from plugins.sales.services.common import ZERO


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
