"""Administering the plugin set, for the CLI (``coulisses plugins …``) and the plugins screen alike:
the real state and cause of each plugin, enabling and disabling with the start's checks, each
plugin's effective settings, and what uninstalling a disabled plugin drops.

No Flask, no click: the callers say who acts and commit.
"""
from __future__ import annotations

import os
from typing import Any, Mapping

from sqlalchemy import MetaData, func, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from coulisses import CoulissesError, PluginError
from coulisses import plugins as cplugins
from coulisses.i18n import _l


# A plugin's state as a person reads it (the screen's badges and ``coulisses plugins list``); the codes
# stay in ``--json`` and the API.
STATE_LABELS = {"enabled": _l("activé"), "disabled": _l("désactivé"), "error": _l("erreur"), "missing": _l("absent")}


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def core_hooks():
    from coulisses.web.app import CoreHooks

    return CoreHooks()


def problem(infos: dict, order: list[str], config: Mapping[str, Any] | None = None
            ) -> tuple[CoulissesError | None, list[str]]:
    """What stops ``order`` from loading as the start would (None when it loads), and its warnings
    (functions named like a hook without ``@hookimpl``)."""
    from coulisses.config import apply_plugin_defaults, current_config, use_config

    try:
        pm = cplugins.build_manager(infos, order, core_hooks(), warn=False)
        settings = dict(config if config is not None else current_config())
        apply_plugin_defaults(settings, pm)
        with use_config(settings):
            pm = cplugins.check_set(infos, order, core_hooks())
    except CoulissesError as exc:
        return exc, []
    known = cplugins.all_hook_names(pm)
    return None, [w for name in order for w in cplugins.unmarked_hooks(infos[name], known)]


def _warned_plugin(warning: str) -> str:
    return warning.split("'")[1] if warning.count("'") >= 2 else ""


def plugin_rows(session: Session, infos: dict, seed: list[str] | None,
                config: Mapping[str, Any] | None = None) -> list[dict]:
    """Every installed (or recorded) plugin: its recorded state, its real state (``error`` with the
    cause the start or ``plugins enable`` would give), dependencies, hooks and warnings."""
    states = cplugins.stored_states(session) or {}
    requested = ([n for n, r in states.items() if r.state == "enabled"] if states
                 else cplugins.requested_plugins(session, infos, seed))
    try:
        enabled = set(cplugins.resolve(infos, requested))
    except CoulissesError:
        enabled = set(requested)
    # The real state of each plugin: does the enabled set load (as the start would), and does each
    # other plugin load with it (what `plugins enable` would answer)?
    causes: dict[str, str] = {}
    warnings: dict[str, list[str]] = {}
    installed_enabled = sorted(n for n in enabled if n in infos)
    try:
        set_error, set_warnings = problem(infos, cplugins.resolve(infos, installed_enabled), config)
    except CoulissesError as exc:
        set_error, set_warnings = exc, []
    if set_error is not None:
        causes[set_error.plugin if isinstance(set_error, PluginError) else ""] = str(set_error)
    for warning in set_warnings:
        warnings.setdefault(_warned_plugin(warning), []).append(warning)
    for name, info in infos.items():
        if info.error or name in causes or (name in enabled and set_error is None):
            continue
        wanted = [name] if set_error is not None or name in enabled else [*installed_enabled, name]
        try:
            error, found = problem(infos, cplugins.resolve(infos, wanted), config)
        except CoulissesError as exc:
            error, found = exc, []
        if error is not None:
            causes[name] = str(error)
        for warning in found:
            if _warned_plugin(warning) == name:
                warnings.setdefault(name, []).append(warning)

    rows = []
    for name in sorted(set(states) - set(infos)):  # recorded, but its distribution is gone
        row = states[name]
        rows.append({
            "name": name, "label": name, "version": row.version,
            "state": "missing" if row.state == "enabled" else row.state,
            "enabled": row.state == "enabled",
            "depends": [], "optional_depends": [], "description": "",
            "error": str(_l("n'est plus installé : désactivez-le ou installez-le de nouveau") if row.state == "enabled"
                         else _l("n'est plus installé")),
            "hooks": [], "warnings": [],
            "changed_at": row.changed_at.isoformat(), "changed_by": row.changed_by,
        })
    for name, info in infos.items():
        row = states.get(name)
        error = str(PluginError(name, info.error)) if info.error else causes.get(name)
        rows.append({
            "name": name,
            "label": str(info.label),
            "version": info.version,
            "state": "error" if error else ("enabled" if name in enabled else "disabled"),
            "enabled": name in enabled,
            "depends": [d for d, _ in info.depends],
            "optional_depends": [d for d, _ in info.optional_depends],
            "description": str((info.manifest.description if info.manifest else "") or ""),
            "error": error,
            "hooks": cplugins.implemented_hooks(info.module) if info.module is not None else [],
            "warnings": warnings.get(name, []),
            "changed_at": row.changed_at.isoformat() if row else None,
            "changed_by": row.changed_by if row else None,
        })
    return sorted(rows, key=lambda r: r["name"])


# --------------------------------------------------------------------------- enable / disable


def _seeded(session: Session, infos: dict, seed: list[str] | None, by: str) -> None:
    states = cplugins.stored_states(session)
    if states is None:
        raise CoulissesError(_l("la base n'est pas initialisée : lancez d'abord `coulisses db upgrade`"))
    if not states:  # the seed becomes the recorded set
        cplugins.record_enabled(session, infos, cplugins.resolve(
            infos, cplugins.requested_plugins(session, infos, seed)), by)


def enable(session: Session, infos: dict, name: str, seed: list[str] | None, by: str,
           config: Mapping[str, Any] | None = None, *, check_migrations: bool = True
           ) -> tuple[list[str], list[str], list[str]]:
    """Record ``name`` and what it depends on as enabled, refusing (``PluginError``, the start's
    message) a set that would not load or whose tables cannot be created. Returns the plugins whose
    state changed, the new load order and the warnings. The caller commits (or rolls back)."""
    from coulisses import migrations

    _seeded(session, infos, seed, by)
    changed = cplugins.record_enabled(session, infos, [name], by)
    order = cplugins.resolve(infos, cplugins.requested_plugins(session, infos, seed))
    error, warnings = problem(infos, order, config)
    if error is not None:
        raise error
    if check_migrations:
        migrations.check(infos, order)
    return changed, order, warnings


def enabling_would_add(session: Session, infos: dict, name: str, seed: list[str] | None) -> list[str]:
    """The plugins ``enable(name)`` would switch on (``name`` and its disabled dependencies)."""
    current = set(cplugins.resolve(infos, cplugins.requested_plugins(session, infos, seed)))
    return [n for n in cplugins.resolve(infos, [*current, name]) if n not in current]


def disable(session: Session, infos: dict, name: str, seed: list[str] | None, by: str) -> None:
    """Record ``name`` as disabled (refused while an enabled plugin depends on it); its data is kept."""
    _seeded(session, infos, seed, by)
    cplugins.record_disabled(session, infos, name, by)


# --------------------------------------------------------------------------- settings


def plugin_settings(infos: dict, name: str, config: Mapping[str, Any]) -> list[dict]:
    """The settings a plugin declares (``coulisses_config_defaults``): key, default, effective value
    and where the value comes from (``default``, ``environment`` — ``COULISSES_<KEY>`` — or
    ``configuration``). Read-only: the host has no settings schema a screen could edit."""
    info = infos.get(name)
    hook = getattr(info.module, "coulisses_config_defaults", None) if info and info.module is not None else None
    if hook is None:
        return []
    try:
        defaults = hook() or {}
    except Exception:  # noqa: BLE001 - a plugin's bug: its settings are not shown
        return []
    rows = []
    for key, default in sorted(defaults.items()):
        if f"COULISSES_{key}" in os.environ:
            source = "environment"
        elif key in config and config[key] != default:
            source = "configuration"
        else:
            source = "default"
        rows.append({"key": key, "default": default, "value": config.get(key, default), "source": source})
    return rows


# --------------------------------------------------------------------------- uninstall


def branch_revisions(connection: Connection | None, infos: dict, name: str) -> set[str]:
    """The Alembic revisions of ``name``'s branch."""
    from alembic.script import ScriptDirectory

    from coulisses import migrations

    script = ScriptDirectory.from_config(migrations.alembic_config(connection, infos))
    return {rev.revision for rev in script.walk_revisions() if name in (rev.branch_labels or ())}


def uninstall_plan(connection: Connection, infos: dict, name: str) -> dict:
    """What ``plugins uninstall NAME --drop-data`` drops: the plugin's tables in the database with
    their row counts (its models' tables and any other table named ``<name>_…``), and the rows of
    its Alembic branch in the version table. Refuses (``PluginError``) a plugin that is enabled,
    has an enabled dependant, or whose tables another table still references."""
    from coulisses import db as cdb
    from coulisses import migrations

    with Session(bind=connection) as session:
        states = cplugins.stored_states(session) or {}
    if name not in infos and name not in states:
        raise CoulissesError(_l("aucun plugin installé ne s'appelle « %(name)s » (installés : %(names)s)",
                                name=name, names=", ".join(infos) or "-"))
    if name in states and states[name].state == "enabled":
        raise PluginError(name, _l("est activé : désactivez-le d'abord (`coulisses plugins disable %(name)s`), "
                                   "puis désinstallez-le", name=name))
    enabled = [n for n, r in states.items() if r.state == "enabled"]
    users = cplugins.dependants(infos, name, enabled)
    if users:
        raise PluginError(name, _l("ne peut pas être désinstallé : %(plugins)s, activé(s), en dépend(ent)",
                                   plugins=cplugins.quoted(users)))
    existing = set(inspect(connection).get_table_names())
    declared = {t.name for t in cdb.tables_of([name])}
    mine = sorted(t for t in existing if t in declared or t.startswith(f"{name}_"))
    mine = [t for t in mine if t != migrations.VERSION_TABLE]
    meta = MetaData()
    meta.reflect(connection, only=sorted(existing))
    for other in meta.sorted_tables:
        if other.name in mine:
            continue
        for fk in other.foreign_keys:
            if fk.column.table.name in mine:
                raise PluginError(name, _l("ne peut pas supprimer sa table %(table)s : la table %(other)s y fait "
                                           "référence", table=fk.column.table.name, other=other.name))
    counts = {t: connection.execute(select(func.count()).select_from(table(t))).scalar_one() for t in mine}
    versions: list[str] = []  # the plugin's revisions the database is at or past
    heads_after: list[str] | None = None  # the version table once they are gone (None: just delete)
    if migrations.VERSION_TABLE in existing:
        if name in infos:
            mine_revs = branch_revisions(connection, infos, name)
            applied = migrations.applied_revisions(connection, infos)
            versions = sorted(applied & mine_revs)
            heads_after = _heads(connection, infos, applied - mine_revs)
        else:  # its distribution is gone: its revisions by their names
            versions = sorted(h for h in migrations.current_heads(connection) if h.startswith(f"{name}_"))
    ordered = [t.name for t in reversed(meta.sorted_tables) if t.name in mine]
    return {"plugin": name, "tables": ordered, "rows": counts, "versions": versions,
            "heads_after": heads_after, "recorded": name in states}


def _heads(connection: Connection, infos: dict, applied: set[str]) -> list[str]:
    """The revisions of ``applied`` that nothing else in it descends from or depends on: what the
    version table holds for them (a revision another branch depended on becomes a head again)."""
    from alembic.script import ScriptDirectory

    from coulisses import migrations

    script = ScriptDirectory.from_config(migrations.alembic_config(connection, infos))
    below: set[str] = set()
    for revision in applied:
        rev = script.get_revision(revision)
        below.update(migrations._as_tuple(rev.down_revision))
        for dep in migrations._as_tuple(rev.dependencies):
            below.update(r.revision for r in script.get_revisions(dep) if r is not None)
    return sorted(applied - below)


def uninstall(connection: Connection, infos: dict, name: str, plan: dict, by: str) -> None:
    """Drop what ``plan`` names (its tables, its version rows) and forget the plugin's recorded
    state, recording a security event. Within the caller's transaction."""
    from coulisses import migrations
    from coulisses.security_events import record_event

    meta = MetaData()
    meta.reflect(connection, only=plan["tables"])
    meta.drop_all(connection, tables=[meta.tables[t] for t in plan["tables"]])
    if plan["heads_after"] is not None:
        connection.execute(text(f"DELETE FROM {migrations.VERSION_TABLE}"))
        for head in plan["heads_after"]:
            connection.execute(text(f"INSERT INTO {migrations.VERSION_TABLE} (version_num) VALUES (:v)"), {"v": head})
    else:
        for version in plan["versions"]:
            connection.execute(text(f"DELETE FROM {migrations.VERSION_TABLE} WHERE version_num = :v"), {"v": version})
    with Session(bind=connection) as session:
        states = cplugins.stored_states(session) or {}
        if name in states:
            session.delete(states[name])
        record_event(session, "plugin_uninstalled", login="", detail=" ".join([name, *plan["tables"]]),
                     actor=cplugins._actor(by))
        session.flush()


def install_enabled(engine, infos: dict, order: list[str], config: Mapping[str, Any],
                    only: list[str] | None = None) -> None:
    """After enabling: create the tables of ``order`` (its migrations; with ``only``, just those
    plugins' branches), declare its permissions and run the install defaults of the plugins that
    never ran them — what ``plugins enable`` does."""
    from alembic import command

    from coulisses import migrations, security
    from coulisses.config import apply_plugin_defaults, use_config
    from coulisses.registry import use_manager

    with engine.begin() as conn:
        if only is None:
            migrations.upgrade(conn, infos, order)
        else:
            cfg = migrations.alembic_config(conn, infos, ["core", *order])
            labels = migrations.check(infos, order)
            for name in order:
                if name in only and name in labels:
                    command.upgrade(cfg, f"{name}@head")
    pm = cplugins.build_manager(infos, order, core_hooks(), warn=False)
    settings = dict(config)
    apply_plugin_defaults(settings, pm)
    with Session(engine) as session, use_config(settings), use_manager(pm):
        security.sync_roles_and_permissions(
            session, security.collect_permissions(cplugins.call_each_safely(pm, "coulisses_permissions")))
        cplugins.install_defaults(session, pm)
        session.commit()
