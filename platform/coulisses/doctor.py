"""``coulisses doctor``: is this deployment healthy? One line per check, each ``ok``, ``warning`` or
``error`` with what to do; the command exits 1 when a check is an error.

Checks: the configuration (the secret key among it), the database reachable and migrated, the
enabled plugins loading and their models matching the schema, the worker and the periodic tasks
having run recently, the jobs waiting or parked, the disk space for an SQLite database and its
instance folder, the time zone, the language.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable

from sqlalchemy import func, inspect, select, text

from coulisses.db import utcnow
from coulisses.i18n import gettext as _

OK, WARNING, ERROR = "ok", "warning", "error"
MIN_FREE_BYTES = 1 << 30  # 1 GiB
WORKER_SILENT = timedelta(minutes=10)
JOB_LATE = timedelta(minutes=10)


@dataclass
class Check:
    name: str
    status: str
    message: str


def _add(found: list[Check], name: str, status: str, message: str) -> None:
    found.append(Check(name, status, message))


def run(config: dict, engine, infos: dict, enabled: Callable, load: Callable) -> list[Check]:
    """Every check. ``enabled(session)`` gives the enabled plugins, ``load(order)`` loads them as the
    start would (raises the start's error) and returns the periodic tasks."""
    from coulisses.config import check_configuration

    found: list[Check] = []
    _rows, problems = check_configuration()
    if problems:
        _add(found, _("configuration"), ERROR, " ; ".join(problems))
    else:
        _add(found, _("configuration"), OK, _("réglages acceptés, clé secrète solide") if config["ENV"] == "production"
             else _("réglages acceptés (COULISSES_ENV=%(env)s : clé secrète non vérifiée)", env=config["ENV"]))
    _environment(found, config)
    from sqlalchemy.orm import Session

    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        _add(found, _("base de données"), ERROR, _("injoignable : %(error)s", error=str(exc).splitlines()[0]))
        return found
    _add(found, _("base de données"), OK, _("joignable (%(kind)s)", kind=engine.dialect.name))
    _disk(found, config, engine)
    with Session(engine) as session:
        try:
            order = enabled(session)
            tasks = load(order)
        except Exception as exc:  # noqa: BLE001 - the start's one-line message
            _add(found, _("plugins"), ERROR, str(exc))
            return found
        _add(found, _("plugins"), OK, _("les plugins activés se chargent : %(plugins)s",
                                        plugins=", ".join(order) or "-"))
        if not _schema(found, session, infos, order):
            return found
        _worker(found, session)
        _tasks(found, session, tasks)
    return found


def _environment(found: list[Check], config: dict) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from coulisses.i18n import LANGUAGES

    try:
        ZoneInfo(config["TIMEZONE"])
        _add(found, _("fuseau horaire"), OK, config["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        _add(found, _("fuseau horaire"), ERROR, _("%(zone)s n'est pas un fuseau horaire connu (ex. Europe/Paris)",
                                                   zone=config["TIMEZONE"]))
    if config["LOCALE"] in LANGUAGES:
        _add(found, _("langue"), OK, config["LOCALE"])
    else:
        _add(found, _("langue"), ERROR, _("%(locale)s : langues possibles %(languages)s",
                                          locale=config["LOCALE"], languages=", ".join(LANGUAGES)))


def _disk(found: list[Check], config: dict, engine) -> None:
    folders = [Path(config["INSTANCE_PATH"])]
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:":
        folders.insert(0, Path(database).resolve().parent)
    for folder in dict.fromkeys(folders):
        if not folder.exists():
            continue
        free = shutil.disk_usage(folder).free
        size = Path(database).stat().st_size if database and Path(database).exists() else 0
        needed = max(MIN_FREE_BYTES, 2 * size)  # a backup or a migration may need a copy of the database
        shown = _("%(free)s Mo libres dans %(folder)s", free=free >> 20, folder=str(folder))
        _add(found, _("espace disque"), OK if free >= needed else WARNING,
             shown if free >= needed else shown + " " + _("(moins de %(needed)s Mo : libérez de la place)",
                                                          needed=needed >> 20))


def _schema(found: list[Check], session, infos: dict, order: list[str]) -> bool:
    from coulisses import migrations, schema_check
    from coulisses.upgrade import unknown_revisions

    connection = session.connection()
    if not inspect(connection).has_table(migrations.VERSION_TABLE):
        _add(found, _("migrations"), ERROR, _("base vide : lancez `coulisses db upgrade`"))
        return False
    unknown = unknown_revisions(connection, infos)
    if unknown:
        _add(found, _("migrations"), ERROR, _("révisions inconnues de cette version : %(revisions)s (base migrée "
                                              "par une version plus récente ?)", revisions=", ".join(unknown)))
        return False
    behind = migrations.pending_branches(connection, infos, order)
    if behind:
        _add(found, _("migrations"), ERROR, _("en retard : %(branches)s ; lancez `coulisses db upgrade`",
                                              branches=", ".join(behind)))
        return False
    problems = schema_check.schema_report(connection, infos, order)
    if problems:
        _add(found, _("migrations"), ERROR, "; ".join(f"{p}: {i}" for p, items in problems.items() for i in items))
        return False
    _add(found, _("migrations"), OK, _("schéma à jour et conforme aux modèles"))
    return True


def _worker(found: list[Check], session) -> None:
    from coulisses import outbox, processes

    now = utcnow()
    last = session.scalar(select(func.max(processes.Process.seen_at)).where(processes.Process.kind == "worker"))
    if last is None:
        _add(found, _("worker"), WARNING, _("aucun `coulisses worker` n'a jamais tourné sur cette base : "
                                            "démarrez-en un (systemctl enable --now coulisses-worker)"))
    elif now - last > WORKER_SILENT:
        _add(found, _("worker"), WARNING, _("aucun worker vu depuis %(minutes)s minutes : est-il arrêté ? "
                                            "(systemctl status coulisses-worker)",
                                            minutes=int((now - last).total_seconds() // 60)))
    else:
        alive = processes.alive(session, "worker")
        _add(found, _("worker"), OK, _("%(count)s worker(s) actif(s), vu il y a %(seconds)s s",
                                       count=len(alive), seconds=int((now - last).total_seconds())))
    late = session.scalar(select(func.count()).select_from(outbox.Job).where(
        outbox.Job.state == outbox.PENDING, outbox.Job.run_after < now - JOB_LATE))
    parked = session.scalar(select(func.count()).select_from(outbox.Job).where(outbox.Job.state == outbox.PARKED))
    if late or parked:
        _add(found, _("tâches de fond"), WARNING, _("%(late)s en retard de plus de 10 minutes, %(parked)s en échec "
                                                    "(Administration › Tâches de fond)", late=late, parked=parked))
    else:
        _add(found, _("tâches de fond"), OK, _("aucune en retard ni en échec"))


def _tasks(found: list[Check], session, tasks: dict) -> None:
    from coulisses import tasks as ctasks

    now = utcnow()
    ends = ctasks.states(session)
    for name, task in sorted(tasks.items()):
        last = ctasks.last_run(session, task)
        state = ends.get(name)
        label = _("tâche %(name)s", name=name)
        if state is not None and state.last_status == "failed":
            _add(found, label, WARNING, _("le dernier passage a échoué : `coulisses tasks list`"))
        elif last is None:
            _add(found, label, WARNING, _("jamais lancée : programmez `coulisses tasks run --due` toutes les heures "
                                          "(coulisses-tasks.timer)"))
        elif now - last > 2 * ctasks.SCHEDULES[task.schedule] + timedelta(hours=1):
            _add(found, label, WARNING, _("dernier passage il y a %(hours)s heures (%(schedule)s) : le minuteur "
                                          "tourne-t-il ?", hours=int((now - last).total_seconds() // 3600),
                                          schedule=task.schedule))
        else:
            _add(found, label, OK, _("dernier passage %(when)s", when=last.strftime("%Y-%m-%d %H:%M UTC")))
