"""What ``coulisses db upgrade`` checks before it migrates (docs/operator-guide.md, "Upgrading").

Refused (``Preflight.refusals``; ``--force`` overrides those marked so):

- the database is at a revision the installed code does not know: it was migrated by a newer
  Coulisses (or a plugin that is no longer installed) — installing an older version over a newer
  database is a downgrade, which migrations cannot do; restore the backup taken before the upgrade;
- the database was last upgraded by a newer Coulisses version than the installed one (forceable);
- a worker of another Coulisses version is alive (its heartbeat), or, on PostgreSQL, a process of
  another version is connected (``pg_stat_activity``): stop them before migrating (forceable).

Warned (``Preflight.warnings``): a disabled plugin whose tables are behind its installed migrations
(they are migrated when it is enabled again).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from alembic.script import ScriptDirectory
from packaging.version import InvalidVersion, Version
from sqlalchemy import inspect
from sqlalchemy.orm import Session

import coulisses
from coulisses import migrations, processes
from coulisses.db import Setting, get_setting, set_setting
from coulisses.i18n import gettext as _

VERSION_KEY = "core.version"


@dataclass
class Preflight:
    refusals: list[str] = field(default_factory=list)  # never overridden
    forceable: list[str] = field(default_factory=list)  # overridden by --force
    warnings: list[str] = field(default_factory=list)

    def blocking(self, force: bool) -> list[str]:
        return self.refusals + ([] if force else self.forceable)


def unknown_revisions(connection, infos: dict) -> list[str]:
    """The revisions recorded in the database that no installed migration defines."""
    script = ScriptDirectory.from_config(migrations.alembic_config(connection, infos))
    known = {rev.revision for rev in script.walk_revisions()}
    return sorted(rev for rev in migrations.current_heads(connection) if rev not in known)


def _newer(recorded: str | None) -> bool:
    try:
        return recorded is not None and Version(recorded) > Version(coulisses.__version__)
    except InvalidVersion:
        return False


def check(session: Session, infos: dict, order: list[str]) -> Preflight:
    """The preflight of ``db upgrade`` for the enabled plugins ``order``; reads only."""
    found = Preflight()
    connection = session.connection()
    tables = set(inspect(connection).get_table_names())
    if migrations.VERSION_TABLE not in tables:
        return found  # a new database: nothing to compare with
    unknown = unknown_revisions(connection, infos)
    if unknown:
        found.refusals.append(_(
            "La base est à une révision que cette version de Coulisses ne connaît pas (%(revisions)s) : elle "
            "a été migrée par une version plus récente, ou par un plugin qui n'est plus installé. Revenir à "
            "une version antérieure ne se fait pas par les migrations : réinstallez la version qui l'a migrée "
            "(ou le plugin), ou restaurez la sauvegarde faite avant la mise à jour (`coulisses restore`).",
            revisions=", ".join(unknown)))
        return found
    recorded = get_setting(session, VERSION_KEY) if Setting.__tablename__ in tables else None
    if _newer(recorded):
        found.forceable.append(_(
            "La base a été mise à jour par Coulisses %(recorded)s, plus récent que la version installée "
            "(%(installed)s) : installez %(recorded)s ou plus récent (--force pour passer outre).",
            recorded=recorded, installed=coulisses.__version__))
    if processes.Process.__tablename__ in tables:
        others = [p for p in processes.alive(session) if p.version != coulisses.__version__]
        if others:
            found.forceable.append(_(
                "Des workers d'une autre version tournent encore (%(workers)s) : arrêtez-les avant de migrer "
                "(systemctl stop coulisses-worker coulisses-web), puis relancez `coulisses db upgrade` "
                "(--force pour passer outre).",
                workers=", ".join(f"{p.name} ({p.version})" for p in others)))
    connected = processes.other_versions_connected(session)
    if connected:
        found.forceable.append(_(
            "Des processus Coulisses d'une autre version sont connectés à la base (%(processes)s) : arrêtez-les "
            "avant de migrer (--force pour passer outre).",
            processes=", ".join(f"{name} @ {address}" for name, address, _start in connected)))
    heads = migrations.branch_heads(connection, infos)
    applied = migrations.applied_revisions(connection, infos)
    for name in sorted(infos):
        if name in order or name not in heads or heads[name] in applied:
            continue
        if any(table.startswith(f"{name}_") for table in tables):
            found.warnings.append(_(
                "Le plugin %(plugin)s est désactivé et ses tables ne sont pas à jour : elles seront migrées "
                "quand il sera réactivé (`coulisses plugins enable %(plugin)s`).", plugin=name))
    return found


def record_version(session: Session) -> None:
    """After a successful upgrade: the version of Coulisses that migrated the database."""
    recorded = get_setting(session, VERSION_KEY)
    if recorded is None or not _newer(recorded):
        set_setting(session, VERSION_KEY, coulisses.__version__)
