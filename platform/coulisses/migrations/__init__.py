"""Migrations: the host's version folder plus one per plugin, one version table.

Each plugin keeps its revisions in ``<package>/migrations/`` with the branch label = plugin name;
its first revision ``depends_on`` the host's first revision (and the first revision of each plugin
it depends on). ``upgrade`` brings the host and the enabled plugins to their heads.
"""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from coulisses import PluginError
from coulisses import db as cdb
from coulisses.i18n import _l
from coulisses.db import tables_of

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "core_alembic_version"


def include_object_for(plugins):
    wanted = None if plugins is None else set(plugins)

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            if name == VERSION_TABLE:
                return False
            if reflected and compare_to is None and name in cdb.metadata.info.get("unmanaged_tables", ()):
                return False  # a plugin's table made outside the models (e.g. SQLite's FTS5 tables)
            if wanted is None:
                return True
            table = compare_to if reflected else obj
            plugin = table.info.get("plugin") if table is not None else None
            if plugin is None and reflected:
                # a table in the database that no model declares any more: its plugin by its prefix
                return any(name.startswith(f"{p}_") for p in wanted)
            return plugin in wanted if plugin else False
        return True

    return include_object


def alembic_config(connection: Connection, infos: dict, plugins: list[str] | None = None) -> Config:
    """An Alembic configuration that knows the host's and every installed plugin's revisions.

    ``plugins`` limits what autogenerate compares (``None``: every table).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [str(HERE / "versions")]
    for info in infos.values():
        if info.migrations_dir is not None:
            locations.append(str(info.migrations_dir))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join(locations))
    cfg.attributes["connection"] = connection
    cfg.attributes["plugins"] = plugins
    return cfg


def upgrade(connection: Connection, infos: dict, order: list[str]) -> None:
    """Upgrade the host, then each enabled plugin (in load order), to its head."""
    cfg = alembic_config(connection, infos, ["core", *order])
    labels = check(infos, order)
    command.upgrade(cfg, "core@head")
    for name in order:
        if name in labels:
            command.upgrade(cfg, f"{name}@head")


def check(infos: dict, order: list[str]) -> set[str]:
    """Refuse a plugin set in which a plugin declares tables but has no migration to create them.

    Returns the branch labels known (the host's and the plugins' with migrations).
    """
    script = ScriptDirectory.from_config(alembic_config(None, infos))
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels or ()}
    for name in order:
        tables = [t.name for t in tables_of([name])]
        if name not in labels and tables:
            raise PluginError(name, _l("n'a pas de migration pour ses tables (%(tables)s) : créez la première avec "
                                       "%(command)s", tables=", ".join(tables),
                                       command=f'`coulisses db revision {name} -m "first tables"`'))
    return labels


def current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_heads())


def applied_revisions(connection: Connection, infos: dict) -> set[str]:
    """Every revision the database is at or past: the current heads and all they descend from or
    depend on (Alembic may drop a branch's head from the version table once another branch's
    revision depends on it)."""
    script = ScriptDirectory.from_config(alembic_config(connection, infos))
    seen: set[str] = set()
    todo = list(current_heads(connection))
    while todo:
        rev = script.get_revision(todo.pop())
        if rev is None or rev.revision in seen:
            continue
        seen.add(rev.revision)
        todo.extend(_as_tuple(rev.down_revision))
        for dep in _as_tuple(rev.dependencies):
            todo.extend(r.revision for r in script.get_revisions(dep) if r is not None)
    return seen


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def branch_heads(connection: Connection, infos: dict) -> dict[str, str]:
    """The newest revision of each branch (``core`` and each plugin with migrations)."""
    script = ScriptDirectory.from_config(alembic_config(connection, infos))
    # get_heads(), not get_revisions("heads"): the latter leaves out a head another branch depends on.
    heads = [script.get_revision(h) for h in script.get_heads()]
    return {next(iter(rev.branch_labels)): rev.revision for rev in heads if rev.branch_labels}


def schema_differences(connection: Connection, plugins: list[str]) -> list:
    """What differs between the models of ``plugins`` (``core`` for the host) and the database behind
    ``connection``: Alembic's ``compare_metadata`` list (``[]`` when they are equal)."""
    from alembic.autogenerate import compare_metadata

    from coulisses.db import load_core_models, metadata

    load_core_models()
    context = MigrationContext.configure(connection, opts={
        "compare_type": True,
        "include_object": include_object_for(list(plugins)),
        "version_table": VERSION_TABLE,
    })
    return compare_metadata(context, metadata)


def pending_branches(connection: Connection, infos: dict, plugins: list[str]) -> list[str]:
    """Those of ``plugins`` (and ``core``) whose newest revision the database has not reached."""
    heads = branch_heads(connection, infos)
    applied = applied_revisions(connection, infos)
    return [name for name in ["core", *plugins] if name in heads and heads[name] not in applied]


def _next_revision_id(script: ScriptDirectory, plugin: str) -> str:
    ids = {rev.revision for rev in script.walk_revisions()}
    n = sum(1 for rev in script.walk_revisions() if plugin in (rev.branch_labels or ())) + 1
    while f"{plugin}_{n:04d}" in ids:
        n += 1
    return f"{plugin}_{n:04d}"


def revision(infos: dict, plugin: str, message: str, *, scratch_url: str, empty: bool = False):
    """Autogenerate a new revision for ``plugin`` (``core`` for the host) into its migrations folder.

    The models are compared with a scratch database (``scratch_url``, empty, thrown away by the
    caller) migrated to the heads of the host, of the plugins ``plugin`` depends on and of ``plugin``
    itself: the revision does not depend on the state of the development database, nor on the other
    installed plugins. Its id is ``<plugin>_<NNNN>`` and its file ``<plugin>_<NNNN>_<message>.py``.
    Returns Alembic's ``Script`` (``.path``), or None when there is nothing to migrate (and not ``empty``).
    """
    from coulisses import plugins as cplugins
    from coulisses.db import make_engine

    order = [] if plugin == "core" else cplugins.resolve(infos, [plugin])
    optional = [d for name in order for d, _ in infos[name].optional_depends if d in infos and not infos[d].error]
    if optional:  # their revisions may be depended on: known too, when they can be loaded
        try:
            order = cplugins.resolve(infos, [*order, *optional])
        except PluginError:
            pass
    # Only the revisions of these branches: the other installed plugins' heads are not the database's.
    infos = {name: infos[name] for name in order}
    engine = make_engine(scratch_url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(conn, infos, ["core", *order])
            script = ScriptDirectory.from_config(cfg)
            labels = {label for rev in script.walk_revisions() for label in rev.branch_labels or ()}
            command.upgrade(cfg, "core@head")
            for name in order:
                if name in labels:
                    command.upgrade(cfg, f"{name}@head")
        with engine.connect() as conn:
            if not empty and not schema_differences(conn, [plugin]):
                return None
        if plugin == "core":
            path = HERE / "versions"
        else:
            path = infos[plugin].migrations_dir or (infos[plugin].root / "migrations")
            path.mkdir(exist_ok=True)
            if not (path / "__init__.py").exists():  # shipped with the package (Alembic ignores it)
                (path / "__init__.py").write_text("")
        with engine.begin() as conn:
            cfg = alembic_config(conn, infos, [plugin])
            cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
            script = ScriptDirectory.from_config(cfg)
            has_branch = plugin in labels
            kwargs = {"version_path": str(path), "rev_id": _next_revision_id(script, plugin)}
            if has_branch:
                kwargs["head"] = f"{plugin}@head"
            else:
                kwargs["head"] = "base"
                kwargs["branch_label"] = plugin
                if plugin != "core":
                    deps = ["core"] + [d for d, _ in infos[plugin].depends]
                    bases = {next(iter(r.branch_labels)): r.revision for r in script.walk_revisions()
                             if r.branch_labels and r.down_revision is None}
                    kwargs["depends_on"] = [bases[d] for d in deps if d in bases]
            return command.revision(cfg, message=message, autogenerate=not empty, **kwargs)
    finally:
        engine.dispose()
