"""Periodic tasks declared by plugins (``coulisses_periodic_tasks``), run by ``coulisses tasks run``.

The host has no scheduler of its own: run ``coulisses tasks run --due`` from cron or a systemd timer
every hour (docs/operator-guide.md); each task records when it last ran and runs again when its
schedule says so.

- Two runs never run the same task at once (two cron lines, two hosts): a task is *claimed* in
  ``core_task_lock`` for the time it may take; a second run skips it and says so.
- One task failing is reported (its error kept with its state) and the others still run.
- Two tasks with the same name refuse the start, naming both plugins (the host's registry helper).
"""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses.db import Base, UTCDateTime, begin_write, get_setting, set_setting, utcnow
from coulisses.i18n import gettext as _
from coulisses.i18n import lazy_gettext as _l
from coulisses.registry import RegistrySlot, collect

log = logging.getLogger("coulisses.tasks")

SCHEDULES = {"hourly": timedelta(hours=1), "nightly": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Task:
    name: str
    schedule: str
    func: Callable[[Session], object] = field(compare=False)
    description: str = ""
    max_duration: timedelta = timedelta(hours=1)  # after that, another run may take it again

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"task {self.name}: schedule must be one of {sorted(SCHEDULES)}")


class TaskLock(Base):
    """Who runs a task now (``locked_until``), and how its last run ended."""

    __tablename__ = "core_task_lock"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_by: Mapped[str] = mapped_column(String(120), default="")
    last_status: Mapped[str] = mapped_column(String(20), default="")  # ok | failed
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def _build(pm) -> dict[str, Task]:
    return dict(collect(pm, "coulisses_periodic_tasks", what=_l("tâche périodique"), key=lambda t: t.name,
                        allow_same=False))


_slot = RegistrySlot("tasks", _build, fallback=[])


def tasks_of(pm) -> dict[str, Task]:
    """The tasks of a plugin manager (``name → Task``); a name declared twice is refused."""
    return _slot.for_manager(pm)


def last_run(session: Session, task: Task) -> datetime | None:
    value = get_setting(session, f"task.{task.name}.last_run")
    return datetime.fromisoformat(value) if value else None


def is_due(session: Session, task: Task, now: datetime | None = None) -> bool:
    previous = last_run(session, task)
    return previous is None or (now or utcnow()) - previous >= SCHEDULES[task.schedule] - timedelta(minutes=5)


def claim(session: Session, task: Task, runner: str) -> bool:
    """Take the task for ``runner`` until its ``max_duration`` has passed; False when another run
    holds it. Commits."""
    from coulisses.db import ensure_row

    if session.get_bind().dialect.name == "sqlite":
        begin_write(session)
    ensure_row(session, TaskLock, {"name": task.name})
    now = utcnow()
    taken = session.execute(
        update(TaskLock).where(TaskLock.name == task.name,
                               (TaskLock.locked_until.is_(None)) | (TaskLock.locked_until < now))
        .values(locked_until=now + task.max_duration, locked_by=runner[:120])
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return taken == 1


def release(session: Session, task: Task, *, status: str, error: str = "", duration_ms: int = 0) -> None:
    session.execute(update(TaskLock).where(TaskLock.name == task.name).values(
        locked_until=None, last_status=status, last_error=error[-4000:], last_duration_ms=duration_ms,
        last_finished_at=utcnow()).execution_options(synchronize_session=False))
    session.commit()


@dataclass
class Outcome:
    task: str
    status: str  # ok | failed | skipped
    result: object = None
    error: str = ""


def run(session: Session, task: Task, runner: str = "cli") -> Outcome:
    """Run ``task`` in its own transaction, under its lock, and record when it ran. A failure is
    recorded and returned, not raised."""
    if not claim(session, task, runner):
        holder = session.get(TaskLock, task.name)
        return Outcome(task.name, "skipped", error=_("déjà en cours (%(holder)s)",
                                                              holder=holder.locked_by if holder else "?"))
    started = utcnow()
    try:
        result = task.func(session)
        set_setting(session, f"task.{task.name}.last_run", utcnow().isoformat())
        session.commit()
    except Exception as exc:  # noqa: BLE001 - one task's failure must not stop the others
        session.rollback()
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        log.error("periodic task %s failed: %s", task.name, exc)
        release(session, task, status="failed", error=error,
                duration_ms=int((utcnow() - started).total_seconds() * 1000))
        return Outcome(task.name, "failed", error=f"{type(exc).__name__}: {exc}")
    release(session, task, status="ok", duration_ms=int((utcnow() - started).total_seconds() * 1000))
    return Outcome(task.name, "ok", result)


def states(session: Session) -> dict[str, TaskLock]:
    return {row.name: row for row in session.scalars(select(TaskLock))}
