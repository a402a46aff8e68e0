"""Internet accounts: the customers' logins to the ticket shop (a population apart from operators)."""
from __future__ import annotations

import secrets
import string

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from coulisses import ConflictError, InvalidError
from coulisses.db import utcnow
from coulisses.i18n import _

from plugins.contacts.models import Contact, InternetAccount

_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 12


def _new_password() -> str:
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
        if any(c.isdigit() for c in pw) and any(c.islower() for c in pw) and any(c.isupper() for c in pw):
            return pw


def account_of(session: Session, contact: Contact) -> InternetAccount | None:
    return session.scalar(select(InternetAccount).where(InternetAccount.contact_id == contact.id))


def create_internet_account(session: Session, contact: Contact, login: str | None = None
                            ) -> tuple[InternetAccount, str]:
    """Open the contact's internet account (login: the e-mail by default; the contact must have a Mél,
    whatever the login). Returns the account and its generated password, shown once and stored
    hashed (scrypt)."""
    if account_of(session, contact) is not None:
        raise ConflictError(_("Le contact %(number)s a déjà un compte internet", number=contact.number))
    login = (login or contact.email or "").strip().lower()
    if not login or not (contact.email or "").strip():  # the account's mail goes to the contact's Mél
        raise InvalidError(_("Le contact %(number)s n'a pas de mél, l'identifiant de son compte internet",
                             number=contact.number),
                           {"email": _("Mél : obligatoire pour créer un compte internet — saisissez-le dans "
                                       "l'onglet Général")})
    taken = session.scalar(select(InternetAccount.id).where(func.lower(InternetAccount.login) == login))
    if taken is not None:
        raise InvalidError(_("Identifiant déjà utilisé"),
                           {"email": _("Un compte internet utilise déjà %(login)s", login=login)})
    password = _new_password()
    account = InternetAccount(contact_id=contact.id, login=login, active=True,
                              password_hash=generate_password_hash(password, method="scrypt"),
                              password_set_at=utcnow())
    session.add(account)
    session.flush()
    return account, password


def generate_password(session: Session, contact: Contact) -> str:
    """"GÉNÉRER MOT DE PASSE": a new password for the contact's account, returned once; the date and
    the operator of the update are recorded (the account's ``updated_at`` / ``updated_by_id``)."""
    account = account_of(session, contact)
    if account is None:
        raise ConflictError(_("Le contact %(number)s n'a pas de compte internet", number=contact.number))
    password = _new_password()
    account.password_hash = generate_password_hash(password, method="scrypt")
    account.password_set_at = utcnow()
    session.flush()
    return password


def check_internet_password(session: Session, login: str, password: str) -> Contact | None:
    account = session.scalar(select(InternetAccount).where(
        func.lower(InternetAccount.login) == (login or "").strip().lower()))
    if account is None or not account.active or not check_password_hash(account.password_hash, password or ""):
        return None
    account.last_login_at = utcnow()
    return account.contact
