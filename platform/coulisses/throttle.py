"""Login throttling, kept in the database so that every worker and host shares it.

Each failed attempt is counted twice: for the login typed and for the client's address (API tokens:
for the address only), in a window of ``lock_minutes`` from the first failure. After ``free``
failures, the next attempt must wait (1 s, 2 s, 4 s… up to ``max_delay_seconds``): an attempt made
before the wait is over is refused, without checking the password, and counts as a failure. After
``lock`` failures, attempts are refused for ``lock_minutes``. A success resets the login's counter
(not the address's: one valid account must not unlock guessing the others).

The same service serves the operators' login (scope ``"operator"``), the REST API's bearer tokens
(``"api"``) and the customers' portal (``"portal"``)::

    refusal = throttle.before_attempt(session, "portal", login=email, address=ip)
    if refusal is None:
        account = check_password(...)
        refusal = throttle.failed(session, "portal", login=email, address=ip) if account is None else None
        if account is not None:
            throttle.succeeded(session, "portal", login=email)
    session.commit()   # failures must be kept even though the attempt fails

Failures and lock-outs are written to the log (logger ``coulisses.security``), one line each, with
the address, so that fail2ban can act::

    Coulisses login failure for 'marie' from 203.0.113.5 (scope operator)
    Coulisses lock-out of login 'marie' from 203.0.113.5 for 900 seconds (scope operator)
"""
from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses.db import Base, UTCDateTime, lock_rows, utcnow
from coulisses.security_events import SCOPES, record_event

log = logging.getLogger("coulisses.security")

KEY_LENGTH = 200


@dataclass(frozen=True)
class Policy:
    """The thresholds (``COULISSES_LOGIN_*`` settings, see the operator's guide)."""

    free_failures: int = 3            # failures of one login before attempts are slowed down
    lock_failures: int = 10           # failures of one login before it is locked
    address_free_failures: int = 10   # the same for one client address (several people share one)
    address_lock_failures: int = 30
    lock_minutes: int = 15            # how long a lock lasts; also the window failures are counted in
    max_delay_seconds: int = 30       # the longest wait between two attempts before the lock

    SETTINGS = {
        "LOGIN_FREE_FAILURES": "free_failures",
        "LOGIN_LOCK_FAILURES": "lock_failures",
        "LOGIN_ADDRESS_FREE_FAILURES": "address_free_failures",
        "LOGIN_ADDRESS_LOCK_FAILURES": "address_lock_failures",
        "LOGIN_LOCK_MINUTES": "lock_minutes",
        "LOGIN_MAX_DELAY_SECONDS": "max_delay_seconds",
    }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Policy":
        values = {attr: int(config[key]) for key, attr in cls.SETTINGS.items() if config.get(key) not in (None, "")}
        return cls(**values)

    def thresholds(self, subject: str) -> tuple[int, int]:
        if subject == "address":
            return self.address_free_failures, self.address_lock_failures
        return self.free_failures, self.lock_failures

    def delay(self, failures: int, free: int) -> int:
        """Seconds to wait after the ``failures``-th failure (0 while within the free ones)."""
        if failures <= free:
            return 0
        return min(2 ** min(failures - free - 1, 30), self.max_delay_seconds)


def current_policy() -> Policy:
    from coulisses.config import current_config

    return Policy.from_config(current_config())


@dataclass(frozen=True)
class Refusal:
    """An attempt refused: wait ``retry_after`` seconds; ``locked`` tells a lock from a delay."""

    retry_after: int
    locked: bool
    subject: str  # "login" or "address"

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class LoginThrottle(Base):
    """The failures of one login or one address in one scope, in the current window."""

    __tablename__ = "core_login_throttle"
    __table_args__ = (UniqueConstraint("scope", "subject", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(10))  # "login" or "address"
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)


def _login_key(login: str | None) -> str | None:
    if login is None:
        return None
    return (login or "").strip().lower()[:KEY_LENGTH]


def _subjects(login: str | None, address: str | None) -> list[tuple[str, str]]:
    out = []
    if login is not None:
        out.append(("login", _login_key(login)))
    if address:
        out.append(("address", address[:KEY_LENGTH]))
    return out


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise ValueError(f"unknown throttle scope {scope!r}; known: {', '.join(SCOPES)}")


def _safe(text: str | None) -> str:
    """A login as it goes to the log: quoted, one line (``<token>`` for an API token)."""
    if text is None:
        return "<token>"
    return repr("".join(ch if ch.isprintable() else "?" for ch in text))


def _where(scope: str, subject: str, key: str):
    return (LoginThrottle.scope == scope, LoginThrottle.subject == subject, LoginThrottle.key == key)


def _refusal(row: LoginThrottle, now: datetime) -> Refusal | None:
    if row.blocked_until is None or row.blocked_until <= now:
        return None
    return Refusal(max(1, math.ceil((row.blocked_until - now).total_seconds())), row.locked, row.subject)


def _strongest(refusals: list[Refusal | None]) -> Refusal | None:
    found = [r for r in refusals if r is not None]
    if not found:
        return None
    return max(found, key=lambda r: (r.locked, r.retry_after))


def refusal(session: Session, scope: str, *, login: str | None = None, address: str | None = None) -> Refusal | None:
    """The refusal in force for this login or address, if any (reads only)."""
    _check_scope(scope)
    now = utcnow()
    found = []
    for subject, key in _subjects(login, address):
        # every API request asks: a Core statement built once, the columns ``_refusal`` reads
        row = session.execute(_refusal_statement(), {"scope": scope, "subject": subject, "key": key}).first()
        if row is not None:
            found.append(_refusal(row, now))
    return _strongest(found)


@functools.cache
def _refusal_statement():
    table = LoginThrottle.__table__.c
    return select(table.blocked_until, table.locked, table.subject).where(
        table.scope == bindparam("scope"), table.subject == bindparam("subject"), table.key == bindparam("key"))


def _locked_row(session: Session, scope: str, subject: str, key: str, now: datetime) -> LoginThrottle:
    """The counter row, created if needed, locked until the end of the transaction."""
    # populate_existing: the row read a moment ago may have been changed by another worker since
    stmt = select(LoginThrottle).where(*_where(scope, subject, key)).execution_options(populate_existing=True)
    row = lock_rows(session, stmt).scalar_one_or_none()
    if row is None:  # created once, whichever worker comes first
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(LoginThrottle).values(scope=scope, subject=subject, key=key, failures=0,
                                                     window_start=now, locked=False).on_conflict_do_nothing())
        row = lock_rows(session, stmt).scalar_one()
    return row


def _count(session: Session, row: LoginThrottle, scope: str, login: str | None, address: str | None,
           policy: Policy, now: datetime) -> Refusal | None:
    """Count one failure on ``row``; returns the refusal now in force."""
    window = timedelta(minutes=policy.lock_minutes)
    if now - row.window_start >= window or (row.locked and row.blocked_until is not None and row.blocked_until <= now):
        row.failures, row.window_start, row.blocked_until, row.locked = 0, now, None, False
    row.failures += 1
    free, lock = policy.thresholds(row.subject)
    if row.failures >= lock:
        if not row.locked:
            row.locked = True
            row.blocked_until = now + window
            seconds = int(window.total_seconds())
            log.warning("Coulisses lock-out of %s %s from %s for %d seconds (scope %s)", row.subject,
                        _safe(row.key), address or "-", seconds, scope)
            record_event(session, "locked_out", login=login if row.subject == "login" else None, scope=scope,
                         address=address, detail=f"{row.subject} {row.failures} {seconds}s")
    else:
        delay = policy.delay(row.failures, free)
        current = row.blocked_until if row.blocked_until is not None and row.blocked_until > now else None
        if delay and current is None:  # a wait already running is not made longer
            row.blocked_until = now + timedelta(seconds=delay)
    return _refusal(row, now)


def before_attempt(session: Session, scope: str, *, login: str | None = None, address: str | None = None,
                   policy: Policy | None = None) -> Refusal | None:
    """Call before checking a password or a token. Returns the refusal in force, else None.

    An attempt made while a wait runs counts as a failure (so that a robot reaches the lock); an
    attempt during a lock is only logged (it neither lengthens the lock nor writes to the database).
    """
    found = refusal(session, scope, login=login, address=address)
    if found is None:
        return None
    policy = policy or current_policy()
    now = utcnow()
    if found.locked:
        log.warning("Coulisses login refused (locked) for %s from %s (scope %s)", _safe(login), address or "-", scope)
        return found
    log.warning("Coulisses login failure for %s from %s (scope %s, too early)", _safe(login), address or "-", scope)
    record_event(session, "token_refused" if scope == "api" else "login_failed", login=login, scope=scope,
                 address=address, detail="early")
    results = [_count(session, _locked_row(session, scope, subject, key, now), scope, login, address, policy, now)
               for subject, key in _subjects(login, address)]
    return _strongest(results) or found


def failed(session: Session, scope: str, *, login: str | None = None, address: str | None = None,
           policy: Policy | None = None, operator=None) -> Refusal | None:
    """Count a failed attempt (wrong password, unknown login, invalid token); returns the refusal
    now in force for the next attempt (a wait or a lock), else None. Logs it and records the event."""
    _check_scope(scope)
    policy = policy or current_policy()
    now = utcnow()
    log.warning("Coulisses login failure for %s from %s (scope %s)", _safe(login), address or "-", scope)
    record_event(session, "token_refused" if scope == "api" else "login_failed", operator=operator, login=login,
                 scope=scope, address=address)
    results = [_count(session, _locked_row(session, scope, subject, key, now), scope, login, address, policy, now)
               for subject, key in _subjects(login, address)]
    return _strongest(results)


def succeeded(session: Session, scope: str, *, login: str) -> None:
    """A successful login: its counter starts again from zero (the address's does not)."""
    _check_scope(scope)
    session.execute(delete(LoginThrottle).where(*_where(scope, "login", _login_key(login))))


def unlock(session: Session, login: str, scope: str = "operator") -> int:
    """Lift the waits and the lock of ``login`` (an administrator's decision); returns the rows removed."""
    _check_scope(scope)
    result = session.execute(delete(LoginThrottle).where(*_where(scope, "login", _login_key(login))))
    return result.rowcount or 0
