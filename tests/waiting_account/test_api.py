"""The waiting account's REST API: account state and authorisation, movements, instalments,
invoices (global invoicing, cancellation, change of billing contact), idempotent settlement, 422 with
field messages, permissions, OpenAPI."""
from decimal import Decimal

from plugins.waiting_account.services import accounts
from tests.waiting_account.conftest import sell_on_account


def _bearer(token, **more):
    return {"Authorization": f"Bearer {token}", **more}


def test_accounts_invoices_and_settlement_through_the_api(app, db, catalogue, buyer, structure, invoice_range,
                                                          make_operator, token_for):
    first = sell_on_account(db, catalogue, buyer, structure, 2)
    second = sell_on_account(db, catalogue, buyer, structure, 1, mode="ATTENTE_SUIVI")
    db.commit()
    make_operator("guichet", roles=["operator"])
    make_operator("lecteur", roles=["readonly"])
    client = app.test_client()
    op, read = _bearer(token_for("guichet")), _bearer(token_for("lecteur"))
    base = f"/api/v1/contacts/{structure.number}"
    state = client.get(f"{base}/waiting-account", headers=read).get_json()
    assert state == {"contact": structure.number, "name": "UNIVERSITY PARIS", "authorised": True,
                     "ceiling": "5000.00", "outstanding": "330.00", "available": "4670.00"}
    assert client.put(f"{base}/waiting-account", json={"authorised": True, "ceiling": "1.00"},
                      headers=op).status_code == 403
    movements = client.get(f"{base}/waiting-account/movements", headers=read).get_json()
    assert [(m["kind"], m["amount"], m["status"]) for m in movements] == [("sale", "110.00", "open"),
                                                                         ("sale", "220.00", "open")]
    assert len(client.get(f"{base}/waiting-account/instalments", headers=read).get_json()) == 4
    created = client.post(f"{base}/invoices", json={"orders": [first.number, second.number]},
                          headers={**op, "Idempotency-Key": "inv-1"})
    assert created.status_code == 201, created.get_json()
    invoice = created.get_json()
    assert (invoice["number"], invoice["total"], len(invoice["lines"])) == ("FA1", "330.00", 2)
    again = client.post(f"{base}/invoices", json={"orders": [first.number, second.number]},
                        headers={**op, "Idempotency-Key": "inv-1"})
    assert again.get_json()["number"] == "FA1"
    assert client.post(f"{base}/invoices", json={"orders": [first.number]},
                       headers={**op, "Idempotency-Key": "inv-2"}).status_code == 409
    bad = client.post(f"{base}/waiting-account/settlements", json={"mode": "CHEQUE", "amount": "10.00"},
                      headers={**op, "Idempotency-Key": "s-0"})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"cheque_number", "bank"}
    body = {"mode": "CHEQUE", "amount": "100.00", "cheque_number": "8812345", "bank": "LCL"}
    paid = client.post(f"{base}/waiting-account/settlements", json=body, headers={**op, "Idempotency-Key": "s-1"})
    assert paid.status_code == 201 and paid.get_json()["outstanding"] == "230.00"
    replay = client.post(f"{base}/waiting-account/settlements", json=body, headers={**op, "Idempotency-Key": "s-1"})
    assert replay.get_json()["number"] == paid.get_json()["number"]
    db.expire_all()
    assert accounts.balance(db, accounts.account_of(db, structure)) == Decimal("230.00")
    cancelled = client.post("/api/v1/invoices/FA1/cancel", headers={**op, "Idempotency-Key": "c-1"})
    assert cancelled.status_code == 201 and cancelled.get_json()["cancels"] == "FA1"
    assert client.get("/api/v1/invoices/FA1", headers=read).get_json()["state"] == "Annulée"
    assert [i["number"] for i in client.get(f"{base}/invoices", headers=read).get_json()] == ["FA2", "FA1"]


def test_the_api_is_in_the_openapi_document(app, make_operator, token_for):
    make_operator("lecteur", roles=["readonly"])
    doc = app.test_client().get("/api/v1/openapi.json", headers=_bearer(token_for("lecteur"))).get_json()
    post = doc["paths"]["/contacts/{number}/waiting-account/settlements"]["post"]
    assert post["x-permission"] == "waiting_account.settle"
    assert any(p.get("name") == "Idempotency-Key" for p in post.get("parameters", []))
    assert doc["paths"]["/invoices/{number}/billing-contact"]["post"]["x-permission"] == "waiting_account.invoice"


def test_the_plugin_conforms(app):
    from coulisses.testing import assert_plugin_conforms

    assert_plugin_conforms(app, "waiting_account", api_prefixes=("/contacts", "/invoices", "/waiting-account"), public=("/portal/login",))


def test_a_sale_on_account_through_the_sales_api_is_refused_beyond_the_ceiling(app, db, catalogue, buyer, structure,
                                                                              make_operator, token_for):
    accounts.set_authorisation(db, structure, authorised=True, ceiling="300.00")
    db.commit()
    make_operator("guichet", roles=["operator"])
    client = app.test_client()
    c = catalogue

    def sell(quantity, key):
        return client.post("/api/v1/orders", headers={**_bearer(token_for("guichet")), "Idempotency-Key": key}, json={
            "action": "sell", "buyer": buyer.number, "payer": structure.number, "point_of_sale": "GUICHET",
            "lines": [{"performance": c.performance.id, "category": c.cat1.id, "tariff": c.full.id,
                       "quantity": quantity}],
            "payments": [{"mode": "ATTENTE", "amount": f"{110 * quantity}.00", "contact": structure.number}]})

    assert sell(2, "o-1").status_code == 201
    refused = sell(1, "o-2")
    assert refused.status_code == 409
    message = refused.get_json()["error"]["message"]
    assert "220,00" in message and "330,00" in message and "300,00" in message
    db.expire_all()
    assert accounts.balance(db, accounts.account_of(db, structure)) == Decimal("220.00")
