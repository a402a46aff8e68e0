"""Which Coulisses processes are running, and which version of Coulisses they run.

Each ``coulisses worker`` records a heartbeat in ``core_process`` (its name, host, pid, the
Coulisses version it runs, when it started, when it was last seen) every ``HEARTBEAT_SECONDS`` and
removes its row when it stops cleanly. From it:

- the metrics give each worker's heartbeat age (``coulisses_worker_heartbeat_age_seconds``);
- ``coulisses doctor`` says whether a worker ran recently;
- ``coulisses db upgrade`` refuses to migrate while a worker of another version is alive (an old
  worker would run the new schema with old code).

On PostgreSQL every connection also carries its process in ``application_name``
(``coulisses/0.1.0 web``), so ``db upgrade`` sees the web workers of another version too
(``pg_stat_activity``).
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import coulisses
from coulisses.db import Base, UTCDateTime, utcnow

HEARTBEAT_SECONDS = 15
# a worker not seen for this long is considered stopped (killed without removing its row)
ALIVE = timedelta(seconds=HEARTBEAT_SECONDS * 4)


class Process(Base):
    """A running Coulisses process (a worker), as it last said."""

    __tablename__ = "core_process"
    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="worker")
    host: Mapped[str] = mapped_column(String(120), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def process_name(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}"[:160]


def beat(session: Session, name: str, kind: str = "worker", version: str | None = None) -> None:
    """Record that process ``name`` is alive now (creates its row the first time). Commits."""
    row = session.get(Process, name)
    now = utcnow()
    if row is None:
        row = Process(name=name, kind=kind, host=socket.gethostname()[:120], pid=os.getpid(),
                      version=version or coulisses.__version__, started_at=now, seen_at=now)
        session.add(row)
    else:
        row.seen_at = now
        row.version = version or coulisses.__version__
    session.commit()


def forget(session: Session, name: str) -> None:
    """The process stops: remove its row. Commits."""
    session.execute(delete(Process).where(Process.name == name))
    session.commit()


def alive(session: Session, kind: str | None = None, now: datetime | None = None) -> list[Process]:
    """The processes seen within ``ALIVE``."""
    stmt = select(Process).where(Process.seen_at >= (now or utcnow()) - ALIVE).order_by(Process.name)
    if kind is not None:
        stmt = stmt.where(Process.kind == kind)
    return list(session.scalars(stmt))


def every(session: Session) -> list[Process]:
    return list(session.scalars(select(Process).order_by(Process.name)))


def application_name(kind: str) -> str:
    """The PostgreSQL ``application_name`` of this process's connections."""
    return f"coulisses/{coulisses.__version__} {kind}"


def other_versions_connected(session: Session) -> list[tuple[str, str, str]]:
    """PostgreSQL: ``(application_name, client address, backend start)`` of the connections to this
    database of a Coulisses process running another version (empty on SQLite)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(text(
        "SELECT application_name, coalesce(host(client_addr), 'local'), backend_start::text "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND application_name LIKE 'coulisses/%' AND application_name NOT LIKE :mine "
        "ORDER BY backend_start"), {"mine": f"coulisses/{coulisses.__version__} %"}).all()
    return [(name, address, start) for name, address, start in rows]
