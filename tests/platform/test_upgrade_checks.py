"""Upgrades and `coulisses doctor` (issue 15): `db upgrade` refuses a downgrade, a newer version's
database and workers of another version; the version number and the CHANGELOG; the doctor's checks."""
from __future__ import annotations

import configparser
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import coulisses
from coulisses import db as cdb
from coulisses import processes
from coulisses.db import get_setting, set_setting, utcnow
from tests.platform.test_cli import upgraded  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]


def _with_session(database_url, action):
    engine = cdb.make_engine(database_url)
    try:
        with Session(engine) as session:
            result = action(session)
            session.commit()
            return result
    finally:
        engine.dispose()


def test_db_upgrade_records_the_version_that_migrated(cli, upgraded, database_url):  # noqa: F811
    assert _with_session(database_url, lambda s: get_setting(s, "core.version")) == coulisses.__version__


def test_a_database_upgraded_by_a_newer_version_is_refused_unless_forced(cli, upgraded, database_url):  # noqa: F811
    _with_session(database_url, lambda s: set_setting(s, "core.version", "99.0"))
    refused = cli("db", "upgrade")
    assert refused.exit_code == 1
    assert f"mise à jour par Coulisses 99.0, plus récent que la version installée ({coulisses.__version__})" \
        in refused.output
    assert "rien n'a été modifié" in refused.output and "Traceback" not in refused.output
    forced = cli("db", "upgrade", "--force")
    assert forced.exit_code == 0, forced.output
    assert _with_session(database_url, lambda s: get_setting(s, "core.version")) == "99.0"  # never lowered


def test_a_revision_this_version_does_not_know_is_a_downgrade_and_is_refused(cli, upgraded, database_url):  # noqa: F811
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE core_alembic_version SET version_num = 'core_0099'"))
    engine.dispose()
    for args in (("db", "upgrade"), ("db", "upgrade", "--force")):
        refused = cli(*args)
        assert refused.exit_code == 1, refused.output
        assert "révision que cette version de Coulisses ne connaît pas (core_0099)" in refused.output
        assert "coulisses restore" in refused.output
    doctor = cli("doctor")
    assert doctor.exit_code == 1 and "core_0099" in doctor.output
    current = cli("db", "current")
    assert current.exit_code == 1 and "révisions inconnues de cette version : core_0099" in current.output
    assert "Traceback" not in current.output


def test_ready_says_a_newer_versions_database_is_not_for_this_code(cli, upgraded, make_app, database_url):  # noqa: F811
    app = make_app([], schema=False)
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE core_alembic_version SET version_num = 'core_0099'"))
    engine.dispose()
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "migrations": "unknown",
                                   "unknown": ["core_0099"]}


def test_workers_of_another_version_block_the_upgrade_until_they_stop(cli, upgraded, database_url):  # noqa: F811
    def old_worker(session):
        session.add(processes.Process(name="worker:old-host:4242", kind="worker", version="0.0.1",
                                      started_at=utcnow() - timedelta(days=1), seen_at=utcnow()))

    _with_session(database_url, old_worker)
    refused = cli("db", "upgrade")
    assert refused.exit_code == 1
    assert "workers d'une autre version tournent encore (worker:old-host:4242 (0.0.1))" in refused.output
    assert "systemctl stop coulisses-worker" in refused.output
    # a worker of this version does not block (`plugins enable` migrates while they run)
    _with_session(database_url, lambda s: processes.beat(s, "worker:this-host:1"))
    assert "worker:this-host:1" not in cli("db", "upgrade").output

    def stopped_long_ago(session):
        session.get(processes.Process, "worker:old-host:4242").seen_at = utcnow() - timedelta(minutes=10)

    _with_session(database_url, stopped_long_ago)  # killed without removing its row: its heartbeat is old
    assert cli("db", "upgrade").exit_code == 0


@pytest.mark.skipif(not cdb.__name__ or not __import__("os").environ.get("COULISSES_TEST_DATABASE_URL", "")
                    .startswith("postgresql"), reason="PostgreSQL's pg_stat_activity")
def test_on_postgresql_a_web_process_of_another_version_connected_blocks_the_upgrade(cli, upgraded,  # noqa: F811
                                                                                      database_url):
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    query = {k: v for k, v in url.query.items() if k != "application_name"}
    old_web = cdb.make_engine(url.set(query={**query, "application_name": "coulisses/0.0.1 web"}))
    with old_web.connect():
        refused = cli("db", "upgrade")
        assert refused.exit_code == 1
        assert "processus Coulisses d'une autre version sont connectés à la base (coulisses/0.0.1 web" \
            in refused.output
    old_web.dispose()
    assert cli("db", "upgrade").exit_code == 0


def test_a_disabled_plugin_behind_its_migrations_is_named(cli, database_url):
    env = {"COULISSES_PLUGINS": "contacts"}
    assert cli("db", "upgrade", env=env).exit_code == 0
    assert cli("plugins", "disable", "contacts", env=env).exit_code == 0
    from alembic.script import ScriptDirectory

    from coulisses import migrations
    from coulisses import plugins as cplugins

    infos = cplugins.discover()
    head = migrations.branch_heads(None, infos)["contacts"]
    previous = ScriptDirectory.from_config(migrations.alembic_config(None, infos)).get_revision(head).down_revision
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:  # as if a newer contacts had been installed while it was disabled
        assert conn.execute(text("UPDATE core_alembic_version SET version_num = :previous WHERE version_num = :head"),
                            {"previous": previous, "head": head}).rowcount == 1
    engine.dispose()
    result = cli("db", "upgrade", env=env)
    assert result.exit_code == 0, result.output
    assert "Le plugin contacts est désactivé et ses tables ne sont pas à jour" in result.output


def test_the_worker_records_its_heartbeat_and_version(cli, upgraded, database_url):  # noqa: F811
    assert cli("worker", "--once").exit_code == 0
    rows = _with_session(database_url, lambda s: [(p.kind, p.version) for p in processes.every(s)])
    assert rows == [("worker", coulisses.__version__)]


def test_the_doctor_says_what_is_wrong_and_what_is_fine(cli, database_url):
    empty = cli("doctor")
    assert empty.exit_code == 1
    assert "base vide : lancez `coulisses db upgrade`" in empty.output
    assert cli("db", "upgrade").exit_code == 0
    fresh = cli("doctor")
    assert fresh.exit_code == 0, fresh.output
    assert re.search(r"\[ok\] migrations +schéma à jour et conforme aux modèles", fresh.output)
    assert re.search(r"\[!!\] worker +aucun `coulisses worker` n'a jamais tourné", fresh.output)
    assert "[ok] fuseau horaire" in fresh.output and "[ok] langue" in fresh.output
    assert cli("worker", "--once").exit_code == 0
    assert re.search(r"\[ok\] worker +1 worker\(s\) actif\(s\)", cli("doctor").output)
    bad = cli("doctor", env={"COULISSES_TIMEZONE": "Europe/Atlantis", "COULISSES_ENV": "production",
                             "COULISSES_SECRET_KEY": "short"})
    assert bad.exit_code == 1
    assert "Europe/Atlantis n'est pas un fuseau horaire connu" in bad.output
    assert "COULISSES_SECRET_KEY est trop courte" in bad.output


def test_the_doctor_in_english(cli, upgraded):  # noqa: F811
    result = cli("doctor", env={"COULISSES_LOCALE": "en"})
    assert "schema up to date and matching the models" in result.output, result.output


def test_an_upgrade_from_the_previous_schema_then_its_rollback_with_the_backup(cli, database_url, tmp_path):
    """The guide's sequence: back up, upgrade; a failed upgrade rolls back by restoring the backup."""
    from alembic import command
    from sqlalchemy import inspect

    from coulisses import migrations
    from coulisses import plugins as cplugins
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:  # the schema of the release before core_0004, and its data
        command.upgrade(migrations.alembic_config(conn, cplugins.discover(), ["core"]), "core_0003")
        conn.execute(text("INSERT INTO core_setting (key, value) VALUES ('org.name', 'Théâtre du Port')"))
    engine.dispose()
    archive = tmp_path / "before-upgrade.tar.gz"
    assert cli("backup", "-o", str(archive)).exit_code == 0
    upgrade = cli("db", "upgrade")
    assert upgrade.exit_code == 0, upgrade.output

    def tables_and_names():
        engine = cdb.make_engine(database_url)
        try:
            with engine.connect() as conn:
                return (set(inspect(conn).get_table_names()),
                        conn.execute(text("SELECT value FROM core_setting WHERE key = 'org.name'")).scalars().all(),
                        sorted(migrations.current_heads(conn)))
        finally:
            engine.dispose()

    tables, names, heads = tables_and_names()
    newest = migrations.branch_heads(None, cplugins.discover())["core"]
    assert "core_process" in tables and names == ["Théâtre du Port"] and heads == [newest]
    rollback = cli("restore", "--force", str(archive))
    assert rollback.exit_code == 0, rollback.output
    tables, names, heads = tables_and_names()
    assert "core_process" not in tables and names == ["Théâtre du Port"] and heads == ["core_0003"]
    assert cli("db", "upgrade").exit_code == 0  # and the upgrade can be tried again


# --------------------------------------------------------------------------- version and changelog


def test_one_version_number_and_the_changelog_names_it():
    setup = configparser.ConfigParser()
    setup.read(REPO / "setup.cfg")
    assert setup["metadata"]["version"] == coulisses.__version__
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    released = re.findall(r"^## (\d+\.\d+\.\d+)\b", changelog, re.MULTILINE)
    assert released and released[0] == coulisses.__version__, \
        "the newest release in CHANGELOG.md must be the package's version (bump both together)"
    assert "### Upgrading" in changelog
