"""The contacts plugin: the organisation's single contact repository (référentiel de contacts unique)."""
from coulisses import Manifest

MANIFEST = Manifest(
    name="contacts",
    version="0.1.0",
    label="Contacts",
    depends=[],
    optional_depends=["reports"],
    description="The single contact repository: types, roles and links, the contact sheet, search, "
    "creation, duplicates, personal data, import and export.",
)

from plugins.contacts.hooks import *  # noqa: E402,F401,F403 - the hook implementations
