"""The schedule reviewed and adjusted before confirming a payment on account ("avec suivi"): proposed
through the REST API, given back as the payment's ``details.schedule`` (API) or by the sales screens'
payment panel (``sales_payment_panels``); amounts that do not add up are refused naming the field,
nothing lost. The order's schedule and the account's outstanding after the sale on the order detail,
in the API and on the order summary document (``sales_order_blocks``)."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import InvalidError
from plugins.sales.models import Order, PointOfSale
from plugins.waiting_account.models import Instalment
from plugins.waiting_account.services import accounts
from tests.conftest import csrf_token_of
from tests.waiting_account.conftest import sell_on_account

ADJUSTED = [{"due_date": "2027-01-10", "amount": "200.00"}, {"due_date": "2027-03-10", "amount": "130.00"}]


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _schedule(db, order_id):
    return [(i.due_date, i.amount) for i in db.scalars(select(Instalment).where(Instalment.order_id == order_id)
                                                         .order_by(Instalment.position))]


def test_an_adjusted_schedule_replaces_the_proposed_one(db, catalogue, buyer, structure):
    order = sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI", details={"schedule": ADJUSTED})
    db.commit()
    assert _schedule(db, order.id) == [(date(2027, 1, 10), Decimal("200.00")), (date(2027, 3, 10), Decimal("130.00"))]
    proposed = sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI")
    assert [a for _d, a in _schedule(db, proposed.id)] == [Decimal("110.00")] * 3  # the mode's rule: 3 monthly


@pytest.mark.parametrize("schedule, field, words", [
    ([{"due_date": "2027-01-10", "amount": "200.00"}, {"due_date": "2027-03-10", "amount": "100.00"}],
     "payments.0.details.schedule", ["300,00", "330,00", "30,00"]),
    (list(reversed(ADJUSTED)), "payments.0.details.schedule", ["se suivre"]),
    ([{"due_date": "2027-01-10", "amount": "-5"}], "payments.0.details.schedule.0.amount", []),
])
def test_a_schedule_that_does_not_add_up_is_refused_naming_the_field(db, catalogue, buyer, structure, schedule, field,
                                                                      words):
    with pytest.raises(InvalidError) as refused:
        sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI", details={"schedule": schedule})
    db.rollback()
    assert field in refused.value.fields
    assert all(w in refused.value.fields[field] for w in words)
    assert db.scalar(select(Instalment.id)) is None and accounts.account_of(db, structure) is not None
    assert accounts.balance(db, accounts.account_of(db, structure)) == 0


def test_the_api_proposes_the_schedule_and_takes_it_back_adjusted(app, db, catalogue, buyer, structure, make_operator,
                                                                   token_for):
    sell_on_account(db, catalogue, buyer, structure, 1)  # the structure owes 110,00 already
    db.commit()
    make_operator("guichet", roles=["operator"])
    client = app.test_client()
    auth = _bearer(token_for("guichet"))
    got = client.get("/api/v1/waiting-account/proposed-schedule", headers=auth,
                     query_string={"mode": "ATTENTE_SUIVI", "amount": "330.00", "contact": structure.number})
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert body["follow_up"] is True and [i["amount"] for i in body["schedule"]] == ["110.00"] * 3
    assert [date.fromisoformat(i["due_date"]).day for i in body["schedule"]] == [5, 5, 5]
    assert (body["outstanding"], body["outstanding_after"], body["ceiling"]) == ("110.00", "440.00", "5000.00")
    assert body["refusal"] is None and body["contact"]["name"] == "UNIVERSITY PARIS"
    bad = client.get("/api/v1/waiting-account/proposed-schedule", headers=auth,
                     query_string={"mode": "CHEQUE", "amount": "abc"})
    assert bad.status_code == 422 and {"mode", "amount"} <= set(bad.get_json()["error"]["fields"]) | {"mode"}

    c = catalogue

    def sell(schedule, key):
        return client.post("/api/v1/orders", headers={**auth, "Idempotency-Key": key}, json={
            "action": "sell", "buyer": buyer.number, "payer": structure.number, "point_of_sale": "GUICHET",
            "lines": [{"performance": c.performance.id, "category": c.cat1.id, "tariff": c.full.id, "quantity": 3}],
            "payments": [{"mode": "ATTENTE_SUIVI", "amount": "330.00", "contact": structure.number,
                          "details": {"schedule": schedule}}]})

    wrong = sell([{"due_date": "2027-01-10", "amount": "100.00"}], "s-1")
    assert wrong.status_code == 422
    assert "payments.0.details.schedule" in wrong.get_json()["error"]["fields"]
    done = sell(ADJUSTED, "s-2")
    assert done.status_code == 201, done.get_json()
    order = db.scalar(select(Order).where(Order.number == done.get_json()["number"]))
    assert _schedule(db, order.id) == [(date(2027, 1, 10), Decimal("200.00")), (date(2027, 3, 10), Decimal("130.00"))]
    detail = client.get(f"/api/v1/orders/{order.number}", headers=auth).get_json()
    block = next(b for b in detail["blocks"] if b["code"] == "waiting_account")
    assert [r[2].replace("\xa0", " ") for r in block["rows"]] == ["200,00 €", "130,00 €"]
    facts = {f["label"]: f["value"].replace("\xa0", " ") for f in block["facts"]}
    assert facts["Encours après cette vente"] == "440,00 €"


def _sell_form(html, db, catalogue, buyer, structure, schedule):
    c = catalogue
    pos = db.scalar(select(PointOfSale).where(PointOfSale.code == "GUICHET"))
    return {"csrf_token": csrf_token_of(html), "point_of_sale": str(pos.id), "buyer": str(buyer.number),
            "payer": str(structure.number), "line-0-performance": str(c.performance.id),
            "line-0-category": str(c.cat1.id), "line-0-tariff": str(c.full.id), "line-0-quantity": "3",
            "delivery_mode": "handed", "action": "pay", "pay-ATTENTE_SUIVI": "330,00",
            "pay-ATTENTE_SUIVI-schedule": json.dumps(schedule)}


def test_the_sell_screen_keeps_a_wrong_schedule_then_records_the_adjusted_one(app, db, catalogue, buyer, structure,
                                                                               make_operator, client_for):
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    page = client.get("/admin/sales/sell/").get_data(as_text=True)
    assert 'data-testid="wa-panel-ATTENTE_SUIVI"' in page and 'id="pay-ATTENTE_SUIVI-schedule"' in page
    assert "waiting_account/payment_panel.js" in page and "waiting_account_amount" in page
    wrong = [{"due_date": "2027-01-10", "amount": "200.00"}, {"due_date": "2027-03-10", "amount": "100.00"}]
    refused = client.post("/admin/sales/sell/", data=_sell_form(page, db, catalogue, buyer, structure, wrong))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'data-testid="wa-error-ATTENTE_SUIVI"' in html and "écart de 30,00" in html  # beside the panel
    assert json.dumps(wrong).replace('"', "&#34;") in html  # what was typed comes back
    done = client.post("/admin/sales/sell/", data=_sell_form(html, db, catalogue, buyer, structure, ADJUSTED))
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    order = db.scalar(select(Order).order_by(Order.id.desc()))
    assert _schedule(db, order.id) == [(date(2027, 1, 10), Decimal("200.00")), (date(2027, 3, 10), Decimal("130.00"))]
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="order-block-waiting_account"' in detail
    assert "Compte d&#39;attente : échéancier" in detail and "10.01.2027" in detail and "200,00" in detail
    assert "Encours après cette vente" in detail and "330,00" in detail


def test_the_order_summary_document_prints_the_schedule(app, db, catalogue, buyer, structure, identity):
    import io

    from pypdf import PdfReader

    from plugins.reports.services import documents

    order = sell_on_account(db, catalogue, buyer, structure, 3, mode="ATTENTE_SUIVI", details={"schedule": ADJUSTED})
    db.commit()
    with app.test_request_context():  # the document is drawn in the operator's language (French)
        document = documents.generate(db, "sales.order_summary", str(order.number))
        data = documents.reprint(db, document)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "échéancier" in text and "10.01.2027" in text and "200,00" in text and "130,00" in text
    assert "Encours après cette vente" in text


@pytest.mark.parametrize("lang, first, second, bad", [
    ("fr", "10.01.2027", "10.03.2027", "31.02.2027"),
    ("en", "10/01/2027", "10/03/2027", "31/02/2027"),
    ("es", "10/01/2027", "10/03/2027", "31/02/2027"),
])
def test_the_sell_screen_takes_the_due_dates_in_the_operator_s_pattern(app, db, catalogue, buyer, structure,
                                                                       make_operator, client_for, lang, first, second,
                                                                       bad):
    """The panel's date picker posts the dates as the operator typed them; a date that does not read is
    refused naming its row, and what was typed comes back."""
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    headers = {"Accept-Language": lang}
    page = client.get("/admin/sales/sell/", headers=headers).get_data(as_text=True)
    pattern = {"fr": "DD.MM.YYYY", "en": "DD/MM/YYYY", "es": "DD/MM/YYYY"}[lang]
    assert f'data-date-format="{pattern}"' in page and "daterangepicker" in page  # the product's date picker
    typed = [{"due_date": first, "amount": "200.00"}, {"due_date": bad, "amount": "130.00"}]
    refused = client.post("/admin/sales/sell/", headers=headers,
                          data=_sell_form(page, db, catalogue, buyer, structure, typed))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    error = html.split('data-testid="wa-error-ATTENTE_SUIVI"', 1)[1].split("</div>", 1)[0]
    word = {"fr": "Échéance 2", "en": "Instalment 2", "es": "Plazo 2"}[lang]
    assert word in error and bad in error, error
    assert json.dumps(typed).replace('"', "&#34;") in html  # nothing lost
    assert db.scalar(select(Instalment.id)) is None
    typed[1]["due_date"] = second
    done = client.post("/admin/sales/sell/", headers=headers,
                       data=_sell_form(html, db, catalogue, buyer, structure, typed))
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    order = db.scalar(select(Order).order_by(Order.id.desc()))
    assert _schedule(db, order.id) == [(date(2027, 1, 10), Decimal("200.00")), (date(2027, 3, 10), Decimal("130.00"))]


def test_the_api_keeps_iso_due_dates(app, db, catalogue, buyer, structure, make_operator, token_for):
    make_operator("guichet", roles=["operator"])
    c = catalogue
    sold = app.test_client().post("/api/v1/orders", headers={**_bearer(token_for("guichet")), "Idempotency-Key": "k"},
                                  json={"action": "sell", "buyer": buyer.number, "payer": structure.number,
                                        "point_of_sale": "GUICHET",
                                        "lines": [{"performance": c.performance.id, "category": c.cat1.id,
                                                   "tariff": c.full.id, "quantity": 3}],
                                        "payments": [{"mode": "ATTENTE_SUIVI", "amount": "330.00",
                                                      "contact": structure.number, "details": {"schedule": [
                                                          {"due_date": "10.01.2027", "amount": "330.00"}]}}]})
    assert sold.status_code == 422
    assert "payments.0.details.schedule.0.due_date" in sold.get_json()["error"]["fields"]
