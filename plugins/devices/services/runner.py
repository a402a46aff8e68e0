"""Running the jobs of network devices on the server: the host's outbox runs ``outbox_handler`` for
each ``devices.print`` job after the business transaction committed.

``run_server_job(bind, job_id)`` takes the device's lock (shared by every worker process and host),
leases the device job, **commits**, drives the device outside any transaction, then records the
outcome in a new transaction. The outbox retries a transient failure with its backoff, and parks at
once a payment whose outcome is unknown.
"""
from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses.db import utcnow
from plugins.devices.drivers.base import run as run_driver
from plugins.devices.errors import DeviceBusy, DeviceError, PaymentUnknown
from plugins.devices.models import Device, DeviceJob
from plugins.devices.registry import get_registry
from plugins.devices.services import jobs as jobs_service


def run_server_job(bind, job_id: int) -> tuple[str, DeviceError | None]:
    """Run one pending job of a network device; returns its state afterwards and the error if any.
    A job that is not pending (already run, cancelled) is left as it is: it never runs twice."""
    holder = uuid.uuid4().hex
    with Session(bind) as session:
        job = session.get(DeviceJob, job_id)
        if job is None or job.via != "server":
            return "missing", None
        if job.state != "pending":
            return job.state, None
        seconds = int(jobs_service._config("DEVICES_LEASE_SECONDS", 120))
        if not jobs_service.lock_device(session, job.device_id, holder, seconds):
            session.commit()
            return "pending", DeviceBusy(job.device.name)
        lease_id = jobs_service._lease_one(session, job, f"server:{holder}", utcnow())
        if lease_id is None:
            jobs_service.unlock_device(session, job.device_id, holder)
            session.commit()
            return job.state, None
        device = job.device
        target = (device.driver, device.url, dict(device.settings or {}), job.operation, dict(job.payload or {}))
        device_id = device.id
        session.commit()
    outcome: dict = {"ok": True}
    error: DeviceError | None = None
    try:
        driver = get_registry().driver(target[0])
        outcome["result"] = run_driver(driver, target[1], target[2], target[3], target[4], lock_wait=0.5)
    except DeviceError as exc:
        error = exc
        outcome = {"ok": False, "error_code": exc.code, "error_message": exc.message, "partial": exc.partial}
    except InvalidError as exc:
        error = DeviceError(f"{exc}: {exc.fields}")
        outcome = {"ok": False, "error_code": "protocol_error", "error_message": error.message}
    with Session(bind) as session:
        job = jobs_service.complete(session, job_id, lease_id, **outcome)
        device = session.get(Device, device_id)
        device.last_error = "" if error is None else error.message
        if error is None and isinstance(outcome.get("result"), dict) and job.operation in ("status", "probe", "test"):
            device.last_status, device.last_status_at = outcome["result"], utcnow()
        jobs_service.unlock_device(session, device_id, holder)
        state = job.state
        session.commit()
    return state, error


def outbox_handler(session, outbox_job) -> dict:
    """The host outbox's handler of ``devices.print``: raises to be retried (a transient failure: the
    device job is pending again), parks at once a payment whose outcome is unknown, returns the
    outcome when the device job is finished (done, or failed until an operator retries it)."""
    from coulisses.outbox import Park

    job_id = int(outbox_job.payload["device_job_id"])
    state, error = run_server_job(session.get_bind(), job_id)
    if state == "unknown":
        raise Park(str(error or PaymentUnknown()))
    if state == "pending":
        raise error or DeviceBusy()
    return {"device_job": job_id, "state": state, "error": error.message if error else ""}


def job_types() -> list:
    from datetime import timedelta

    from coulisses.outbox import JobType
    from plugins.devices.i18n import _l
    from plugins.devices.services.jobs import OUTBOX_JOB_TYPE

    return [JobType(OUTBOX_JOB_TYPE, outbox_handler, _l("Travaux du matériel de caisse (réseau)"), max_attempts=5,
                    retry_delay=timedelta(seconds=5), max_retry_delay=timedelta(minutes=5))]
