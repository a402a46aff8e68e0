"""Hook implementations of the sales plugin (host hooks, contacts' hooks, its own built-ins).

Sections, each marked with its owner:
- domain (registries, contacts hooks, permissions, REST API, startup): this section;
- screens (admin views, blueprints, template context): ``plugins/sales/admin.py``;
- demo data: ``plugins/sales/demo/``.
"""
from __future__ import annotations

from coulisses import Permission, hookimpl
from coulisses.i18n import _l

from plugins.sales import lifecycle_hooks

# --------------------------------------------------------------------------- domain: own registries


@hookimpl
def sales_payment_mode_types():
    from plugins.sales.registry import BUILTIN_PAYMENT_MODE_TYPES

    return BUILTIN_PAYMENT_MODE_TYPES


@hookimpl
def sales_operation_kinds():
    from plugins.sales.registry import BUILTIN_OPERATION_KINDS

    return BUILTIN_OPERATION_KINDS


# --------------------------------------------------------------------------- domain: webhooks (own events)


@hookimpl
def coulisses_webhook_events():
    from plugins.sales.events import EVENTS

    return EVENTS


@hookimpl
def coulisses_metrics(session):
    from plugins.sales.metrics import metrics

    return metrics(session)


# sales_order_created / sales_order_paid raise sales.order.created / .paid: below, with the order's life
# (one implementation per hook in a module: a second ``def`` of the same name would replace the first)


# --------------------------------------------------------------------------- domain: contacts hooks


@hookimpl
def contacts_history(session, contact, kind):
    from plugins.sales.services import contact_activity

    return contact_activity.history(session, contact, kind)


@hookimpl
def contacts_facts(session, contact):
    from plugins.sales.services import contact_activity

    return contact_activity.facts(session, contact)


@hookimpl
def contacts_references():
    from plugins.contacts.registry import ContactReference as Ref

    return [
        Ref("sales_order", "buyer_id", _l("Dossiers (acheteur)")),
        Ref("sales_order", "payer_id", _l("Dossiers (payeur)")),
        Ref("sales_order", "structure_id", _l("Dossiers (structure)")),
        Ref("sales_ticket", "attendee_id", _l("Billets (bénéficiaire)")),
        Ref("sales_payment", "contact_id", _l("Règlements")),
        Ref("sales_credit_movement", "contact_id", _l("Mouvements d'avoir")),
        Ref("sales_pending_payment", "contact_id", _l("Règlements en attente")),
        # one row per contact: when merging, the head's row wins (its indicators are recomputed anyway)
        Ref("sales_contact_refresh", "contact_id", _l("Indicateurs à recalculer"), unique_with=("contact_id",)),
        Ref("sales_basket", "contact_id", _l("Paniers")),
        Ref("sales_order_delivery", "contact_id", _l("Livraisons de dossiers")),
    ]


@hookimpl
def contacts_sheet_sections():
    from plugins.contacts.registry import SheetSection
    from plugins.sales.services import contact_activity

    return [SheetSection("sales_credit", _l("Solde avoir"), "management", contact_activity.credit_section,
                         template="sales/_credit_section.html", permission="sales.view", position=20)]


@hookimpl
def contacts_contact_deleting(session, contact):
    from plugins.sales.services import contact_activity

    contact_activity.refuse_deletion_if_referenced(session, contact)


# --------------------------------------------------------------------------- domain: host hooks


@hookimpl
def coulisses_permissions():
    return [
        Permission("sales.view", _l("Consulter les dossiers, billets et le catalogue"), ("operator", "supervisor", "readonly")),
        Permission("sales.sell", _l("Vendre et réserver"), ("operator", "supervisor")),
        Permission("sales.pay", _l("Encaisser les règlements"), ("operator", "supervisor")),
        Permission("sales.cancel", _l("Annuler des réservations"), ("operator", "supervisor")),
        Permission("sales.print", _l("Imprimer les billets"), ("operator", "supervisor")),
        Permission("sales.credit.manage", _l("Créditer ou débiter un avoir à la main"), ("supervisor",)),
        Permission("sales.payer.change", _l("Changer le contact payeur des règlements d'un dossier"),
                   ("supervisor",)),
        Permission("sales.payments.resolve", _l("Résoudre les règlements en attente (issue inconnue)"),
                   ("supervisor",)),
        Permission("sales.catalogue.manage", _l("Gérer le catalogue (saisons, lieux, séances, tarifs, prix)"), ("supervisor",)),
        Permission("sales.settings.manage", _l("Paramétrer la vente (modes de règlement, points de vente, filières)"),
                   ("supervisor",)),
        *lifecycle_hooks.permissions(),
    ]


@hookimpl
def coulisses_api_routes(api):
    from plugins.sales import api_baskets, api_catalogue, api_catalogue_more, api_lifecycle, api_payments
    from plugins.sales.api import register_routes

    register_routes(api)
    api_catalogue.register_routes(api)
    api_catalogue_more.register_routes(api)
    api_baskets.register_routes(api)
    api_payments.register_routes(api)
    api_lifecycle.register_routes(api)


@hookimpl
def coulisses_job_types():
    from coulisses.outbox import JobType

    from plugins.sales.services import deferred, events

    return [JobType(events.JOB_TYPE, events.run_events, _l("Événements de vente (après validation)")),
            JobType(deferred.JOB_TYPE, deferred.run_indicators_job,
                    _l("Recalcul des indicateurs d'un contact après une vente")),
            *lifecycle_hooks.job_types()]


@hookimpl
def coulisses_install_defaults(session):
    from plugins.sales.services.settings import install_defaults

    install_defaults(session)


@hookimpl
def coulisses_startup(app):
    from plugins.sales.registry import registry_for

    app.extensions["sales"] = registry_for(app.extensions["coulisses"].pm)  # a clash refuses the start


# --------------------------------------------------------------------------- the order's life (lifecycle_hooks.py)


@hookimpl
def coulisses_periodic_tasks():
    return lifecycle_hooks.periodic_tasks()


@hookimpl
def sales_order_created(session, order):
    from plugins.sales import events

    lifecycle_hooks.order_created(session, order)
    events.emit(session, events.CREATED, order)  # webhooks and the change feed


@hookimpl
def sales_order_paid(session, order):
    from plugins.sales import events

    lifecycle_hooks.order_paid(session, order)
    events.emit(session, events.PAID, order)  # webhooks and the change feed


# --------------------------------------------------------------------------- reports (reports.py)


@hookimpl(optionalhook=True)
def reports_definitions():
    from plugins.sales.reports import definitions

    return definitions()


@hookimpl(optionalhook=True)
def reports_documents():
    from plugins.sales.report_documents import document_types

    return document_types()


@hookimpl
def sales_order_actions(session, order):
    from plugins.sales.registry import OrderAction
    from plugins.sales.report_documents import order_actions

    actions = list(order_actions(order))
    if order.paid > 0:  # "Détails > Règlements": change the paying contact (correction entries)
        actions.append(OrderAction("change_payer", _l("Changer le payeur"), endpoint="sales_payer.form",
                                   permission="sales.payer.change", position=60))
    return actions


# --------------------------------------------------------------------------- screens (admin.py)
# The screens' hooks: Flask-Admin views and the blueprint of templates, static files and the stable
# order link. Flask-Admin is imported late (only the web app needs it).


@hookimpl
def coulisses_admin_views(admin):
    from plugins.sales.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_blueprints():
    """Templates (``sales/*.html``, also the sheet's credit section), static files
    (``/sales-static/sales/...``) and ``/admin/sales_order_detail/?number=`` (→ the order detail)."""
    from plugins.sales.admin import lifecycle_blueprint, ui_blueprint

    return [ui_blueprint(), lifecycle_blueprint()]


# --------------------------------------------------------------------------- demo (demo/)


@hookimpl
def coulisses_demo_data(session, size):
    """The catalogue, order 959 of the seeds and generated orders over the contacts' demo contacts."""
    from plugins.sales.demo import load_demo

    load_demo(session, size, echo=None if size == "small" else print)
