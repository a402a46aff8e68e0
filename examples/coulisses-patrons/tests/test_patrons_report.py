"""The pledges report through the reports plugin: listed for an operator, run through the API as CSV
and PDF (read back), refused with the field named when the day is wrong."""
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader


@pytest.fixture
def app(make_app):
    return make_app(["patrons", "reports"])


def test_the_pledges_report(app, make_operator, token_for):
    from coulisses.web.extensions import db
    from coulisses_patrons.services import add_pledge

    with app.app_context():
        add_pledge(db.session, "Fondation Lumière", Decimal("1500.00"), date(2026, 3, 1))
        add_pledge(db.session, "Mme Dupont", Decimal("250.50"), date(2026, 4, 2))
        add_pledge(db.session, "M. Ancien", Decimal("99.00"), date(2025, 1, 2))
        db.session.commit()
    make_operator("guichet", roles=["operator"])
    headers = {"Authorization": f"Bearer {token_for('guichet')}"}
    client = app.test_client()
    assert "patrons.pledges" in [r["code"] for r in client.get("/api/v1/reports", headers=headers).get_json()]
    answer = client.post("/api/v1/reports/patrons.pledges/runs", json={"params": {"since": "01.01.2026"},
                                                                       "format": "csv"}, headers=headers)
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert rows == [["Date", "Mécène", "Montant"], ["2026-03-01", "Fondation Lumière", "1500.00"],
                    ["2026-04-02", "Mme Dupont", "250.50"]]
    answer = client.post("/api/v1/reports/patrons.pledges/runs", json={"params": {"since": "01.01.2026"}},
                         headers=headers)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.get_data())).pages).replace("\u202f", " ")
    assert "Promesses de mécénat" in text and "1 750,50 €" in text.replace("\xa0", " ")
    answer = client.post("/api/v1/reports/patrons.pledges/runs", json={"params": {"since": "hier soir"}}, headers=headers)
    assert answer.status_code == 422 and "params.since" in answer.get_json()["error"]["fields"]
