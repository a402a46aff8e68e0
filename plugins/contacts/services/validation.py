"""Field validation: civilities, phones (phonenumbers), e-mails (email-validator), IBAN and SIRET
(python-stdnum), postal codes per country, birth dates.

Each ``parse_*`` returns the value to store (normalised) or None for an empty input, and raises
``ValueError`` with a French message meant for the operator.

Postal codes checked (``POSTAL_CODE_COUNTRIES``), every other country is free text (16 characters
at most):
- with python-stdnum's own modules: ES (province-checked), NL, SE, AT (against the list of codes);
- with a format rule: FR (5 digits), MC (980 + 2 digits), BE, CH and HU (4 digits, not starting
  with 0), LU (4 digits, "L-" accepted and dropped), DK, NO and AU (4 digits), DE, IT, FI (5
  digits), US (5 digits or ZIP+4), PT (NNNN-NNN), PL (NN-NNN), GB (Royal Mail format, stored with
  its space), CA (A1A 1A1), IE (Eircode), JP (NNN-NNNN), BR (NNNNN-NNN).
"""
from __future__ import annotations

import re
from datetime import date

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumError

from coulisses.db import utcnow
from coulisses.i18n import LANGUAGES as UI_LANGUAGES, _, _l, local_time, use_locale

# The contact's function ("Fonction"): a list the organisation sets, like the criteria, through the
# CONTACTS_FUNCTIONS setting (comma-separated; COULISSES_CONTACTS_FUNCTIONS in the environment). No table:
# a value removed from the list stays on the contacts that have it (kept on save), imports keep free values.
FUNCTIONS_DEFAULT = ("Directeur, Directrice, Enseignant, Enseignante, Responsable billetterie, "
                     "Chargé de relations publiques, Assistant, Étudiant, Retraité, Autre")
FUNCTION_NOT_IN_LIST = _l("Fonction : choisissez une valeur de la liste")


def function_choices() -> list[str]:
    """The functions the organisation offers (setting ``CONTACTS_FUNCTIONS``), in their order."""
    import os

    from coulisses.config import current_config

    value = current_config().get("CONTACTS_FUNCTIONS")
    if value is None:
        value = os.environ.get("COULISSES_CONTACTS_FUNCTIONS", FUNCTIONS_DEFAULT)
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    out: list[str] = []
    for item in items:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


def parse_function(value, current: str | None = None, *, accepted=()) -> str | None:
    """A function of the list, or the contact's ``current`` one (kept even if the list dropped it)."""
    value = (value or "").strip() if isinstance(value, str) else value
    if not value:
        return None
    if value == current or value in accepted or value in function_choices():
        return value
    raise ValueError(str(FUNCTION_NOT_IN_LIST))


CIVILITIES: dict[str, str] = {  # code → label (lazy: in the reader's language)
    "M": _l("Monsieur"),
    "MME": _l("Madame"),
    "MLLE": _l("Mademoiselle"),
    "M_MME": _l("Monsieur et Madame"),
    "MM": _l("Messieurs"),
    "MMES": _l("Mesdames"),
    "DR": _l("Docteur"),
    "ME": _l("Maître"),
    "PR": _l("Professeur"),
}

LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English", "es": "Español", "de": "Deutsch",
                             "it": "Italiano", "nl": "Nederlands", "pt": "Português"}


def parse_civility(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    upper = value.upper().replace(".", "").replace(" ", "_")
    if upper in CIVILITIES:
        return upper
    wanted = value.lower()
    for lang in UI_LANGUAGES:  # "Madame", "Mrs", "Señora": a label in any of the product's languages
        with use_locale(lang):
            for code, label in CIVILITIES.items():
                if str(label).lower() == wanted:
                    return code
    raise ValueError(_("Civilité inconnue : %(value)s (attendu : %(choices)s)", value=value,
                       choices=", ".join(str(label) for label in CIVILITIES.values())))


# --------------------------------------------------------------------------- phones


def parse_phone(value: str | None, region: str | None = "FR") -> str | None:
    """``"06 12 34 56 78"`` (region FR) → ``"+33612345678"``; a number with ``+`` keeps its country."""
    if value is None or not str(value).strip():
        return None
    try:
        number = phonenumbers.parse(str(value), (region or "FR").upper())
    except phonenumbers.NumberParseException:
        raise ValueError(_("Numéro de téléphone illisible : %(value)s", value=value)) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("Numéro de téléphone non valide pour le pays %(country)s : %(value)s",
                           country=phonenumbers.region_code_for_number(number) or region, value=value))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str | None) -> str:
    """``"+33612345678"`` → ``"+33 6 12 34 56 78"`` (international format, spaced per country)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_region(e164: str | None) -> str | None:
    """The ISO country of a stored number (``"FR"``), for the country selector beside the field."""
    if not e164:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None


# --------------------------------------------------------------------------- e-mail, IBAN, SIRET


def parse_email(value: str | None) -> str | None:
    """A syntactically valid address, domain lower-cased (no DNS / deliverability check)."""
    if value is None or not str(value).strip():
        return None
    try:
        return validate_email(str(value).strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(_("Adresse e-mail non valide : %(error)s", error=exc)) from None


def parse_iban(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    try:
        return stdnum_iban.validate(str(value))
    except StdnumError:
        raise ValueError(_("IBAN non valide : %(value)s", value=value)) from None


def format_iban(value: str | None) -> str:
    return stdnum_iban.format(value) if value else ""


def parse_administrative_number(value: str | None, country: str | None = "FR") -> str | None:
    """A structure's administrative number; for France a SIRET (14 digits) or SIREN (9) is checked."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if (country or "FR").upper() == "FR":
        from stdnum.fr import siren, siret

        compact = re.sub(r"[\s.-]", "", value)
        if compact.isdigit() and len(compact) in (9, 14):
            module = siret if len(compact) == 14 else siren
            if not module.is_valid(compact):
                raise ValueError(_("Numéro %(kind)s non valide : %(value)s",
                                   kind="SIRET" if len(compact) == 14 else "SIREN", value=value))
            return compact
    return value[:40]


# --------------------------------------------------------------------------- postal codes


def _stdnum_checker(module_path: str):
    def check(code: str) -> str:
        import importlib

        module = importlib.import_module(module_path)
        try:
            return module.validate(code)
        except StdnumError:
            raise ValueError from None

    return check


def _regex_checker(pattern: str, fmt=None):
    rx = re.compile(pattern)

    def check(code: str) -> str:
        compact = code.strip().upper()
        if not rx.fullmatch(compact):
            raise ValueError
        return fmt(compact) if fmt else compact

    return check


def _gb(code: str) -> str:
    compact = code.replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


POSTAL_CODE_RULES = {
    "FR": _regex_checker(r"\d{5}"),
    "MC": _regex_checker(r"980\d{2}"),
    "ES": _stdnum_checker("stdnum.es.postal_code"),
    "NL": _stdnum_checker("stdnum.nl.postcode"),
    "SE": _stdnum_checker("stdnum.se.postnummer"),
    "AT": _stdnum_checker("stdnum.at.postleitzahl"),
    "BE": _regex_checker(r"[1-9]\d{3}"),
    "CH": _regex_checker(r"[1-9]\d{3}"),
    "LU": _regex_checker(r"(?:L-?)?(\d{4})", lambda c: c[-4:]),
    "DK": _regex_checker(r"\d{4}"),
    "NO": _regex_checker(r"\d{4}"),
    "AU": _regex_checker(r"\d{4}"),
    "HU": _regex_checker(r"[1-9]\d{3}"),
    "DE": _regex_checker(r"\d{5}"),
    "IT": _regex_checker(r"\d{5}"),
    "FI": _regex_checker(r"\d{5}"),
    "US": _regex_checker(r"\d{5}(?:-\d{4})?"),
    "PT": _regex_checker(r"\d{4}-\d{3}"),
    "PL": _regex_checker(r"\d{2}-\d{3}"),
    "GB": _regex_checker(r"(?:[A-Z]{1,2}\d[A-Z\d]?) ?\d[A-Z]{2}", _gb),
    "CA": _regex_checker(r"[ABCEGHJ-NPRSTVXY]\d[A-Z] ?\d[A-Z]\d", lambda c: c.replace(" ", "")[:3] + " " + c.replace(" ", "")[3:]),
    "IE": _regex_checker(r"[AC-FHKNPRTV-Y]\d{2}|D6W ?[0-9AC-FHKNPRTV-Y]{4}|[AC-FHKNPRTV-Y]\d{2} ?[0-9AC-FHKNPRTV-Y]{4}"),
    "JP": _regex_checker(r"\d{3}-\d{4}"),
    "BR": _regex_checker(r"\d{5}-\d{3}"),
}
POSTAL_CODE_COUNTRIES = tuple(sorted(POSTAL_CODE_RULES))


def check_postal_code(country: str | None, code: str | None) -> str:
    """The postal code normalised for ``country``; ``ValueError`` when that country's rule refuses it."""
    code = (code or "").strip()
    if not code:
        return ""
    rule = POSTAL_CODE_RULES.get((country or "").upper())
    if rule is None:
        if len(code) > 16:
            raise ValueError(_("Code postal trop long (16 caractères au plus)"))
        return code
    try:
        return rule(code)
    except ValueError:
        raise ValueError(_("Code postal non valide pour le pays %(country)s : %(code)s", country=country.upper(),
                           code=code)) from None


def parse_country(value: str | None) -> str:
    value = (value or "").strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValueError(_("Pays : code ISO à deux lettres attendu (FR, BE, CH…)"))
    from babel import Locale

    if value not in Locale("fr").territories:
        raise ValueError(_("Pays inconnu : %(value)s", value=value))
    return value


def country_name(code: str | None, locale: str | None = None) -> str:
    """The country's name in ``locale`` (default: the current language)."""
    if not code:
        return ""
    from babel import Locale

    from coulisses.i18n import current_locale

    return Locale(locale or current_locale()).territories.get(code.upper(), code)


# --------------------------------------------------------------------------- dates


def age(birth_date: date | None, today: date | None = None) -> int | None:
    if birth_date is None:
        return None
    today = today or local_time(utcnow()).date()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def parse_birth_date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = value.strip()
        for rx, order in ((r"(\d{4})-(\d{2})-(\d{2})", "ymd"), (r"(\d{2})[./](\d{2})[./](\d{4})", "dmy")):
            m = re.fullmatch(rx, value)
            if m:
                parts = dict(zip(order, map(int, m.groups())))
                try:
                    value = date(parts["y"], parts["m"], parts["d"])
                except ValueError:
                    raise ValueError(_("Date de naissance non valide : %(value)s", value=value)) from None
                break
        else:
            raise ValueError(_("Date de naissance illisible : %(value)s (JJ.MM.AAAA)", value=value))
    if not isinstance(value, date):
        raise ValueError(_("Date de naissance non valide"))
    today = local_time(utcnow()).date()
    if value > today:
        raise ValueError(_("La date de naissance est dans le futur"))
    if value.year < today.year - 130:
        raise ValueError(_("Date de naissance trop ancienne"))
    return value
