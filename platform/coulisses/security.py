"""Operators, roles, permissions, passwords and API tokens. No Flask here: the web layer uses it.

Permissions are declared by plugins (``coulisses_permissions``); the default roles are
administrator (everything), supervisor, box-office operator and read-only. A permission seen for the
first time is granted to the default roles it names; after that, roles are the organisation's to edit.
"""
from __future__ import annotations

import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, event, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from coulisses import CoulissesError, Permission
from coulisses.db import Base, UTCDateTime, utcnow
from coulisses.i18n import gettext as _, lazy_gettext as _l, message_id, ngettext as _n
from coulisses.security_events import EVENT_KINDS, SecurityEvent, record_event  # noqa: F401 - the service others call

ADMINISTRATOR = "administrator"
# The built-in roles' names: stored as their French source, shown in the reader's language until the
# organisation renames them (``Role.display_name``).
DEFAULT_ROLES = {
    ADMINISTRATOR: _l("Administrateur"),
    "supervisor": _l("Superviseur"),
    "operator": _l("Opérateur de billetterie"),
    "readonly": _l("Lecture seule"),
}
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "cou_"

operator_role = Table(
    "core_operator_role",
    Base.metadata,
    Column("operator_id", ForeignKey("core_operator.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True),
    info={"plugin": "core"},
)


class SecurityError(CoulissesError):
    pass


class Role(Base):
    __tablename__ = "core_role"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list["RolePermission"]] = relationship(
        back_populates="role", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def permission_codes(self) -> set[str]:
        return {p.permission for p in self.permissions}

    @permission_codes.setter
    def permission_codes(self, codes) -> None:
        """Grant exactly ``codes`` (the role form sets it)."""
        wanted = set(codes or ())
        kept = [p for p in self.permissions if p.permission in wanted]
        have = {p.permission for p in kept}
        self.permissions = kept + [RolePermission(permission=c) for c in sorted(wanted - have)]

    @property
    def display_name(self) -> str:
        """A built-in role still named as installed, in the current language; any other as typed."""
        default = DEFAULT_ROLES.get(self.code)
        if self.builtin and default is not None and self.name == message_id(default):
            return str(default)
        return self.name

    def __str__(self) -> str:
        return self.display_name


class RolePermission(Base):
    __tablename__ = "core_role_permission"
    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[Role] = relationship(back_populates="permissions")


class KnownPermission(Base):
    """Every permission ever declared, so that a new one is granted to its default roles once."""

    __tablename__ = "core_permission"
    code: Mapped[str] = mapped_column(String(120), primary_key=True)
    plugin: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Operator(Base):
    """A person who works in the back-office (not a customer: customers have internet accounts)."""

    __tablename__ = "core_operator"
    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    roles: Mapped[list[Role]] = relationship(secondary=operator_role, lazy="selectin")

    def __str__(self) -> str:
        return self.login

    @property
    def is_administrator(self) -> bool:
        return any(r.code == ADMINISTRATOR for r in self.roles)

    @property
    def permissions(self) -> set[str]:
        codes: set[str] = set()
        for role in self.roles:
            codes |= role.permission_codes
        return codes

    def has_permission(self, code: str | None) -> bool:
        if not self.active:
            return False
        if code is None or self.is_administrator:
            return True
        return code in self.permissions

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token of an operator for the REST API; only its SHA-256 is stored."""

    __tablename__ = "core_api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    operator: Mapped[Operator] = relationship(lazy="joined")


# --------------------------------------------------------------------------- passwords & operators


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SecurityError(_("le mot de passe doit avoir au moins %(num)d caractères", num=MIN_PASSWORD_LENGTH))


def get_operator(session: Session, login: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.login == login))


def roles_by_code(session: Session, codes: list[str]) -> list[Role]:
    roles = list(session.scalars(select(Role).where(Role.code.in_(codes))))
    missing = set(codes) - {r.code for r in roles}
    if missing:
        raise SecurityError(_n("rôle inconnu : %(roles)s", "rôles inconnus : %(roles)s", len(missing),
                                 roles=", ".join(sorted(missing))))
    return roles


def create_operator(
    session: Session, login: str, password: str, full_name: str = "", roles: list[str] = ()
) -> Operator:
    login = login.strip()
    if not login:
        raise SecurityError(_("l'identifiant est obligatoire"))
    if get_operator(session, login) is not None:
        raise SecurityError(_("un opérateur a déjà l'identifiant « %(login)s »", login=login))
    check_password_strength(password)
    op = Operator(login=login, full_name=full_name, password_hash=hash_password(password),
                  roles=roles_by_code(session, list(roles)))
    session.add(op)
    session.flush()
    record_event(session, "operator_created", operator=op, detail=" ".join(sorted(r.code for r in op.roles)))
    return op


def set_password(session: Session, login: str, password: str) -> Operator:
    op = get_operator(session, login)
    if op is None:
        raise SecurityError(_("aucun opérateur n'a l'identifiant « %(login)s »", login=login))
    check_password_strength(password)
    op.password_hash = hash_password(password)
    record_event(session, "password_changed", operator=op)
    return op


def set_active(session: Session, op: Operator, active: bool) -> bool:
    """Activate or deactivate ``op`` (a deactivated operator's tokens are revoked); returns whether it changed."""
    if bool(op.active) == bool(active):
        return False
    op.active = bool(active)
    if not active:
        revoke_tokens(session, op)
    record_event(session, "operator_reactivated" if active else "operator_deactivated", operator=op)
    return True


def record_role_change(session: Session, op: Operator, before: set[str]) -> bool:
    """Record the change of ``op``'s roles since ``before`` (role codes), if any."""
    after = {r.code for r in op.roles}
    if after == before:
        return False
    record_event(session, "operator_roles_changed", operator=op, detail=_diff(before, after))
    return True


def record_permission_change(session: Session, role: Role, before: set[str] | None) -> bool:
    """Record a role created (``before`` is None) or its permissions changed since ``before``."""
    after = role.permission_codes
    if before is None:
        record_event(session, "role_created", login="", detail=f"{role.code} " + " ".join(sorted(after)))
        return True
    if after == before:
        return False
    record_event(session, "role_changed", login="", detail=f"{role.code} {_diff(before, after)}")
    return True


def _diff(before: set[str], after: set[str]) -> str:
    return " ".join([f"+{c}" for c in sorted(after - before)] + [f"-{c}" for c in sorted(before - after)])


def authenticate(session: Session, login: str, password: str) -> Operator | None:
    """The active operator with this login and password, with its last login updated; else None."""
    op = get_operator(session, (login or "").strip())
    if op is None or not op.active or not op.password_hash:
        # Same work whether or not the login exists, so timing does not tell logins apart.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(op.password_hash, password or ""):
        return None
    op.last_login_at = utcnow()
    return op


_DUMMY_HASH = hash_password("not-a-real-password")


# --------------------------------------------------------------------------- tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, operator: Operator, label: str = "") -> str:
    """Create an API token for ``operator``; returns the token itself, shown once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(operator=operator, label=label, token_hash=_token_hash(token), hint=token[:10]))
    session.flush()
    record_event(session, "token_created", operator=operator, detail=f"{token[:10]} {label}".strip())
    return token


TOKEN_USE_RECORDED_EVERY = timedelta(minutes=1)


def operator_for_token(session: Session, token: str) -> Operator | None:
    """The active operator a valid token belongs to, else None.

    The token's last use is recorded at most once a minute, so that reading the API does not turn
    every request into a write (on SQLite, a write takes the database lock).
    """
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token or "")))
    if row is None or row.revoked_at is not None or not row.operator.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RECORDED_EVERY:
        row.last_used_at = now
    return row.operator


# --------------------------------------------------------------------------- the token cache
#
# A bearer token's look-up (its row, its operator, the operator's roles and their permissions: four
# queries) is kept for ``TOKEN_CACHE_SECONDS`` in the process, keyed by the database and the token's
# SHA-256 (never the token itself). Any change to a token, an operator, a role or a role's
# permissions (ORM flush or bulk UPDATE/DELETE through a session) empties the cache of the process
# at once, and again when that transaction commits; an entry read in a transaction that began
# before such a change is not stored. Another process (a CLI command, another worker) sees the
# change when its own entries expire: at most ``TOKEN_CACHE_SECONDS`` later. ``0`` turns it off.

TOKEN_CACHE_SECONDS = 10
TOKEN_CACHE_MAX_ENTRIES = 4096
_AUTH_CHANGED = "coulisses_auth_changed"
_AUTH_GENERATION = "coulisses_auth_generation"


@dataclass(frozen=True)
class OperatorIdentity:
    """What an API request needs of its operator (no ORM object): authenticated by the operator's
    session as is, or by a token (``TokenIdentity``)."""

    operator_id: int
    login: str
    full_name: str
    locale: str | None
    permissions: frozenset[str]
    administrator: bool

    def has_permission(self, code: str | None) -> bool:  # the rule of ``Operator.has_permission``
        return code is None or self.administrator or code in self.permissions


@dataclass(frozen=True)
class TokenIdentity(OperatorIdentity):
    """An operator authenticated by a token: the token's row, as the cache keeps it."""

    token_id: int
    token_hash: str
    last_used_at: datetime | None


class TokenCache:
    """The process's cache of token look-ups (thread-safe; see the comment above)."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, Any]] = {}  # TokenIdentity | OperatorIdentity
        self.generation = 0
        self.seconds: float = TOKEN_CACHE_SECONDS

    def get(self, key: tuple[str, str]) -> Any:
        import time

        entry = self._entries.get(key)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, key: tuple[str, str], identity: Any, generation: int | None) -> None:
        """Keep ``identity`` unless something changed since ``generation`` (the reading transaction's)."""
        import time

        if self.seconds <= 0:
            return
        with self._lock:
            if generation is None or generation != self.generation:
                return
            if len(self._entries) >= TOKEN_CACHE_MAX_ENTRIES:
                now = time.monotonic()
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= TOKEN_CACHE_MAX_ENTRIES:
                    self._entries.clear()
            self._entries[key] = (time.monotonic() + self.seconds, identity)

    def replace(self, key: tuple[str, str], identity: TokenIdentity) -> None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (entry[0], identity)

    def invalidate(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()


token_cache = TokenCache()


def _cache_key(session: Session, token_hash: str) -> tuple[str, str]:
    return (str(session.get_bind().url), token_hash)


def identity_for_token(session: Session, token: str) -> TokenIdentity | None:
    """The identity of the active operator a valid token belongs to, else None; from the process's
    cache when it was looked up less than ``TOKEN_CACHE_SECONDS`` ago and nothing changed since.

    The caller records the token's last use when ``token_use_due`` (at most once a minute), so that
    reading the API does not turn every request into a write."""
    token_hash = _token_hash(token or "")
    key = _cache_key(session, token_hash)
    identity = token_cache.get(key)
    if identity is None:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        if row is None or row.revoked_at is not None or not row.operator.active:
            return None
        op = row.operator
        identity = TokenIdentity(op.id, op.login, op.full_name, op.locale, frozenset(op.permissions),
                                 op.is_administrator, token_id=row.id, token_hash=token_hash,
                                 last_used_at=row.last_used_at)
        token_cache.put(key, identity, session.info.get(_AUTH_GENERATION))
    return identity




def identity_for_operator(session: Session, operator_id: int) -> OperatorIdentity | None:
    """The identity of an active operator by id (a session's API request, such as a keystroke of the
    autocomplete), else None; kept in the token cache (same expiry, same invalidation: any change to
    an operator, a role or a role's permissions empties it at once in this process)."""
    key = (str(session.get_bind().url), f"operator:{int(operator_id)}")
    identity = token_cache.get(key)
    if identity is None:
        op = session.get(Operator, int(operator_id))
        if op is None or not op.active:
            return None
        identity = OperatorIdentity(op.id, op.login, op.full_name, op.locale, frozenset(op.permissions),
                                    op.is_administrator)
        token_cache.put(key, identity, session.info.get(_AUTH_GENERATION))
    return identity


def token_use_due(identity: TokenIdentity) -> bool:
    """Whether the token's last use is to be recorded now (at most once a minute)."""
    return identity.last_used_at is None or utcnow() - identity.last_used_at >= TOKEN_USE_RECORDED_EVERY


def record_token_use(session: Session, identity: TokenIdentity) -> None:
    """Record the token's last use: a one-row UPDATE (not through the ORM: no cache invalidation).
    The caller commits."""
    now = utcnow()
    table = ApiToken.__table__
    session.connection().execute(table.update().where(table.c.id == identity.token_id).values(last_used_at=now))
    token_cache.replace(_cache_key(session, identity.token_hash), dataclasses.replace(identity, last_used_at=now))


def _auth_object_changed(obj) -> bool:
    if isinstance(obj, ApiToken):  # its last use is a statistic, not a change of what it grants
        state = sa_inspect(obj)
        return any(attr.history.has_changes() for attr in state.attrs if attr.key != "last_used_at")
    return isinstance(obj, (Operator, Role, RolePermission))


@event.listens_for(Session, "after_begin")
def _remember_auth_generation(session, transaction, connection) -> None:
    session.info[_AUTH_GENERATION] = token_cache.generation


@event.listens_for(Session, "after_flush")
def _auth_flushed(session, flush_context) -> None:
    if any(_auth_object_changed(obj) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_AUTH_CHANGED] = True
        token_cache.invalidate()


_AUTH_TABLES = frozenset(("core_api_token", "core_operator", "core_operator_role", "core_role", "core_role_permission"))


@event.listens_for(Session, "do_orm_execute")
def _auth_bulk_changed(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _AUTH_TABLES:
        state.session.info[_AUTH_CHANGED] = True
        token_cache.invalidate()


@event.listens_for(Session, "after_commit")
def _auth_committed(session) -> None:
    if session.info.pop(_AUTH_CHANGED, False):
        token_cache.invalidate()


@event.listens_for(Session, "after_rollback")
def _auth_rolled_back(session) -> None:
    if session.info.pop(_AUTH_CHANGED, False):
        token_cache.invalidate()


def revoke_token(session: Session, row: ApiToken) -> bool:
    """Revoke one token (recorded); returns False when it was revoked already."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    record_event(session, "token_revoked", operator=row.operator, detail=f"{row.hint} {row.label}".strip())
    return True


def revoke_tokens(session: Session, operator: Operator) -> int:
    rows = session.scalars(select(ApiToken).where(ApiToken.operator_id == operator.id, ApiToken.revoked_at.is_(None)))
    return sum(1 for row in list(rows) if revoke_token(session, row))


# --------------------------------------------------------------------------- permissions & roles


@dataclass(frozen=True)
class DeclaredPermission:
    plugin: str
    permission: Permission


def collect_permissions(pairs: list[tuple[str, list[Permission]]]) -> dict[str, DeclaredPermission]:
    """Merge the plugins' declarations; the same code declared twice is an error naming both."""
    from coulisses import PluginError

    merged: dict[str, DeclaredPermission] = {}
    for plugin, perms in pairs:
        for perm in perms:
            if perm.code in merged and merged[perm.code].plugin != plugin:
                raise PluginError(plugin, _l("la permission « %(code)s » est déjà déclarée par « %(first)s »",
                                             code=perm.code, first=merged[perm.code].plugin))
            unknown = set(perm.default_roles) - set(DEFAULT_ROLES)
            if unknown:
                raise PluginError(plugin, _l("la permission « %(code)s » nomme des rôles par défaut inconnus : %(roles)s",
                                             code=perm.code, roles=", ".join(sorted(unknown))))
            merged[perm.code] = DeclaredPermission(plugin, perm)
    return merged


def sync_roles_and_permissions(session: Session, declared: dict[str, DeclaredPermission]) -> list[str]:
    """Create the default roles; grant each newly seen permission to its default roles.

    Returns the codes seen for the first time. Permissions the organisation removed from a role
    afterwards stay removed.
    """
    roles = {r.code: r for r in session.scalars(select(Role))}
    before: dict[str, set[str] | None] = {code: role.permission_codes for code, role in roles.items()}
    for code, name in DEFAULT_ROLES.items():
        if code not in roles:
            roles[code] = Role(code=code, name=message_id(name), builtin=True)
            session.add(roles[code])
    session.flush()
    known = set(session.scalars(select(KnownPermission.code)))
    new = []
    for code, decl in sorted(declared.items()):
        if code in known:
            continue
        new.append(code)
        session.add(KnownPermission(code=code, plugin=decl.plugin, label=message_id(decl.permission.label)))
        for role_code in set(decl.permission.default_roles) | {ADMINISTRATOR}:
            role = roles[role_code]
            if code not in role.permission_codes:
                role.permissions.append(RolePermission(permission=code))
    for code, role in roles.items():  # the journal says which permissions a role received by itself
        record_permission_change(session, role, before.get(code))
    session.flush()
    return new
