"""The sales screens (Flask-Admin). Labels in French, like the contacts screens.

URLs (all under ``/admin``):
- ``/admin/sales/sell/`` — "Vente - réservation", the box-office sales screen (``admin_sell.py``);
- ``/admin/sales/orders/`` — "Dossiers": search by number or buyer; ``/admin/sales/orders/<number>/`` —
  "Détail d'un dossier" and its actions (``admin_orders.py``);
- ``/admin/sales/tickets/`` — "Billets": find a ticket by barcode, or a range first..last;
- ``/admin/sales_<thing>/`` — the generated CRUD of the catalogue ("Catalogue" menu) and of the sales
  settings ("Paramètres de vente" menu) (``admin_catalogue.py``).

Menus: "Ventes" (work screens), "Catalogue", "Paramètres de vente".
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, abort, redirect, request, url_for
from flask_login import current_user

from coulisses.db import Actor, acting_as
from coulisses.web.extensions import db

SALES = "Ventes"


def ui_blueprint() -> Blueprint:
    """Templates (``sales/*.html``), static files (``/sales-static/sales/...``) and the stable link
    to an order detail that other modules write without Flask (``/admin/sales_order_detail/?number=``)."""
    bp = Blueprint("sales_ui", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/sales-static")

    @bp.route("/admin/sales_order_detail/")
    def order_link():
        number = request.args.get("number", "")
        if not number.isdigit():
            abort(404)
        return redirect(url_for("sales_orders.detail", number=int(number)))

    return bp


def require(permission: str) -> None:
    if not (current_user.is_authenticated and current_user.has_permission(permission)):
        abort(403)


@contextmanager
def at_point_of_sale(pos_id: int | None):
    """The services record the logged-in operator *and* the point of sale chosen on the screen."""
    with acting_as(Actor(current_user.id, current_user.login, {"point_of_sale_id": pos_id})):
        yield


def current_point_of_sale():
    """The operator's point of sale (theirs, else the default one), or None with the reason."""
    from coulisses import CoulissesError
    from plugins.sales.services.settings import resolve_point_of_sale

    try:
        with acting_as(Actor(current_user.id, current_user.login)):
            return resolve_point_of_sale(db.session), None
    except CoulissesError as exc:
        return None, str(exc)


def admin_views() -> list:
    from plugins.sales.admin_catalogue import catalogue_views
    from plugins.sales.admin_orders import OrderView, TicketSearchView
    from plugins.sales.admin_sell import SellView

    return [
        SellView(name="Vente - réservation", endpoint="sales_sell", url="/admin/sales/sell", category=SALES),
        OrderView(name="Dossiers", endpoint="sales_orders", url="/admin/sales/orders", category=SALES),
        TicketSearchView(name="Billets (code-barres)", endpoint="sales_tickets", url="/admin/sales/tickets",
                         category=SALES),
        *catalogue_views(),
    ]
