"""Creating, reading, updating, validating and deleting contacts."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import next_number, set_sequence_floor
from coulisses.i18n import _

from plugins.contacts.models import Address, Contact, RetiredNumber
from plugins.contacts.registry import Registry, get_registry
from plugins.contacts.services import validation as v
from plugins.contacts.services.types import clean_extra

SEQUENCE = "contacts.contact"

# The fields of a contact that create_contact / update_contact accept (besides "extra").
CONTACT_FIELDS = (
    "type_code", "civility", "last_name", "first_name", "structure_name", "birth_date", "function",
    "language", "email", "mobile_phone", "phone", "fax", "administrative_number", "reference_code",
    "iban", "ambassador", "valid", "invalid_reason",
)
ADDRESS_FIELDS = ("line1", "line2", "line3", "postal_code", "city", "country", "department", "region")


# --------------------------------------------------------------------------- reading


def get_contact(session: Session, number: int) -> Contact:
    """The contact with this number; ``NotFoundError`` otherwise."""
    contact = session.scalar(select(Contact).where(Contact.number == number))
    if contact is None:
        raise NotFoundError(_("Aucun contact numéro %(number)s", number=number))
    return contact


def get_contact_by_id(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFoundError(_("Aucun contact d'identifiant %(id)s", id=contact_id))
    return contact


def contact_label(contact: Contact, relay_of: Contact | None = None, role_label: str | None = None) -> str:
    """The one-line label of the seeds: ``DUPONT, Chantal | FR-75012 [7611]``;
    a relay: ``AKOKA, Viviane | UNIVERSITY PARIS / Relais [15]``."""
    address = contact.main_address
    return label_of(contact.display_name, contact.number, address.country if address else "",
                    address.postal_code if address else None,
                    relay_of.display_name if relay_of is not None else None, role_label)


def label_of(display_name: str, number: int, country: str, postal_code: str | None,
             relay_name: str | None = None, role_label: str | None = None) -> str:
    """``contact_label`` from the columns it reads (the search hits build it from one query)."""
    if relay_name is not None:
        return f"{display_name} | {relay_name} / {role_label or _('Relais')} [{number}]"
    return f"{display_name} | {country}-{postal_code or '-'} [{number}]"


def header(contact: Contact, role_label: str | None = None) -> str:
    """``17 Monsieur Michel SHAPIRA (Client)``: the title of the sheet."""
    if contact.kind == "structure":
        name = contact.structure_name
    else:
        civility = str(v.CIVILITIES.get(contact.civility or "", ""))
        name = " ".join(p for p in (civility, contact.first_name, contact.last_name) if p)
    status = _("Client") if contact.is_customer else _("Prospect")
    return f"{contact.number} {name} ({status})"


# --------------------------------------------------------------------------- cleaning


def title_case(value: str) -> str:
    """``jean-pierre`` → ``Jean-Pierre``, but ``McDonald`` or ``Marie-josé`` typed with care are kept."""
    if value and (value.islower() or value.isupper()):
        out, cap = [], True
        for ch in value.lower():
            out.append(ch.upper() if cap else ch)
            cap = not ch.isalpha()
        return "".join(out)
    return value


def clean_contact_fields(data: dict[str, Any], kind: str, *, region: str | None,
                         errors: dict[str, str], current_function: str | None = None,
                         accepted_functions=()) -> dict[str, Any]:
    """Validate and normalise the plain contact fields present in ``data``; errors go to ``errors``.

    ``function`` must be one of the organisation's list (``CONTACTS_FUNCTIONS``), the contact's
    ``current_function`` or one of ``accepted_functions`` (a merge takes the other contact's)."""
    out: dict[str, Any] = {}
    for key in CONTACT_FIELDS:
        if key not in data or key == "type_code":
            continue
        value = data[key]
        if isinstance(value, str):
            value = value.strip()
        try:
            if key == "civility":
                value = v.parse_civility(value)
            elif key == "last_name":
                value = (value or "").upper()
                if len(value) > 120:
                    raise ValueError(_("120 caractères au plus"))
            elif key == "first_name":
                value = title_case(value or "")
                if len(value) > 120:
                    raise ValueError(_("120 caractères au plus"))
            elif key == "structure_name":
                value = value or ""
                if len(value) > 200:
                    raise ValueError(_("200 caractères au plus"))
            elif key == "birth_date":
                value = v.parse_birth_date(value)
            elif key in ("mobile_phone", "phone", "fax"):
                value = v.parse_phone(value, region)
            elif key == "email":
                value = v.parse_email(value)
            elif key == "iban":
                value = v.parse_iban(value)
            elif key == "administrative_number":
                value = v.parse_administrative_number(value, region)
            elif key == "language":
                value = (value or "fr").lower()
                if value not in v.LANGUAGES:
                    raise ValueError(_("Langue inconnue (attendu : %(choices)s)", choices=", ".join(v.LANGUAGES)))
            elif key in ("ambassador", "valid"):
                value = bool(value)
            elif key == "function":
                value = v.parse_function(value, current_function, accepted=accepted_functions)
            elif key in ("reference_code", "invalid_reason"):
                value = value or None
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        out[key] = value
    if kind == "structure":
        for key in ("civility", "first_name", "birth_date"):
            if out.get(key):
                errors[key] = _("Sans objet pour une structure")
    return out


def required_address_errors(address: dict[str, Any]) -> dict[str, str]:
    """What an address cannot do without, for every way a contact is created with its address (quick
    creation, the forms, the import): the country, the postal code and the city. Field → message."""
    errors: dict[str, str] = {}
    for key, message in (("country", _("Pays : obligatoire")), ("postal_code", _("Code postal : obligatoire")),
                         ("city", _("Ville : obligatoire"))):
        if not str(address.get(key) or "").strip():
            errors[key] = message
    return errors


def clean_address(data: dict[str, Any], errors: dict[str, str], *, prefix: str = "",
                  required: bool = True) -> dict[str, Any]:
    """Validate an address dict (``country``, ``postal_code``, ``city``, lines, department, region)."""
    out: dict[str, Any] = {}
    for key in ADDRESS_FIELDS:
        value = data.get(key)
        out[key] = value.strip() if isinstance(value, str) else value
    try:
        out["country"] = v.parse_country(out.get("country") or ("FR" if not required else ""))
    except ValueError as exc:
        errors[prefix + "country"] = str(exc)
    if required:
        for key, message in required_address_errors(out).items():
            if key != "country":  # an empty country is refused by parse_country above
                errors[prefix + key] = message
    if out.get("postal_code") and prefix + "country" not in errors:
        try:
            out["postal_code"] = v.check_postal_code(out["country"], out["postal_code"])
        except ValueError as exc:
            errors[prefix + "postal_code"] = str(exc)
    out["city"] = (out.get("city") or "").upper()
    for key in ("line1", "line2", "line3", "postal_code"):
        out[key] = out.get(key) or ""
    for key in ("department", "region"):
        out[key] = out.get(key) or None
    if out.get("country") == "FR":  # France: the ISO 3166-2:FR lists, stored by name; elsewhere free text
        from plugins.contacts.data import fr_subdivisions as fr

        for key, message, lookup in (
                ("department", _("Département : inconnu en France (%(value)s)", value=out["department"]), fr.department_name),
                ("region", _("Région : inconnue en France (%(value)s)", value=out["region"]), fr.region_name)):
            if out[key]:
                name = lookup(out[key])
                if name is None:
                    errors[prefix + key] = message
                else:
                    out[key] = name
    return out


def _check_required(contact_values: dict[str, Any], kind: str, errors: dict[str, str]) -> None:
    if kind == "structure":
        if not contact_values.get("structure_name"):
            errors.setdefault("structure_name", _("Nom de la structure : obligatoire"))
    elif not contact_values.get("last_name"):
        errors.setdefault("last_name", _("Nom : obligatoire"))


# --------------------------------------------------------------------------- creation


def create_contact(session: Session, data: dict[str, Any], *, registry: Registry | None = None,
                   address: dict[str, Any] | None = None) -> Contact:
    """Create a contact from ``data`` (the ``CONTACT_FIELDS``, ``extra``, optional ``number``).

    ``address`` (optional) becomes the main address. The type decides the kind. Raises
    ``InvalidError`` with every field error at once.
    """
    registry = registry or get_registry()
    errors: dict[str, str] = {}
    type_code = data.get("type_code") or "individual"
    try:
        ctype = registry.type(type_code)
    except InvalidError as exc:
        raise InvalidError(_("Le contact n'est pas valide"), exc.fields) from None
    region = (address or {}).get("country") or data.get("country") or "FR"
    region = region.upper() if isinstance(region, str) else "FR"
    values = clean_contact_fields(data, ctype.kind, region=region, errors=errors)
    _check_required(values, ctype.kind, errors)
    extra, extra_errors = clean_extra(ctype, data.get("extra"))
    errors.update(extra_errors)
    clean_addr = clean_address(address, errors) if address is not None else None
    number = data.get("number")
    if number is not None:
        try:
            number = int(number)
            if number < 1:
                raise ValueError
        except (TypeError, ValueError):
            errors["number"] = _("Numéro de contact : entier positif attendu")
    if errors:
        raise InvalidError(_("Le contact n'est pas valide"), errors)
    if number is not None:
        if session.scalar(select(Contact.id).where(Contact.number == number)) is not None:
            raise InvalidError(_("Le contact n'est pas valide"),
                               {"number": _("Le numéro %(number)s est déjà pris", number=number)})
        if session.get(RetiredNumber, number) is not None:
            raise InvalidError(_("Le contact n'est pas valide"), {
                "number": _("Le numéro %(number)s était celui d'un contact supprimé : un numéro de contact "
                            "n'est jamais réutilisé", number=number)})
        set_sequence_floor(session, SEQUENCE, number + 1)
    else:
        number = next_number(session, SEQUENCE)
    contact = Contact(number=number, type_code=ctype.code, kind=ctype.kind, role="public", extra=extra,
                      **{k: val for k, val in values.items()})
    if contact.valid is None:
        contact.valid = True
    session.add(contact)
    if clean_addr is not None:
        contact.addresses.append(Address(usage="main", **clean_addr))
    session.flush()
    registry.call("contacts_contact_created", session=session, contact=contact)
    from plugins.contacts.services.indicators import recompute_indicators

    recompute_indicators(session, contact, registry=registry)
    return contact


def create_quick(session: Session, data: dict[str, Any], *, registry: Registry | None = None) -> Contact:
    """The quick creation form of the seeds (see SERVICES.md for the keys).

    Every error is reported at once, keyed by the form's field names, so that a refused form keeps
    what was typed. The structure is either an existing one (``structure_number``) or a new one
    (``new_structure_name``), linked by ``link_kind`` (``relay_of`` by default, or ``member_of``).
    """
    from plugins.contacts.services.accounts import create_internet_account
    from plugins.contacts.services.links import add_link

    registry = registry or get_registry()
    chosen = registry.types.get(data.get("type_code") or "individual")
    if chosen is not None and chosen.kind == "structure":
        return _create_quick_structure(session, chosen, data, registry)
    errors: dict[str, str] = {}
    for key, message in (("civility", _("Civilité : obligatoire")), ("last_name", _("Nom : obligatoire")),
                         ("first_name", _("Prénom : obligatoire"))):
        if not str(data.get(key) or "").strip():
            errors[key] = message
    type_code = data.get("type_code") or "individual"
    ctype = registry.types.get(type_code)
    if ctype is None:
        errors["type_code"] = _("Type inconnu : %(code)s", code=type_code)
    structure = None
    structure_number = data.get("structure_number")
    new_structure_name = str(data.get("new_structure_name") or "").strip()
    if structure_number not in (None, ""):
        try:
            structure = get_contact(session, int(structure_number))
            if structure.kind != "structure":
                errors["structure_number"] = _("Le contact %(number)s n'est pas une structure",
                                                   number=structure_number)
                structure = None
        except (NotFoundError, ValueError, TypeError):
            errors["structure_number"] = _("Aucune structure numéro %(number)s", number=structure_number)
    link_kind = data.get("link_kind") or "relay_of"
    if link_kind not in ("relay_of", "member_of"):
        errors["link_kind"] = _("Lien avec la structure : relais (relay_of) ou membre (member_of)")
    use_structure_address = bool(data.get("use_structure_address"))
    if use_structure_address and structure is not None and structure.main_address is not None:
        src = structure.main_address
        address_data = {k: getattr(src, k) for k in ADDRESS_FIELDS}
    else:
        if use_structure_address and structure is None and not new_structure_name:
            errors.setdefault("use_structure_address", _("Choisissez d'abord une structure qui a une adresse"))
        address_data = {k: data.get(k) for k in ADDRESS_FIELDS}
    address = clean_address(address_data, errors)
    wants_account = bool(data.get("create_internet_account"))
    if wants_account and not str(data.get("email") or "").strip():
        errors["email"] = _("Mél : obligatoire pour créer un compte internet")
    fields = {k: data.get(k) for k in ("civility", "last_name", "first_name", "mobile_phone", "email")}
    region = address.get("country") or "FR"
    clean_contact_fields(fields, "individual", region=region, errors=errors)
    if ctype is not None and ctype.kind == "individual":  # the type's extra fields (a plugin's type)
        errors.update(clean_extra(ctype, data.get("extra"))[1])
    if errors:
        raise InvalidError(_("La fiche n'est pas valide"), errors)
    try:
        contact = create_contact(session, {**fields, "type_code": type_code, "extra": data.get("extra")},
                                 registry=registry, address=address)
        if new_structure_name and structure is None:
            structure = create_contact(session, {"type_code": "structure", "structure_name": new_structure_name},
                                       registry=registry, address=address)
        if structure is not None:
            add_link(session, contact, link_kind, structure)
        contact.generated_password = None
        if wants_account:
            _account, password = create_internet_account(session, contact)
            contact.generated_password = password
    except InvalidError as exc:
        raise InvalidError(str(exc), exc.fields) from None
    return contact


def _create_quick_structure(session: Session, ctype, data: dict[str, Any], registry: Registry) -> Contact:
    """The quick creation of a structure of type ``ctype`` (a type chosen up front on the creation
    form, e.g. a plugin's "École"): its name, e-mail, mobile phone, main address and the type's fields;
    every error at once, keyed by the form's field names."""
    from plugins.contacts.services.accounts import create_internet_account

    errors: dict[str, str] = {}
    if not str(data.get("structure_name") or "").strip():
        errors["structure_name"] = _("Nom de la structure : obligatoire")
    address = clean_address({k: data.get(k) for k in ADDRESS_FIELDS}, errors)
    wants_account = bool(data.get("create_internet_account"))
    if wants_account and not str(data.get("email") or "").strip():
        errors["email"] = _("Mél : obligatoire pour créer un compte internet")
    fields = {k: data.get(k) for k in ("structure_name", "mobile_phone", "email")}
    clean_contact_fields(fields, "structure", region=address.get("country") or "FR", errors=errors)
    errors.update(clean_extra(ctype, data.get("extra"))[1])
    if errors:
        raise InvalidError(_("La fiche n'est pas valide"), errors)
    contact = create_contact(session, {**fields, "type_code": ctype.code, "extra": data.get("extra")},
                             registry=registry, address=address)
    contact.generated_password = None
    if wants_account:
        _account, password = create_internet_account(session, contact)
        contact.generated_password = password
    return contact


# --------------------------------------------------------------------------- update


def update_contact(session: Session, contact: Contact, data: dict[str, Any], *,
                   registry: Registry | None = None, accepted_functions=()) -> set[str]:
    """Change the fields present in ``data`` (PATCH semantics); returns the names that changed.

    ``type_code`` may change within the same kind (individual ↔ guide, structure ↔ supplier…).
    ``extra`` is merged into the current extra fields (a key set to null removes it).
    """
    registry = registry or get_registry()
    errors: dict[str, str] = {}
    unknown = set(data) - set(CONTACT_FIELDS) - {"extra"}
    for key in unknown:
        errors[key] = _("Champ inconnu ou non modifiable")
    ctype = registry.types.get(contact.type_code)
    if "type_code" in data and data["type_code"] != contact.type_code:
        new_type = registry.types.get(data["type_code"])
        if new_type is None:
            errors["type_code"] = _("Type inconnu : %(code)s", code=data["type_code"])
        elif new_type.kind != contact.kind:
            errors["type_code"] = _("Le type doit rester de la même nature (individuel ou structure)")
        else:
            ctype = new_type
    address = contact.main_address
    region = address.country if address else "FR"
    values = clean_contact_fields(data, contact.kind, region=region, errors=errors,
                                  current_function=contact.function, accepted_functions=accepted_functions)
    merged = {"last_name": contact.last_name, "structure_name": contact.structure_name, **values}
    _check_required(merged, contact.kind, errors)
    if "email" in values and not values["email"] and contact.email:
        from plugins.contacts.services.accounts import account_of

        if account_of(session, contact) is not None:  # the e-mail is the internet account's login
            errors["email"] = _("Mél : obligatoire, c'est l'identifiant du compte internet du contact")
    extra = contact.extra or {}
    if ctype is not None and ("extra" in data or ctype.code != contact.type_code):
        extra, extra_errors = clean_extra(ctype, data.get("extra") or {}, partial_base=contact.extra or {})
        errors.update(extra_errors)
    if errors:
        raise InvalidError(_("Le contact n'est pas valide"), errors)
    changed: set[str] = set()
    if ctype is not None and ctype.code != contact.type_code:
        contact.type_code = ctype.code
        changed.add("type_code")
    for key, value in values.items():
        if getattr(contact, key) != value:
            setattr(contact, key, value)
            changed.add(key)
    if extra != (contact.extra or {}):
        contact.extra = extra
        changed.add("extra")
    if contact.valid:
        if contact.invalid_reason:
            contact.invalid_reason = None
    if changed:
        session.flush()
        registry.call("contacts_contact_updated", session=session, contact=contact, changed=changed)
        from plugins.contacts.services.indicators import recompute_indicators

        recompute_indicators(session, contact, registry=registry)
    return changed


def set_validity(session: Session, contact: Contact, valid: bool, reason: str | None = None) -> None:
    """Mark a contact valid again, or invalid (duplicate, erroneous record): an invalid contact is
    hidden from searches unless they ask for invalid contacts."""
    if not valid and not (reason or "").strip():
        raise InvalidError(_("Indiquez pourquoi le contact n'est pas valide"),
                           {"invalid_reason": _("Motif : obligatoire")})
    contact.valid = bool(valid)
    contact.invalid_reason = None if valid else reason.strip()[:200]
    session.flush()


def delete_contact(session: Session, contact: Contact, *, registry: Registry | None = None) -> None:
    """Delete a contact and what belongs to it. Other plugins may refuse (``contacts_contact_deleting``
    raising ``ConflictError``); a contact who is a customer is kept (mark it invalid or anonymise it)."""
    registry = registry or get_registry()
    if contact.is_customer:
        raise ConflictError(_("Le contact %(number)s est client : il ne peut pas être supprimé "
                              "(marquez-le non valide ou anonymisez-le)", number=contact.number))
    registry.call("contacts_contact_deleting", session=session, contact=contact)
    session.delete(contact)
    session.flush()
