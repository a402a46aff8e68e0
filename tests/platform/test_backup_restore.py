"""`coulisses backup` and `coulisses restore` (issue 15): back up, change and delete data, restore,
and every count, amount and stored file is back — on SQLite and PostgreSQL."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from coulisses import db as cdb
from tests.conftest import PASSWORD

TILL_INIT = '''\
import coulisses

MANIFEST = coulisses.Manifest(name="tp_till", version="1.0", label="Till")
'''

TILL_MODELS = '''\
from decimal import Decimal

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from coulisses.db import Base, Money


class TillSale(Base):
    __tablename__ = "tp_till_sale"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    amount: Mapped[Decimal] = mapped_column(Money)
'''

TILL_MIGRATION = '''\
from alembic import op
import sqlalchemy as sa

import coulisses.db

revision = "tp_till_0001"
down_revision = None
branch_labels = ("tp_till",)
depends_on = "core_0001"


def upgrade():
    op.create_table("tp_till_sale", sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("label", sa.String(length=80), nullable=False),
                    sa.Column("amount", coulisses.db.Money(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_tp_till_sale")))


def downgrade():
    op.drop_table("tp_till_sale")
'''


@pytest.fixture(scope="session")
def till_package(tmp_path_factory):
    """A plugin ``tp_till`` with one table holding money amounts, and its migration."""
    import importlib
    import sys

    site = tmp_path_factory.mktemp("till_site")
    root = site / "tp_till"
    (root / "migrations").mkdir(parents=True)
    (root / "__init__.py").write_text(TILL_INIT)
    (root / "models.py").write_text(TILL_MODELS)
    (root / "migrations" / "tp_till_0001_sales.py").write_text(TILL_MIGRATION)
    sys.path.insert(0, str(site))
    try:
        module = importlib.import_module("tp_till")
        importlib.import_module("tp_till.models")
    finally:
        sys.path.remove(str(site))
    return module


@pytest.fixture
def filled(cli, till_package, register_plugin, database_url):
    """A migrated database with an operator, three sales (money) and two stored files."""
    register_plugin(till_package)
    env = {"COULISSES_PLUGINS": "tp_till"}
    result = cli("db", "upgrade", env=env)
    assert result.exit_code == 0, result.output
    assert cli("operators", "create", "marie", "--password", PASSWORD).exit_code == 0
    from coulisses import files
    from tp_till.models import TillSale

    engine = cdb.make_engine(database_url)
    with Session(engine) as session:
        session.add_all([TillSale(label="Carmen", amount=Decimal("42.50")),
                         TillSale(label="Tosca", amount=Decimal("18.00")),
                         TillSale(label="Remboursement", amount=Decimal("-18.00"))])
        files.store(session, b"%PDF-1.4 facture F-0001", "facture-F-0001.pdf", "application/pdf", purpose="invoice")
        files.store(session, bytes(range(256)) * 40, "billets.bin", "application/octet-stream")
        session.commit()
    engine.dispose()
    return env


def _state(database_url):
    """What a person would check: operators, sales and their total, the files' bytes."""
    from coulisses import files

    engine = cdb.make_engine(database_url)
    try:
        with Session(engine) as session:
            logins = sorted(session.execute(text("SELECT login FROM core_operator")).scalars())
            sales = session.execute(text("SELECT label, amount FROM tp_till_sale ORDER BY id")).all()
            stored = {f.name: files.read(session, f) for f in session.query(files.StoredFile).order_by("id")}
    finally:
        engine.dispose()
    return logins, [tuple(row) for row in sales], stored


def _change_and_delete(database_url):
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE tp_till_sale SET amount = 99999 WHERE label = 'Carmen'"))
        conn.execute(text("DELETE FROM tp_till_sale WHERE label = 'Tosca'"))
        conn.execute(text("DELETE FROM core_file WHERE name = 'billets.bin'"))
        conn.execute(text("INSERT INTO tp_till_sale (label, amount) VALUES ('Intrus', 100)"))
        conn.execute(text("DELETE FROM core_operator_role"))
        conn.execute(text("DELETE FROM core_operator"))
    engine.dispose()


def test_backup_change_delete_restore_and_every_figure_is_back(cli, filled, database_url, tmp_path):
    before = _state(database_url)
    archive = tmp_path / "nightly.tar.gz"
    result = cli("backup", "-o", str(archive), env=filled)
    assert result.exit_code == 0, result.output
    assert "Sauvegarde écrite" in result.output and "2 fichiers stockés" in result.output
    assert archive.stat().st_mode & 0o077 == 0  # the organisation's data: its owner only

    _change_and_delete(database_url)
    assert _state(database_url) != before

    refused = cli("restore", str(archive), env=filled)
    assert refused.exit_code == 1
    assert "contient déjà des données" in refused.output and "--force" in refused.output
    assert "tp_till_sale : 3" in refused.output  # what would be replaced
    changed = _state(database_url)
    restored = cli("restore", "--force", str(archive), env=filled)
    assert restored.exit_code == 0, restored.output
    assert "restaurée et vérifiée" in restored.output and "2 fichiers stockés identiques" in restored.output
    logins, sales, stored = _state(database_url)
    assert (logins, sales, stored) == before
    # what --force replaced was saved first, and can itself be restored: nothing is lost by --force
    safety = list((tmp_path / "instance" / "backups").glob("before-restore-coulisses-*.tar.gz"))
    assert len(safety) == 1 and str(safety[0]) in restored.output
    assert cli("restore", "--force", "--no-safety-backup", str(safety[0]), env=filled).exit_code == 0
    assert _state(database_url) == changed
    assert cli("restore", "--force", "--no-safety-backup", str(archive), env=filled).exit_code == 0
    assert sales == [("Carmen", 4250), ("Tosca", 1800), ("Remboursement", -1800)]
    assert stored["facture-F-0001.pdf"] == b"%PDF-1.4 facture F-0001"
    # the restored database is a working one: current, and it logs the operator in
    assert cli("db", "check", env=filled).exit_code == 0
    assert cli("doctor", env=filled).exit_code == 0


def test_the_manifest_records_counts_amounts_files_and_versions(cli, filled, tmp_path):
    import coulisses

    archive = tmp_path / "b.tar.gz"
    assert cli("backup", "-o", str(archive), env=filled).exit_code == 0
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("coulisses-backup.json").read())
        assert set(tar.getnames()) == {"coulisses-backup.json", manifest["member"]}
    assert manifest["coulisses"] == coulisses.__version__ and manifest["plugins"]["tp_till"] == "1.0"
    assert manifest["summary"]["tables"]["tp_till_sale"] == 3
    assert manifest["summary"]["amounts"]["tp_till_sale.amount"] == 4250  # 42.50 + 18.00 - 18.00, in cents
    assert manifest["summary"]["files"]["count"] == 2
    assert "tp_till_0001" in manifest["revisions"]


def test_restore_into_a_new_empty_database_needs_no_force(cli, filled, database_url, tmp_path, is_postgres):
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", "-o", str(archive), env=filled).exit_code == 0
    before = _state(database_url)
    target = database_url
    if is_postgres:  # the same schema, emptied (a new database's public schema is the same case)
        engine = cdb.make_engine(database_url)
        with engine.begin() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    else:
        target = f"sqlite:///{tmp_path}/new.db"
    env = {**filled, "COULISSES_DATABASE_URL": target}
    result = cli("restore", str(archive), env=env)
    assert result.exit_code == 0, result.output
    assert _state(target) == before


def test_a_backup_while_a_transaction_is_open_is_consistent_and_does_not_wait(cli, filled, database_url, tmp_path):
    engine = cdb.make_engine(database_url)
    writer = engine.connect()
    try:
        writer.begin()
        writer.execute(text("INSERT INTO tp_till_sale (label, amount) VALUES ('pas encore', 500)"))
        archive = tmp_path / "live.tar.gz"
        result = cli("backup", "-o", str(archive), env=filled)
        assert result.exit_code == 0, result.output
        writer.commit()
    finally:
        writer.close()
        engine.dispose()
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("coulisses-backup.json").read())
    assert manifest["summary"]["tables"]["tp_till_sale"] == 3  # the uncommitted sale is not in it
    assert manifest["summary"]["amounts"]["tp_till_sale.amount"] == 4250


def _rewrite(archive, target, change):
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    manifest = json.loads(members["coulisses-backup.json"])
    change(manifest, members)
    members["coulisses-backup.json"] = json.dumps(manifest).encode()
    with tarfile.open(target, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_restore_refuses_a_damaged_archive_a_newer_version_and_another_database_kind(cli, filled, database_url,
                                                                                     tmp_path):
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", "-o", str(archive), env=filled).exit_code == 0
    before = _state(database_url)

    def damage(manifest, members):
        members[manifest["member"]] = members[manifest["member"]][:-10] + b"0123456789"

    def newer(manifest, members):
        manifest["revisions"].append("core_9999")
        manifest["coulisses"] = "9.0.0"

    def other_kind(manifest, members):
        manifest["database"] = "postgresql" if manifest["database"] == "sqlite" else "sqlite"

    expected = {damage: "abîmée", newer: "Coulisses 9.0.0, dont les révisions core_9999", other_kind: "base"}
    for change, message in expected.items():
        bad = tmp_path / f"{change.__name__}.tar.gz"
        _rewrite(archive, bad, change)
        result = cli("restore", "--force", str(bad), env=filled)
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("bonjour")
    result = cli("restore", str(not_a_backup), env=filled)
    assert result.exit_code == 1 and "n'est pas une sauvegarde de Coulisses" in result.output
    assert _state(database_url) == before  # nothing was touched
    assert not (tmp_path / "instance" / "backups").exists()  # nor saved: refused before anything


def test_backup_never_overwrites_an_existing_file(cli, filled, tmp_path):
    archive = tmp_path / "b.tar.gz"
    archive.write_text("an older backup")
    result = cli("backup", "-o", str(archive), env=filled)
    assert result.exit_code == 1 and "existe déjà" in result.output
    assert archive.read_text() == "an older backup"
    in_folder = cli("backup", "-o", str(tmp_path), env=filled)  # a folder: a dated name in it
    assert in_folder.exit_code == 0, in_folder.output
    assert len(list(tmp_path.glob("coulisses-*.tar.gz"))) == 1


def test_without_pg_dump_the_message_says_what_to_install(cli, filled, monkeypatch, is_postgres, tmp_path):
    from coulisses import backup

    real_which = shutil.which
    monkeypatch.setattr(backup.shutil, "which", lambda name: None if name.startswith("pg_") else real_which(name))
    with pytest.raises(backup.BackupError, match="pg_dump est introuvable : installez les outils clients"):
        backup._pg_tool("pg_dump")
    if is_postgres:
        result = cli("backup", "-o", str(tmp_path / "b.tar.gz"), env=filled)
        assert result.exit_code == 1 and "postgresql-client" in result.output
        assert not (tmp_path / "b.tar.gz").exists()


def test_the_password_goes_to_pg_dump_through_its_environment_not_its_command_line():
    from coulisses import backup

    engine = cdb.make_engine("postgresql+psycopg://owner:s3cr%40t@db.example:5433/coulisses?sslmode=require")
    env = backup.pg_environment(engine)
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGSSLMODE"]) == \
        ("db.example", "5433", "owner", "s3cr@t", "coulisses", "require")
    engine.dispose()
