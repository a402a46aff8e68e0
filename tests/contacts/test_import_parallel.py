"""The import checks the rows of a large file in a pool of processes (``import_pool``): the report,
the rejects file and the duplicates are the same, byte for byte, as when one process checks them."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from plugins.contacts.models import Contact
from plugins.contacts.services import import_pool, importing

HEAD = "Civilité;Nom;Prénom;Date de naissance;Mél;Téléphone portable;Type;Code postal;Ville;Pays\n"


def _messy_file(repeat: int = 6) -> bytes:
    """Every kind of bad line the import knows, between good lines and duplicates."""
    out = [HEAD.encode()]
    for n in range(repeat):
        lines = [
            f"M;DUPONT{n};Jean;01.02.1980;jean{n}@example.fr;06 12 34 56 78;;75012;Paris;FR\n",
            f"MME;MARTIN{n};Claire;;pas-une-adresse@;;;75012;Paris;FR\n",  # bad e-mail
            f"M;DURAND{n};Paul;;;;;75A1;Paris;FR\n",  # bad postal code
            ";;Jeanne;;;;;75012;Paris;FR\n",  # no name
            f"M;LEROY{n};Luc;;;01 23;;75012;Paris;FR\n",  # bad phone
            f"M;PETIT{n};Marc;31.02.1990;;;;75012;Paris;FR\n",  # bad birth date
            f"Zorglub;BLANC{n};Eve;;;;;75012;Paris;FR\n",  # unknown civility
            f"M;NOIR{n};Léo;;;;type-inconnu;75012;Paris;FR\n",  # unknown type
            f"M;ROUX{n};Jean;;;;;75012;Paris;Atlantide\n",  # unknown country
            f"M;VERT{n};Jean;;;;;75012;;FR\n",  # no city
            f"M;GRIS{n};Jean;;;;;75012;Paris;FR;de trop\n",  # too many columns
            HEAD,  # repeated header
            f'M;"BRUN{n};Jean;;;;;75012;Paris;FR\n',  # quote never closed
            f"M;DUPONT{n};Jean;;jean{n}@example.fr;;;75012;Paris;FR\n",  # likely duplicate of the first
            f"M;{'X' * 130}{n};Jean;;;;;75012;Paris;FR\n",  # name too long
            f"M;MOREAU{n};Anne;;;;;75012;Paris;FR\n",
        ]
        out += [line.encode() for line in lines]
        out.append(f"M;MÉNARD{n};Hélène;;;;;75012;Paris;FR\n".encode("latin-1"))  # not UTF-8
    return b"".join(out)


def _run(db, data: bytes, **kw):
    out = io.StringIO()
    report = importing.import_file(db, io.BytesIO(data), filename="x.csv", rejects_out=out, keep_rejects=10_000,
                                   **kw)
    found = report.as_dict()
    found.pop("seconds")
    return found, out.getvalue()


@pytest.mark.parametrize("dry_run", [True, False])
def test_the_parallel_path_gives_the_same_report_byte_for_byte(db, monkeypatch, dry_run):
    monkeypatch.setattr(import_pool, "CHECK_CHUNK", 7)  # many chunks in flight, taken back in order
    data = _messy_file()
    serial, serial_rejects = _run(db, data, processes=1, chunk=10, dry_run=dry_run)
    db.rollback()
    started = []
    real_start = import_pool._start_pool
    monkeypatch.setattr(import_pool, "_start_pool", lambda n: started.append(n) or real_start(n))
    parallel, parallel_rejects = _run(db, data, processes=2, parallel_min_rows=0, chunk=10, dry_run=dry_run)
    assert started == [2]
    assert parallel_rejects.encode() == serial_rejects.encode()
    assert parallel == serial
    assert serial["rejected"] == 6 * 14 and serial["imported"] == 6 * 3
    assert {"line": 15, "reason": "doublon probable de la ligne 2", "number": None, "other_line": 2} \
        in serial["duplicates"]
    if not dry_run:  # lines repeating a line written with an earlier chunk: that line's contact
        assert any(d["number"] for d in serial["duplicates"])
    reasons = " ".join(r["reason"] for r in serial["rejects"])
    for expected in ("Mél", "Code postal", "Nom : obligatoire", "Téléphone portable", "Date de naissance",
                     "Civilité", "type inconnu", "Pays inconnu", "Ville : obligatoire", "colonnes pour",
                     "en-tête répété", "guillemet", "120 caractères", "ligne illisible"):
        assert expected in reasons, expected
    if not dry_run:
        assert db.scalar(select(func.count()).select_from(Contact)) == 6 * 3


def test_a_small_file_is_checked_without_starting_processes(db, monkeypatch):
    monkeypatch.setattr(import_pool, "_start_pool", lambda n: pytest.fail("no pool for a small file"))
    report = importing.import_file(db, io.BytesIO(_messy_file(1)), filename="x.csv", processes=2)
    assert (report.imported, report.rejected) == (3, 14)


def test_a_pool_that_cannot_start_falls_back_to_this_process(db, monkeypatch):
    monkeypatch.setattr(import_pool, "_start_pool", lambda n: None)  # a daemonic process, no forkserver…
    serial, _ = _run(db, _messy_file(2), processes=1, dry_run=True)
    fallback, _ = _run(db, _messy_file(2), processes=2, parallel_min_rows=0, dry_run=True)
    assert fallback == serial


def test_a_line_repeating_a_line_of_an_earlier_chunk_is_a_duplicate_of_its_contact(db):
    names = ["DUPONT", "MARTIN", "DURAND", "LEROY", "DUPONT", "LEROY"]
    text = HEAD + "".join(f"M;{name};Jean;;;;;75012;Paris;FR\n" for name in names)
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv", chunk=3)
    first = db.scalar(select(func.min(Contact.number)).where(Contact.last_name == "DUPONT"))
    # line 6 repeats line 2, inserted with the first chunk; line 7 repeats line 5, of its own chunk
    assert [(d.line, d.number, d.other_line) for d in report.duplicates] == [(6, first, None), (7, None, 5)]


def test_processes_setting():
    assert import_pool.processes_wanted({"CONTACTS_IMPORT_PROCESSES": 1}) == 1
    assert import_pool.processes_wanted({"CONTACTS_IMPORT_PROCESSES": 3}) == 3
    assert import_pool.processes_wanted({}) >= 1


def test_each_imported_contact_has_the_created_event_emit_would_write(db):
    import json

    from coulisses.webhooks import Change
    from plugins.contacts.events import CREATED, ContactCreatedSchema

    report = importing.import_file(db, io.BytesIO(_messy_file(2)), filename="x.csv", processes=2,
                                   parallel_min_rows=0, chunk=2, commit=True)
    changes = {c.subject: c for c in db.scalars(select(Change).where(Change.event == CREATED))}
    contacts = db.scalars(select(Contact)).all()
    assert len(changes) == len(contacts) == report.imported == 6
    for contact in contacts:
        change = changes[f"contact:{contact.number}"]
        assert change.data_json == json.dumps(ContactCreatedSchema().dump(contact), default=str, sort_keys=True)
    positions = [c.position for c in changes.values()]
    assert None not in positions and len(set(positions)) == len(positions)


def test_cli_imports_a_large_file_with_the_pool_and_writes_the_same_rejects(app, database_url, tmp_path,
                                                                             monkeypatch):
    from click.testing import CliRunner

    from coulisses.cli import main
    from tests.conftest import app_session

    path = tmp_path / "contacts.csv"
    path.write_bytes(_messy_file(3))
    expected = io.StringIO()
    with app_session(app) as s:
        serial = importing.import_file(s, str(path), rejects_out=expected, processes=1, dry_run=True)
        s.rollback()
    monkeypatch.setattr(import_pool, "PARALLEL_MIN_ROWS", 0)
    monkeypatch.setattr(import_pool, "CHECK_CHUNK", 5)
    started = []
    real_start = import_pool._start_pool
    monkeypatch.setattr(import_pool, "_start_pool", lambda n: started.append(n) or real_start(n))
    rejects = tmp_path / "rejets.csv"
    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path), "COULISSES_CONTACTS_IMPORT_PROCESSES": "2"}
    result = CliRunner().invoke(main, ["contacts", "import", str(path), "--rejects", str(rejects)], env=env)
    assert result.exit_code == 0, result.output
    assert started == [2]
    assert rejects.read_bytes() == expected.getvalue().encode()
    assert f"Contacts importés : {serial.imported}" in result.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == serial.imported
