"""Hook implementations of the refunds plugin (host hooks, sales' hooks, its own built-ins)."""
from __future__ import annotations

from coulisses import Permission, hookimpl
from coulisses.i18n import _l

# --------------------------------------------------------------------------- domain: registries


@hookimpl
def refunds_product_kinds():
    from plugins.refunds.services.exchange import PERFORMANCE_KIND

    return [PERFORMANCE_KIND]


@hookimpl
def sales_operation_kinds():
    from plugins.sales.registry import OperationKind

    return [OperationKind("cancellation", _l("Échange - annulation"))]


@hookimpl
def coulisses_job_types():
    from coulisses.outbox import JobType
    from plugins.refunds.services.batch import run_cancellation_job
    from plugins.refunds.services.settle import PAYOUT_JOB, run_payouts_job

    from plugins.refunds.report_documents import generate_receipt_job

    return [JobType(PAYOUT_JOB, run_payouts_job, _l("Versement des remboursements")),
            JobType("refunds.receipt", generate_receipt_job, _l("Reçu de remboursement")),
            JobType("refunds.cancel_performance", run_cancellation_job, _l("Remboursement d'une séance annulée"),
                    max_attempts=3)]


@hookimpl
def coulisses_webhook_events():
    from plugins.refunds.events import EVENTS

    return EVENTS


@hookimpl
def coulisses_metrics(session):
    """Baskets settled (a counter) and refunds not paid out yet (an interrupted payout: "Terminer le
    remboursement" from the order), read at each scrape (see ``plugins/sales/metrics.py`` for why)."""
    from sqlalchemy import func, select

    from coulisses.metrics import Metric
    from plugins.refunds.models import CancellationBasket, RefundPayout

    settled = session.scalar(select(func.count()).select_from(CancellationBasket)
                             .where(CancellationBasket.state == "settled"))
    count, amount = session.execute(select(func.count(), func.sum(RefundPayout.amount))
                                    .where(RefundPayout.state == "pending")).one()
    return [Metric("coulisses_refunds_baskets_settled_total", "counter", "Cancellation baskets settled.",
                   [({}, settled or 0)]),
            Metric("coulisses_refunds_payouts_pending", "gauge", "Refunds recorded but not paid out yet.",
                   [({}, count or 0)]),
            Metric("coulisses_refunds_payouts_pending_amount", "gauge",
                   "Amount of the refunds not paid out yet (in the deployment's currency).",
                   [({}, float(amount or 0))])]


@hookimpl
def coulisses_permissions():
    return [
        Permission("refunds.refund", _l("Rembourser des billets payés"), ("operator", "supervisor")),
        Permission("refunds.exchange", _l("Échanger des billets"), ("operator", "supervisor")),
        Permission("refunds.cash", _l("Rembourser en espèces"), ("supervisor",)),
        Permission("refunds.fee.override", _l("Changer les frais d'annulation d'une cause"), ("supervisor",)),
        Permission("refunds.mode_limit.override",
                   _l("Rembourser par un mode plus que ce qui a été payé par ce mode"), ("supervisor",)),
        Permission("refunds.performance.cancel", _l("Annuler une séance et la rembourser en lot"), ("supervisor",)),
        Permission("refunds.settings.manage", _l("Paramétrer les causes d'annulation"), ("supervisor",)),
    ]


@hookimpl
def coulisses_install_defaults(session):
    from plugins.refunds.services.causes import install_defaults

    install_defaults(session)


@hookimpl
def coulisses_startup(app):
    from plugins.refunds.registry import registry_for

    app.extensions["refunds"] = registry_for(app.extensions["coulisses"].pm)


@hookimpl
def coulisses_api_routes(api):
    from plugins.refunds.api import register_routes

    register_routes(api)


@hookimpl
def sales_order_actions(session, order):
    from plugins.refunds.services.history import order_actions

    return order_actions(session, order)


@hookimpl(optionalhook=True)
def reports_documents():
    from plugins.refunds.report_documents import document_types

    return document_types()


# --------------------------------------------------------------------------- devices (optional)


@hookimpl(optionalhook=True)
def devices_scan_received(session, scan):
    from plugins.refunds.devices_hooks import scan_received

    scan_received(session, scan)


@hookimpl(optionalhook=True)
def devices_cash_paid_out_later(session, payment):
    from plugins.refunds.devices_hooks import paid_out_later

    return True if paid_out_later(session, payment) else None


@hookimpl
def refunds_refund_done(session, basket, operation):
    """The refund receipt on the basket's receipt printer, when the devices plugin is enabled."""
    from plugins.refunds.registry import get_registry

    if get_registry().enabled("devices"):
        from plugins.refunds.devices_hooks import print_receipt

        print_receipt(session, basket, operation)


@hookimpl
def refunds_payout(session, payout, mode_type):
    """The cash drawer opens on a cash refund, when the devices plugin is enabled."""
    from plugins.refunds.registry import get_registry

    if get_registry().enabled("devices"):
        from plugins.refunds.devices_hooks import open_drawer

        open_drawer(session, payout, mode_type)


# --------------------------------------------------------------------------- screens


@hookimpl
def coulisses_admin_views(admin):
    from plugins.refunds.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_blueprints():
    from plugins.refunds.admin import ui_blueprint

    return [ui_blueprint()]


# --------------------------------------------------------------------------- demo


@hookimpl
def coulisses_demo_data(session, size):
    from plugins.refunds.demo import load_demo

    load_demo(session, size)
