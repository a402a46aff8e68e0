"""The data layer every plugin builds on.

- ``Base``: the declarative base, with a naming convention and each table tagged with the plugin
  that declares it (``__table__.info["plugin"]``, ``"core"`` for the host);
- ``Money``: ``Decimal`` in Python, integer minor units in the database; floats refused;
- ``UTCDateTime``: aware UTC datetimes on both SQLite and PostgreSQL;
- ``AuditMixin``: created/updated at and by, filled from the current actor;
- ``lock_rows`` / ``begin_write``: row locking that really locks on PostgreSQL (``FOR UPDATE``) and
  SQLite (the database write lock, taken before the first read of the transaction), waiting at most
  the lock timeout (``LOCK_TIMEOUT``, 5 s) before ``coulisses.BusyError``;
- ``next_number``: gapless sequences for the numbers people read.
"""
from __future__ import annotations

import contextlib
import contextvars
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Callable, Mapping

from babel.numbers import get_currency_precision
from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    bindparam,
    MetaData,
    String,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def plugin_of_module(module_name: str) -> str:
    """The plugin a module belongs to: the nearest package above it that has a ``MANIFEST``.

    The host's own modules belong to ``"core"``.
    """
    if module_name == "coulisses" or module_name.startswith("coulisses."):
        return "core"
    parts = module_name.split(".")
    for i in range(len(parts), 0, -1):
        mod = sys.modules.get(".".join(parts[:i]))
        manifest = getattr(mod, "MANIFEST", None)
        if manifest is not None:
            return manifest.name
    # Not inside a plugin package (a test's throwaway model): tag with its top package.
    return parts[1] if parts[0] == "plugins" and len(parts) > 1 else parts[0]


class Base(DeclarativeBase):
    metadata = metadata

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        table = cls.__dict__.get("__table__")
        if table is not None and "plugin" not in table.info:
            table.info["plugin"] = getattr(cls, "__plugin__", None) or plugin_of_module(cls.__module__)


# The host's models live in several modules; the host's schema is only whole once they are imported.
CORE_MODEL_MODULES = ("coulisses.security", "coulisses.security_events", "coulisses.throttle", "coulisses.plugins",
                      "coulisses.web.rest", "coulisses.outbox", "coulisses.tasks", "coulisses.files",
                      "coulisses.webhooks", "coulisses.processes")


def load_core_models() -> None:
    """Import every module that declares host tables, so that ``metadata`` holds the whole schema."""
    import importlib

    for name in CORE_MODEL_MODULES:
        importlib.import_module(name)


def tables_of(plugins: set[str] | list[str]) -> list:
    """The tables declared by the given plugins (``"core"`` for the host), in dependency order."""
    load_core_models()
    wanted = set(plugins)
    return [t for t in metadata.sorted_tables if t.info.get("plugin") in wanted]


# --------------------------------------------------------------------------- time


_clock: contextvars.ContextVar[Callable[[], datetime] | None] = contextvars.ContextVar("coulisses_clock", default=None)


def utcnow() -> datetime:
    """Now, in UTC — or what the ``clock`` installed for the current context says."""
    source = _clock.get()
    return source() if source is not None else datetime.now(timezone.utc)


def current_clock() -> Callable[[], datetime] | None:
    """The ``clock`` installed for the current context (None: the real time); a clock installed
    inside another falls back to it rather than to the real time."""
    return _clock.get()


@contextlib.contextmanager
def clock(source: Callable[[], datetime]):
    """Within the block, ``utcnow()`` (and so every default timestamp) answers ``source()``.

    For demo data dated in the past and for tests; only the current context (thread) sees it.
    """
    token = _clock.set(source)
    try:
        yield source
    finally:
        _clock.reset(token)


class UTCDateTime(TypeDecorator):
    """Aware datetimes, stored in UTC (naive UTC on SQLite, timestamptz on PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("UTCDateTime refuses a naive datetime: give it a time zone")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# --------------------------------------------------------------------------- money

CURRENCY = "EUR"


def currency_exponent(currency: str | None = None) -> int:
    return get_currency_precision(currency or CURRENCY)


def to_money(value: Any, currency: str | None = None) -> Decimal:
    """Parse an amount exactly: ``Decimal``, ``int`` or a decimal string; floats refused.

    More decimal places than the currency has is an error, never a silent rounding.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("money must be a Decimal, an int or a decimal string, never a float")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
    elif not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, got {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"not an amount: {value}")
    exp = currency_exponent(currency)
    quantum = Decimal(1).scaleb(-exp)
    q = value.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if q != value:
        raise ValueError(f"{value} has more than {exp} decimal places")
    return q


def parse_money(text: str | None, currency: str | None = None) -> Decimal | None:
    """An amount as people type it — ``"1 500,50"``, ``"1500.50"``, ``"1 500,50 €"`` — exactly;
    empty → None. Raises ``ValueError`` (not an amount, or more decimals than the currency has)."""
    raw = (text or "").strip()
    for char in (" ", "\u00a0", "\u202f", "€", "$", "£"):
        raw = raw.replace(char, "")
    if not raw:
        return None
    if "," in raw and "." in raw:
        raise ValueError(f"not an amount: {text!r} (write 1500,50 or 1500.50)")
    if not all(c.isdigit() or c in ",.-+" for c in raw):
        raise ValueError(f"not an amount: {text!r}")
    return to_money(raw.replace(",", "."), currency)


class Money(TypeDecorator):
    """A money amount: ``Decimal`` in Python, integer minor units (cents) in the database."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        amount = to_money(value)
        return int(amount.scaleb(currency_exponent()))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        exp = currency_exponent()
        return Decimal(int(value)).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))

    def coerce_compared_value(self, op, value):
        return self


# --------------------------------------------------------------------------- actor & audit


@dataclass(frozen=True)
class Actor:
    """Who acts: the operator (id and login), and ``context``: what plugins add about where and how
    they act (e.g. the place of work a plugin resolves its operations against)."""

    operator_id: int | None = None
    login: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.context.get(key, default)

    def with_context(self, **values: Any) -> "Actor":
        """The same operator with ``values`` added to (or replacing) the context."""
        return replace(self, context={**self.context, **values})


_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("coulisses_actor", default=Actor())


def current_actor() -> Actor:
    return _actor.get()


@contextlib.contextmanager
def acting_as(actor: Actor):
    """Run a block as ``actor`` (CLI commands, tests, background tasks)."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def set_actor(actor: Actor) -> contextvars.Token:
    return _actor.set(actor)


class AuditMixin:
    """Created/updated at and by, set automatically at flush from the current actor."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(Integer, ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(Integer, ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)


@event.listens_for(Session, "before_flush")
def _fill_audit(session: Session, flush_context, instances) -> None:
    actor = current_actor()
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, AuditMixin):
            obj.created_at = obj.created_at or now
            obj.updated_at = now
            if obj.created_by_id is None:
                obj.created_by_id = actor.operator_id
            if obj.updated_by_id is None:
                obj.updated_by_id = actor.operator_id
    for obj in session.dirty:
        if isinstance(obj, AuditMixin) and session.is_modified(obj, include_collections=False):
            obj.updated_at = now
            obj.updated_by_id = actor.operator_id


# --------------------------------------------------------------------------- engines


DEFAULT_LOCK_TIMEOUT = 5.0  # seconds; COULISSES_LOCK_TIMEOUT
# What this process is (``web``, ``worker``, ``cli``): named in its PostgreSQL connections' application_name
PROCESS_KIND = ["cli"]


def lock_timeout_setting(value: Any = None) -> float:
    """How long (seconds) a statement waits for a lock held by another transaction before giving up
    with ``BusyError``: ``value``, else the configuration's ``LOCK_TIMEOUT``, else
    ``COULISSES_LOCK_TIMEOUT``, else 5."""
    import os

    from coulisses.i18n import _l

    if value is None:
        from coulisses.config import current_config

        value = current_config().get("LOCK_TIMEOUT") or os.environ.get("COULISSES_LOCK_TIMEOUT") or DEFAULT_LOCK_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(_l("LOCK_TIMEOUT doit être un nombre de secondes, pas %(value)r", value=value)) from None
    if not 0 < seconds <= 600:
        raise ValueError(_l("LOCK_TIMEOUT doit être compris entre 0 et 600 secondes, pas %(value)r", value=value))
    return seconds


def make_engine(url: str, *, lock_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine configured the Coulisses way (SQLite: WAL, foreign keys; both: a bounded lock wait)."""
    engine = create_engine(url, **kwargs)
    configure_engine(engine, lock_timeout=lock_timeout)
    return engine


def configure_engine(engine: Engine, *, lock_timeout: float | None = None) -> None:
    """SQLite: foreign keys, WAL, a busy timeout; PostgreSQL: a ``lock_timeout``. Both: a lock not
    obtained in ``lock_timeout`` seconds (or a deadlock) raises ``coulisses.BusyError`` ("try again"),
    never an endless wait."""
    if getattr(engine, "_coulisses_configured", False):
        return
    engine._coulisses_configured = True
    milliseconds = int(lock_timeout_setting(lock_timeout) * 1000)
    event.listen(engine, "handle_error", _busy_error)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "do_connect")
        def _application_name(dialect, conn_rec, cargs, cparams):
            # ``coulisses/0.1.0 web``: `db upgrade` sees the processes of another version (pg_stat_activity)
            if "application_name" not in cparams:
                from coulisses.processes import application_name

                cparams["application_name"] = application_name(PROCESS_KIND[0])

        @event.listens_for(engine, "connect")
        def _postgresql_settings(dbapi_conn, record):
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET lock_timeout = {milliseconds}")
            dbapi_conn.commit()  # a session setting, kept for the connection's life

        return
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, record):
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={milliseconds}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


# PostgreSQL: lock_not_available (lock_timeout), deadlock_detected; SQLite: the busy timeout ran out.
_BUSY_SQLSTATES = {"55P03", "40P01"}
_BUSY_SQLITE = ("database is locked", "database table is locked")


def _busy_error(context) -> None:
    """``handle_error`` listener: a lock that was not obtained becomes ``coulisses.BusyError``."""
    from coulisses import BusyError

    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if sqlstate in _BUSY_SQLSTATES or (type(original).__name__ == "OperationalError"
                                       and str(original).startswith(_BUSY_SQLITE)):
        raise BusyError() from original


# --------------------------------------------------------------------------- locking


class _WriteLock(Base):
    """One row that SQLite transactions write to in order to take the database write lock."""

    __tablename__ = "core_write_lock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def begin_write(session: Session) -> None:
    """Make the session's transaction a write transaction now, before it reads anything.

    On SQLite this takes the database write lock (waiting for it at most the lock timeout, then
    ``coulisses.BusyError``), so the reads that follow see the latest committed data and nobody
    else can write until commit. On
    PostgreSQL it does nothing: use ``lock_rows`` to lock the rows the operation depends on.
    Call it first thing in a money operation.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    transaction = session.get_transaction()
    if transaction is not None and session.info.get(_WRITE_TX) is transaction:
        return  # this transaction holds the write lock already
    session._autoflush()  # as the ORM statement this was: what is pending is written first
    session.execute(_TAKE_WRITE_LOCK)
    session.info[_WRITE_TX] = session.get_transaction()


_WRITE_TX = "coulisses_write_transaction"
# built once, on the table (a plain statement: no ORM bulk-update machinery, a cache key computed once)
_TAKE_WRITE_LOCK = update(_WriteLock.__table__).where(_WriteLock.__table__.c.id == 0).values(id=0)


@event.listens_for(Session, "after_transaction_end")
def _forget_write_lock(session: Session, transaction) -> None:
    if session.info.get(_WRITE_TX) is transaction:
        del session.info[_WRITE_TX]


def lock_rows(session: Session, stmt):
    """Execute ``stmt`` (a ``select``) with the rows it reads locked until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite: the database write lock (``begin_write``) is taken
    first. Either waits at most the lock timeout for another transaction's lock (``configure_engine``),
    then raises ``coulisses.BusyError``. Returns the ``Result``.
    """
    if session.get_bind().dialect.name == "sqlite":
        begin_write(session)
        return session.execute(stmt)
    return session.execute(stmt.with_for_update())


# --------------------------------------------------------------------------- gapless numbering


class Sequence(Base):
    """Gapless counters for user-visible numbers (contact, order, operation, invoice…)."""

    __tablename__ = "core_sequence"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, nullable=False)


def ensure_row(session: Session, model, values: dict) -> None:
    """Insert the row ``values`` of ``model`` unless its primary key exists (concurrency-safe)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def ensure_sequence(session: Session, name: str, start: int = 1) -> None:
    """Create the counter ``name`` if it does not exist (starting at ``start``)."""
    if session.execute(select(Sequence.name).where(Sequence.name == name)).scalar() is None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(Sequence).values(name=name, next_value=start).on_conflict_do_nothing())


def next_number(session: Session, name: str, start: int = 1) -> int:
    """Take the next number of counter ``name``, gapless and never reused.

    The counter row stays locked until the caller's transaction ends: if it rolls back, the number
    is given back; if it commits, nobody else can have it.
    """
    return take_numbers(session, name, 1, start)


def take_numbers(session: Session, name: str, count: int, start: int = 1) -> int:
    """Take ``count`` consecutive numbers of counter ``name`` (locked until the transaction ends, as
    ``next_number``); returns the first."""
    begin_write(session)
    session._autoflush()  # as the ORM statement this was: what is pending is written (and locked) before the counter
    params = {"counter": name, "count": count}
    value = session.execute(_TAKE_NUMBERS, params).scalar()
    if value is None:
        ensure_sequence(session, name, start)
        value = session.execute(_TAKE_NUMBERS, params).scalar()
    return int(value) - count


_sequences = Sequence.__table__
_TAKE_NUMBERS = (update(_sequences).where(_sequences.c.name == bindparam("counter"))
                 .values(next_value=_sequences.c.next_value + bindparam("count"))
                 .returning(_sequences.c.next_value))


def peek_number(session: Session, name: str) -> int | None:
    """The number the counter will give next (for display only)."""
    return session.execute(select(Sequence.next_value).where(Sequence.name == name)).scalar()


def set_sequence_floor(session: Session, name: str, floor: int) -> None:
    """Make sure the counter will not give a number below ``floor`` (after importing numbered data)."""
    ensure_sequence(session, name, floor)
    session.execute(
        update(Sequence).where(Sequence.name == name, Sequence.next_value < floor).values(next_value=floor)
    )


def ping(session: Session) -> bool:
    session.execute(text("SELECT 1"))
    return True


# --------------------------------------------------------------------------- settings


class Setting(Base):
    """Small key/value facts about the deployment (``demo.loaded``…)."""

    __tablename__ = "core_setting"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000), default="")


def get_setting(session: Session, key: str, default: str | None = None) -> str | None:
    row = session.get(Setting, key)
    return row.value if row is not None else default


def set_setting(session: Session, key: str, value: str) -> None:
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
