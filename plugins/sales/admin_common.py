"""What the sales work screens share (``admin_sell.py``, ``admin_orders.py``, ``admin_baskets.py``): the
point of sale the operator sells from, the permission check, amounts typed by a person, JSON for a
page's script, the basket named by a form and the block the sell screen draws for it, and the strings
the screens' JavaScript shows (translated here, read with ``Coulisses.t``).

It imports no other screen module: ``admin.py`` imports the screens, the screens import this module
(no import cycle).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from decimal import Decimal

from flask_login import current_user

from sqlalchemy import select

from coulisses import CoulissesError, InvalidError, NotFoundError
from coulisses.db import Actor, acting_as, parse_money
from coulisses.i18n import _, _l
from coulisses.web.auth import require  # noqa: F401 - the host's permission check, for the screens
from coulisses.web.extensions import db

from plugins.sales.models import TICKET_STATE_LABELS, Basket, Ticket
from plugins.sales.services import baskets, catalogue
from plugins.sales.services.common import ZERO
from plugins.sales.services.settings import resolve_point_of_sale

SALES = _l("Ventes")


@contextmanager
def at_point_of_sale(pos_id: int | None):
    """The services record the logged-in operator *and* the point of sale chosen on the screen."""
    with acting_as(Actor(current_user.id, current_user.login, {"point_of_sale_id": pos_id})):
        yield


def current_point_of_sale():
    """The operator's point of sale (theirs, else the default one), or None with the reason."""
    try:
        with acting_as(Actor(current_user.id, current_user.login)):
            return resolve_point_of_sale(db.session), None
    except CoulissesError as exc:
        return None, str(exc)


def parse_amount(raw: str | None, field: str) -> Decimal | None:
    """"1 500,50" or "1500.50" → Decimal (the host's ``parse_money``); empty → None; not an amount, or
    more decimals than the currency has: ``InvalidError`` naming the field."""
    try:
        return parse_money(raw)
    except (TypeError, ValueError, ArithmeticError):
        text = (raw or "").strip()
        raise InvalidError(_("Montant invalide"), {field: _("Montant invalide : %(amount)s", amount=text)}) from None


def script_json(data) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def js_strings() -> dict:
    """The strings the sales screens' JavaScript (``sales.js``) shows, in the operator's language."""
    return {
        "sales.restDue": _("Reste dû"),
        "sales.change": _("Monnaie à rendre"),
        "sales.overpaid": _("Trop perçu (refusé)"),
        "sales.credit": _("Solde avoir : %(amount)s"),
        "sales.createFailed": _("La création a échoué."),
        "sales.createAndChoose": _("CRÉER ET CHOISIR"),
        "sales.createAnyway": _("CRÉER QUAND MÊME"),
        "sales.places": _("%(num)s places"),
        "sales.place": _("%(num)s place"),
        "sales.full": _("complet"),
        "sales.fees": _("%(amount)s frais"),
        "sales.row": _("%(area)s — rang %(row)s"),
        "sales.inBasket": _("dans le panier"),
        "sales.otherCategory": _("autre catégorie"),
        "sales.sold": _("vendue"),
        "sales.free": _("libre"),
        "sales.seatMap": _("Plan de salle : flèches pour aller de place en place, Espace pour cocher"),
        "sales.seatsChosen": _("%(num)s place(s) cochée(s)"),
        "sales.choosePerformance": _("Choisissez d'abord une séance."),
        "sales.chooseCategory": _("Choisissez une catégorie et un tarif."),
        "sales.badQuantity": _("La quantité est un nombre entier positif."),
        "sales.onlyLeft": _("Plus que %(num)s place(s) en %(category)s pour cette séance."),
        "sales.notEnoughSeats": _("Pas assez de places libres dans cette catégorie."),
        "sales.lineAdded": _("Ajouté au panier : %(line)s. Total %(total)s."),
        "sales.lineRemoved": _("Retiré du panier : %(line)s. Total %(total)s."),
        "sales.remove": _("Retirer du panier : %(line)s"),
        "sales.buyerChosen": _("Acheteur choisi : %(label)s"),
        "sales.amountInvalid": _("Montant invalide"),
        "sales.performancesShown": _("%(num)s séance(s) affichée(s)"),
    }


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
