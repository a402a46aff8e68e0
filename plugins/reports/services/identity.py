"""The organisation's identity printed on every document (the identity screen): name, legal form,
address, SIREN / SIRET, VAT number, contact details, logo, bank details, legal mentions for invoices,
footer. One row; checked with python-stdnum."""
from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses import files as cfiles
from coulisses.db import current_actor
from coulisses.i18n import _

from plugins.reports.models import Identity

TEXT_FIELDS = ("name", "legal_form", "address", "siren", "siret", "vat_number", "email", "phone", "website",
               "iban", "bic", "bank_name", "invoice_mentions", "footer")
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpg"}
LOGO_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class IdentityView:
    name: str = ""
    legal_form: str = ""
    address: str = ""
    siren: str = ""
    siret: str = ""
    vat_number: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    iban: str = ""
    bic: str = ""
    bank_name: str = ""
    invoice_mentions: str = ""
    footer: str = ""
    logo: bytes | None = None

    def legal_line(self) -> str:
        """"Opéra de Lyon SAS — SIRET 552 100 554 00025 — TVA FR40303265045"."""
        parts = [" ".join(x for x in (self.name, self.legal_form) if x)]
        if self.siret:
            parts.append(_("SIRET %(number)s", number=self.siret))
        elif self.siren:
            parts.append(_("SIREN %(number)s", number=self.siren))
        if self.vat_number:
            parts.append(_("TVA %(number)s", number=self.vat_number))
        return " — ".join(p for p in parts if p)


def get_identity(session: Session) -> Identity:
    """The identity row (created empty the first time)."""
    row = session.get(Identity, 1)
    if row is None:
        row = Identity(id=1)
        session.add(row)
        session.flush()
    return row


def identity_view(session: Session) -> IdentityView:
    row = session.get(Identity, 1)
    if row is None:
        return IdentityView()
    logo = None
    if row.logo_file_id is not None:
        try:
            logo = cfiles.read(session, row.logo_file_id)
        except Exception:  # noqa: BLE001 - a missing logo must not stop a document
            logo = None
    return IdentityView(**{f.name: getattr(row, f.name) or "" for f in fields(IdentityView) if f.name != "logo"},
                        logo=logo)


def _clean(data: dict) -> tuple[dict, dict]:
    from stdnum import bic, iban
    from stdnum.eu import vat
    from stdnum.fr import siren, siret

    values = {k: (str(data.get(k) or "")).strip() for k in TEXT_FIELDS if k in data}
    errors = {}
    if "name" in values and not values["name"]:
        errors["name"] = _("Le nom de l'organisme est obligatoire.")
    checks = {"siren": (siren, _("SIREN invalide (9 chiffres, clé de contrôle)")),
              "siret": (siret, _("SIRET invalide (14 chiffres, clé de contrôle)")),
              "vat_number": (vat, _("Numéro de TVA intracommunautaire invalide")),
              "iban": (iban, _("IBAN invalide")), "bic": (bic, _("BIC invalide"))}
    for key, (module, message) in checks.items():
        if values.get(key):
            try:
                values[key] = module.validate(values[key])
            except Exception:  # noqa: BLE001 - stdnum raises several ValidationError kinds
                errors[key] = message
    if values.get("siren") and values.get("siret") and not values["siret"].startswith(values["siren"]):
        errors["siret"] = _("Le SIRET doit commencer par le SIREN.")
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = _("Adresse e-mail invalide")
    return values, errors


def update_identity(session: Session, data: dict, *, logo: tuple[bytes, str, str] | None = None,
                    remove_logo: bool = False) -> Identity:
    """Change the identity; ``logo`` = (bytes, file name, content type), PNG or JPEG up to 1 MB.
    ``InvalidError`` names each wrong field; nothing is changed then."""
    values, errors = _clean(data)
    if logo is not None:
        content, name, content_type = logo
        if content_type not in LOGO_TYPES:
            errors["logo"] = _("Logo : une image PNG ou JPEG")
        elif len(content) > LOGO_MAX_BYTES:
            errors["logo"] = _("Logo : 1 Mo au plus")
        else:
            try:
                from reportlab.lib.utils import ImageReader
                import io

                ImageReader(io.BytesIO(content)).getSize()
            except Exception:  # noqa: BLE001
                errors["logo"] = _("Logo : l'image ne peut pas être lue")
    if errors:
        raise InvalidError(_("L'identité de l'organisme n'est pas valide"), errors)
    row = get_identity(session)
    for key, value in values.items():
        setattr(row, key, value)
    if remove_logo:
        row.logo_file_id = None
    if logo is not None:
        stored = cfiles.store(session, logo[0], logo[1] or f"logo.{LOGO_TYPES[logo[2]]}", logo[2], purpose="logo",
                              plugin="reports")
        row.logo_file_id = stored.id
    row.updated_by_id = current_actor().operator_id
    session.flush()
    return row
