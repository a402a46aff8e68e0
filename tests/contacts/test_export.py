"""Export of a search result to CSV: the service (streamed, paged) and the REST endpoint."""
from __future__ import annotations

import csv
import io

import pytest

from coulisses import InvalidError
from plugins.contacts.services import exporting
from tests.conftest import app_session


def test_export_streams_the_search_result_in_name_order(db, person, structure):
    person("DUPONT", "Chantal", "75012", email="chantal@example.org")
    person("DUPOND", "Marc", "75015")
    person("MARTIN", "Léa", "33000")
    structure("DUPONT INDUSTRIES")
    lines = exporting.export_csv(db, {"name": "dupon"}, page=1)  # one row per page: paging is exercised
    rows = list(csv.reader(io.StringIO("".join(lines)), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert header[:6] == ["Numéro", "Type", "Rôle", "Civilité", "Nom", "Prénom"]
    assert [(r[4], r[5], r[6]) for r in body] == [("DUPOND", "Marc", ""), ("DUPONT", "Chantal", ""),
                                                 ("", "", "DUPONT INDUSTRIES")]
    chantal = body[1]
    assert chantal[header.index("Mél")] == "chantal@example.org"
    assert chantal[header.index("Code postal")] == "75012" and chantal[header.index("Statut")] == "Prospect"


def test_export_quick_box_and_invalid_criteria(db, person):
    person("DUPONT", "Chantal")
    person("MARTIN", "Léa")
    rows = list(csv.reader(io.StringIO("".join(exporting.export_csv(db, {"q": "mart"}))), delimiter=";"))
    assert [r[4] for r in rows[1:]] == ["MARTIN"]
    with pytest.raises(InvalidError):
        list(exporting.export_csv(db, {"colour": "blue"}))


def test_rest_export_csv_needs_contacts_export(app, api):
    from plugins.contacts.services.contacts import create_quick

    with app_session(app) as s:
        create_quick(s, {"civility": "MME", "last_name": "DUPONT", "first_name": "Chantal", "country": "FR",
                         "postal_code": "75012", "city": "PARIS"})
        s.commit()
    assert api("operator").get("/api/v1/contacts/export.csv?name=dup").status_code == 403
    response = api("supervisor").get("/api/v1/contacts/export.csv?name=dup")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffNuméro;") and "DUPONT;Chantal" in text
    assert api("supervisor").get("/api/v1/contacts/export.csv?colour=blue").status_code == 422
