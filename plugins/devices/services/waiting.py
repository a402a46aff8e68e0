"""Long polling: the one way a client of the devices plugin waits for something to happen at a place
of work — the workstation's agent waiting for jobs, an open sales or cancellation-basket screen waiting
for scans.

A waiting request re-reads the database (``check``) when something was committed in this process
(jobs, scans: ``signal_after_commit``) or, at the latest, every ``REPOLL_SECONDS`` — what other
processes (several gunicorn workers, hosts, the worker) committed is seen that way, on SQLite and on
PostgreSQL alike. No transaction is held while waiting, nothing spins, and a request never waits longer
than ``DEVICES_LONG_POLL_SECONDS``: the client asks again.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")

REPOLL_SECONDS = 1.0  # a waiting request re-reads the database this often (commits of other processes)

_changes = threading.Condition()
_generation = [0]


def _signal(_session=None) -> None:
    with _changes:
        _generation[0] += 1
        _changes.notify_all()


def signal_after_commit(session: Session) -> None:
    """Wake this process's waiting requests once ``session``'s transaction is committed."""
    event.listen(session, "after_commit", _signal, once=True)


def generation() -> int:
    return _generation[0]


def wait_for_change(seen: int, timeout: float) -> int:
    """Wait until something is committed in this process (a generation other than ``seen``), or
    ``timeout``; returns the generation now."""
    with _changes:
        _changes.wait_for(lambda: _generation[0] != seen, timeout)
        return _generation[0]


def long_poll(session: Session, check: Callable[[], T], wait: float, *, limit: float) -> T:
    """``check()`` now, then again after each commit of this process or every ``REPOLL_SECONDS``, until
    it returns something true or ``min(wait, limit)`` seconds have passed; returns its last answer.
    The session's transaction is ended (committed) before each wait, so no lock and no snapshot is held
    while waiting and the next ``check`` sees what other processes committed."""
    deadline = time.monotonic() + max(0.0, min(float(wait), float(limit)))
    while True:
        seen = generation()
        found = check()
        remaining = deadline - time.monotonic()
        if found or remaining <= 0:
            return found
        session.commit()
        wait_for_change(seen, min(remaining, REPOLL_SECONDS))
