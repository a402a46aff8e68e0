"""The transactional outbox: work that talks to the outside (printing, e-mail, bank files, long
reports, webhooks) runs *after* the business transaction commits, never inside it, and is not lost
when it fails.

A plugin declares its job types through the ``coulisses_job_types`` hook and enqueues a job inside
the business transaction::

    from coulisses.outbox import JobType, enqueue

    @hookimpl
    def coulisses_job_types():
        return [JobType("patrons.thank_you", send_thank_you, _l("Lettre de remerciement"))]

    def pledge(session, ...):
        ...
        enqueue(session, "patrons.thank_you", {"pledge": pledge.id})   # same transaction

    def send_thank_you(session, job):            # runs after commit, in its own transaction
        pledge = session.get(Patronage, job.payload["pledge"])
        ...                                       # raise to retry; raise Park("…") to give up now

The job row is written in the business transaction: a rollback takes it away, a commit makes it
visible. After the commit the web process runs it at once (a thread; inline in tests), and
``coulisses worker`` runs whatever is left (the web process stopped, a retry is due). A job is
claimed by one runner only (an atomic state change; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), runs
in its own transaction with the locale and operator of whoever enqueued it, and its database
writes commit together with its "done" state. A failure is retried with exponential backoff, then
*parked* after ``max_attempts``: visible with its error in Administration → Tâches de fond, where an
administrator retries or cancels it. A job that must not be retried automatically (a payment whose
outcome is unknown) raises ``Park``.

No well-kept library serves both SQLite and PostgreSQL inside the caller's own SQLAlchemy
transaction (Celery, RQ and Dramatiq need a broker and enqueue outside the transaction; procrastinate
is PostgreSQL-only), so this is the outbox pattern, small and documented.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses import BusyError, CoulissesError, PluginError
from coulisses import db as cdb
from coulisses.db import Actor, Base, UTCDateTime, acting_as, begin_write, current_actor, utcnow
from coulisses.i18n import _l
from coulisses.registry import RegistrySlot, collect, must_return, must_start

log = logging.getLogger("coulisses.outbox")

PENDING, RUNNING, DONE, PARKED, CANCELLED = "pending", "running", "done", "parked", "cancelled"
STATES = (PENDING, RUNNING, DONE, PARKED, CANCELLED)
_NEW = "coulisses_outbox_new"


class Park(CoulissesError):
    """Raised by a handler: stop now, do not retry; the job is parked with this reason for a person
    to look at (retry by hand, or settle it another way)."""


class Job(Base):
    """One piece of work to run after commit."""

    __tablename__ = "core_job"
    __table_args__ = (Index("ix_core_job_state_run_after", "state", "run_after"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(120), index=True)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    worker: Mapped[str] = mapped_column(String(120), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    result_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    locale: Mapped[str] = mapped_column(String(10), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                      nullable=True)
    created_by_login: Mapped[str] = mapped_column(String(80), default="")
    actor_context: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def payload(self) -> dict:
        return json.loads(self.payload_json or "{}")

    @property
    def result(self) -> Any:
        return json.loads(self.result_json) if self.result_json else None

    def progress(self, done: int, total: int | None = None) -> None:
        """Record how far the job is, for the screens that follow it (its own short transaction;
        call it before the job writes anything on SQLite). Never fails the job."""
        set_progress(self, done, total)

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"


@dataclass(frozen=True)
class JobType:
    """A kind of job (``coulisses_job_types``). ``handler(session, job)`` returns a JSON-able result
    (kept on the job) or None; ``retry_delay`` is the first retry's delay, doubled each time up to
    ``max_retry_delay``; ``lease`` is how long a runner may take before the job is taken back."""

    code: str
    handler: Callable[[Session, Job], Any]
    label: Any = ""
    max_attempts: int = 5
    retry_delay: timedelta = timedelta(seconds=30)
    max_retry_delay: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=10)

    def delay_after(self, attempts: int) -> timedelta:
        delay = self.retry_delay * (2 ** max(0, attempts - 1))
        return min(delay, self.max_retry_delay)


# --------------------------------------------------------------------------- the registry


def _check(plugin: str, item) -> None:
    if not isinstance(item, JobType):
        raise PluginError(plugin, must_return("coulisses_job_types", "JobType", item))
    prefix = "core." if plugin == "core" else f"{plugin}."
    if not item.code.startswith(prefix):
        raise PluginError(plugin, must_start(_l("type de tâche"), item.code, prefix))


def _build(pm) -> dict[str, JobType]:
    return dict(collect(pm, "coulisses_job_types", what=_l("type de tâche"), validate=_check))


_slot = RegistrySlot("outbox", _build, fallback=[])
use_job_types = _slot.use


def job_types() -> dict[str, JobType]:
    """The job types of the running app, command or worker (``code → JobType``)."""
    return _slot.get()


# --------------------------------------------------------------------------- enqueueing


def enqueue(session: Session, kind: str, payload: dict | None = None, *, delay: timedelta | None = None,
            dedupe_key: str | None = None, max_attempts: int | None = None) -> Job:
    """Add a job to ``session``'s transaction; it runs after commit (never if the transaction rolls
    back). ``dedupe_key``: a second job with the same key is not added (the first one is returned).
    The job runs with the current locale and operator."""
    from coulisses.i18n import current_locale

    types = job_types()
    job_type = types.get(kind)
    if job_type is None:
        raise CoulissesError(_l("type de tâche inconnu « %(kind)s » (déclarez-le avec coulisses_job_types)", kind=kind))
    if dedupe_key is not None:
        existing = session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    actor = current_actor()
    job = Job(kind=kind, payload_json=json.dumps(payload or {}, default=str), state=PENDING,
              max_attempts=max_attempts or job_type.max_attempts, run_after=utcnow() + (delay or timedelta(0)),
              dedupe_key=dedupe_key, locale=current_locale(), created_by_id=actor.operator_id,
              created_by_login=actor.login or "", actor_context=json.dumps(dict(actor.context), default=str))
    session.add(job)
    session.flush()
    if not delay:
        session.info.setdefault(_NEW, []).append(job.id)
    return job


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    ids = session.info.pop(_NEW, None)
    if not ids:
        return
    mode = run_mode()
    if mode == "off":
        return
    engine = session.get_bind()
    if mode == "inline":
        for job_id in ids:
            run_job(engine, job_id)
        return
    # The thread runs with the plugin manager and configuration of the app that enqueued the jobs (its
    # job types, its plugins' settings), not with the request's objects.
    from coulisses.config import current_config
    from coulisses.registry import current_manager

    pm, config = current_manager(), dict(current_config())
    for job_id in ids:
        _executor().submit(_run_in_thread, pm, config, engine, job_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_NEW, None)


def run_mode() -> str:
    """How the process runs its own jobs after commit: ``thread`` (the web app), ``inline`` (tests,
    commands), ``off`` (leave them all to ``coulisses worker``). ``COULISSES_OUTBOX_RUN``."""
    from coulisses.config import current_config

    mode = current_config().get("OUTBOX_RUN") or os.environ.get("COULISSES_OUTBOX_RUN") or "off"
    return mode if mode in ("thread", "inline", "off") else "off"


_pool: list[ThreadPoolExecutor | None] = [None]
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    with _pool_lock:
        if _pool[0] is None:
            _pool[0] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="coulisses-outbox")
        return _pool[0]


def _run_in_thread(pm, config, engine: Engine, job_id: int) -> None:
    from coulisses.config import use_config
    from coulisses.registry import use_manager

    with use_manager(pm), use_config(config):
        _run_quietly(engine, job_id)


def _run_quietly(engine: Engine, job_id: int) -> None:
    try:
        run_job(engine, job_id)
    except Exception:  # noqa: BLE001 - the worker will find it again
        log.exception("outbox: job %s could not be run after commit; the worker will", job_id)


# --------------------------------------------------------------------------- running


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _claim(session: Session, job_id: int, worker: str, types: dict[str, JobType]) -> bool:
    """Atomically take a pending, due job; True when this runner has it."""
    job = session.get(Job, job_id)
    if job is None:
        return False
    job_type = types.get(job.kind)
    lease = job_type.lease if job_type else timedelta(minutes=10)
    now = utcnow()
    taken = session.execute(
        update(Job).where(Job.id == job_id, Job.state == PENDING, Job.run_after <= now)
        .values(state=RUNNING, attempts=Job.attempts + 1, worker=worker[:120], lease_until=now + lease,
                started_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return taken == 1


def run_job(engine: Engine, job_id: int, worker: str | None = None) -> str | None:
    """Run job ``job_id`` if it is pending and due and nobody else has it; returns its new state
    (None when it was not taken)."""
    worker = worker or worker_name()
    types = job_types()
    with Session(engine) as session:
        if session.get_bind().dialect.name == "sqlite":
            begin_write(session)
        if not _claim(session, job_id, worker, types):
            return None
    return _execute(engine, job_id, types)


def _execute(engine: Engine, job_id: int, types: dict[str, JobType]) -> str:
    from coulisses.i18n import use_locale

    with Session(engine) as session:
        job = session.get(Job, job_id)
        job_type = types.get(job.kind)
        actor = Actor(job.created_by_id, job.created_by_login or None, json.loads(job.actor_context or "{}"))
        try:
            if job_type is None:
                raise Park(f"unknown job type '{job.kind}': its plugin is not enabled in this process")
            with acting_as(actor), use_locale(job.locale or None):
                result = job_type.handler(session, job)
            session.flush()
            job.state, job.finished_at, job.lease_until = DONE, utcnow(), None
            job.result_json = json.dumps(result, default=str) if result is not None else None
            session.commit()
            return DONE
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the job
            session.rollback()
            return _record_failure(session, job_id, exc, job_type)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (Park, CoulissesError)):
        return f"{type(exc).__name__}: {exc}"
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(lines)[-4000:]


def _record_failure(session: Session, job_id: int, exc: BaseException, job_type: JobType | None) -> str:
    job = session.get(Job, job_id)
    job.last_error = _describe(exc)
    job.lease_until = None
    if isinstance(exc, Park) or job.attempts >= job.max_attempts or job_type is None:
        job.state, job.finished_at = PARKED, utcnow()
        log.error("outbox: job %s (%s) parked after %s attempt(s): %s", job.id, job.kind, job.attempts, exc)
    else:
        job.state = PENDING
        job.run_after = utcnow() + job_type.delay_after(job.attempts)
        log.warning("outbox: job %s (%s) failed (attempt %s of %s), retried at %s: %s", job.id, job.kind,
                    job.attempts, job.max_attempts, job.run_after.isoformat(), exc)
    session.commit()
    return job.state


def _next_due(session: Session) -> int | None:
    stmt = (select(Job.id).where(Job.state == PENDING, Job.run_after <= utcnow())
            .order_by(Job.run_after, Job.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    else:
        begin_write(session)
    return session.scalar(stmt)


def claim_next(engine: Engine, worker: str, types: dict[str, JobType] | None = None) -> int | None:
    """Take the next due job for ``worker`` (several workers never take the same one)."""
    types = types if types is not None else job_types()
    with Session(engine) as session:
        job_id = _next_due(session)
        if job_id is None:
            session.rollback()
            return None
        job = session.get(Job, job_id)
        job_type = types.get(job.kind)
        now = utcnow()
        job.state, job.attempts, job.worker = RUNNING, job.attempts + 1, worker[:120]
        job.lease_until = now + (job_type.lease if job_type else timedelta(minutes=10))
        job.started_at = now
        session.commit()
        return job_id


def run_pending(engine: Engine, *, limit: int | None = None, worker: str | None = None) -> int:
    """Run the due jobs one after another until none is left (or ``limit``); returns how many ran."""
    worker = worker or worker_name()
    types = job_types()
    requeue_stale(engine)
    count = 0
    while limit is None or count < limit:
        job_id = claim_next(engine, worker, types)
        if job_id is None:
            break
        _execute(engine, job_id, types)
        count += 1
    return count


def requeue_stale(engine: Engine) -> int:
    """Jobs whose runner stopped (lease expired) go back to pending, or are parked when they have
    used their attempts."""
    with Session(engine) as session:
        if session.get_bind().dialect.name == "sqlite":
            begin_write(session)
        now = utcnow()
        stale = list(session.scalars(select(Job).where(Job.state == RUNNING, Job.lease_until < now)))
        for job in stale:
            job.lease_until = None
            job.last_error = (job.last_error + "\n" if job.last_error else "") + \
                f"the runner {job.worker} stopped before finishing (lease expired)"
            if job.attempts >= job.max_attempts:
                job.state, job.finished_at = PARKED, now
            else:
                job.state, job.run_after = PENDING, now
        session.commit()
        return len(stale)


def set_progress(job: Job, done: int, total: int | None = None) -> None:
    session = Session.object_session(job)
    engine = session.get_bind() if session is not None else None
    job.progress_done = done
    if total is not None:
        job.progress_total = total
    if engine is None:
        return
    values = {"progress_done": done}
    if total is not None:
        values["progress_total"] = total
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=200")
            try:
                conn.execute(update(Job).where(Job.id == job.id).values(**values))
                conn.commit()
            finally:
                if sqlite:  # the pooled connection gets the deployment's lock timeout back
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(cdb.lock_timeout_setting() * 1000)}")
    except (OperationalError, BusyError):  # the job's own transaction holds the lock: not worth waiting for
        log.debug("outbox: progress of job %s not recorded (database busy)", job.id)


# --------------------------------------------------------------------------- by hand (screen, CLI)


def retry(session: Session, job: Job) -> Job:
    """Put a parked (or cancelled) job back in the queue for one more round of attempts."""
    if job.state not in (PARKED, CANCELLED, PENDING):
        raise CoulissesError(_l("la tâche %(id)s est dans l'état « %(state)s » : seule une tâche en attente de reprise ou "
                                 "annulée peut être relancée", id=job.id, state=job.state))
    job_type = job_types().get(job.kind)
    job.state, job.run_after, job.lease_until = PENDING, utcnow(), None
    job.max_attempts = job.attempts + (job_type.max_attempts if job_type else 1)
    job.finished_at = None
    session.flush()
    session.info.setdefault(_NEW, []).append(job.id)
    return job


def cancel(session: Session, job: Job) -> Job:
    if job.state not in (PENDING, PARKED):
        raise CoulissesError(_l("la tâche %(id)s est dans l'état « %(state)s » : seule une tâche à faire ou en attente de "
                                 "reprise peut être annulée", id=job.id, state=job.state))
    job.state, job.finished_at = CANCELLED, utcnow()
    session.flush()
    return job


def counts(session: Session) -> dict[str, int]:
    """How many jobs are in each state (metrics, doctor)."""
    from sqlalchemy import func

    rows = session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {state: 0 for state in STATES} | {state: n for state, n in rows}
