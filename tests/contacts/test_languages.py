"""The contacts plugin speaks the reader's language (issue 7 §1): API errors follow Accept-Language,
service errors and labels follow the current locale, CSV headers and rejected rows are translated, an
export in any language imports again, and the CLI speaks the deployment's language."""
from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from coulisses import InvalidError
from coulisses.i18n import use_locale
from plugins.contacts.models import Contact
from plugins.contacts.services import exporting, importing
from plugins.contacts.services.contacts import create_quick
from plugins.contacts.services.validation import parse_civility
from tests.conftest import app_session

REFUSED = {"last_name": "Dupont", "country": "FR", "postal_code": "750", "mobile_phone": "12"}


@pytest.mark.parametrize("language, message, first_name, city", [
    ("es", "La ficha no es válida", "Nombre: obligatorio", "Ciudad: obligatoria"),
    ("en", "The record is not valid", "First name: required", "City: required"),
    ("fr", "La fiche n'est pas valide", "Prénom : obligatoire", "Ville : obligatoire"),
])
def test_a_422_from_a_contacts_endpoint_follows_accept_language(api, language, message, first_name, city):
    response = api("operator").post("/api/v1/contacts", json=REFUSED, headers={"Accept-Language": language})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == message
    assert error["fields"]["first_name"] == first_name and error["fields"]["city"] == city


def test_not_found_and_conflict_messages_follow_accept_language(api):
    op = api("operator")
    missing = op.get("/api/v1/contacts/999999", headers={"Accept-Language": "es"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["message"] == "Ningún contacto con el número 999999"
    history = op.get("/api/v1/contacts/999999/histories/nope", headers={"Accept-Language": "en"})
    assert history.status_code == 422 and history.get_json()["error"]["message"] == "Unknown history"


def test_service_errors_and_labels_follow_the_current_locale(db):
    with use_locale("es"), pytest.raises(InvalidError) as refused:
        create_quick(db, {"civility": "M", "last_name": "", "first_name": "Ana", "country": "FR",
                          "postal_code": "75012", "city": "PARIS", "mobile_phone": "12"})
    assert str(refused.value) == "La ficha no es válida"
    assert refused.value.fields["last_name"] == "Apellidos: obligatorio"
    assert refused.value.fields["mobile_phone"].startswith("Número de teléfono no válido")
    # a civility typed in any of the three languages is understood
    assert parse_civility("Mrs") == parse_civility("Señora") == parse_civility("Madame") == "MME"


def test_the_export_speaks_the_callers_language_and_imports_again(db, person):
    person("DUPONT", "Chantal", civility="MME")
    db.commit()
    english = "".join(exporting.export_csv(db, {}, locale="en")).splitlines()
    assert english[0].split(";")[:6] == ["Number", "Type", "Role", "Title", "Last name", "First name"]
    row = english[1].split(";")
    assert row[1:4] == ["Individual", "General public", "Mrs"]  # labels, never the raw codes
    assert row[-2:] == ["Prospect", "yes"]
    spanish = "".join(exporting.export_csv(db, {}, locale="es")).splitlines()
    assert spanish[0].startswith("Número;Tipo;Función;Tratamiento;Apellidos;Nombre")
    assert spanish[1].split(";")[-2:] == ["Cliente potencial", "sí"]
    # an English export is read again by the import (headers, type and civility recognised)
    headers, rows = importing.read_rows(io.BytesIO("\n".join(english).encode()), filename="export.csv")
    mapping = importing.default_mapping(headers)
    assert (mapping["Last name"], mapping["First name"], mapping["Title"], mapping["Type"]) == \
        ("last_name", "first_name", "civility", "type_code")
    report = importing.import_rows(db, headers, rows, dry_run=True)
    assert (report.imported, report.rejected) == (1, 0), [r.reason for r in report.rejects]


def test_a_bad_csv_row_is_reported_with_its_line_and_reason_in_the_callers_language(db):
    data = "Nom;Prénom;Mél;CP;Ville\nDUPONT;Ana;pas-une-adresse@;75001;Paris\n"
    with use_locale("es"):
        headers, rows = importing.read_rows(io.BytesIO(data.encode()), filename="f.csv")
        out = io.StringIO()
        report = importing.import_rows(db, headers, rows, dry_run=True, rejects_out=out)
    assert report.rejects[0].line == 2
    assert report.rejects[0].reason.startswith("Correo electrónico: Dirección de correo electrónico no válida")
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(";error") and lines[1].split(";")[-1].startswith("línea 2: Correo electrónico:")


def test_rest_import_rejects_follow_accept_language(api):
    files = {"file": (io.BytesIO("Nom;Prénom;Code postal;Ville;Pays\nDUPONT;Ana;750;Paris;FR\n".encode()), "c.csv"),
             "dry_run": "true"}
    body = api("supervisor").post("/api/v1/contacts/import", data=files,
                                  headers={"Accept-Language": "en"}).get_json()
    assert body["rejects"][0]["line"] == 2
    assert body["rejects"][0]["reason"] == "Postcode: Postcode not valid for country FR: 750"


def test_the_cli_speaks_the_deployments_language(app, database_url):
    from coulisses.cli import main

    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path), "COULISSES_LOCALE": "en"}
    result = CliRunner().invoke(main, ["contacts", "purge", "--months", "36", "--simulate"], env=env)
    assert result.exit_code == 0, result.output
    assert "Prospects that would be deleted: 0" in result.output
    assert "Simulation: nothing was changed." in result.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
