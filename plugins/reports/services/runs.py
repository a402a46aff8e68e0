"""Running reports: now (small ones) or as a background job (over ``REPORTS_BACKGROUND_ROWS`` rows),
with progress and the file kept when done; favourites (saved parameter sets per operator) and their
scheduled runs sent by e-mail.

    outcome = start(session, "sales.per_day", {"start": "01.11.2015", "end": "30.11.2015"}, "xlsx")
    if outcome.run is not None:      # a background run: follow run_status(session, outcome.run)
        ...
    else:                            # the file now
        outcome.data, outcome.name, outcome.content_type
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses import files as cfiles
from coulisses.db import Actor, acting_as, current_actor, utcnow
from coulisses.i18n import _, current_locale, deployment_timezone, local_time
from coulisses.outbox import Job, Park, enqueue

from plugins.reports.models import SCHEDULES, Favourite, Run
from plugins.reports.params import dump_params, load_params
from plugins.reports.registry import get_registry
from plugins.reports.services import engine

SPOOL_BYTES = 32 * 1024 * 1024


@dataclass
class Started:
    run: Run | None = None
    data: bytes | None = None
    name: str = ""
    content_type: str = ""


def _check_format(fmt: str) -> None:
    if fmt not in engine.FILE_FORMATS:
        raise InvalidError(_("Format inconnu : %(format)s", format=fmt), {"format": _("pdf, csv ou xlsx")})


def start(session: Session, code: str, raw: dict, fmt: str, *, options: dict | None = None,
          can: Callable[[str], bool] | None = None, background: bool | None = None) -> Started:
    """Run ``code`` now, or — over the threshold, or when ``background`` — queue it as a job (the
    caller commits; the job runs after commit). ``ParamsError`` / ``PermissionError`` as ``engine.check``."""
    _check_format(fmt)
    definition, params = engine.check(session, code, raw, can)
    threshold = engine.background_threshold()
    expected = None
    if background is None:
        expected = engine.count_rows(session, definition, params, limit=threshold)
        background = expected > threshold
    if not background:
        data, name, content_type = engine.render_bytes(session, code, raw, fmt, options=options)
        return Started(data=data, name=name, content_type=content_type)
    if expected is None or definition.count is None:
        expected = engine.count_rows(session, definition, params) if definition.count is not None else 0
    actor = current_actor()
    run = Run(report_code=code, params_json=json.dumps(dump_params(params)), format=fmt,
              options_json=json.dumps(options or {}), state="pending", expected_rows=expected or 0,
              locale=current_locale(), operator_id=actor.operator_id, operator_login=actor.login or "")
    session.add(run)
    session.flush()
    job = enqueue(session, "reports.run", {"run": run.id})
    run.job_id = job.id
    session.flush()
    return Started(run=run)


def _mark(bind, run_id: int, **values) -> None:
    with Session(bind) as s:
        run = s.get(Run, run_id)
        for key, value in values.items():
            setattr(run, key, value)
        s.commit()


def run_job(session: Session, job: Job):
    """The outbox job ``reports.run``: render in a reading session of its own (progress recorded on
    the job as rows go by), keep the file, mark the run done; a failure marks the run failed with its
    reason (no automatic retry: the operator sees it and runs it again)."""
    run = session.get(Run, job.payload["run"])
    if run is None:
        raise Park(f"report run {job.payload.get('run')} not found")
    bind = session.get_bind()
    _mark(bind, run.id, state="running")
    try:
        with Session(bind) as reader:
            definition = get_registry().report(run.report_code)
            params = load_params(definition.params, run.params, reader)
            total = run.expected_rows or None
            job.progress(0, total)
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
                outcome = engine.render(reader, definition, params, run.format, out, options=run.options,
                                        progress=lambda n: job.progress(n, total))
                reader.rollback()
                out.seek(0)
                data = out.read()
    except Exception as exc:  # noqa: BLE001 - the reason is shown to the operator
        reason = getattr(exc, "fields", None) and f"{exc}: {exc.fields}" or f"{exc}" or type(exc).__name__
        _mark(bind, run.id, state="failed", error=str(reason)[:2000], finished_at=utcnow())
        raise Park(str(reason)) from exc
    job.progress(outcome.rows, outcome.rows)
    stored = cfiles.store(session, data, engine.file_name(definition, run.format, run.created_at),
                          engine.CONTENT_TYPES[run.format], purpose="report", plugin="reports")
    run = session.get(Run, run.id)
    run.file_id, run.rows, run.state, run.finished_at = stored.id, outcome.rows, "done", utcnow()
    return {"rows": outcome.rows, "file": stored.id}


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFoundError(_("Exécution de rapport %(id)s introuvable", id=run_id))
    return run


def run_status(session: Session, run: Run) -> dict:
    """What the screen and the API show of a run: state, progress, rows, error, file."""
    done, total = run.rows, run.expected_rows
    if run.job_id is not None and run.state in ("pending", "running"):
        job = session.get(Job, run.job_id)
        if job is not None:
            done, total = job.progress_done, job.progress_total or run.expected_rows
            if job.state == "parked" and run.state != "failed":
                return {**_status(run, done, total), "state": "failed",
                        "error": (job.last_error or "").strip().splitlines()[-1:] and
                        (job.last_error or "").strip().splitlines()[-1]}
    return _status(run, done, total)


def _status(run: Run, done: int, total: int) -> dict:
    labels = {"pending": _("En attente"), "running": _("En cours"), "done": _("Prêt"), "failed": _("Échec")}
    percent = int(done * 100 / total) if total else (100 if run.state == "done" else 0)
    return {"id": run.id, "report": run.report_code, "format": run.format, "state": run.state,
            "state_label": labels.get(run.state, run.state), "rows_done": done, "rows_total": total,
            "percent": min(100, percent), "error": run.error or None, "file_id": run.file_id,
            "file_name": run.file.name if run.file is not None else None,
            "created_at": run.created_at.isoformat() if run.created_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


def recent_runs(session: Session, operator_id: int | None, limit: int = 10) -> list[Run]:
    stmt = select(Run).order_by(Run.id.desc()).limit(limit)
    if operator_id is not None:
        stmt = stmt.where(Run.operator_id == operator_id)
    return list(session.scalars(stmt))


# --------------------------------------------------------------------------- favourites and schedules


def next_run(schedule: str, after: datetime) -> datetime | None:
    """The next send of a schedule, at 06:00 local time: the next day (daily), the next Monday
    (weekly), the first of the next month (monthly)."""
    if not schedule:
        return None
    tz = deployment_timezone()
    day = local_time(after).date()
    if schedule == "daily":
        day = day + timedelta(days=1)
    elif schedule == "weekly":
        day = day + timedelta(days=7 - day.weekday())
    elif schedule == "monthly":
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    else:
        raise InvalidError(_("Périodicité inconnue"), {"schedule": _("quotidienne, hebdomadaire ou mensuelle")})
    from datetime import timezone

    return datetime.combine(day, time(6, 0), tzinfo=tz).astimezone(timezone.utc)


def _recipients(text: str) -> list[str]:
    from email_validator import EmailNotValidError, validate_email

    found = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            found.append(validate_email(part, check_deliverability=False).normalized)
        except EmailNotValidError:
            raise InvalidError(_("Destinataires invalides"), {"recipients": _("Adresse invalide : %(address)s",
                                                                              address=part)}) from None
    return found


def save_favourite(session: Session, operator_id: int, code: str, name: str, raw: dict, fmt: str = "pdf", *,
                   schedule: str = "", recipients: str = "", can_schedule: bool = True) -> Favourite:
    """Save (or replace, by name) an operator's parameter set for a report; with a schedule, the report
    is sent by e-mail to ``recipients``."""
    definition = get_registry().report(code)
    load_params(definition.params, raw, session)  # ParamsError names each wrong field
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Donnez un nom au favori.")
    if fmt not in engine.FILE_FORMATS:
        errors["format"] = _("pdf, csv ou xlsx")
    if schedule not in SCHEDULES:
        errors["schedule"] = _("quotidienne, hebdomadaire ou mensuelle")
    addresses = []
    if schedule:
        if not can_schedule:
            errors["schedule"] = _("Vous n'avez pas le droit de programmer des envois.")
        try:
            addresses = _recipients(recipients)
        except InvalidError as exc:
            errors.update(exc.fields)
        else:
            if not addresses:
                errors["recipients"] = _("Au moins une adresse pour un envoi programmé.")
    if errors:
        raise InvalidError(_("Le favori n'est pas valide"), errors)
    fav = session.scalar(select(Favourite).where(Favourite.operator_id == operator_id,
                                                 Favourite.report_code == code, Favourite.name == name))
    if fav is None:
        fav = Favourite(operator_id=operator_id, report_code=code, name=name)
        session.add(fav)
    fav.params_json = json.dumps({k: v for k, v in raw.items() if k in definition.params().fields and v not in ("", None)})
    fav.format, fav.schedule, fav.recipients = fmt, schedule, ", ".join(addresses)
    fav.next_run_at = next_run(schedule, utcnow())
    session.flush()
    return fav


def favourites_of(session: Session, operator_id: int, code: str | None = None) -> list[Favourite]:
    stmt = select(Favourite).where(Favourite.operator_id == operator_id).order_by(Favourite.report_code, Favourite.name)
    if code is not None:
        stmt = stmt.where(Favourite.report_code == code)
    return list(session.scalars(stmt))


def delete_favourite(session: Session, operator_id: int, favourite_id: int) -> None:
    fav = session.get(Favourite, favourite_id)
    if fav is None or fav.operator_id != operator_id:
        raise NotFoundError(_("Favori introuvable"))
    session.delete(fav)
    session.flush()


def enqueue_due_favourites(session: Session) -> int:
    """The periodic task ``reports.scheduled``: a job for each scheduled favourite whose time has
    come (once per due time, even if two task runners meet), and its next time."""
    from coulisses.security import Operator

    now = utcnow()
    count = 0
    due = session.scalars(select(Favourite).where(Favourite.schedule != "", Favourite.next_run_at <= now)
                          .order_by(Favourite.id))
    for fav in list(due):
        operator = session.get(Operator, fav.operator_id)
        if operator is None or not operator.active:
            continue
        with acting_as(Actor(operator.id, operator.login)):
            enqueue(session, "reports.scheduled", {"favourite": fav.id, "due": fav.next_run_at.isoformat()},
                    dedupe_key=f"reports.scheduled:{fav.id}:{fav.next_run_at.isoformat()}")
        fav.last_run_at = now
        fav.next_run_at = next_run(fav.schedule, now)
        count += 1
    session.flush()
    return count


def scheduled_job(session: Session, job: Job):
    """The outbox job ``reports.scheduled``: run the favourite's report and e-mail it (the file is
    kept as a run of the favourite)."""
    from plugins.reports.services.delivery import send_mail

    fav = session.get(Favourite, job.payload["favourite"])
    if fav is None:
        raise Park("favourite deleted")
    definition = get_registry().report(fav.report_code)
    with Session(session.get_bind()) as reader:
        params = load_params(definition.params, fav.params, reader)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
            outcome = engine.render(reader, definition, params, fav.format, out)
            reader.rollback()
            out.seek(0)
            data = out.read()
    name = engine.file_name(definition, fav.format)
    title = str(definition.title)
    send_mail(_recipients(fav.recipients), _("%(title)s — %(name)s", title=title, name=fav.name),
              _("Veuillez trouver ci-joint le rapport « %(title)s » (%(rows)s lignes).", title=title,
                rows=outcome.rows), [(name, data, engine.CONTENT_TYPES[fav.format])])
    stored = cfiles.store(session, data, name, engine.CONTENT_TYPES[fav.format], purpose="report", plugin="reports")
    run = Run(report_code=fav.report_code, params_json=fav.params_json, format=fav.format, state="done",
              rows=outcome.rows, expected_rows=outcome.rows, file_id=stored.id, favourite_id=fav.id,
              job_id=job.id, locale=current_locale(), operator_id=fav.operator_id,
              operator_login=current_actor().login or "", finished_at=utcnow())
    session.add(run)
    return {"rows": outcome.rows, "sent_to": fav.recipients}


__all__ = ["start", "run_job", "run_status", "get_run", "save_favourite", "favourites_of", "delete_favourite",
           "enqueue_due_favourites", "scheduled_job", "next_run", "ConflictError"]
