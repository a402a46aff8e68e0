"""The sales screens (Flask-Admin). Labels are French source strings, translated (en, es).

URLs (all under ``/admin``):
- ``/admin/sales/sell/`` — "Vente - réservation", the box-office sales screen (``admin_sell.py``);
- ``/admin/sales/baskets/`` — "Paniers": the baskets waiting at the point of sale (``admin_baskets.py``);
- ``/admin/sales/orders/`` — "Dossiers": search by number or buyer; ``/admin/sales/orders/<number>/`` —
  "Détail d'un dossier" and its actions (``admin_orders.py``);
- ``/admin/sales/tickets/`` — "Billets": find a ticket by barcode, or a range first..last;
- ``/admin/sales/pending-payments/`` — "Règlements en attente": resolve payments of unknown outcome;
  ``/admin/sales/payer/<number>/`` — "Changer le payeur" of an order's payments (``admin_payments.py``);
- ``/admin/sales_<thing>/`` — the generated CRUD of the catalogue ("Catalogue" menu) and of the sales
  settings ("Paramètres de vente" menu) (``admin_catalogue.py``).

Menus: "Ventes" (work screens), "Catalogue", "Paramètres de vente".

Imports go one way: this module imports the screens; the screens share ``admin_common.py``, which
imports none of them.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, url_for

from coulisses.i18n import _l

from plugins.sales.admin_baskets import BasketListView
from plugins.sales.admin_catalogue import catalogue_views
from plugins.sales.admin_lifecycle import lifecycle_blueprint, lifecycle_views
from plugins.sales.admin_common import (  # noqa: F401 - re-exported for other plugins' screens
    SALES, at_point_of_sale, current_point_of_sale, require,
)
from plugins.sales.admin_orders import OrderView, TicketSearchView
from plugins.sales.admin_payments import PayerChangeView, PendingPaymentsView
from plugins.sales.admin_sell import SellView


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


def admin_views() -> list:
    return [
        SellView(name=_l("Vente - réservation"), endpoint="sales_sell", url="/admin/sales/sell", category=SALES),
        BasketListView(name=_l("Paniers"), endpoint="sales_baskets", url="/admin/sales/baskets", category=SALES),
        OrderView(name=_l("Dossiers"), endpoint="sales_orders", url="/admin/sales/orders", category=SALES),
        TicketSearchView(name=_l("Billets (code-barres)"), endpoint="sales_tickets", url="/admin/sales/tickets",
                         category=SALES),
        PendingPaymentsView(name=_l("Règlements en attente"), endpoint="sales_pending", url="/admin/sales/pending-payments",
                            category=SALES),
        PayerChangeView(name=_l("Changer le payeur"), endpoint="sales_payer", url="/admin/sales/payer"),
        *lifecycle_views(SALES),
        *catalogue_views(),
    ]
