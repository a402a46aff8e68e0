"""Migrations: the migrated schema equals the models, for the host and for every built-in plugin
(read from the entry points, so a new plugin is covered without touching this file)."""
from __future__ import annotations

import re
import importlib
import sys
import textwrap

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.orm import Mapped, mapped_column

from coulisses import db as cdb
from coulisses.db import Base
from coulisses import PluginError, migrations
from coulisses import plugins as cplugins
from tests.platform.conftest import make_plugin
from tests.platform.test_packaging import builtin_plugin_names

BUILTIN = builtin_plugin_names()


@pytest.fixture
def engine(database_url):
    engine = cdb.make_engine(database_url)
    yield engine
    engine.dispose()


def schema_differences(conn, plugin: str) -> list:
    return migrations.schema_differences(conn, [plugin])  # the host's helper (coulisses db check uses it)


@pytest.mark.parametrize("plugin", ["core", *BUILTIN])
def test_migrated_schema_matches_the_models(plugin, engine):
    infos = cplugins.discover()
    order = cplugins.resolve(infos, [] if plugin == "core" else [plugin])
    if plugin != "core":
        declared = [t.name for t in cdb.tables_of([plugin])]
        assert infos[plugin].migrations_dir is not None, f"{plugin} has models but no migrations/ folder"
        if declared:
            cfg = migrations.alembic_config(None, infos)
            labels = {label for rev in ScriptDirectory.from_config(cfg).walk_revisions()
                      for label in (rev.branch_labels or ())}
            assert plugin in labels, f"{plugin} declares {declared} but has no revision with branch label '{plugin}'"
    with engine.begin() as conn:
        migrations.upgrade(conn, infos, order)
    with engine.connect() as conn:
        differences = schema_differences(conn, plugin)
        tables = set(inspect(conn).get_table_names())
    assert differences == [], f"{plugin}: the migrated schema differs from the models"
    for table in cdb.tables_of([plugin]):
        assert table.name in tables


def test_every_builtin_plugin_upgrades_together(engine):
    """What `make run` does on a new database: the host and every built-in plugin."""
    infos = cplugins.discover()
    order = cplugins.resolve(infos, BUILTIN)
    with engine.begin() as conn:
        migrations.upgrade(conn, infos, order)
    with engine.connect() as conn:
        heads = migrations.branch_heads(conn, infos)
        applied = migrations.applied_revisions(conn, infos)
    assert heads["core"] in applied
    for name in order:
        if cdb.tables_of([name]):
            assert heads[name] in applied


class Orphan(Base):
    __tablename__ = "tp_orphan_item"
    __plugin__ = "tp_orphan"
    id: Mapped[int] = mapped_column(primary_key=True)


def test_a_plugin_with_tables_but_no_migration_is_refused_with_a_message(register_plugin, cli, engine):
    register_plugin(make_plugin("tp_orphan"))  # declares tp_orphan_item, has no migrations
    with engine.begin() as conn, pytest.raises(PluginError) as excinfo:
        migrations.upgrade(conn, cplugins.discover(), ["tp_orphan"])
    message = ("plugin « tp_orphan » : n'a pas de migration pour ses tables (tp_orphan_item) : créez la première avec "
               "`coulisses db revision tp_orphan -m \"first tables\"`")
    assert str(excinfo.value) == message
    result = cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_orphan"})
    assert result.exit_code == 1
    assert result.output.strip() == f"Erreur : {message}"


def test_a_plugin_migrations_match_its_models(keep_plugin, engine):
    infos = cplugins.discover()
    with engine.begin() as conn:
        migrations.upgrade(conn, infos, ["tp_base", "tp_keep"])
    with engine.connect() as conn:
        assert schema_differences(conn, "tp_keep") == []
        conn.exec_driver_sql("ALTER TABLE tp_keep_item ADD COLUMN extra INTEGER")
        assert [d[0] for d in schema_differences(conn, "tp_keep")] == ["remove_column"]


def test_a_table_missing_from_the_migrations_is_detected(engine):
    """The comparison above can fail: drop a column's table and it reports it."""
    with engine.begin() as conn:
        migrations.upgrade(conn, cplugins.discover(), [])
        conn.exec_driver_sql("DROP TABLE core_setting")
    with engine.connect() as conn:
        differences = schema_differences(conn, "core")
    assert [d[0] for d in differences] == ["add_table"]
    assert differences[0][1].name == "core_setting"


def test_every_table_is_tagged_with_its_plugin():
    for table in cdb.metadata.tables.values():
        assert table.info.get("plugin"), f"{table.name} has no info['plugin']"
    for name in BUILTIN:
        for table in cdb.tables_of([name]):
            assert table.name.startswith(f"{name}_"), f"{table.name} is not prefixed with its plugin's name"
    for table in cdb.tables_of(["core"]):
        assert table.name.startswith("core_")


@pytest.fixture
def migrating_plugin(tmp_path, register_plugin, monkeypatch):
    """A plugin package with its own migrations folder, the first revision depending on the host's."""
    root = tmp_path / "site" / "tp_mig"
    (root / "migrations").mkdir(parents=True)
    (root / "__init__.py").write_text(textwrap.dedent("""\
        import coulisses
        MANIFEST = coulisses.Manifest(name="tp_mig", version="1.0", label="Mig")
    """))
    (root / "migrations" / "tp_mig_0001_first.py").write_text(textwrap.dedent("""\
        from alembic import op
        import sqlalchemy as sa

        revision = "tp_mig_0001"
        down_revision = None
        branch_labels = ("tp_mig",)
        depends_on = "core_0001"

        def upgrade():
            op.create_table("tp_mig_thing", sa.Column("id", sa.Integer(), primary_key=True))

        def downgrade():
            op.drop_table("tp_mig_thing")
    """))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    module = importlib.import_module("tp_mig")
    register_plugin(module)
    yield module
    sys.modules.pop("tp_mig", None)


def test_upgrade_runs_an_enabled_plugin_migrations_and_current_reports_every_branch(cli, migrating_plugin, engine):
    before = cli("db", "current").output
    assert any(line.split()[:2] == ["tp_mig", "tp_mig_0001"] and "en retard" in line for line in before.splitlines())
    result = cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_mig"})
    assert result.exit_code == 0, result.output
    assert "tp_mig" in result.output
    assert "tp_mig_thing" in inspect(engine).get_table_names()
    lines = {line.split()[0]: line for line in cli("db", "current").output.splitlines()}
    assert re.fullmatch(r"core core_\d{4} à jour", " ".join(lines["core"].split()))
    assert lines["tp_mig"].split() == ["tp_mig", "tp_mig_0001", "à", "jour"]


def test_upgrade_leaves_a_disabled_plugin_tables_alone(cli, migrating_plugin, engine):
    assert cli("db", "upgrade").exit_code == 0
    assert "tp_mig_thing" not in inspect(engine).get_table_names()
    lines = {line.split()[0]: line for line in cli("db", "current").output.splitlines()}
    assert "à jour" in lines["core"]
    assert "en retard" in lines["tp_mig"]
    # enabling it creates them
    result = cli("plugins", "enable", "tp_mig")
    assert result.exit_code == 0, result.output
    assert "tp_mig_thing" in inspect(engine).get_table_names()


def test_a_table_the_models_no_longer_declare_is_detected(engine):
    with engine.begin() as conn:
        migrations.upgrade(conn, cplugins.discover(), [])
        conn.exec_driver_sql("CREATE TABLE core_leftover (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)")
    with engine.connect() as conn:
        differences = schema_differences(conn, "core")
    assert [(d[0], d[1].name) for d in differences] == [("remove_table", "core_leftover")]


def test_the_host_schema_is_whole_without_the_web_layer(tmp_path):
    """`coulisses db ...` does not build the app: the host's tables must not depend on web imports."""
    import subprocess

    code = ("import sys; from coulisses import db; names = [t.name for t in db.tables_of(['core'])]; "
            "print(' '.join(sorted(names)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    with_web = sorted(t.name for t in cdb.tables_of(["core"]))
    assert out.stdout.split() == with_web
    assert "core_idempotency_key" in with_web
