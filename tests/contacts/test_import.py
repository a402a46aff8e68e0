"""Import of contact files: mapping, validation per row, dry run, report, rejected lines, CSV and XLSX
(service, REST, screen, CLI with its progress bar)."""
from __future__ import annotations

import csv
import io
import random

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from coulisses import InvalidError
from plugins.contacts.models import Address, Contact
from plugins.contacts.services import bulk, importing
from plugins.contacts.services import validation as v
from plugins.contacts.services.normalize import search_columns
from plugins.contacts.services.search import quick_search
from tests.conftest import app_session, csrf_token_of

GOOD_AND_BAD = (
    "Civilité;Nom;Prénom;Mél;Téléphone portable;Adresse;Code postal;Ville;Pays;Notes internes\n"
    "Madame;Dupont-Rougier;céline;celine@example.org;06 12 34 56 78;12 rue de la Paix;75012;Paris;FRANCE;x\n"
    "Monsieur;Martin;Jean;pas-une-adresse@;;;75012;Paris;FR;\n"
    ";;Sans nom;;;;;;;\n"
    "M;Durand;Paul;;+33 7 81 23 45 67;1 place Bellecour;69002;Lyon;FR;\n"
    "Mme;Lefèvre;Anne;;;;7000;Privas;France;\n"
    "Dr;Nguyen;Lan;lan@example.org;;;75O12;Paris;FR;\n"
)


def _report(db, text, **kw):
    return importing.import_file(db, io.BytesIO(text.encode("utf-8")), filename="contacts.csv", **kw)


def test_default_mapping_reads_french_and_english_headers():
    mapping = importing.default_mapping(["Nom", "Prénom", "Civilité", "Mél", "Téléphone portable", "Code postal",
                                         "Ville", "Pays", "Adresse", "E-mail", "Last name", "Zip", "Other"])
    assert mapping == {"Nom": "last_name", "Prénom": "first_name", "Civilité": "civility", "Mél": "email",
                       "Téléphone portable": "mobile_phone", "Code postal": "postal_code", "Ville": "city",
                       "Pays": "country", "Adresse": "line1", "E-mail": "", "Last name": "", "Zip": "",
                       "Other": ""}
    assert importing.default_mapping(["First name", "Last name", "Email", "Mobile", "Zip code", "City"]) == {
        "First name": "first_name", "Last name": "last_name", "Email": "email", "Mobile": "mobile_phone",
        "Zip code": "postal_code", "City": "city"}


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_go_in(db):
    out = io.StringIO()
    report = _report(db, GOOD_AND_BAD, rejects_out=out)
    db.commit()
    assert (report.total, report.imported, report.rejected) == (6, 3, 3)
    reasons = {r.line: r.reason for r in report.rejects}
    assert set(reasons) == {3, 4, 7}
    assert reasons[3].startswith("Mél : Adresse e-mail non valide")
    assert reasons[4] == "Nom : obligatoire; Civilité : Civilité inconnue : Sans nom" or "Nom : obligatoire" in reasons[4]
    assert "Code postal" in reasons[7] and "75O12" in reasons[7]
    assert report.unmapped == ["Notes internes"]
    celine = db.scalar(select(Contact).where(Contact.search_last == "dupont rougier"))
    assert (celine.last_name, celine.first_name, celine.civility, celine.email, celine.mobile_phone) == (
        "DUPONT-ROUGIER", "Céline", "MME", "celine@example.org", "+33612345678")
    assert (celine.main_address.postal_code, celine.main_address.city, celine.main_address.country) == ("75012", "PARIS", "FR")
    anne = db.scalar(select(Contact).where(Contact.last_name == "LEFÈVRE"))
    assert anne.main_address.postal_code == "07000"  # the spreadsheet dropped the leading zero
    # numbers from the sequence, consecutive; search columns as the ORM computes them
    assert report.last_number - report.first_number == 2
    for c in db.scalars(select(Contact)):
        expected = search_columns(c.kind, c.last_name, c.first_name, c.structure_name, c.email)
        assert {k: getattr(c, k) for k in expected} == expected
    assert [h.label for h in quick_search(db, "celine")] == ["DUPONT-ROUGIER, Céline | FR-75012 [%d]" % celine.number]
    # the rejected lines, downloadable: original columns + erreur
    rows = list(csv.reader(io.StringIO(out.getvalue()), delimiter=";"))
    assert rows[0][-1] == "erreur" and len(rows) == 4
    assert rows[1][:3] == ["Monsieur", "Martin", "Jean"] and rows[1][-1].startswith("ligne 3 : Mél")
    # the ORM sees the imported contacts like any other
    from plugins.contacts.services.contacts import create_quick

    after = create_quick(db, {"civility": "M", "last_name": "APRES", "first_name": "Import", "country": "FR",
                              "postal_code": "75001", "city": "PARIS"})
    assert after.number == report.last_number + 1


def test_dry_run_validates_everything_and_writes_nothing(db):
    report = _report(db, GOOD_AND_BAD, dry_run=True)
    assert (report.imported, report.rejected) == (3, 3) and report.first_number is None
    assert db.scalar(select(func.count()).select_from(Contact)) == 0


def test_explicit_mapping_and_structures(db):
    text = "Raison sociale,Surname,Given,Code,SIRET,Ville\nTHEATRE DU CHATELET,,,75001,,PARIS\n,Smith,John,75002,,PARIS\n"
    with pytest.raises(InvalidError):
        _report(db, text, mapping={"Given": "nope"})
    report = _report(db, text, mapping={"Surname": "last_name", "Given": "first_name", "Code": "postal_code"})
    assert report.rejected == 0 and report.imported == 2
    theatre = db.scalar(select(Contact).where(Contact.kind == "structure"))
    assert theatre.structure_name == "THEATRE DU CHATELET" and theatre.type_code == "structure"
    assert theatre.main_address.postal_code == "75001"


def test_a_file_without_name_column_is_refused_as_a_whole(db):
    with pytest.raises(InvalidError, match="Aucune colonne Nom"):
        _report(db, "Foo;Bar\n1;2\n")


def test_a_line_in_another_encoding_is_rejected_not_lost(db):
    data = ("Nom;Prénom;CP;Ville\nDUPONT;Jean;75001;Paris\n".encode() + "MÉNARD;Hélène;75001;Paris\n".encode("latin-1")
            + "DURAND;Paul;75001;Paris\n".encode())
    report = importing.import_file(db, io.BytesIO(data), filename="x.csv")
    assert (report.imported, report.rejected) == (2, 1)
    assert report.rejects[0].line == 3 and "encodage" in report.rejects[0].reason


def test_xlsx_is_read_like_csv(db, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Nom", "Prénom", "Code postal", "Ville", "Date de naissance"])
    ws.append(["Shapira", "Michel", 7000, "Freyssenet", "08.07.2000"])
    ws.append(["Akoka", "Viviane", 75005, "Paris", None])
    ws.append([None, "Sans", 75005, "Paris", None])
    path = tmp_path / "contacts.xlsx"
    wb.save(path)
    report = importing.import_file(db, path)
    assert (report.imported, report.rejected) == (2, 1) and report.rejects[0].line == 4
    michel = db.scalar(select(Contact).where(Contact.last_name == "SHAPIRA"))
    assert michel.main_address.postal_code == "07000" and michel.birth_date.isoformat() == "2000-07-08"


def test_fast_paths_agree_with_the_domain_validation():
    validator = importing.RowValidator()
    rnd = random.Random(5)
    for _ in range(3000):
        national = str(rnd.randint(1, 9)) + "".join(str(rnd.randint(0, 9)) for _ in range(8))
        for text in ("0" + national, "+33 " + national, "0" + " ".join([national[:1], national[1:3], national[3:5],
                                                                           national[5:7], national[7:]])):
            try:
                expected = v.parse_phone(text, "FR")
            except ValueError:
                expected = "error"
            try:
                got = validator.phone(text, "FR")
            except ValueError:
                got = "error"
            assert got == expected, text
    for mail in ("a@b.fr", "Jean.Dupont@Example.ORG", "x@localhost", "a..b@c.fr", "a@b.test", "é@b.fr",
                 "jean+promo@gmail.com", "j@b.c", "a@-b.fr", "a@b.fr."):
        try:
            expected = v.parse_email(mail)
        except ValueError:
            expected = "error"
        try:
            got = validator.email(mail)
        except ValueError:
            got = "error"
        assert got == expected, mail
    assert bulk.search_values("individual", "DUPONT-ROUGIER", "Céline", "", "A@B.fr") == search_columns(
        "individual", "DUPONT-ROUGIER", "Céline", "", "A@B.fr")


def test_rest_import_dry_run_then_import(app, api):
    files = lambda: {"file": (io.BytesIO(GOOD_AND_BAD.encode()), "contacts.csv")}  # noqa: E731
    assert api("operator").post("/api/v1/contacts/import", data=files()).status_code == 403
    client = api("supervisor")
    dry = client.post("/api/v1/contacts/import", data={**files(), "dry_run": "true"})
    assert dry.status_code == 200, dry.get_json()
    body = dry.get_json()
    assert (body["dry_run"], body["imported"], body["rejected"]) == (True, 3, 3)
    assert body["rejects"][0]["line"] == 3
    done = client.post("/api/v1/contacts/import", data=files()).get_json()
    assert done["imported"] == 3
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 3
    assert client.post("/api/v1/contacts/import", data={}).status_code == 422


def test_screen_upload_preview_dry_run_import_and_rejects_download(app, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    page = client.get("/admin/contacts/import/")
    token = csrf_token_of(page.get_data(as_text=True))
    sent = client.post("/admin/contacts/import/", data={"csrf_token": token,
                                                       "file": (io.BytesIO(GOOD_AND_BAD.encode()), "contacts.csv")},
                       content_type="multipart/form-data")
    assert sent.status_code == 302
    preview = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Dupont-Rougier" in preview and '<option value="last_name" selected' in preview
    run_url = sent.headers["Location"].rstrip("/") + "/run"
    mapping = {f"map_{i}": f for i, f in enumerate(
        ["civility", "last_name", "first_name", "email", "mobile_phone", "line1", "postal_code", "city", "country", ""])}
    dry = client.post(run_url, data={"csrf_token": token, "action": "dry_run", **mapping}).get_data(as_text=True)
    assert "essai" in dry and "Lignes rejetées" in dry and "ligne" not in dry.split("Lignes rejetées")[0][-5:]
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
    done = client.post(run_url, data={"csrf_token": token, "action": "import", **mapping}).get_data(as_text=True)
    assert 'data-testid="imported">3<' in done and 'data-testid="rejected">3<' in done
    assert "Mél : Adresse e-mail non valide" in done
    rejects = client.get(sent.headers["Location"].rstrip("/") + "/rejets.csv")
    assert rejects.status_code == 200 and "erreur" in rejects.get_data(as_text=True).splitlines()[0]
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 3
    assert client.get("/admin/contacts/import/../../etc/passwd/").status_code == 404


def test_cli_import_with_progress_bar_and_rejects_file(app, database_url, tmp_path):
    from coulisses.cli import main

    path = tmp_path / "contacts.csv"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    dry = CliRunner().invoke(main, ["contacts", "import", str(path), "--dry-run", "--delimiter", ";"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Lignes rejetées : 3" in dry.output and "ligne 3 : Mél" in dry.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
    result = CliRunner().invoke(main, ["contacts", "import", str(path), "--mapping", "Notes internes="], env=env)
    assert result.exit_code == 0, result.output
    assert "Contacts importés : 3" in result.output and "Import" in result.output  # the progress bar's label
    rejects = (tmp_path / "contacts.rejets.csv").read_text(encoding="utf-8")
    assert rejects.splitlines()[0].endswith("erreur") and len(rejects.splitlines()) == 4
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Address)) == 3


def test_an_imported_function_is_kept_as_read_even_off_the_list(db):
    """G4: the function list applies to the screens and the API; an import keeps the file's value."""
    report = _report(db, "Nom;Prénom;Fonction;CP;Ville\nAKOKA;Viviane;Astronaute;75005;Paris\n")
    db.commit()
    assert (report.imported, report.rejected) == (1, 0)
    assert db.scalar(select(Contact.function).where(Contact.search_last == "akoka")) == "Astronaute"
