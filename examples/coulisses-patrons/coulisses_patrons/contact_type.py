"""The "patron" contact type (mécène) this plugin adds to the contacts plugin.

Registered through the contacts plugin's ``contacts_types`` hook (see ``__init__.py``): the contacts
plugin merges it into its registry with its own built-in types (individual, structure, guide…). A
contact of type ``patron`` is an individual (kind ``individual``: the individual's form, links and
criteria) with two extra fields, stored in ``Contact.extra``:

- ``level`` — the patronage level, one of bronze / silver / gold; required; searchable;
- ``since`` — the year the person became a patron; optional; searchable.

The contacts plugin checks each field against its declared type (a level outside the choices, a year
that is not a whole number) and then calls ``validate_patron`` for the type's own rules. Every message
names the field as the operator sees it, and is shown beside that field on the contact sheet and in
``error.fields`` of the REST API (key ``extra.level``, ``extra.since``).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from plugins.contacts.registry import ContactType, ExtraField

LEVELS = (("bronze", "Bronze"), ("silver", "Argent"), ("gold", "Or"))
FIRST_YEAR = 1900


def validate_patron(data: dict[str, Any]) -> dict[str, str]:
    """The type's own rules, on values already converted (``since`` is an int here).

    Returns ``{field: message}``; an empty dict means valid.
    """
    errors: dict[str, str] = {}
    since = data.get("since")
    this_year = date.today().year
    if since is not None and not FIRST_YEAR <= since <= this_year:
        errors["since"] = f"Mécène depuis : une année entre {FIRST_YEAR} et {this_year} (reçu {since})"
    return errors


PATRON = ContactType(
    code="patron",
    label="Mécène",
    kind="individual",
    fields=(
        ExtraField("level", "Niveau de mécénat", "choice", required=True, choices=LEVELS, searchable=True,
                   help="bronze, silver ou gold"),
        ExtraField("since", "Mécène depuis", "int", searchable=True, help="Année, par exemple 2019"),
    ),
    validate=validate_patron,
    description="Personne qui soutient l'organisme par un don (mécénat), avec son niveau de mécénat.",
    position=80,
)
