"""The journal of security events: logins, failures, lock-outs, logouts, idle expiries, operator
changes at the till, role and permission changes, tokens, operators, plugins, webhook subscriptions.

Any part of Coulisses records one with ``coulisses.security.record_event(session, kind, ...)`` inside
its own transaction (the event is kept only if the change is). No Flask here: the web layer tells who
acts (``coulisses.db.current_actor()``) and from which address (``client_address``).

``detail`` holds codes, logins and numbers only, never a sentence: the screen shows the kind's label
in the reader's language.
"""
from __future__ import annotations

import contextlib
import contextvars
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses.db import Base, UTCDateTime, current_actor, utcnow
from coulisses.i18n import _l

# Who may log in: the back-office operators, the REST API's bearer tokens, the customers' portal.
SCOPES = {"operator": _l("Opérateurs"), "api": _l("API"), "portal": _l("Portail clients")}

EVENT_KINDS = {
    "login_succeeded": _l("Connexion"),
    "login_failed": _l("Échec de connexion"),
    "locked_out": _l("Blocage après échecs"),
    "logout": _l("Déconnexion"),
    "session_expired": _l("Session expirée (inactivité)"),
    "operator_changed": _l("Changement d'opérateur"),
    "token_refused": _l("Jeton d'API refusé"),
    "token_created": _l("Jeton d'API créé"),
    "token_revoked": _l("Jeton d'API révoqué"),
    "operator_created": _l("Opérateur créé"),
    "operator_deactivated": _l("Opérateur désactivé"),
    "operator_reactivated": _l("Opérateur réactivé"),
    "operator_roles_changed": _l("Rôles d'un opérateur modifiés"),
    "password_changed": _l("Mot de passe modifié"),
    "role_created": _l("Rôle créé"),
    "role_changed": _l("Permissions d'un rôle modifiées"),
    "role_deleted": _l("Rôle supprimé"),
    "plugin_enabled": _l("Plugin activé"),
    "plugin_disabled": _l("Plugin désactivé"),
    "plugin_uninstalled": _l("Plugin désinstallé (données supprimées)"),
    "plugin_settings_changed": _l("Réglage d'un plugin modifié"),
    "webhook_created": _l("Abonnement webhook créé"),
    "webhook_changed": _l("Abonnement webhook modifié"),
    "webhook_secret_rotated": _l("Secret d'un abonnement webhook renouvelé"),
    "webhook_deleted": _l("Abonnement webhook supprimé"),
}

DETAIL_LENGTH = 1000
LOGIN_LENGTH = 200
ADDRESS_LENGTH = 64

_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("coulisses_client_address", default=None)


class SecurityEvent(Base):
    """One security event; never changed, never deleted by the application."""

    __tablename__ = "core_security_event"
    __table_args__ = (Index("ix_core_security_event_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(20), default="operator")
    # The operator (or the login typed, or the customer) the event is about
    login: Mapped[str] = mapped_column(String(LOGIN_LENGTH), default="", index=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)
    # Who did it ("" when it is the person the event is about, or the system)
    actor_login: Mapped[str] = mapped_column(String(120), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_LENGTH), default="")
    detail: Mapped[str] = mapped_column(String(DETAIL_LENGTH), default="")

    @property
    def kind_label(self) -> str:
        return str(EVENT_KINDS.get(self.kind, self.kind))

    def __str__(self) -> str:
        return f"{self.kind} {self.login}"


def kind_label(kind: str) -> str:
    """The kind's label in the current language (``"login_failed"`` → "Échec de connexion")."""
    return str(EVENT_KINDS.get(kind, kind))


@contextlib.contextmanager
def client_address(address: str | None):
    """Within the block, events are recorded as coming from ``address`` (the web layer sets it per request)."""
    token = _address.set(address)
    try:
        yield address
    finally:
        _address.reset(token)


def set_client_address(address: str | None) -> contextvars.Token:
    return _address.set(address)


def reset_client_address(token: contextvars.Token) -> None:
    try:
        _address.reset(token)
    except ValueError:  # reset from another context (a streamed response)
        pass


def current_client_address() -> str | None:
    return _address.get()


def _clip(value, length: int) -> str:
    text = "" if value is None else str(value)
    # No control characters in a journal people read (and logs parsed by fail2ban).
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text[:length]


def record_event(session: Session, kind: str, *, operator=None, login: str | None = None, detail: str = "",
                 scope: str = "operator", address: str | None = None, actor=None) -> SecurityEvent:
    """Record a security event in ``session``'s transaction; returns it (added, not flushed).

    - ``kind``: a key of ``EVENT_KINDS`` (an unknown kind is a programming error: ``ValueError``);
    - ``operator``: the ``Operator`` the event is about, if known; ``login``: its login, or the login
      typed (a failed login), or a customer's login for the portal;
    - ``detail``: codes and logins (``"cashier +sales.sell -sales.refund"``), never a sentence;
    - ``scope``: ``"operator"``, ``"api"`` or ``"portal"``;
    - ``address``: the client's address (default: the current request's);
    - ``actor``: who did it, a ``coulisses.db.Actor`` (default: the current actor).
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown security event kind {kind!r}; known: {', '.join(sorted(EVENT_KINDS))}")
    if scope not in SCOPES:
        raise ValueError(f"unknown security scope {scope!r}; known: {', '.join(SCOPES)}")
    who = actor if actor is not None else current_actor()
    if login is None and operator is not None:
        login = operator.login
    event = SecurityEvent(
        at=utcnow(), kind=kind, scope=scope, login=_clip(login, LOGIN_LENGTH),
        operator_id=getattr(operator, "id", None), actor_id=who.operator_id,
        actor_login=_clip(who.login, 120), address=_clip(address or current_client_address(), ADDRESS_LENGTH),
        detail=_clip(detail, DETAIL_LENGTH),
    )
    session.add(event)
    return event
