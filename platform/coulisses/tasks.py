"""Periodic tasks declared by plugins (``coulisses_periodic_tasks``), run by ``coulisses tasks run``.

The host has no scheduler of its own: run ``coulisses tasks run --due`` from cron or a systemd timer
every hour; each task records when it last ran and runs again when its schedule says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy.orm import Session

from coulisses.db import get_setting, set_setting, utcnow

SCHEDULES = {"hourly": timedelta(hours=1), "nightly": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class Task:
    name: str
    schedule: str
    func: Callable[[Session], object]
    description: str = ""

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise ValueError(f"task {self.name}: schedule must be one of {sorted(SCHEDULES)}")


def last_run(session: Session, task: Task) -> datetime | None:
    value = get_setting(session, f"task.{task.name}.last_run")
    return datetime.fromisoformat(value) if value else None


def is_due(session: Session, task: Task, now: datetime | None = None) -> bool:
    previous = last_run(session, task)
    return previous is None or (now or utcnow()) - previous >= SCHEDULES[task.schedule] - timedelta(minutes=5)


def run(session: Session, task: Task) -> object:
    """Run ``task`` in its own transaction and record when it ran."""
    result = task.func(session)
    set_setting(session, f"task.{task.name}.last_run", utcnow().isoformat())
    session.commit()
    return result
