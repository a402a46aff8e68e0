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

HERE = Path(__file__).resolve().parent
VERSION_TABLE = "core_alembic_version"


def include_object_for(plugins):
    wanted = None if plugins is None else set(plugins)

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            if name == VERSION_TABLE:
                return False
            if wanted is None:
                return True
            table = compare_to if reflected else obj
            plugin = table.info.get("plugin") if table is not None else None
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
    command.upgrade(cfg, "core@head")
    for name in order:
        if infos[name].migrations_dir is not None:
            command.upgrade(cfg, f"{name}@head")


def current_heads(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_heads())


def branch_heads(connection: Connection, infos: dict) -> dict[str, str]:
    script = ScriptDirectory.from_config(alembic_config(connection, infos))
    return {next(iter(rev.branch_labels)): rev.revision for rev in script.get_revisions("heads") if rev.branch_labels}


def revision(connection: Connection, infos: dict, plugin: str, message: str) -> None:
    """Autogenerate a new revision for ``plugin`` (``core`` for the host) into its migrations folder."""
    cfg = alembic_config(connection, infos, [plugin])
    script = ScriptDirectory.from_config(cfg)
    has_branch = any(plugin in (rev.branch_labels or ()) for rev in script.walk_revisions())
    if plugin == "core":
        path = HERE / "versions"
    else:
        path = infos[plugin].migrations_dir or (infos[plugin].root / "migrations")
        path.mkdir(exist_ok=True)
    kwargs = {"version_path": str(path)}
    if has_branch:
        kwargs["head"] = f"{plugin}@head"
    else:
        kwargs["head"] = "base"
        kwargs["branch_label"] = plugin
        if plugin != "core":
            deps = ["core"] + [d for d, _ in infos[plugin].depends]
            bases = {next(iter(r.branch_labels)): r.revision for r in script.walk_revisions() if r.branch_labels and r.down_revision is None}
            kwargs["depends_on"] = [bases[d] for d in deps if d in bases]
    command.revision(cfg, message=message, autogenerate=True, **kwargs)
