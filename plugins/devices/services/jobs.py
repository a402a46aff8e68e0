"""Device jobs: what is asked of a device, recorded in the business transaction, run after commit —
by the workstation's agent (``via="agent"``) or by the server's worker (``via="server"``, network
devices) — and completed once.

The rules:
- ``submit`` records a pending job; nothing talks to a device inside the caller's transaction.
- A job is **leased** before it runs (``lease_id``, expiry): an atomic ``UPDATE … WHERE state =
  'pending'``, so two agents or workers never take the same job; one device runs one job at a time.
- Its outcome is accepted once, for its lease (``complete``); a repeated report with the same lease
  is answered with the recorded outcome (idempotent); a report for another lease is refused.
- A transient failure (port missing or busy, timeout, cut line) is retried automatically with backoff
  up to ``max_attempts``; paper out, cover open, a protocol error: the job fails and waits for an
  operator (``retry``). A payment whose outcome is unknown is **never** retried: an operator
  ``resolve``s it after reading the terminal's journal.
- A lease that expires without a report (the agent died mid-job) is not run again: the job fails
  (a payment becomes unknown) — an operator checks the device and retries.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.config import current_config
from coulisses.db import current_actor, utcnow
from plugins.devices import errors as derrors
from plugins.devices.i18n import _
from plugins.devices.models import FINISHED_STATES, Device, DeviceJob
from plugins.devices.registry import get_registry
from plugins.devices.services import waiting

PAYMENT_OPERATIONS = ("pay", "refund")
TRANSIENT = ("port_unavailable", "device_busy", "timeout", "disconnected")
LEASE_EXPIRED = "lease_expired"
BACKOFF_BASE, BACKOFF_MAX = 5, 300  # seconds


def _config(key: str, default):
    try:
        return current_config().get(key, default)
    except Exception:  # noqa: BLE001 - no configuration installed (a plain script)
        return default


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s… (``DEVICES_RETRY_DELAY_SECONDS`` is the first delay) up to 5 minutes."""
    base = float(_config("DEVICES_RETRY_DELAY_SECONDS", BACKOFF_BASE))
    return timedelta(seconds=min(BACKOFF_MAX, base * 2 ** max(0, attempts - 1)))


# --------------------------------------------------------------------------- submitting


def submit(session: Session, device: Device, operation: str, payload: dict | None = None, *,
           reference: str = "") -> DeviceJob:
    """Record a job for ``device`` in the caller's transaction. Network devices are handed to the
    server's worker after commit (``dispatch``); workstation devices wait for their agent."""
    if not device.active:
        raise ConflictError(_("Le périphérique %(name)s est désactivé.", name=device.name))
    driver = get_registry().driver(device.driver)
    if operation not in driver.operations() or operation == "listen":
        raise InvalidError(_("Opération impossible pour ce périphérique"), {"operation": operation})
    max_attempts = 1 if operation in PAYMENT_OPERATIONS else int(_config("DEVICES_MAX_ATTEMPTS", 5))
    job = DeviceJob(device=device, device_id=device.id, location_code=device.location_code, via=device.via,
                    operation=operation, payload=dict(payload or {}), reference=reference[:120], state="pending",
                    attempts=0, max_attempts=max_attempts, available_at=utcnow(),
                    created_by_id=current_actor().operator_id)
    session.add(job)
    session.flush()
    if device.via == "server":
        dispatch(session, job)
    waiting.signal_after_commit(session)  # wake the agents waiting for jobs
    return job


def dispatch(session: Session, job: DeviceJob) -> None:
    """Hand a network device's job to the server's worker: an outbox job (``devices.print``) in the
    caller's transaction, run after commit (``services.runner.outbox_handler``)."""
    from coulisses import outbox

    outbox.enqueue(session, OUTBOX_JOB_TYPE, {"device_job_id": job.id})


OUTBOX_JOB_TYPE = "devices.print"


# --------------------------------------------------------------------------- leasing


def _lease_one(session: Session, job: DeviceJob, holder: str, now: datetime) -> str | None:
    lease_id = uuid.uuid4().hex
    seconds = int(_config("DEVICES_LEASE_SECONDS", 120))
    done = session.execute(
        update(DeviceJob).where(DeviceJob.id == job.id, DeviceJob.state == "pending")
        .values(state="leased", lease_id=lease_id, lease_expires_at=now + timedelta(seconds=seconds),
                leased_by=holder[:80], attempts=DeviceJob.attempts + 1)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return None
    session.refresh(job)
    return lease_id


def lease_jobs(session: Session, location_code: str, holder: str, *, limit: int = 5) -> list[DeviceJob]:
    """Lease the due jobs of a place of work's workstation devices: at most one per device, the
    oldest first, none for a device that already has one running."""
    now = utcnow()
    expire_leases(session, now)
    busy = select(DeviceJob.device_id).where(DeviceJob.state == "leased")
    candidates = session.scalars(
        select(DeviceJob).where(DeviceJob.location_code == location_code, DeviceJob.via == "agent",
                                DeviceJob.state == "pending", DeviceJob.available_at <= now,
                                DeviceJob.device_id.not_in(busy))
        .order_by(DeviceJob.id)).all()
    leased, devices = [], set()
    for job in candidates:
        if job.device_id in devices or len(leased) >= limit:
            continue
        if _lease_one(session, job, holder, now):
            leased.append(job)
            devices.add(job.device_id)
    return leased


def expire_leases(session: Session, now: datetime | None = None) -> int:
    """Jobs whose lease ran out without a report: failed (an unknown payment), never run again."""
    now = now or utcnow()
    expired = session.scalars(select(DeviceJob).where(DeviceJob.state == "leased",
                                                      DeviceJob.lease_expires_at < now)).all()
    for job in expired:
        payment = job.operation in PAYMENT_OPERATIONS
        _finish(session, job, "unknown" if payment else "failed", error_code=LEASE_EXPIRED,
                error_message=_("Le poste n'a pas rendu compte de ce travail à temps : vérifier le périphérique, "
                                "puis relancer."), retryable=not payment)
    return len(expired)


# --------------------------------------------------------------------------- completing


def _finish(session: Session, job: DeviceJob, state: str, *, result=None, error_code="", error_message="",
            retryable=True) -> None:
    job.state = state
    job.result = result
    job.error_code = error_code
    job.error_message = error_message
    job.retryable = retryable
    job.finished_at = utcnow()
    session.flush()
    get_registry().hook("devices_job_finished", session=session, job=job)


def complete(session: Session, job_id: int, lease_id: str, *, ok: bool, result: dict | None = None,
             error_code: str = "", error_message: str = "", partial: dict | None = None) -> DeviceJob:
    """Record a leased job's outcome, once. Returns the job (its state tells what was recorded)."""
    job = session.get(DeviceJob, job_id)
    if job is None:
        raise NotFoundError(_("Travail %(id)s introuvable", id=job_id))
    if job.lease_id != lease_id:
        raise ConflictError(_("Ce bail n'est plus valable pour le travail %(id)s.", id=job_id))
    late = job.state in ("failed", "unknown") and job.error_code == LEASE_EXPIRED
    if job.state != "leased" and not late:
        return job  # the same report again: the recorded outcome stands
    if ok:
        _finish(session, job, "done", result=result or {})
        return job
    error = derrors.from_code(error_code, error_message)
    message = error_message or error.message
    if isinstance(error, derrors.PaymentUnknown):
        _finish(session, job, "unknown", result=partial, error_code=error.code, error_message=message, retryable=False)
    elif error.code in TRANSIENT and job.attempts < job.max_attempts:
        job.state = "pending"  # retried automatically, later
        job.available_at = utcnow() + backoff(job.attempts)
        job.error_code, job.error_message, job.result = error.code, message, partial
        job.lease_id = None
        session.flush()
    else:
        _finish(session, job, "failed", result=partial, error_code=error.code, error_message=message,
                retryable=error.retryable)
    return job


def retry(session: Session, job_id: int) -> DeviceJob:
    """An operator runs a failed job again (after fixing the paper, the cable…)."""
    job = session.get(DeviceJob, job_id)
    if job is None:
        raise NotFoundError(_("Travail %(id)s introuvable", id=job_id))
    if job.state != "failed" or not job.retryable:
        raise ConflictError(_("Seul un travail en échec peut être relancé (celui-ci est « %(state)s »).",
                              state=job.state))
    job.state, job.lease_id, job.available_at, job.finished_at = "pending", None, utcnow(), None
    job.attempts = 0
    session.flush()
    if job.via == "server":
        dispatch(session, job)
    waiting.signal_after_commit(session)  # wake the agents waiting for jobs
    return job


def cancel(session: Session, job_id: int) -> DeviceJob:
    job = session.get(DeviceJob, job_id)
    if job is None:
        raise NotFoundError(_("Travail %(id)s introuvable", id=job_id))
    if job.state not in ("pending", "failed"):
        raise ConflictError(_("Un travail « %(state)s » ne peut pas être annulé.", state=job.state))
    job.state, job.finished_at = "cancelled", utcnow()
    session.flush()
    return job


def resolve(session: Session, job_id: int, outcome: str) -> DeviceJob:
    """An operator states the outcome of a payment the terminal did not report (``accepted`` or
    ``declined``), after reading the terminal's journal. The job is then done or failed; never re-run."""
    job = session.get(DeviceJob, job_id)
    if job is None:
        raise NotFoundError(_("Travail %(id)s introuvable", id=job_id))
    if job.state != "unknown":
        raise ConflictError(_("Seul un paiement à l'issue inconnue se résout à la main."))
    if outcome not in ("accepted", "declined"):
        raise InvalidError(_("Issue invalide"), {"outcome": "accepted, declined"})
    job.resolution = outcome
    job.resolved_by_id = current_actor().operator_id
    if outcome == "accepted":
        _finish(session, job, "done", result={"accepted": True, "amount": job.payload.get("amount"),
                                              "resolved_by_operator": True})
    else:
        _finish(session, job, "failed", error_code="payment_declined", error_message=job.error_message,
                retryable=False)
    return job


def jobs_at(session: Session, location_code: str | None = None, *, states: tuple[str, ...] | None = None,
            limit: int = 100) -> list[DeviceJob]:
    stmt = select(DeviceJob)
    if location_code:
        stmt = stmt.where(DeviceJob.location_code == location_code)
    if states:
        stmt = stmt.where(DeviceJob.state.in_(states))
    return list(session.scalars(stmt.order_by(DeviceJob.id.desc()).limit(limit)))


def unfinished(session: Session, location_code: str) -> list[DeviceJob]:
    """What the till shows: failed jobs to retry, unknown payments to resolve, jobs still waiting."""
    return jobs_at(session, location_code, states=("pending", "leased", "failed", "unknown"))


TILL_OPERATIONS = ("print_ticket", "print_receipt", "open_drawer")  # what a till retries by hand


@dataclass
class TillJobs:
    """The notice of a till (``till_jobs``): ``failed`` print and drawer jobs an operator retries,
    ``unknown`` payments to resolve elsewhere (never retried), ``waiting``: how many are still to run."""
    failed: list[DeviceJob] = field(default_factory=list)
    unknown: list[DeviceJob] = field(default_factory=list)
    waiting: int = 0

    def __bool__(self) -> bool:
        return bool(self.failed or self.unknown or self.waiting)


def till_jobs(session: Session, location_code: str, limit: int = 10) -> TillJobs:
    """What the sales screen and the cancellation basket show of their point of sale's jobs (from
    ``unfinished``): the newest ``limit`` failed print and drawer jobs that can be retried, the
    payments of unknown outcome, the count of print and drawer jobs still waiting."""
    notice = TillJobs()
    for job in unfinished(session, location_code):
        if job.operation in PAYMENT_OPERATIONS:
            if job.state == "unknown":
                notice.unknown.append(job)
        elif job.operation in TILL_OPERATIONS:
            if job.state == "failed" and job.retryable:
                if len(notice.failed) < limit:
                    notice.failed.append(job)
            elif job.state in ("pending", "leased"):
                notice.waiting += 1
    return notice


# --------------------------------------------------------------------------- device lock (server)


def lock_device(session: Session, device_id: int, holder: str, seconds: int) -> bool:
    """Take the cross-process lock of a device the server drives (an atomic UPDATE); False if held."""
    now = utcnow()
    done = session.execute(
        update(Device).where(Device.id == device_id,
                             or_(Device.locked_by.is_(None), Device.locked_until < now))
        .values(locked_by=holder[:40], locked_until=now + timedelta(seconds=seconds))
        .execution_options(synchronize_session=False))
    return done.rowcount == 1


def unlock_device(session: Session, device_id: int, holder: str) -> None:
    session.execute(update(Device).where(and_(Device.id == device_id, Device.locked_by == holder[:40]))
                    .values(locked_by=None, locked_until=None).execution_options(synchronize_session=False))


__all__ = ["submit", "dispatch", "lease_jobs", "expire_leases", "complete", "retry", "cancel", "resolve",
           "jobs_at", "unfinished", "lock_device", "unlock_device", "FINISHED_STATES"]
