"""Cleaning one row of a contact file for the import (``services.importing``): ``RowValidator``
validates and cleans it with the domain's rules (``services.validation``), memoising what repeats
across a file, with fast paths for plain e-mail addresses and French phone numbers.
"""
from __future__ import annotations

import re
from typing import Any

from coulisses.i18n import _

from plugins.contacts.services import validation as v
from plugins.contacts.services.import_reading import FIELD_LABELS
from plugins.contacts.services.normalize import normalize

EMAIL_FAST = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}")
_FR_PHONE = re.compile(r"(?:\+33\s?|0033\s?|0)([1-9](?:[\s.-]?\d{2}){4})")
_NOT_DIGIT = re.compile(r"\D")
_SPECIAL_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home", "lan", "alt"}


class RowValidator:
    """Validates and cleans one row (a dict field → text) with the domain's rules; memoises what
    repeats across a file (countries, postal codes, civilities, types)."""

    def __init__(self, registry=None, types: tuple[dict, dict] | None = None):
        """``types``: the table ``type_table()`` gives (a process that validates rows for another,
        ``import_pool``, has no registry of its own)."""
        from babel import Locale

        from plugins.contacts.registry import get_registry

        self.registry = registry or (None if types is not None else get_registry())
        self._types = types
        self._countries: dict[str, str] = {}
        for loc in ("fr", "en"):
            for code, label in Locale(loc).territories.items():
                if len(code) == 2 and code.isalpha():
                    self._countries[normalize(label)] = code
        self._countries.update({"france metropolitaine": "FR", "uk": "GB", "angleterre": "GB", "usa": "US"})
        self._postal: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        self._civility: dict[str, tuple[str | None, str | None]] = {}
        self._country_cache: dict[str, tuple[str | None, str | None]] = {}
        self._phone_prefix: dict[str, bool] = {}
        # The country of a line whose country cell is empty: France when the file has no country
        # column at all; ``None`` (the line is refused, as quick creation refuses it) when it has one.
        self.default_country: str | None = "FR"

    def type_table(self) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
        """``(code → (code, kind), normalised label in every language → (code, kind))``: what
        ``clean`` needs of the registry's contact types, as plain data."""
        if self._types is None:
            self._types = ({code: (t.code, t.kind) for code, t in self.registry.types.items()},
                           {label: (t.code, t.kind) for label, t in self._type_by_label().items()})
        return self._types

    def _type_by_label(self) -> dict[str, Any]:
        """Normalised type label, in every language → type (a file exported in any language)."""
        if getattr(self, "_types_by_label", None) is None:
            from coulisses.i18n import LANGUAGES, use_locale

            found: dict[str, Any] = {}
            for lang in LANGUAGES:
                with use_locale(lang):
                    for t in self.registry.types.values():
                        found.setdefault(normalize(str(t.label)), t)
            self._types_by_label = found
        return self._types_by_label

    def country(self, value: str) -> str:
        if not value:
            return self.default_country or "FR"
        hit = self._country_cache.get(value)
        if hit is None:
            try:
                hit = (v.parse_country(value), None)
            except ValueError as exc:
                code = self._countries.get(normalize(value))
                hit = (code, None) if code else (None, _("Pays inconnu : %(value)s", value=value) if len(value) != 2
                                                 else str(exc))
            self._country_cache[value] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def postal_code(self, country: str, code: str) -> str:
        key = (country, code)
        hit = self._postal.get(key)
        if hit is None:
            fixed = "0" + code if country == "FR" and code.isdigit() and len(code) == 4 else code
            try:
                hit = (v.check_postal_code(country, fixed), None)
            except ValueError as exc:
                hit = (None, str(exc))
            if len(self._postal) < 100_000:
                self._postal[key] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def civility(self, value: str) -> str | None:
        hit = self._civility.get(value)
        if hit is None:
            try:
                hit = (v.parse_civility(value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._civility[value] = hit
        if hit[1]:
            raise ValueError(hit[1])
        return hit[0]

    def phone(self, value: str, region: str) -> str | None:
        """``validation.parse_phone``; for French numbers written the usual ways ("06 12 34 56 78",
        "+33 6…", "0033…") the verdict of ``parse_phone`` is memoised per 4-digit prefix (French
        numbering plans decide validity on the first digits of the 9-digit national number; a test
        compares the two on random numbers)."""
        if region == "FR":
            m = _FR_PHONE.fullmatch(value.strip())
            if m:
                national = _NOT_DIGIT.sub("", m.group(1))
                key = national[:4]
                valid = self._phone_prefix.get(key)
                if valid is None:
                    try:
                        valid = v.parse_phone("0" + national, "FR") == "+33" + national
                    except ValueError:
                        valid = False
                    self._phone_prefix[key] = valid
                if valid:
                    return "+33" + national
        return v.parse_phone(value, region)

    @staticmethod
    def email(value: str) -> str | None:
        """``validation.parse_email``, with a fast path for the plain addresses most files hold
        (same result: a test compares them)."""
        if not value:
            return None
        value = value.strip()
        if len(value) <= 254 and EMAIL_FAST.fullmatch(value):
            local, domain = value.rsplit("@", 1)
            if len(local) <= 64 and domain.rsplit(".", 1)[-1] not in _SPECIAL_TLDS:
                return value
        return v.parse_email(value)

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        """A row for ``bulk.insert_contacts`` (without its number), or ``ValueError`` with every
        reason ("Mél : …; Code postal : …")."""
        from plugins.contacts.services.contacts import title_case

        errors: list[str] = []

        def fail(fld: str, message: str) -> None:
            errors.append(_("%(field)s : %(reason)s", field=FIELD_LABELS.get(fld, fld), reason=message))

        type_code = values.get("type_code", "")
        if type_code:
            codes, labels = self.type_table()
            ctype = codes.get(type_code) or labels.get(normalize(type_code))
            if ctype is None:
                fail("type_code", _("type inconnu : %(value)s", value=type_code))
                kind = "individual"
            else:
                type_code, kind = ctype
        else:
            kind = "structure" if values.get("structure_name") and not values.get("last_name") else "individual"
            type_code = kind
        row: dict[str, Any] = {"kind": kind, "type_code": type_code}
        country = "FR"
        try:
            country = self.country(values.get("country", ""))
        except ValueError as exc:
            fail("country", str(exc))
        if kind == "structure":
            name = values.get("structure_name") or values.get("last_name", "")
            if not name:
                fail("structure_name", _("obligatoire"))
            elif len(name) > 200:
                fail("structure_name", _("200 caractères au plus"))
            row["structure_name"] = name
        else:
            last = values.get("last_name", "").upper()
            if not last:
                fail("last_name", _("obligatoire"))
            elif len(last) > 120:
                fail("last_name", _("120 caractères au plus"))
            row["last_name"] = last
            first = title_case(values.get("first_name", ""))
            if len(first) > 120:
                fail("first_name", _("120 caractères au plus"))
            row["first_name"] = first
            if values.get("civility"):
                try:
                    row["civility"] = self.civility(values["civility"])
                except ValueError as exc:
                    fail("civility", str(exc))
            if values.get("birth_date"):
                try:
                    row["birth_date"] = v.parse_birth_date(values["birth_date"])
                except ValueError as exc:
                    fail("birth_date", str(exc))
        if values.get("email"):
            try:
                row["email"] = self.email(values["email"])
            except ValueError as exc:
                fail("email", str(exc))
        for fld in ("mobile_phone", "phone", "fax"):
            if values.get(fld):
                try:
                    row[fld] = self.phone(values[fld], country)
                except ValueError as exc:
                    fail(fld, str(exc))
        if values.get("iban"):
            try:
                row["iban"] = v.parse_iban(values["iban"])
            except ValueError as exc:
                fail("iban", str(exc))
        if values.get("administrative_number"):
            try:
                row["administrative_number"] = v.parse_administrative_number(values["administrative_number"], country)
            except ValueError as exc:
                fail("administrative_number", str(exc))
        if values.get("language"):
            lang = values["language"].lower()[:2]
            if lang not in v.LANGUAGES:
                fail("language", _("langue inconnue : %(value)s", value=values["language"]))
            row["language"] = lang
        for fld, size in (("function", 120), ("reference_code", 60)):
            if values.get(fld):
                if len(values[fld]) > size:
                    fail(fld, _("%(num)s caractères au plus", num=size))
                row[fld] = values[fld]
        from plugins.contacts.services.contacts import required_address_errors

        errors.extend(required_address_errors({**values, "country": values.get("country") or self.default_country})
                      .values())
        address = {"country": country}  # every imported contact has its main address (required above)
        code = values.get("postal_code", "")
        if code:
            try:
                address["postal_code"] = self.postal_code(country, code)
            except ValueError as exc:
                fail("postal_code", str(exc))
        for fld, size in (("line1", 200), ("line2", 200), ("line3", 200), ("city", 120),
                          ("department", 80), ("region", 80)):
            value = values.get(fld, "")
            if len(value) > size:
                fail(fld, _("%(num)s caractères au plus", num=size))
            address[fld] = value or (None if fld in ("department", "region") else "")
        address["city"] = address["city"].upper()
        if country == "FR":  # "75", "paris" → "Paris"; "idf" → "Île-de-France" (names, as the forms store)
            from plugins.contacts.data import fr_subdivisions as fr

            for fld, lookup in (("department", fr.department_name), ("region", fr.region_name)):
                if address.get(fld):
                    address[fld] = lookup(address[fld]) or address[fld]
        row["address"] = address
        if errors:
            raise ValueError("; ".join(errors))
        return row

