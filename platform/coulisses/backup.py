"""``coulisses backup`` and ``coulisses restore``: the whole database, stored files included.

A backup is one ``.tar.gz`` archive holding:

- ``coulisses-backup.json``: the manifest — format, when, the Coulisses and plugin versions, the
  database kind and schema, the schema revisions, and a *summary* of the content taken from the same
  snapshot as the copy: each table's row count, the total of each money column, the stored files'
  count, size and SHA-256 list;
- ``database.sqlite3``: SQLite's own online backup (``sqlite3.Connection.backup``), consistent while
  Coulisses runs (a copy of the file is not, in WAL mode); or ``database.pgdump``: ``pg_dump
  --format=custom`` of the schema, taken inside a transaction whose snapshot the summary also reads.

The files Coulisses keeps (documents, report runs, import rejects: ``coulisses.files``) live in the
database (``core_file``), so they are in the copy; the manifest lists them so that the restore checks
each one against its SHA-256.

A restore refuses a database that holds data unless ``force`` (then the tables there are dropped
first), refuses a backup of another database kind or made by a newer Coulisses, restores, and
compares the restored content with the manifest's summary: every count, every amount, every file.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, inspect, select, table, column, text
from sqlalchemy.engine import Connection, Engine, make_url

import coulisses
from coulisses import CoulissesError, migrations
from coulisses.db import Money, load_core_models, metadata, utcnow
from coulisses.i18n import gettext as _

FORMAT = 1
MANIFEST = "coulisses-backup.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"


class BackupError(CoulissesError):
    """A backup or a restore that cannot be done; the message says why and what to do."""


# --------------------------------------------------------------------------- the content summary


def summary(connection: Connection) -> dict:
    """What the database holds: rows per table, the total of each money column (minor units), the
    stored files (count, bytes, SHA-256 of each). Compared before and after a restore."""
    load_core_models()
    names = sorted(n for n in inspect(connection).get_table_names() if n != migrations.VERSION_TABLE)
    tables, amounts = {}, {}
    for name in names:
        tables[name] = connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        model = metadata.tables.get(name)
        if model is None:
            continue
        for col in model.columns:
            if isinstance(col.type, Money):
                total = connection.execute(select(func.coalesce(func.sum(column(col.name)), 0))
                                           .select_from(table(name))).scalar_one()
                amounts[f"{name}.{col.name}"] = int(total)
    files = {"count": 0, "bytes": 0, "sha256": []}
    if "core_file" in tables:
        rows = connection.execute(text("SELECT id, size, sha256 FROM core_file ORDER BY id")).all()
        files = {"count": len(rows), "bytes": sum(int(r[1]) for r in rows), "sha256": [r[2] for r in rows]}
    return {"tables": tables, "amounts": amounts, "files": files}


def differences(expected: dict, found: dict) -> list[str]:
    """What differs between two summaries, one line each (empty: the same content)."""
    lines = []
    for name in sorted(set(expected["tables"]) | set(found["tables"])):
        a, b = expected["tables"].get(name), found["tables"].get(name)
        if a != b:
            lines.append(_("table %(table)s : %(expected)s lignes attendues, %(found)s trouvées",
                           table=name, expected=a if a is not None else "-", found=b if b is not None else "-"))
    for name in sorted(set(expected["amounts"]) | set(found["amounts"])):
        a, b = expected["amounts"].get(name), found["amounts"].get(name)
        if a != b:
            lines.append(_("montants %(column)s : total %(expected)s attendu, %(found)s trouvé",
                           column=name, expected=a, found=b))
    if expected["files"] != found["files"]:
        lines.append(_("fichiers stockés : %(expected)s attendus (%(bytes)s octets), %(found)s trouvés",
                       expected=expected["files"]["count"], bytes=expected["files"]["bytes"],
                       found=found["files"]["count"]))
    return lines


def verify_files(connection: Connection) -> list[str]:
    """Each stored file read back and checked against its SHA-256 (the ids of those that fail)."""
    bad = []
    if not inspect(connection).has_table("core_file"):
        return bad
    for file_id, sha, data in connection.execute(text("SELECT id, sha256, data FROM core_file ORDER BY id")):
        if hashlib.sha256(bytes(data)).hexdigest() != sha:
            bad.append(str(file_id))
    return bad


def _revisions(connection: Connection) -> list[str]:
    if not inspect(connection).has_table(migrations.VERSION_TABLE):
        return []
    return sorted(migrations.current_heads(connection))


def holds_data(connection: Connection) -> dict[str, int]:
    """The tables of the target that hold rows (empty: nothing would be overwritten)."""
    rows = {}
    for name in inspect(connection).get_table_names():
        if name == migrations.VERSION_TABLE:
            continue
        count = connection.execute(select(func.count()).select_from(table(name))).scalar_one()
        if count:
            rows[name] = count
    return rows


# --------------------------------------------------------------------------- backup


def default_name(now: datetime | None = None) -> str:
    return f"coulisses-{(now or utcnow()):%Y%m%d-%H%M%S}.tar.gz"


def backup(engine: Engine, infos: dict, destination: Path) -> dict:
    """Write the backup archive ``destination``; returns its manifest."""
    destination = Path(destination)
    if destination.exists():
        raise BackupError(_("%(path)s existe déjà : choisissez un autre nom.", path=str(destination)))
    if not destination.parent.is_dir():
        raise BackupError(_("Le dossier %(path)s n'existe pas.", path=str(destination.parent)))
    with tempfile.TemporaryDirectory(prefix="coulisses-backup-") as work:
        work = Path(work)
        if engine.dialect.name == "sqlite":
            member, details = SQLITE_MEMBER, _backup_sqlite(engine, work / SQLITE_MEMBER)
        elif engine.dialect.name == "postgresql":
            member, details = PG_MEMBER, _backup_postgresql(engine, work / PG_MEMBER)
        else:
            raise BackupError(_("Base de données %(kind)s : ni SQLite ni PostgreSQL.", kind=engine.dialect.name))
        manifest = {
            "format": FORMAT, "created_at": utcnow().isoformat(), "coulisses": coulisses.__version__,
            "plugins": {name: info.version for name, info in sorted(infos.items())},
            "database": engine.dialect.name, "member": member,
            "sha256": hashlib.sha256((work / member).read_bytes()).hexdigest(), **details,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        partial = destination.with_name(destination.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / MANIFEST, MANIFEST)
            archive.add(work / member, member)
        os.chmod(partial, 0o600)  # the data of the organisation: readable by its owner only
        partial.rename(destination)
    return manifest


def _backup_sqlite(engine: Engine, target: Path) -> dict:
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(copy)  # one step: one consistent snapshot
        finally:
            copy.close()
    finally:
        raw.close()
    from coulisses.db import make_engine

    snapshot = make_engine(f"sqlite:///{target}")
    try:
        with snapshot.connect() as conn:
            details = {"schema": "main", "revisions": _revisions(conn), "summary": summary(conn)}
    finally:
        snapshot.dispose()
    # back to a single file (the copy was opened in WAL mode)
    done = sqlite3.connect(target)
    done.execute("PRAGMA journal_mode=DELETE")
    done.close()
    return details


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(_("%(tool)s est introuvable : installez les outils clients de PostgreSQL (Debian : "
                            "apt-get install postgresql-client, de la version du serveur ou plus récente).",
                            tool=name))
    return found


def pg_environment(engine: Engine) -> dict[str, str]:
    """The libpq environment of ``engine``'s URL: the password never on a command line."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username, "PGPASSWORD": url.password,
              "PGDATABASE": url.database}
    query = dict(url.query)
    for key, var in (("options", "PGOPTIONS"), ("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"),
                     ("sslcert", "PGSSLCERT"), ("sslkey", "PGSSLKEY"), ("host", "PGHOST"), ("port", "PGPORT")):
        if key in query:
            values[var] = query[key] if isinstance(query[key], str) else query[key][0]
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(_("%(tool)s a échoué : %(error)s", tool=what,
                            error=(result.stderr or result.stdout).strip()[-2000:]))


def _backup_postgresql(engine: Engine, target: Path) -> dict:
    pg_dump = _pg_tool("pg_dump")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            # pg_dump --schema leaves the extensions out (pg_trgm): the restore creates them again
            extensions = [list(row) for row in conn.execute(text(
                "SELECT e.extname, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                "WHERE e.extname <> 'plpgsql' ORDER BY e.extname")).all()]
            details = {"schema": schema, "revisions": _revisions(conn), "summary": summary(conn),
                       "extensions": extensions}
            # pg_dump reads the very snapshot the summary was taken from, while it is held open
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--schema={schema}", "--no-owner",
                  "--no-privileges", f"--file={target}"], pg_environment(engine), "pg_dump")
    return details


# --------------------------------------------------------------------------- restore


def read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            handle = archive.extractfile(MANIFEST)
            manifest = json.loads(handle.read()) if handle is not None else None
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(_("%(path)s n'est pas une sauvegarde de Coulisses lisible.", path=str(archive_path)))
    return manifest


def _member_digest(archive_path: Path, member: str) -> str:
    digest = hashlib.sha256()
    with tarfile.open(archive_path, "r:*") as archive:
        handle = archive.extractfile(member)
        if handle is None:
            raise KeyError(member)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_archive(engine: Engine, infos: dict, archive_path: Path, *, force: bool = False) -> dict:
    """Everything ``restore`` refuses, checked before anything is changed; returns the manifest."""
    from alembic.script import ScriptDirectory

    manifest = read_manifest(archive_path)
    kind = engine.dialect.name
    if manifest["database"] != kind:
        raise BackupError(_("Cette sauvegarde est celle d'une base %(backup)s : elle ne se restaure que dans une "
                            "base %(backup)s, pas %(target)s.", backup=manifest["database"], target=kind))
    script = ScriptDirectory.from_config(migrations.alembic_config(None, infos))
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = [rev for rev in manifest["revisions"] if rev not in known]
    if unknown:
        raise BackupError(_("Cette sauvegarde vient de Coulisses %(version)s, dont les révisions %(revisions)s sont "
                            "inconnues de la version installée (%(installed)s) : installez %(version)s (et ses "
                            "plugins) pour la restaurer.", version=manifest["coulisses"],
                            revisions=", ".join(unknown), installed=coulisses.__version__))
    try:
        intact = _member_digest(archive_path, manifest["member"]) == manifest["sha256"]
    except (OSError, tarfile.TarError, KeyError):
        intact = False
    if not intact:
        raise BackupError(_("La sauvegarde %(path)s est abîmée (son contenu ne correspond pas à son empreinte "
                            "SHA-256) : rien n'a été restauré.", path=str(archive_path)))
    with engine.connect() as conn:
        existing = holds_data(conn)
        schema = conn.execute(text("SELECT current_schema()")).scalar_one() if kind == "postgresql" else "main"
    if existing and not force:
        raise BackupError(_("La base cible contient déjà des données (%(tables)s) : la restauration les "
                            "remplacerait. Restaurez dans une base vide, ou ajoutez --force pour les remplacer "
                            "(sauvegardez-les d'abord).",
                            tables=", ".join(f"{name} : {count}" for name, count in sorted(existing.items())[:8])
                            + (" …" if len(existing) > 8 else "")))
    if kind == "postgresql" and schema != manifest["schema"]:
        raise BackupError(_("Cette sauvegarde est celle du schéma « %(backup)s » ; la base cible utilise le schéma "
                            "« %(target)s ». Restaurez-la dans une base dont le schéma est « %(backup)s ».",
                            backup=manifest["schema"], target=schema))
    return manifest


def restore(engine: Engine, infos: dict, archive_path: Path, *, force: bool = False) -> dict:
    """Restore ``archive_path`` into ``engine``'s database; returns ``{"manifest", "differences",
    "bad_files"}`` (both lists empty: every count, amount and file is back)."""
    manifest = check_archive(engine, infos, archive_path, force=force)
    with tempfile.TemporaryDirectory(prefix="coulisses-restore-") as work:
        member = Path(work) / manifest["member"]
        with tarfile.open(archive_path, "r:*") as archive:
            archive.extract(manifest["member"], work, filter="data")
        if hashlib.sha256(member.read_bytes()).hexdigest() != manifest["sha256"]:
            raise BackupError(_("La sauvegarde %(path)s est abîmée (son contenu ne correspond pas à son empreinte "
                                "SHA-256) : rien n'a été restauré.", path=str(archive_path)))
        if engine.dialect.name == "sqlite":
            _restore_sqlite(engine, member)
        else:
            _restore_postgresql(engine, member, manifest["schema"], Path(work), manifest.get("extensions", []),
                                set(manifest["summary"]["tables"]))
    engine.dispose()
    with engine.connect() as conn:
        found = summary(conn)
        bad = verify_files(conn)
    return {"manifest": manifest, "differences": differences(manifest["summary"], found), "bad_files": bad}


def _restore_sqlite(engine: Engine, source_path: Path) -> None:
    engine.dispose()
    source = sqlite3.connect(source_path)
    raw = engine.raw_connection()
    try:
        # the backup API writes every page of the target in one transaction: other connections see
        # the old database or the restored one, never a mixture; no -wal/-shm file to delete
        source.backup(raw.driver_connection)
    finally:
        raw.close()
        source.close()
    engine.dispose()


def _drop_tables_not_in(engine: Engine, schema: str, kept: set[str]) -> None:
    """Drop the tables of ``schema`` the backup does not have (a plugin enabled after it)."""
    with engine.begin() as conn:
        for (name,) in conn.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')"),
                {"schema": schema}).all():
            if name not in kept:
                conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{name}" CASCADE'))


def _restore_postgresql(engine: Engine, dump: Path, schema: str, work: Path, extensions: list,
                        tables: set[str]) -> None:
    pg_restore = _pg_tool("pg_restore")
    with engine.begin() as conn:
        for name, where in extensions:
            conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}" WITH SCHEMA "{where}"'))
    env = pg_environment(engine)
    listing = subprocess.run([pg_restore, "--list", str(dump)], env=env, capture_output=True, text=True)
    if listing.returncode != 0:
        raise BackupError(_("%(tool)s a échoué : %(error)s", tool="pg_restore", error=listing.stderr.strip()))
    # the schema exists already (created with the database): restore what is in it
    kept = [line for line in listing.stdout.splitlines()
            if " SCHEMA " not in line]
    (work / "restore.list").write_text("\n".join(kept) + "\n")
    engine.dispose()
    _drop_tables_not_in(engine, schema, {*tables, migrations.VERSION_TABLE})
    engine.dispose()
    # --clean: the tables there are dropped and restored in one transaction; if it fails, nothing changed
    _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--clean",
          "--if-exists",
          f"--use-list={work / 'restore.list'}", f"--dbname={env.get('PGDATABASE', '')}", str(dump)],
         env, "pg_restore")
