"""Patrons: sponsorship pledges (mécénat), a third-party Coulisses plugin.

This package is the example of docs/plugin-guide.md: everything a plugin can contribute, in a few
lines each. The host finds it through its entry point (group ``coulisses.plugins`` in setup.cfg),
reads ``MANIFEST``, and calls the ``@hookimpl`` functions below.

It depends on the contacts plugin: it adds the contact type "patron" (mécène) to it
(``contacts_types``), shows a patron's pledges in the Management tab of the contact sheet
(``contacts_sheet_sections``) and declares its reference to contacts so that a merge of two contacts
moves the pledges to the kept one (``contacts_references``).
"""
from coulisses import Manifest, Permission, hookimpl
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="patrons",
    version="0.2.0",
    label=_l("Mécénat"),
    depends=["contacts"],
    optional_depends=["reports"],
    description=_l("Promesses de mécénat : qui a promis combien, et quand ; le type de contact mécène."),
    requires_host=">=0.1",
)

VIEW = "patrons.view"
MANAGE = "patrons.manage"


@hookimpl
def coulisses_permissions():
    return [
        Permission(VIEW, "Voir les promesses de mécénat", ("supervisor", "operator", "readonly")),
        Permission(MANAGE, "Enregistrer et corriger les promesses de mécénat", ("supervisor",)),
    ]


@hookimpl(optionalhook=True)
def reports_definitions():
    from coulisses_patrons.reports import PLEDGES    # only imported when the reports plugin is enabled

    return [PLEDGES]


@hookimpl
def coulisses_admin_views(admin):
    from coulisses_patrons.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_api_routes(api):
    from coulisses_patrons.api import declare_routes

    declare_routes(api)


@hookimpl
def coulisses_settings_schema():
    from coulisses_patrons.settings import PatronsSettings   # edited on the plugins screen

    return PatronsSettings


@hookimpl
def coulisses_webhook_events():
    from coulisses_patrons.events import EVENTS              # raised by services.add_pledge

    return EVENTS


@hookimpl
def coulisses_cli_commands():
    from coulisses_patrons.cli import patrons

    return [patrons]


@hookimpl
def coulisses_demo_data(session, size):
    from coulisses_patrons.services import load_demo

    load_demo(session, size)


# --------------------------------------------------------------------------- hooks of the contacts plugin


@hookimpl
def contacts_types():
    from coulisses_patrons.contact_type import PATRON

    return [PATRON]


@hookimpl
def contacts_references():
    from plugins.contacts.registry import ContactReference

    return [ContactReference("patrons_patronage", "contact_id", "Promesses de mécénat")]


@hookimpl
def contacts_sheet_sections():
    from plugins.contacts.registry import SheetSection

    from coulisses_patrons.services import sheet_section_data

    # data() returns None for a contact who is not a patron: the sheet then leaves the section out.
    return [SheetSection("patrons_pledges", "Promesses de mécénat", "management", data=sheet_section_data,
                         template="patrons/sheet_pledges.html", permission=VIEW)]


@hookimpl
def coulisses_blueprints():
    from flask import Blueprint

    # Only to make templates/patrons/ known to Flask (the sheet section's template).
    return [Blueprint("patrons_ui", __name__, template_folder="templates")]
