"""The order's life through the REST API: availability, a reservation's expiry, delivery and
documents, tills (open, journal, close with counts and reason; idempotent; another operator's till is
refused without ``sales.till.manage``)."""
from datetime import timedelta

import pytest

from coulisses.db import utcnow
from tests.sales.test_api import client, sale, shop  # noqa: F401 - fixtures


def bearer(app, token_for, make_operator, login, roles):
    make_operator(login, roles=roles)
    return {"Authorization": f"Bearer {token_for(login)}"}


def test_availability_of_a_performance_per_category(app, client, shop):  # noqa: F811
    api = client("operator")
    assert api.post("/api/v1/orders", json=sale(shop, 2)).status_code == 201
    assert api.post("/api/v1/orders", json=sale(shop, 1, action="reserve")).status_code == 201
    body = api.get(f"/api/v1/sales/performances/{shop['performance']}/availability").get_json()
    assert (body["capacity"], body["sold"], body["reserved"], body["held"], body["available"]) == (5, 2, 1, 0, 2)
    assert body["categories"][0]["contingent_label"] == "Hors cont." and body["categories"][0]["available"] == 2
    listed = client("readonly").get("/api/v1/sales/availability").get_json()
    assert [p["id"] for p in listed] == [shop["performance"]]
    assert api.get("/api/v1/sales/performances/99999/availability").status_code == 404


def test_reservation_expiry_delivery_and_documents(app, shop, token_for, make_operator):  # noqa: F811
    http = app.test_client()
    auth = bearer(app, token_for, make_operator, "op_life", ["operator"])
    created = http.post("/api/v1/orders", json=sale(shop, 2, action="reserve"), headers=auth).get_json()
    number = created["number"]
    when = (utcnow() + timedelta(days=5)).replace(microsecond=0)
    r = http.put(f"/api/v1/orders/{number}/option", json={"expires_at": when.isoformat()}, headers=auth)
    assert r.status_code == 200 and r.get_json()["option_expires_at"].startswith(when.strftime("%Y-%m-%dT%H:%M"))
    r = http.put(f"/api/v1/orders/{number}/option", json={"expires_at": "2001-01-01T10:00:00+00:00"}, headers=auth)
    assert r.status_code == 422 and "option_expires_at" in r.get_json()["error"]["fields"]
    r = http.put(f"/api/v1/orders/{number}/option", json={"expires_at": None}, headers=auth)
    assert r.status_code == 200 and r.get_json()["option_expires_at"] is None

    got = http.get(f"/api/v1/orders/{number}/delivery", headers=auth).get_json()
    assert got["mode"] == "handed" and [d["type_code"] for d in got["documents"]] == ["sales.ticket", "sales.receipt"]
    r = http.put(f"/api/v1/orders/{number}/delivery", json={"delivery_mode": "eticket", "email": "nope"}, headers=auth)
    assert r.status_code == 422 and "email" in r.get_json()["error"]["fields"]
    r = http.put(f"/api/v1/orders/{number}/delivery",
                 json={"delivery_mode": "eticket", "email": "viviane@example.org", "immediate_print": False}, headers=auth)
    body = r.get_json()
    assert r.status_code == 200 and body["email"] == "viviane@example.org" and body["immediate_print"] is False
    assert [(d["type_code"], d["send"]) for d in body["documents"]] == [("sales.order_summary", "email"),
                                                                       ("sales.ticket", "email")]
    r = http.post(f"/api/v1/orders/{number}/documents", json={"type": "sales.receipt", "send": "print", "quantity": 2},
                  headers=auth)
    assert r.status_code == 201 and r.get_json()["documents"][-1]["quantity"] == 2
    doc_id = r.get_json()["documents"][0]["id"]
    assert http.delete(f"/api/v1/orders/{number}/documents/{doc_id}", headers=auth).status_code == 204
    r = http.post(f"/api/v1/orders/{number}/documents/reset", headers=auth)
    assert [d["type_code"] for d in r.get_json()["documents"]] == ["sales.order_summary", "sales.ticket"]
    r = http.post(f"/api/v1/orders/{number}/documents", json={"type": "sales.bogus", "send": "fax"}, headers=auth)
    assert r.status_code == 422 and {"type", "send"} <= set(r.get_json()["error"]["fields"])


def test_a_till_opens_closes_and_its_journal_counts_the_cash(app, shop, token_for, make_operator):  # noqa: F811
    http = app.test_client()
    auth = bearer(app, token_for, make_operator, "op_till", ["operator"])
    other = bearer(app, token_for, make_operator, "op_other", ["operator"])
    boss = bearer(app, token_for, make_operator, "sup_till", ["supervisor"])
    r = http.post("/api/v1/sales/tills", json={"opening_float": "100.00"}, headers={**auth, "Idempotency-Key": "open-1"})
    assert r.status_code == 201
    till_id = r.get_json()["id"]
    again = http.post("/api/v1/sales/tills", json={"opening_float": "100.00"}, headers={**auth, "Idempotency-Key": "open-1"})
    assert again.status_code == 201 and again.get_json()["id"] == till_id  # replayed, not opened twice
    assert http.post("/api/v1/sales/tills", json={"opening_float": "5.00"}, headers=auth).status_code == 409
    sold = http.post("/api/v1/orders", json=sale(shop, 1, payments=[{"mode": "CASH", "amount": "120.00"}]),
                     headers=auth)
    assert sold.status_code == 201
    journal = http.get(f"/api/v1/sales/tills/{till_id}", headers=auth).get_json()
    cash = {m["code"]: m for m in journal["modes"]}["CASH"]
    assert cash["payments"] == "110.00" and cash["expected"] == "210.00" and journal["expected_cash"] == "210.00"
    assert [op["kind"] for op in journal["operations"]] == ["sell", "pay"]
    assert http.get(f"/api/v1/sales/tills/{till_id}", headers=other).status_code == 403
    assert http.get(f"/api/v1/sales/tills/{till_id}", headers=boss).status_code == 200
    r = http.post(f"/api/v1/sales/tills/{till_id}/close", json={"counts": {"CASH": "200.00"}}, headers=auth)
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    r = http.post(f"/api/v1/sales/tills/{till_id}/close", json={"counts": {"CASH": 200}}, headers=auth)
    assert r.status_code == 422
    r = http.post(f"/api/v1/sales/tills/{till_id}/close", json={"counts": {"CASH": "200.00"}, "reason": "Pièce perdue"},
                  headers={**auth, "Idempotency-Key": "close-1"})
    body = r.get_json()
    assert r.status_code == 200 and body["state"] == "closed" and body["difference"] == "-10.00"
    assert {m["code"]: m["counted"] for m in body["modes"]}["CASH"] == "200.00"
    assert http.post(f"/api/v1/sales/tills/{till_id}/close", json={"counts": {"CASH": "1.00"}, "reason": "x"},
                     headers=auth).status_code == 409
    mine = http.get("/api/v1/sales/tills", headers=auth).get_json()
    assert [t["id"] for t in mine] == [till_id]
    assert http.get("/api/v1/sales/tills", headers=other).get_json() == []
    assert http.get("/api/v1/sales/tills?state=closed", headers=boss).get_json()[0]["reason"] == "Pièce perdue"
    assert http.post("/api/v1/sales/tills", json={}, headers=bearer(app, token_for, make_operator, "ro", ["readonly"])
                     ).status_code == 403
