"""The contacts plugin: the organisation's single contact repository (référentiel de contacts unique)."""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="contacts",
    version="0.1.0",
    label=_l("Contacts"),
    depends=[],
    optional_depends=["reports"],
    description=_l("Le référentiel unique des contacts : types, rôles et liens, la fiche contact, la recherche, "
    "la création, les doublons, les données personnelles, l'import et l'export."),
)

from plugins.contacts.hooks import *  # noqa: E402,F401,F403 - the hook implementations
