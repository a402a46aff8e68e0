"""What the contacts screens share (``admin.py``, ``admin_sheet.py``, ``admin_batch.py``): the lists of
countries and phone prefixes in the operator's language, the phone field's value, the labels that
replace raw codes (civility, language, nature), the contact or a 404.

It imports no other screen module: ``admin.py`` builds the menu from ``admin_sheet.py`` and
``admin_batch.py``, which only import this one (no import cycle).
"""
from __future__ import annotations

from functools import lru_cache

from flask import abort

from coulisses import NotFoundError
from coulisses.i18n import _l, current_locale
from coulisses.web.auth import require  # noqa: F401  (the host's permission check, re-exported for the screens)
from coulisses.web.extensions import db

from plugins.contacts.models import LINK_KINDS, Contact
from plugins.contacts.services import contacts as svc
from plugins.contacts.services import validation as v
from plugins.contacts.services.links import LINK_LABELS
from plugins.contacts.services.normalize import normalize

CATEGORY = _l("Contacts")

NATURE_LABELS = {"individual": _l("Individuel"), "structure": _l("Structure")}
USAGE_LABELS = {"main": _l("Principale"), "delivery": _l("Livraison"), "billing": _l("Facturation")}


@lru_cache(maxsize=8)
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    from babel import Locale

    names = {code: name for code, name in Locale.parse(locale).territories.items()
             if len(code) == 2 and code.isalpha() and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB", "XK")}
    rest = sorted(((c, n) for c, n in names.items() if c != "FR"), key=lambda cn: normalize(cn[1]))
    return (("FR", names.get("FR", "France")), *rest)


def countries(locale: str | None = None) -> tuple[tuple[str, str], ...]:
    """(ISO code, name in the operator's language) of every country, by name; France first."""
    return _countries(locale or current_locale())


@lru_cache(maxsize=1)
def phone_countries() -> tuple[tuple[str, str], ...]:
    """(region, "+33 (FR)") for the country selector of phone fields; France first."""
    import phonenumbers

    regions = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if r != "FR")
    return tuple((r, f"+{phonenumbers.country_code_for_region(r)} ({r})") for r in ("FR", *regions))


def phone_value(raw: str | None, region: str | None) -> str | None:
    """What the operator typed in a phone field with its country selector, as E.164 when it parses
    (the service validates it again and words the error otherwise)."""
    import phonenumbers

    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, (region or "FR").upper())
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_valid_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def language_label(code: str | None, locale: str | None = None) -> str:
    """A language code ("fr") as its name in the operator's language ("French", "francés")."""
    from babel import Locale, UnknownLocaleError

    if not code:
        return ""
    try:
        name = Locale.parse(code).get_display_name(locale or current_locale())
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def language_choices(locale: str | None = None) -> list[tuple[str, str]]:
    """The communication languages a contact may have, named in the operator's language."""
    return [(code, language_label(code, locale)) for code in v.LANGUAGES]


def civility_choices() -> list[tuple[str, str]]:
    return list(v.CIVILITIES.items())


def link_kind_choices() -> list[tuple[str, str]]:
    return [(kind, LINK_LABELS[kind][0]) for kind in LINK_KINDS]


def contact_or_404(number: int) -> Contact:
    try:
        return svc.get_contact(db.session, number)
    except NotFoundError:
        abort(404)


def contact_types() -> list:
    """Every contact type (the contacts plugin's and other plugins'), for a creation form's *Type de
    contact*: the creation screen and the sell screen's "+ NOUVEAU" dialog show a type's fields as
    soon as it is picked."""
    from plugins.contacts.registry import get_registry

    return list(get_registry().types.values())
