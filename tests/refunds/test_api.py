"""The refunds REST API: the seed's flow (create a basket, add a range, preview −660,00, settle by the
order's mode; the exchange), refusals listed, idempotent settlement, permissions, OpenAPI."""
from __future__ import annotations

import pytest


@pytest.fixture
def shop(app, world, db):
    db.commit()
    return world


@pytest.fixture
def api(app, shop, make_operator, token_for):
    made = {}

    def factory(role="supervisor"):
        if role not in made:
            make_operator(f"api_{role}", roles=[role])
            made[role] = token_for(f"api_{role}")
        token, client = made[role], app.test_client()

        class Client:
            def _h(self, kw):
                return {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}

            def get(self, url, **kw):
                return client.get(url, headers=self._h(kw), **kw)

            def post(self, url, **kw):
                return client.post(url, headers=self._h(kw), **kw)

            def patch(self, url, **kw):
                return client.patch(url, headers=self._h(kw), **kw)

        return Client()

    return factory


def test_seed_refund_through_the_api(api, seed_order):
    order = seed_order()
    codes = sorted(t.barcode for t in order.tickets)
    c = api()
    r = c.post("/api/v1/refunds/baskets", json={})
    assert r.status_code == 201, r.get_json()
    basket = r.get_json()
    assert basket["operation"] > 0 and basket["total"] == "0.00"
    url = f"/api/v1/refunds/baskets/{basket['basket']}"
    r = c.post(url + "/tickets", json={"first": codes[0], "last": codes[5], "barcodes": ["99999999999"]})
    body = r.get_json()
    assert r.status_code == 200, body
    assert len(body["added"]) == 6 and body["refused"][0]["input"] == "99999999999"
    assert body["basket"]["subtotal_refunded"] == "-660.00" and body["basket"]["total"] == "-660.00"
    group = body["basket"]["refund_groups"][0]["children"][0]
    assert group["label"] == "Joyaux - Lun 02.11.2015 20:15" and group["quantity"] == 6
    modes = {m["code"]: m for m in body["basket"]["refund_options"]}
    assert modes["OTHER"]["limit"] == "2420.00" and modes["CREDIT"]["limit"] is None
    bad = c.post(url + "/settle", json={"refunds": [{"mode": "OTHER", "amount": "600.00"}]},
                 headers={"Idempotency-Key": "k0"})
    assert bad.status_code == 422 and "refunds" in bad.get_json()["error"]["fields"]
    r = c.post(url + "/settle", json={"refunds": [{"mode": "OTHER", "amount": "660.00"}]},
               headers={"Idempotency-Key": "k1"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["refunded"] == "660.00"
    again = c.post(url + "/settle", json={"refunds": [{"mode": "OTHER", "amount": "660.00"}]},
                   headers={"Idempotency-Key": "k1"})
    assert again.status_code == 200 and again.get_json() == r.get_json()  # replayed, not refunded twice
    order_view = c.get(f"/api/v1/orders/{order.number}").get_json()
    assert order_view["total"] == "1760.00"


def test_exchange_through_the_api(api, shop, seed_order):
    order = seed_order()
    c = api()
    basket = c.post("/api/v1/refunds/baskets", json={}).get_json()
    url = f"/api/v1/refunds/baskets/{basket['basket']}"
    c.post(url + "/tickets", json={"order": order.number})
    r = c.post(url + "/exchange", json={"performance": shop.carmina.id, "category": shop.cat1.id,
                                        "tariff": shop.full.id, "quantity": 22,
                                        "seats": [shop.seats[str(n)] for n in range(1, 23)]})
    assert r.status_code == 201, r.get_json()
    view = r.get_json()
    assert (view["subtotal_refunded"], view["subtotal_sold"], view["total"]) == ("-2420.00", "1320.00", "-1100.00")
    r = c.post(url + "/settle", json={"refunds": [{"mode": "OTHER", "amount": "1100.00"}]},
               headers={"Idempotency-Key": "x1"})
    assert r.status_code == 200 and r.get_json()["exchange_order"]


def test_hold_abandon_and_permissions(api, seed_order):
    order = seed_order()
    operator = api("operator")
    basket = operator.post("/api/v1/refunds/baskets", json={}).get_json()
    url = f"/api/v1/refunds/baskets/{basket['basket']}"
    operator.post(url + "/tickets", json={"order": order.number})
    assert operator.patch(url, json={"fee_override": "5.00"}).status_code == 403
    assert operator.patch(url, json={"cause": "CUSTOMER"}).get_json()["total"] == "-2376.00"
    cash = operator.post(url + "/settle", json={"refunds": [{"mode": "CASH", "amount": "2376.00"}]},
                         headers={"Idempotency-Key": "c1"})
    assert cash.status_code == 403
    assert operator.post(url + "/hold").get_json()["state"] == "held"
    assert operator.post(url + "/abandon").get_json()["state"] == "abandoned"
    assert operator.post(url + "/tickets", json={"order": order.number}).status_code == 409
    assert api("readonly").get(url).status_code == 403


def test_the_exchange_delivery_through_the_api(api, seed_order):
    """PATCH the basket's "Livraison billets" (the exchange's new tickets): a malformed e-mail is a 422
    naming the field; the preview says the delivery and the documents the exchange order will produce."""
    seed_order()
    c = api("operator")
    url = f"/api/v1/refunds/baskets/{c.post('/api/v1/refunds/baskets', json={}).get_json()['basket']}"
    bad = c.patch(url, json={"delivery_email": "nobody"})
    assert bad.status_code == 422 and "email" in bad.get_json()["error"]["fields"]
    view = c.patch(url, json={"delivery_mode": "print_at_home", "delivery_email": "v.akoka@example.org",
                              "immediate_print": False}).get_json()
    assert view["delivery"] == {"mode": "print_at_home", "email": "v.akoka@example.org", "address": "",
                                "immediate_print": False,
                                "documents": [{"type": "sales.ticket", "label": "Billets", "send": "email"}]}


def test_openapi_lists_the_endpoints(api):
    doc = api("administrator").get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path in ("/refunds/baskets", "/refunds/baskets/{basket_id}/tickets", "/refunds/baskets/{basket_id}/settle",
                 "/refunds/baskets/{basket_id}/exchange", "/refunds/performances/{performance_id}/simulation"):
        assert any(p.endswith(path) for p in paths), path
