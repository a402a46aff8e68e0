"""The baskets' REST API: one basket is one operation through the API too — open, lines, take up,
remove, change tariff, pay (idempotent), hold, resume, abandon; errors with their fields; OpenAPI."""
from tests.sales.test_api import client, sale, shop  # noqa: F401 - fixtures and helpers


def lines(shop, quantity=1):
    return [{"performance": shop["performance"], "category": shop["category"], "tariff": shop["tariff"],
             "quantity": quantity}]


def test_a_basket_reserves_pays_and_settles_as_one_operation(client, shop):
    api = client("operator")
    opened = api.post("/api/v1/baskets", json={"point_of_sale": "GUICHET"})
    assert opened.status_code == 201, opened.get_json()
    number = opened.get_json()["number"]
    added = api.post(f"/api/v1/baskets/{number}/lines", json={"buyer": shop["buyer"], "lines": lines(shop, 2)})
    assert added.status_code == 201, added.get_json()
    body = added.get_json()
    assert body["due"] == "220.00" and body["contact"] == shop["buyer"]
    (order,) = body["orders"]
    headers = {"Idempotency-Key": "basket-pay-1"}
    paid = api.post(f"/api/v1/baskets/{number}/payments", json={"payments": [{"mode": "CASH", "amount": "250.00"}]},
                    headers=headers)
    assert paid.status_code == 201, paid.get_json()
    assert paid.get_json()["change"] == "30.00" and paid.get_json()["basket"]["due"] == "0.00"
    again = api.post(f"/api/v1/baskets/{number}/payments", json={"payments": [{"mode": "CASH", "amount": "250.00"}]},
                     headers=headers)
    assert again.status_code == 201 and again.get_json() == paid.get_json()  # replayed, not paid twice
    settled = api.post(f"/api/v1/baskets/{number}/settle")
    assert settled.status_code == 200 and settled.get_json()["state"] == "settled"
    detail = api.get(f"/api/v1/orders/{order['number']}").get_json()
    assert detail["state"] == "settled" and {op["number"] for op in detail["operations"]} == {number}
    kinds = [e["kind"] for e in settled.get_json()["entries"]]
    assert kinds == ["basket", "reserve", "pay", "confirm", "settle"]
    late = api.post(f"/api/v1/baskets/{number}/lines", json={"buyer": shop["buyer"], "lines": lines(shop)})
    assert late.status_code == 409


def test_take_up_remove_and_hold_resume_abandon(client, shop):
    api, other = client("operator"), client("supervisor")
    order = api.post("/api/v1/orders", json=sale(shop, 3, action="reserve")).get_json()
    number = api.post("/api/v1/baskets", json={}).get_json()["number"]
    refused = api.post(f"/api/v1/baskets/{number}/remove", json={"order": order["number"],
                                                                "tickets": [order["tickets"][0]["barcode"]]})
    assert refused.status_code == 422 and "order" in refused.get_json()["error"]["fields"]
    taken = api.post(f"/api/v1/baskets/{number}/take-up", json={"order": order["number"]})
    assert taken.status_code == 200 and [o["number"] for o in taken.get_json()["orders"]] == [order["number"]]
    removed = api.post(f"/api/v1/baskets/{number}/remove", json={"order": order["number"],
                                                                "tickets": [order["tickets"][0]["barcode"]]})
    assert removed.status_code == 200 and removed.get_json()["due"] == "220.00"
    held = api.post(f"/api/v1/baskets/{number}/hold", json={"note": "rappelle demain"})
    assert held.get_json()["state"] == "held" and held.get_json()["note"] == "rappelle demain"
    listed = other.get("/api/v1/baskets?state=held").get_json()
    assert [b["number"] for b in listed] == [number]
    assert api.post(f"/api/v1/baskets/{number}/lines", json={"order": order["number"],
                                                             "lines": lines(shop)}).status_code == 409
    resumed = other.post(f"/api/v1/baskets/{number}/resume", json={})
    assert resumed.status_code == 200 and resumed.get_json()["operator"] == "api_supervisor"
    abandoned = other.post(f"/api/v1/baskets/{number}/abandon")
    assert abandoned.status_code == 200 and abandoned.get_json()["state"] == "abandoned"
    # what the basket itself reserved is released; the order's own reservation was not the basket's
    assert api.get(f"/api/v1/orders/{order['number']}").get_json()["ticket_count"] == 2


def test_bad_input_names_the_field_and_openapi_lists_the_endpoints(client, shop, app):
    api = client("operator")
    number = api.post("/api/v1/baskets", json={}).get_json()["number"]
    missing = api.post(f"/api/v1/baskets/{number}/lines", json={"lines": lines(shop)})
    assert missing.status_code == 422 and "buyer" in missing.get_json()["error"]["fields"]
    floats = api.post(f"/api/v1/baskets/{number}/payments", json={"payments": [{"mode": "CASH", "amount": 10.5}]})
    assert floats.status_code == 422
    assert api.get("/api/v1/baskets/999999").status_code == 404
    assert client("readonly").post("/api/v1/baskets", json={}).status_code == 403
    spec = api.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/baskets", "/api/v1/baskets/{number}/payments", "/api/v1/baskets/{number}/take-up"):
        assert path in spec["paths"] or path.replace("/api/v1", "") in spec["paths"], path
