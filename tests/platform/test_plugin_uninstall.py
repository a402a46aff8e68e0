"""`coulisses plugins uninstall NAME --drop-data`: only a disabled plugin no enabled plugin depends
on; shows what it drops (tables, row counts, schema revision), asks first, then drops its tables and
its Alembic version rows. Disabling alone never drops anything."""
from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses.migrations import VERSION_TABLE
from coulisses.security_events import SecurityEvent


def _setup(cli, database_url):
    from tp_keep.models import KeptItem

    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_keep"}).exit_code == 0
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        s.add_all([KeptItem(label="Première"), KeptItem(label="Seconde")])
        s.commit()
    return engine


def _versions(engine):
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))}


def test_uninstall_refuses_an_enabled_plugin_and_needs_drop_data(keep_plugin, cli, database_url):
    engine = _setup(cli, database_url)
    result = cli("plugins", "uninstall", "tp_keep", "--drop-data", "--yes")
    assert result.exit_code == 1
    assert "plugin « tp_keep » : est activé : désactivez-le d'abord" in result.output
    assert cli("plugins", "disable", "tp_keep").exit_code == 0
    result = cli("plugins", "uninstall", "tp_keep")
    assert result.exit_code == 1 and "--drop-data" in result.output
    # tp_base has an enabled dependant? No: tp_keep is disabled now; but tp_base is enabled
    result = cli("plugins", "uninstall", "tp_base", "--drop-data", "--yes")
    assert result.exit_code == 1 and "est activé" in result.output
    assert "tp_keep_item" in inspect(engine).get_table_names()
    engine.dispose()


def test_uninstall_refuses_while_an_enabled_plugin_depends_on_it(keep_plugin, cli, database_url):
    engine = _setup(cli, database_url)
    with engine.begin() as conn:  # a recorded state where tp_base is disabled but tp_keep enabled
        conn.execute(text("UPDATE core_plugin SET state = 'disabled' WHERE name = 'tp_base'"))
    result = cli("plugins", "uninstall", "tp_base", "--drop-data", "--yes")
    assert result.exit_code == 1
    assert "ne peut pas être désinstallé : « tp_keep », activé(s), en dépend(ent)" in result.output
    engine.dispose()


def test_uninstall_shows_what_it_drops_and_asks(keep_plugin, cli, database_url):
    engine = _setup(cli, database_url)
    assert "tp_keep_0001" in _versions(engine)
    assert cli("plugins", "disable", "tp_keep").exit_code == 0
    assert "tp_keep_item" in inspect(engine).get_table_names()  # disabling drops nothing

    result = cli("plugins", "uninstall", "tp_keep", "--drop-data", input="n\n")
    assert result.exit_code == 1, result.output
    assert "table tp_keep_item (2 lignes)" in result.output
    assert "tp_keep_0001" in result.output
    assert "Rien n'a été supprimé." in result.output
    assert "tp_keep_item" in inspect(engine).get_table_names()

    result = cli("plugins", "uninstall", "tp_keep", "--drop-data", input="y\n")
    assert result.exit_code == 0, result.output
    assert "Désinstallé : tp_keep (tp_keep_item)" in result.output
    engine.dispose()
    engine = cdb.make_engine(database_url)
    assert "tp_keep_item" not in inspect(engine).get_table_names()
    assert "tp_keep_0001" not in _versions(engine)
    assert any(v.startswith("core_") for v in _versions(engine))
    with Session(engine) as s:
        assert s.scalar(select(SecurityEvent.detail).where(SecurityEvent.kind == "plugin_uninstalled")) \
            == "tp_keep tp_keep_item"
        assert s.scalar(select(SecurityEvent.actor_login).where(SecurityEvent.kind == "plugin_uninstalled")) \
            .startswith("cli")
        rows = s.execute(text("SELECT name FROM core_plugin")).scalars().all()
        assert "tp_keep" not in rows and "tp_base" in rows
    # the plugin can be installed again: enabling recreates its (empty) table
    result = cli("plugins", "enable", "tp_keep")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tp_keep_item")).scalar_one() == 0
    engine.dispose()


def test_uninstall_with_yes_does_not_ask(keep_plugin, cli, database_url):
    engine = _setup(cli, database_url)
    assert cli("plugins", "disable", "tp_keep").exit_code == 0
    result = cli("plugins", "uninstall", "tp_keep", "--drop-data", "--yes")
    assert result.exit_code == 0, result.output
    assert "tp_keep_item" not in inspect(engine).get_table_names()
    engine.dispose()
