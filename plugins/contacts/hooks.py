"""Hook implementations of the contacts plugin (host hooks and the plugin's own hooks).

Sections, each marked with its owner; add your implementations in your section:
- domain (types, indicators, histories, references, permissions, config, REST API, tasks, startup);
- screens (admin views, blueprints, template context): ``plugins/contacts/admin.py``;
- duplicates / personal data / import / export / demo (CLI commands, demo data).
"""
from __future__ import annotations

from coulisses import Permission, hookimpl
from coulisses.i18n import _l

# --------------------------------------------------------------------------- domain: registries


@hookimpl
def contacts_types():
    from plugins.contacts.services.types import BUILTIN_TYPES

    return BUILTIN_TYPES


@hookimpl
def contacts_indicators():
    from plugins.contacts.services.indicators import BUILTIN_INDICATORS

    return BUILTIN_INDICATORS


@hookimpl
def contacts_history(session, contact, kind):
    if kind == "sends":
        from plugins.contacts.services.sheet import sends_history

        return sends_history(session, contact)
    return None


@hookimpl
def contacts_references():
    from plugins.contacts.registry import ContactReference as Ref

    return [
        Ref("contacts_link", "from_contact_id", _l("Liens (origine)")),
        Ref("contacts_link", "to_contact_id", _l("Liens (cible)")),
        Ref("contacts_address", "contact_id", _l("Adresses")),
        Ref("contacts_internet_account", "contact_id", _l("Compte internet"), unique_with=("contact_id",)),
        Ref("contacts_contact_criterion", "contact_id", _l("Critères"), unique_with=("criterion_id",)),
        Ref("contacts_note", "contact_id", _l("Notes")),
        Ref("contacts_preferred_seat", "contact_id", _l("Places préférées")),
        Ref("contacts_consent", "contact_id", _l("Consentements"), unique_with=("channel",)),
        Ref("contacts_marketing_alert", "contact_id", _l("Alertes marketing")),
        Ref("contacts_indicator_value", "contact_id", _l("Indicateurs"), unique_with=("code",)),
        Ref("contacts_ticketing_send", "contact_id", _l("Envois billetterie")),
    ]


# --------------------------------------------------------------------------- domain: host hooks


@hookimpl(optionalhook=True)
def reports_definitions():
    from plugins.contacts.reports import definitions

    return definitions()


@hookimpl(optionalhook=True)
def reports_document_sent(session, document, recipient, contact_id):
    from plugins.contacts.reports import record_document_send

    record_document_send(session, document, recipient, contact_id)


@hookimpl
def coulisses_permissions():
    return [
        Permission("contacts.view", _l("Consulter les contacts"), ("operator", "supervisor", "readonly")),
        Permission("contacts.edit", _l("Créer et modifier les contacts"), ("operator", "supervisor")),
        Permission("contacts.delete", _l("Supprimer des contacts"), ("supervisor",)),
        Permission("contacts.merge", _l("Traiter les doublons (fusion)"), ("supervisor",)),
        Permission("contacts.import", _l("Importer des contacts"), ("supervisor",)),
        Permission("contacts.export", _l("Exporter des contacts"), ("supervisor",)),
        Permission("contacts.personal_data", _l("Anonymiser et purger les données personnelles")),
    ]


@hookimpl
def coulisses_config_defaults():
    from plugins.contacts.services.indicators import CONFIG_DEFAULTS

    from plugins.contacts.services.search import COUNT_CAP
    from plugins.contacts.services.validation import FUNCTIONS_DEFAULT

    return {**CONFIG_DEFAULTS, "CONTACTS_QUICK_SEARCH_LIMIT": 20,
            "CONTACTS_SEARCH_COUNT_CAP": COUNT_CAP, "CONTACTS_FUNCTIONS": FUNCTIONS_DEFAULT,
            **BATCH_CONFIG_DEFAULTS}  # duplicates / personal data / import section


@hookimpl
def coulisses_webhook_events():
    from plugins.contacts.events import EVENTS

    return EVENTS


@hookimpl
def contacts_contact_created(session, contact):
    from plugins.contacts import events

    events.created(session, contact)  # webhooks and the change feed, however the contact was created


@hookimpl
def coulisses_api_routes(api):
    from plugins.contacts.api import register_routes
    from plugins.contacts.api_batch import register_routes as register_batch_routes

    register_routes(api)
    register_batch_routes(api)  # duplicates, merge, personal data, import, export


@hookimpl
def coulisses_periodic_tasks():
    from coulisses.tasks import Task

    return [
        Task("contacts.indicators", "nightly", _recompute_indicators,
             _l("Recalcule les indicateurs de tous les contacts (assiduité, PMG, ancienneté…).")),
        Task("contacts.roles", "nightly", _refresh_roles,
             _l("Met à jour le rôle des contacts dont un lien commence ou se termine.")),
        *_batch_tasks(),  # personal data (duplicates / personal data / import section)
    ]


def _recompute_indicators(session):
    from plugins.contacts.registry import get_registry
    from plugins.contacts.services.indicators import recompute_all

    return recompute_all(session, registry=get_registry(), commit=True)


def _refresh_roles(session):
    from plugins.contacts.services.links import refresh_all_roles

    return refresh_all_roles(session)


@hookimpl
def coulisses_startup(app):
    from plugins.contacts.registry import registry_for

    with app.app_context():  # built now, so that a clash between plugins refuses the start
        app.extensions["contacts"] = registry_for(app.extensions["coulisses"].pm)


# --------------------------------------------------------------------------- screens (admin.py)
# coulisses_admin_views / coulisses_blueprints / coulisses_template_context go here.


@hookimpl
def coulisses_admin_views(admin):
    from plugins.contacts.admin import admin_views
    from plugins.contacts.admin_batch import batch_admin_views

    return [*admin_views(), *batch_admin_views()]  # batch: Doublons, Import


@hookimpl
def coulisses_blueprints():
    from plugins.contacts.admin import ui_blueprint

    return [ui_blueprint()]


@hookimpl
def coulisses_js_messages():
    """The contact autocomplete's strings (``contacts.js``), on every page: the sell screen reuses it."""
    from coulisses.i18n import _l

    return {
        "contacts_ac_create": _l("Créer un nouveau contact…"),
        "contacts_ac_none": _l("Aucun contact trouvé"),
        "contacts_ac_one": _l("1 contact proposé : flèches haut et bas pour choisir, Entrée pour valider."),
        "contacts_ac_many": _l("%(num)s contacts proposés : flèches haut et bas pour choisir, Entrée pour valider."),
        "contacts_ac_chosen": _l("Contact choisi : %(label)s"),
        "contacts_ac_more": _l("D'autres contacts correspondent : affinez la recherche."),
        "contacts_pc_none": _l("Aucune ville pour ce code postal"),
        "contacts_pc_one": _l("1 ville proposée : flèches haut et bas pour choisir, Entrée pour valider."),
        "contacts_pc_many": _l("%(num)s villes proposées : flèches haut et bas pour choisir, Entrée pour valider."),
        "contacts_pc_chosen": _l("Ville choisie : %(label)s"),
        "contacts_pc_more": _l("D'autres villes correspondent : tapez le code postal complet."),
    }


# --------------------------------------------------------------------------- duplicates, personal data,
# import / export, demo
# (also: BATCH_CONFIG_DEFAULTS in coulisses_config_defaults, the routes of api_batch.py in
# coulisses_api_routes, _batch_tasks in coulisses_periodic_tasks, the views of admin_batch.py in
# coulisses_admin_views)

# The purge deletes and anonymises for good: it is off until an administrator turns it on
# (COULISSES_CONTACTS_PURGE_ENABLED=true); until then the weekly task only simulates and reports.
BATCH_CONFIG_DEFAULTS = {"CONTACTS_INACTIVITY_MONTHS": 36, "CONTACTS_PURGE_ENABLED": False,
                         "CONTACTS_IMPORT_PROCESSES": 0}  # 0: one process per core checks a large file


@hookimpl
def coulisses_settings_schema():
    """The settings an administrator changes on the plugins screen (Administration → Plugins →
    Réglages…): the purge of personal data, off until someone decides, and its inactivity delay."""
    from plugins.contacts.settings import ContactsSettings

    return ContactsSettings


@hookimpl
def coulisses_cli_commands():
    from plugins.contacts.cli_batch import contacts_group

    return [contacts_group]


@hookimpl
def coulisses_demo_data(session, size):
    from plugins.contacts.demo import load_demo

    load_demo(session, size)


def _batch_tasks():
    from coulisses.tasks import Task

    return [Task("contacts.personal_data", "weekly", _purge_personal_data,
                 _l("Supprime les prospects et anonymise les clients inactifs depuis CONTACTS_INACTIVITY_MONTHS "
                    "mois (36 par défaut) ; simule seulement tant que CONTACTS_PURGE_ENABLED est désactivé."))]


def _purge_personal_data(session):
    from plugins.contacts.registry import get_registry
    from plugins.contacts.services.personal_data import purge_task

    return purge_task(session, registry=get_registry())
