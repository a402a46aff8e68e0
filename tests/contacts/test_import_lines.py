"""Import must never lose a line (issue 14): a line not valid in the file's encoding, a quote never
closed, a repeated header are rejected with their line and reason, and every other line goes in —
through the service, the CLI (with its rejects file) and the API alike."""
from __future__ import annotations

import csv
import io

from click.testing import CliRunner
from sqlalchemy import func, select

from plugins.contacts.models import Contact
from plugins.contacts.services import importing
from tests.conftest import app_session

HEAD = "Civilité;Nom;Prénom;Code postal;Ville;Pays\n"


def _line(name: str, first: str = "Jean") -> str:
    return f"M;{name};{first};75012;Paris;FR\n"


def _latin1_file() -> bytes:
    return (HEAD + _line("DUPONT")).encode() + _line("MÉNARD", "Hélène").encode("latin-1") + \
        (_line("DURAND") + _line("LEROY")).encode()


def test_a_quote_never_closed_is_reported_where_it_opened_and_the_rest_goes_in(db):
    text = HEAD + _line("DUPONT") + 'M;"MARTIN;Jean;75012;Paris;FR\n' + _line("DURAND") + _line("LEROY")
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.total, report.imported, report.rejected) == (4, 3, 1)
    assert report.rejects[0].line == 3 and "guillemet" in report.rejects[0].reason
    assert sorted(db.scalars(select(Contact.last_name))) == ["DUPONT", "DURAND", "LEROY"]


def test_a_quote_never_closed_at_the_end_of_the_file(db):
    text = HEAD + _line("DUPONT") + 'M;MARTIN;"Jean\n'
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (1, 1)
    assert report.rejects[0].line == 3 and "guillemet" in report.rejects[0].reason


def test_a_quoted_value_over_two_lines_is_still_one_record(db):
    text = HEAD + 'M;"DUPONT\nROUGIER";Jean;75012;Paris;FR\n' + _line("DURAND")
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (2, 0)
    assert [r[0] for r in importing.read_rows(io.BytesIO(text.encode()), filename="x.csv")[1]] == [2, 4]


def test_a_repeated_header_is_rejected(db):
    text = HEAD + _line("DUPONT") + HEAD + _line("DURAND")
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (2, 1)
    assert report.rejects[0].line == 3 and "en-tête" in report.rejects[0].reason


def test_cli_rejects_a_latin1_line_and_imports_every_other(app, database_url, tmp_path):
    from coulisses.cli import main

    path = tmp_path / "contacts.csv"
    path.write_bytes(_latin1_file())
    rejects = tmp_path / "rejets.csv"
    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    result = CliRunner().invoke(main, ["contacts", "import", str(path), "--rejects", str(rejects)], env=env)
    assert result.exit_code == 0, result.output
    assert "Contacts importés : 3" in result.output and "Lignes rejetées : 1" in result.output
    assert "ligne 3 : ligne illisible" in result.output
    rows = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8")), delimiter=";"))
    assert len(rows) == 2 and rows[1][-1].startswith("ligne 3 : ligne illisible") and "(utf-8" in rows[1][-1]
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 3


def test_api_reads_the_same_latin1_file_the_same_way(app, api):
    response = api("supervisor").post("/api/v1/contacts/import",
                                      data={"file": (io.BytesIO(_latin1_file()), "contacts.csv")})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["imported"], body["rejected"]) == (3, 1)
    assert body["rejects"][0]["line"] == 3 and body["rejects"][0]["reason"].startswith("ligne illisible")


# --------------------------------------------------------------------------- same rules as quick creation


def test_a_contact_without_postal_code_city_or_country_is_refused_as_quick_creation_refuses_it(db):
    from coulisses import InvalidError
    from plugins.contacts.services.contacts import create_quick

    text = (HEAD + _line("DUPONT") + "M;SANSCP;Jean;;Paris;FR\n" + "M;SANSVILLE;Jean;75012;;FR\n"
            + "M;SANSPAYS;Jean;75012;Paris;\n")
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (1, 3)
    reasons = {r.line: r.reason for r in report.rejects}
    assert "Code postal : obligatoire" in reasons[3]
    assert "Ville : obligatoire" in reasons[4]
    assert "Pays : obligatoire" in reasons[5]
    for missing in ("postal_code", "city", "country"):  # quick creation refuses the same contacts
        data = {"civility": "M", "last_name": "X", "first_name": "Y", "postal_code": "75012", "city": "Paris",
                "country": "FR", missing: ""}
        try:
            create_quick(db, data)
        except InvalidError as exc:
            assert missing in exc.fields
        else:
            raise AssertionError(missing)


def test_likely_duplicates_are_reported_in_the_file_and_against_existing_contacts(db):
    from plugins.contacts.services.contacts import create_quick

    existing = create_quick(db, {"civility": "M", "last_name": "LEROY", "first_name": "Jean", "postal_code": "75012",
                                 "city": "Paris", "country": "FR"})
    text = HEAD + "MME;DUPONT;Chantal;75012;Paris;FR\n" + _line("LEROY") + "MME;Dupont;chantal;75012;PARIS;FR\n"
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (3, 0)  # a likely duplicate goes in, and is reported
    found = {d.line: d for d in report.duplicates}
    assert set(found) == {3, 4}
    assert found[3].number == existing.number and str(existing.number) in found[3].reason
    assert found[4].other_line == 2 and "ligne 2" in found[4].reason
    assert report.as_dict()["duplicates"][0]["line"] == 3


def test_contacts_contact_created_fires_for_imported_contacts(db, register_plugin):
    from plugins.contacts.registry import use_registry
    from tests.contacts.test_hooks import registry_for

    seen = []
    registry = registry_for(register_plugin,
                            contacts_contact_created=lambda session, contact: seen.append(contact.last_name))
    with use_registry(registry):
        report = importing.import_file(db, io.BytesIO((HEAD + _line("DUPONT") + _line("DURAND")).encode()),
                                       filename="x.csv")
    assert report.imported == 2 and sorted(seen) == ["DUPONT", "DURAND"]


def test_lines_ending_with_a_carriage_return_alone_are_read_one_by_one(db):
    text = (HEAD + _line("DUPONT") + 'M;"MARTIN;Jean;75012;Paris;FR\n' + _line("DURAND")).replace("\n", "\r")
    report = importing.import_file(db, io.BytesIO(text.encode()), filename="x.csv")
    assert (report.imported, report.rejected) == (2, 1) and report.rejects[0].line == 3
