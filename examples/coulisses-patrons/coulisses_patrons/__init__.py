"""Patrons: sponsorship pledges (mécénat), a third-party Coulisses plugin.

This package is the example of docs/plugin-guide.md: everything a plugin can contribute, in a few
lines each. The host finds it through its entry point (group ``coulisses.plugins`` in setup.cfg),
reads ``MANIFEST``, and calls the ``@hookimpl`` functions below.
"""
from coulisses import Manifest, Permission, hookimpl

MANIFEST = Manifest(
    name="patrons",
    version="0.1.0",
    label="Mécénat",
    depends=[],
    optional_depends=[],
    description="Sponsorship pledges: who promised how much, and when.",
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


@hookimpl
def coulisses_admin_views(admin):
    from coulisses_patrons.admin import admin_views

    return admin_views()


@hookimpl
def coulisses_api_routes(api):
    from coulisses_patrons.api import declare_routes

    declare_routes(api)


@hookimpl
def coulisses_cli_commands():
    from coulisses_patrons.cli import patrons

    return [patrons]


@hookimpl
def coulisses_demo_data(session, size):
    from coulisses_patrons.services import load_demo

    load_demo(session, size)
