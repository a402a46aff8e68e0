"""The contact's address book: one main address, any number of delivery and billing addresses."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _

from plugins.contacts.models import ADDRESS_USAGES, Address, Contact
from plugins.contacts.services.contacts import ADDRESS_FIELDS, clean_address


def get_address(session: Session, contact: Contact, address_id: int) -> Address:
    address = session.get(Address, address_id)
    if address is None or address.contact_id != contact.id:
        raise NotFoundError(_("Aucune adresse %(address)s pour le contact %(number)s", address=address_id,
                              number=contact.number))
    return address


def addresses_of(session: Session, contact: Contact) -> list[Address]:
    order = {u: i for i, u in enumerate(ADDRESS_USAGES)}
    return sorted(session.scalars(select(Address).where(Address.contact_id == contact.id)),
                  key=lambda a: (order.get(a.usage, 9), a.id))


def _usage(data: dict[str, Any], default: str, errors: dict[str, str]) -> str:
    usage = data.get("usage") or default
    if usage not in ADDRESS_USAGES:
        errors["usage"] = _("Usage : %(choices)s", choices=", ".join(ADDRESS_USAGES))
    return usage


def add_address(session: Session, contact: Contact, data: dict[str, Any]) -> Address:
    """Add an address; the contact's first address is its main one whatever ``usage`` says, and a
    new main address turns the former main one into a delivery address."""
    errors: dict[str, str] = {}
    current_main = contact.main_address
    usage = _usage(data, "main" if current_main is None else "delivery", errors)
    values = clean_address(data, errors)
    if errors:
        raise InvalidError(_("L'adresse n'est pas valide"), errors)
    if current_main is None:
        usage = "main"
    elif usage == "main":
        current_main.usage = "delivery"
        session.flush()
    address = Address(usage=usage, **values)
    contact.addresses.append(address)
    session.flush()
    return address


def update_address(session: Session, address: Address, data: dict[str, Any]) -> Address:
    errors: dict[str, str] = {}
    merged = {k: getattr(address, k) for k in ADDRESS_FIELDS}
    merged.update({k: val for k, val in data.items() if k in ADDRESS_FIELDS})
    for key in set(data) - set(ADDRESS_FIELDS) - {"usage"}:
        errors[key] = _("Champ inconnu")
    usage = _usage(data, address.usage, errors)
    values = clean_address(merged, errors)
    if address.usage == "main" and usage != "main":
        errors["usage"] = _("Choisissez d'abord une autre adresse principale")
    if errors:
        raise InvalidError(_("L'adresse n'est pas valide"), errors)
    for key, value in values.items():
        setattr(address, key, value)
    if usage == "main" and address.usage != "main":
        set_main_address(session, address)
    session.flush()
    return address


def set_main_address(session: Session, address: Address) -> None:
    """Make ``address`` the main one; the former main address becomes a delivery address."""
    for other in session.scalars(select(Address).where(Address.contact_id == address.contact_id,
                                                       Address.usage == "main", Address.id != address.id)):
        other.usage = "delivery"
    session.flush()
    address.usage = "main"
    session.flush()


def remove_address(session: Session, address: Address) -> None:
    """Remove an address; the main one can go only when it is the last one."""
    if address.usage == "main":
        others = session.scalars(select(Address.id).where(Address.contact_id == address.contact_id,
                                                          Address.id != address.id)).all()
        if others:
            raise InvalidError(_("Choisissez d'abord une autre adresse principale"),
                               {"usage": _("L'adresse principale ne peut pas être supprimée")})
    session.delete(address)
    session.flush()
