"""Hook implementations of the waiting_account plugin: sales' (payment mode type, operation kinds,
the payment veto, order actions), contacts' (sheet section, new structures, references), reports'
(documents, reports) and the host's."""
from __future__ import annotations

from coulisses import Permission, hookimpl
from coulisses.i18n import _l

# --------------------------------------------------------------------------- own registry


@hookimpl
def waiting_account_payment_providers():
    from plugins.waiting_account.registry import BUILTIN_PROVIDERS

    return BUILTIN_PROVIDERS


# --------------------------------------------------------------------------- sales hooks


@hookimpl
def sales_payment_mode_types():
    from plugins.waiting_account.payment_type import WAITING_ACCOUNT

    return [WAITING_ACCOUNT]


@hookimpl
def sales_operation_kinds():
    from plugins.sales.registry import OperationKind

    return [OperationKind("waiting_account_settlement", _l("Règlement du compte d'attente")),
            OperationKind("waiting_account_debit", _l("Prélèvement du compte d'attente"))]


@hookimpl
def sales_payment_recorded(session, order, payment):
    from plugins.waiting_account.services.schedule import on_payment_recorded

    on_payment_recorded(session, order, payment)


@hookimpl
def sales_order_actions(session, order):
    from plugins.waiting_account.services.views import order_actions

    return order_actions(session, order)


@hookimpl
def sales_order_blocks(session, order):
    from plugins.waiting_account.services.views import order_blocks

    return order_blocks(session, order)


@hookimpl
def sales_payment_panels():
    from plugins.sales.registry import PaymentPanel

    return [PaymentPanel("waiting_account", "waiting_account/_payment_panel.html", permission="waiting_account.view",
                         position=10)]


# --------------------------------------------------------------------------- contacts hooks


@hookimpl
def contacts_contact_created(session, contact):
    from plugins.waiting_account.services.accounts import on_contact_created

    on_contact_created(session, contact)


@hookimpl
def contacts_sheet_sections():
    from plugins.contacts.registry import SheetSection
    from plugins.waiting_account.services.views import sheet_section

    return [SheetSection("waiting_account", _l("Compte d'attente"), "management", sheet_section,
                         template="waiting_account/_sheet_section.html", permission="waiting_account.view",
                         position=30)]


@hookimpl
def contacts_references():
    from plugins.contacts.registry import ContactReference as Ref

    return [Ref("waiting_account_account", "contact_id", _l("Compte d'attente")),
            Ref("waiting_account_invoice", "contact_id", _l("Factures")),
            Ref("waiting_account_mandate", "contact_id", _l("Mandats de prélèvement"))]


# --------------------------------------------------------------------------- reports hooks


@hookimpl
def reports_definitions():
    from plugins.waiting_account.reports import definitions

    return definitions()


@hookimpl
def reports_documents():
    from plugins.waiting_account.reports import document_types

    return document_types()


# --------------------------------------------------------------------------- host hooks


@hookimpl
def coulisses_webhook_events():
    from plugins.waiting_account.events import EVENTS

    return EVENTS


@hookimpl
def coulisses_permissions():
    return [
        Permission("waiting_account.view", _l("Consulter les comptes d'attente, échéances et factures"),
                   ("operator", "supervisor", "readonly")),
        Permission("waiting_account.settle", _l("Solder un compte d'attente"), ("operator", "supervisor")),
        Permission("waiting_account.invoice", _l("Émettre et annuler des factures"), ("operator", "supervisor")),
        Permission("waiting_account.manage", _l("Autoriser les contacts, fixer l'encours maximum, gérer les plages "
                                                "de factures, les mandats et les paramètres"), ("supervisor",)),
        Permission("waiting_account.override", _l("Dépasser l'encours maximum (avec un motif)"), ("supervisor",)),
        Permission("waiting_account.debit", _l("Préparer les prélèvements SEPA et saisir les retours"), ("supervisor",)),
    ]


@hookimpl
def coulisses_js_messages():
    """The strings of the payment panel's script (``static/waiting_account/payment_panel.js``), on
    every page: the panel is drawn on the sales screens."""
    return {
        "waiting_account_outstanding": _l("Encours de %(name)s : %(now)s aujourd'hui, %(after)s après cette vente (maximum %(ceiling)s)"),
        "waiting_account_refused": _l("Refusé : %(reason)s"),
        "waiting_account_noContact": _l("Choisissez d'abord le contact (acheteur ou payeur) pour voir son encours."),
        "waiting_account_sum": _l("Total des échéances : %(sum)s sur %(amount)s"),
        "waiting_account_gap": _l("Écart de %(gap)s : la somme des échéances doit faire le montant payé."),
        "waiting_account_order": _l("Les dates des échéances doivent se suivre."),
        "waiting_account_badDate": _l("Échéance %(n)s : date attendue sous la forme %(pattern)s."),
        "waiting_account_due": _l("Échéance %(n)s : date"),
        "waiting_account_amount": _l("Échéance %(n)s : montant"),
        "waiting_account_remove": _l("Retirer l'échéance %(n)s"),
        "waiting_account_unavailable": _l("Échéancier indisponible : %(reason)s"),
    }


@hookimpl
def coulisses_startup(app):
    from plugins.waiting_account.registry import registry_for

    app.extensions["waiting_account"] = registry_for(app.extensions["coulisses"].pm)  # a clash refuses the start


@hookimpl
def coulisses_install_defaults(session):
    from plugins.waiting_account.services.views import install_defaults

    install_defaults(session)


@hookimpl
def coulisses_api_routes(api):
    from plugins.waiting_account.api import register_routes

    register_routes(api)


@hookimpl
def coulisses_admin_views(admin):
    from plugins.waiting_account.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_blueprints():
    from plugins.waiting_account.admin import ui_blueprint
    from plugins.waiting_account.portal import portal_blueprint

    return [ui_blueprint(), portal_blueprint()]


@hookimpl
def coulisses_demo_data(session, size):
    from plugins.waiting_account.demo import load_demo

    load_demo(session, size)
