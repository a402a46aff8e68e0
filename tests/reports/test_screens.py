"""The reports screen through the Flask test client: the list by plugin, the form that keeps what was
typed on error, the preview with totals and a chart, downloads, a background run with its progress,
a failed run with its reason, favourites; the identity screen; the REST API and its errors."""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from tests.conftest import csrf_token_of


@pytest.fixture
def app(make_app, tp_rep):
    return make_app(["reports", "tp_rep"], REPORTS_BACKGROUND_ROWS=50)


@pytest.fixture
def client(app, make_operator, client_for):
    make_operator("guichet", roles=["operator"])
    return client_for("guichet")


def post_form(client, url, data):
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token_of(page), **data})


def test_the_list_shows_the_reports_by_plugin(client):
    page = client.get("/admin/reports_reports/").get_data(as_text=True)
    assert "Essais de rapports" in page and "Nombres" in page and "/admin/reports_reports/run/tp_rep.numbers" in page


def test_an_operator_without_the_permission_is_refused(make_operator, client_for):
    make_operator("lecteur", roles=["readonly"])
    reader = client_for("lecteur")
    assert "Nombres" not in reader.get("/admin/reports_reports/").get_data(as_text=True)
    assert reader.get("/admin/reports_reports/run/tp_rep.numbers").status_code == 403


def test_the_form_keeps_what_was_typed_and_names_the_errors(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "preview", "n": "douze", "start": "31.02.2015", "kind": "b"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'value="douze"' in page and 'value="31.02.2015"' in page
    assert re.search(r'<option value="b" selected>', page)
    assert 'id="n-error"' in page and 'aria-invalid="true"' in page and "jj.mm.aaaa" in page


def test_preview_with_totals_chart_and_pages(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers", {"action": "preview", "n": "30"})
    page = answer.get_data(as_text=True).replace("\u202f", " ").replace("\xa0", " ")
    assert answer.status_code == 200
    assert "30 lignes" in page and "Sous-total A" in page and "1 234,50" in page
    assert page.count('role="img"') == 2 and "<svg" in page and "Montant par jour" in page
    assert "Données du graphique" in page
    total = 30 * 1234.5 + sum(range(30))
    assert f"{total:,.2f}".replace(",", " ").replace(".", ",") in page
    # page 2 of a longer preview
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers?page=2", {"action": "preview", "n": "60"})
    page = answer.get_data(as_text=True)
    assert "Ligne 55" in page and "Ligne 3<" not in page and 'aria-current="page"' in page


def test_downloads_in_each_format(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "csv", "separator": ";", "n": "3"})
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[1][4] == "1234,50" and len(rows) == 4
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "xlsx", "n": "3"})
    ws = load_workbook(io.BytesIO(answer.get_data())).worksheets[0]
    assert ws["A4"].value == "Sous-total A" and ws["B5"].value == "Ligne 2"
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "pdf", "n": "3"})
    assert answer.get_data().startswith(b"%PDF")


def test_a_large_report_runs_in_the_background_with_progress(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "csv", "n": "120"})
    assert answer.status_code == 302
    run_url = answer.headers["Location"]
    page = client.get(run_url).get_data(as_text=True)
    assert "arrière-plan" in page and "<progress" in page and 'role="status"' in page
    status = client.get(run_url + "/status").get_json()  # inline in tests: already done
    assert status["state"] == "done" and status["rows_done"] == 120 and status["percent"] == 100
    data = client.get(status["download"]).get_data()
    assert len(list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))) == 121
    assert "Nombres (CSV)" in client.get("/admin/reports_reports/").get_data(as_text=True)


def test_a_failed_run_shows_its_reason(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "pdf", "n": "120", "fail_at": "90"})
    run_url = answer.headers["Location"]
    status = client.get(run_url + "/status").get_json()
    assert status["state"] == "failed" and "la source a cassé" in status["error"]
    assert "la source a cassé" in client.get(run_url).get_data(as_text=True)


def test_another_operator_cannot_read_my_run(client, make_operator, client_for):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "download", "format": "csv", "n": "60"})
    make_operator("autre", roles=["operator"])
    assert client_for("autre").get(answer.headers["Location"]).status_code == 403


def test_favourites_are_saved_and_prefill_the_form(client):
    answer = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                       {"action": "favourite", "n": "7", "kind": "a", "fav_name": "Sept lignes"})
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'value="7"' in page and '<option value="a" selected>' in page
    index = client.get("/admin/reports_reports/").get_data(as_text=True)
    assert "Sept lignes" in index
    refused = post_form(client, "/admin/reports_reports/run/tp_rep.numbers",
                        {"action": "favourite", "n": "7", "fav_name": ""})
    assert refused.status_code == 422 and "Donnez un nom au favori." in refused.get_data(as_text=True)


def test_identity_screen_checks_siret_and_keeps_the_typed_values(app, make_operator, client_for):
    make_operator("chef", roles=["administrator"])
    chef = client_for("chef")
    answer = post_form(chef, "/admin/reports_identity/", {"name": "Opéra de Lyon", "siren": "732829320",
                                                          "siret": "73282932000075", "vat_number": "FR00"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "SIRET invalide" in page and "TVA" in page and 'value="Opéra de Lyon"' in page
    answer = post_form(chef, "/admin/reports_identity/", {"name": "Opéra de Lyon", "siren": "732829320",
                                                          "siret": "73282932000074", "vat_number": "FR40303265045",
                                                          "address": "1 place de la Comédie\n69001 Lyon"})
    assert answer.status_code == 302
    assert 'value="73282932000074"' in chef.get("/admin/reports_identity/").get_data(as_text=True)
    make_operator("guichet2", roles=["operator"])
    assert client_for("guichet2").get("/admin/reports_identity/").status_code == 403


# --------------------------------------------------------------------------- REST


def test_api_lists_runs_and_refuses(app, make_operator, token_for):
    make_operator("api", roles=["operator"])
    headers = {"Authorization": f"Bearer {token_for('api')}"}
    client = app.test_client()
    listed = client.get("/api/v1/reports", headers=headers).get_json()
    numbers = next(r for r in listed if r["code"] == "tp_rep.numbers")
    assert numbers["plugin"] == "tp_rep" and numbers["parameters"][0]["name"] == "n"
    answer = client.post("/api/v1/reports/tp_rep.numbers/runs", json={"params": {"n": 3}, "format": "csv"},
                         headers=headers)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert len(answer.get_data().decode("utf-8-sig").strip().splitlines()) == 4
    answer = client.post("/api/v1/reports/tp_rep.numbers/runs", json={"params": {"n": "x", "start": "2015-13-01"}},
                         headers=headers)
    assert answer.status_code == 422 and set(answer.get_json()["error"]["fields"]) == {"params.n", "params.start"}
    answer = client.post("/api/v1/reports/tp_rep.numbers/runs", json={"params": {"n": 80}, "format": "xlsx"},
                         headers=headers)
    assert answer.status_code == 202
    run = client.get(answer.headers["Location"], headers=headers).get_json()
    assert run["state"] == "done" and run["rows_done"] == 80
    data = client.get(run["download"], headers=headers).get_data()
    assert load_workbook(io.BytesIO(data)).worksheets[0].max_row == 80 + 1 + 2 + 1  # header, 2 sub-totals, total
    assert client.post("/api/v1/reports/nope.x/runs", json={}, headers=headers).status_code == 404
    assert client.post("/api/v1/reports/tp_rep.numbers/runs", json={"format": "doc"}, headers=headers).status_code == 422
