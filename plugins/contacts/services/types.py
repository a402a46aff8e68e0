"""Contact types: the built-ins (registered through ``contacts_types`` like any plugin's) and the
validation of the extra fields a type declares."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from coulisses.i18n import _, _l

from plugins.contacts.registry import ContactType, ExtraField

BUILTIN_TYPES = [
    ContactType("individual", _l("Individuel"), "individual", position=10,
                description=_l("Personne physique.")),
    ContactType("structure", _l("Structure"), "structure", position=20,
                description=_l("Personne morale : entreprise, association, école, collectivité…")),
    ContactType("guide", _l("Guide"), "individual", position=30,
                description=_l("Contact disponible dans les écrans d'attribution des guides du module Ressource.")),
    ContactType("supplier", _l("Fournisseur"), "structure", position=40,
                description=_l("Contact disponible dans les écrans de sélection d'un fournisseur du module "
                                    "Boutique.")),
    ContactType("partner", _l("Partenaire"), "structure", position=50,
                description=_l("Contact ayant passé contrat avec l'organisme dans le cadre d'un partenariat de "
                                    "vente.")),
    ContactType("producer", _l("Producteur"), "structure", position=60,
                description=_l("Contact pouvant être associé à un événement en tant que producteur et ayant "
                               "accès aux informations de vente sur ses événements.")),
    ContactType("support", _l("Support"), "individual", position=70,
                description=_l("Contact pouvant accéder aux comptes internet des clients afin de leur apporter "
                               "le support nécessaire sur leur espace personnel.")),
]


def _convert(f: ExtraField, value: Any) -> Any:
    if f.type == "str":
        value = str(value).strip()
        if f.max_length and len(value) > f.max_length:
            raise ValueError(_("%(num)s caractères au plus", num=f.max_length))
        return value
    if f.type == "int":
        if isinstance(value, bool):
            raise ValueError(_("nombre entier attendu"))
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(_("nombre entier attendu")) from None
    if f.type == "decimal":
        if isinstance(value, float):
            raise ValueError(_("nombre décimal attendu sous forme de texte"))
        try:
            return str(Decimal(str(value).strip().replace(",", ".")))
        except InvalidOperation:
            raise ValueError(_("nombre décimal attendu")) from None
    if f.type == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "oui", "on"):
            return True
        if text in ("0", "false", "no", "non", "off"):
            return False
        raise ValueError(_("oui ou non attendu"))
    if f.type == "date":
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(_("date AAAA-MM-JJ attendue")) from None
    if f.type == "choice":
        codes = [code for code, _label in f.choices]
        if str(value) not in codes:
            raise ValueError(_("valeur attendue parmi : %(choices)s", choices=", ".join(codes)))
        return str(value)
    raise ValueError(_("type de champ inconnu %(type)s", type=f.type))


def clean_extra(ctype: ContactType, data: dict[str, Any] | None, *, partial_base: dict | None = None
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate ``data`` against ``ctype``'s fields; returns ``(clean, errors)``.

    Unknown keys are errors. With ``partial_base`` (an update), the result is the base updated with
    ``data``, and required fields are checked on that result. Error keys are ``extra.<field>``.
    """
    data = dict(data or {})
    fields = {f.name: f for f in ctype.fields}
    clean: dict[str, Any] = dict(partial_base or {})
    clean = {k: v for k, v in clean.items() if k in fields}
    errors: dict[str, str] = {}
    for key, value in data.items():
        f = fields.get(key)
        if f is None:
            errors[f"extra.{key}"] = _("Champ inconnu pour le type %(type)s", type=ctype.label)
            continue
        if value is None or value == "":
            clean.pop(key, None)
            continue
        try:
            clean[key] = _convert(f, value)
        except ValueError as exc:
            errors[f"extra.{key}"] = _("%(field)s : %(reason)s", field=f.label, reason=exc)
    for f in ctype.fields:
        if f.required and f"extra.{f.name}" not in errors and clean.get(f.name) in (None, ""):
            errors[f"extra.{f.name}"] = _("%(field)s : obligatoire", field=f.label)
    if not errors and ctype.validate is not None:
        for key, message in (ctype.validate(dict(clean)) or {}).items():
            errors[key if key.startswith("extra.") or key in ("last_name", "first_name", "structure_name")
                   else f"extra.{key}"] = message
    return clean, errors
