"""The sales REST API: catalogue reads, orders (sell, reserve, pay, cancel, print), tickets by
barcode, credit balances; money as strings; idempotent money POSTs; permissions; OpenAPI."""
import pytest

from tests.conftest import app_session
from tests.sales.conftest import next_month


@pytest.fixture
def shop(app):
    """The app's database with the defaults, a performance (Cat 1: 5 places at 110,00) and a buyer."""
    from plugins.contacts.services.contacts import create_quick
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import settings

    with app_session(app) as s:
        settings.install_defaults(s)
        venue = cat.create_venue(s, "OPERA", "Opéra Garnier")
        cat1 = cat.create_category(s, "CAT1", "Cat 1")
        audience = cat.create_audience(s, "OCC", "Contact occasionnel")
        tariff = cat.create_tariff(s, "PLEIN", "Plein tarif", audience)
        event = cat.create_event(s, "JOYAUX", "Joyaux")
        perf = cat.create_performance(s, event, venue, next_month(), quotas={cat1: 5})
        cat.set_price(s, perf, cat1, tariff, "110.00")
        buyer = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        s.commit()
        return {"performance": perf.id, "category": cat1.id, "tariff": tariff.id, "buyer": buyer.number}


@pytest.fixture
def client(app, make_operator, token_for):
    """``client(role)``: a test client sending a bearer token of an operator with that role."""
    made = {}

    def factory(role="operator"):
        if role not in made:
            make_operator(f"api_{role}", roles=[role])
            made[role] = token_for(f"api_{role}")
        token, test_client = made[role], app.test_client()

        class Client:
            def get(self, url, **kw):
                return test_client.get(url, headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

            def post(self, url, **kw):
                return test_client.post(url, headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

        return Client()

    return factory


def sale(shop, quantity=2, **more):
    return {"buyer": shop["buyer"], "lines": [{"performance": shop["performance"], "category": shop["category"],
                                               "tariff": shop["tariff"], "quantity": quantity}], **more}


def test_catalogue_endpoints_show_availability_and_prices(client, shop):
    api = client("readonly")
    (perf,) = api.get("/api/v1/sales/performances").get_json()
    assert perf["label"].startswith("Joyaux - ") and perf["categories"][0]["available"] == 5
    detail = api.get(f"/api/v1/sales/performances/{shop['performance']}").get_json()
    assert detail["prices"] == [{"category_id": shop["category"], "category_label": "Cat 1", "tariff_id": shop["tariff"],
                                 "tariff_code": "PLEIN", "tariff_label": "Contact occasionnel - Plein tarif",
                                 "amount": "110.00", "fees": "0.00"}]
    assert [m["code"] for m in api.get("/api/v1/sales/payment-modes").get_json()][:2] == ["CASH", "CARD"]
    assert api.get("/api/v1/sales/tariffs").get_json()[0]["full_label"] == "Contact occasionnel - Plein tarif"
    assert api.get("/api/v1/sales/events").get_json()[0]["title"] == "Joyaux"
    assert api.get("/api/v1/sales/seasons").status_code == 200
    assert api.get(f"/api/v1/sales/performances/{shop['performance']}/seats").get_json() == []


def test_sell_then_pay_then_read_the_order_and_its_tickets(client, shop):
    api = client()
    created = api.post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CARD", "amount": "100.00"}]),
                       headers={"Idempotency-Key": "sale-1"})
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    assert (order["state"], order["total"], order["subtotal_paid"], order["balance"]) == (
        "not_settled", "220.00", "100.00", "120.00")
    number = order["number"]
    paid = api.post(f"/api/v1/orders/{number}/payments", json={"payments": [{"mode": "CASH", "amount": "150.00"}]},
                    headers={"Idempotency-Key": "pay-1"})
    assert paid.status_code == 201
    assert paid.get_json()["change"] == "30.00" and paid.get_json()["order"]["balance"] == "0.00"
    again = api.post(f"/api/v1/orders/{number}/payments", json={"payments": [{"mode": "CASH", "amount": "150.00"}]},
                     headers={"Idempotency-Key": "pay-1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == paid.get_json()
    got = api.get(f"/api/v1/orders/{number}").get_json()
    assert got["state"] == "settled" and [p["amount"] for p in got["payments"]] == ["100.00", "120.00"]
    barcode = got["tickets"][0]["barcode"]
    ticket = api.get(f"/api/v1/tickets/{barcode}").get_json()
    assert (ticket["order"], ticket["state"], ticket["price"], ticket["buyer_number"]) == (number, "paid", "110.00", shop["buyer"])
    last = got["tickets"][1]["barcode"]
    first, last = sorted([barcode, last])
    assert [t["barcode"] for t in api.get(f"/api/v1/tickets?first={first}&last={last}").get_json()] == [first, last]
    unknown = api.get("/api/v1/tickets/12345678901")  # not ours, not stored: unknown (was "invalid", 422)
    assert unknown.status_code == 404 and "Code-barres inconnu" in unknown.get_data(as_text=True)
    printed = api.post(f"/api/v1/orders/{number}/print", json={})
    assert {t["print_state"] for t in printed.get_json()["tickets"]} == {"printed"}


def test_errors_speak_the_operators_language(client, shop):
    api = client()
    full = api.post("/api/v1/orders", json=sale(shop, quantity=6))
    assert full.status_code == 409 and "Plus assez de places" in full.get_json()["error"]["message"]
    over = api.post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CARD", "amount": "500.00"}]))
    assert over.status_code == 409 and "seules les espèces rendent la monnaie" in over.get_json()["error"]["message"]
    as_float = api.post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CARD", "amount": 100.5}]))
    assert as_float.status_code == 422 and "payments" in as_float.get_json()["error"]["fields"]
    nobody = api.post("/api/v1/orders", json={**sale(shop), "buyer": 999999})
    assert nobody.status_code == 422 and "buyer" in nobody.get_json()["error"]["fields"]
    assert api.get("/api/v1/orders/4242").status_code == 404
    # nothing was sold by the refused requests
    assert api.get("/api/v1/sales/performances").get_json()[0]["available"] == 5


def test_reserve_then_cancel(client, shop):
    api = client()
    reservation = api.post("/api/v1/orders", json=sale(shop, action="reserve"), headers={"Idempotency-Key": "r1"})
    assert reservation.status_code == 201 and reservation.get_json()["state"] == "reserved"
    number = reservation.get_json()["number"]
    one = reservation.get_json()["tickets"][0]["barcode"]
    partly = api.post(f"/api/v1/orders/{number}/cancel", json={"tickets": [one]})
    assert [t["state"] for t in partly.get_json()["tickets"]] == ["cancelled", "reserved"]
    rest = api.post(f"/api/v1/orders/{number}/cancel", json={})
    assert rest.get_json()["state"] == "cancelled" and rest.get_json()["total"] == "0.00"
    assert api.post(f"/api/v1/orders/{number}/cancel", json={}).status_code == 409


def test_credit_balance_endpoints(client, shop):
    boss = client("supervisor")
    adjusted = boss.post(f"/api/v1/contacts/{shop['buyer']}/credit", json={"amount": "25.00", "reason": "Geste"},
                         headers={"Idempotency-Key": "c1"})
    assert adjusted.status_code == 201 and adjusted.get_json()["balance"] == "25.00"
    boss.post(f"/api/v1/contacts/{shop['buyer']}/credit", json={"amount": "25.00", "reason": "Geste"},
              headers={"Idempotency-Key": "c1"})  # replayed, not credited twice
    got = client("readonly").get(f"/api/v1/contacts/{shop['buyer']}/credit").get_json()
    assert got["balance"] == "25.00" and [m["amount"] for m in got["movements"]] == ["25.00"]
    assert client().post(f"/api/v1/contacts/{shop['buyer']}/credit", json={"amount": "5.00", "reason": "x"}).status_code == 403
    sold = client().post("/api/v1/orders", json=sale(shop, quantity=1, payments=[{"mode": "CREDIT", "amount": "25.00"},
                                                                                 {"mode": "CARD", "amount": "85.00"}]))
    assert sold.get_json()["state"] == "settled"
    assert client().get(f"/api/v1/contacts/{shop['buyer']}/credit").get_json()["balance"] == "0.00"


def test_permissions_on_the_sales_endpoints(client, shop):
    readonly = client("readonly")
    assert readonly.post("/api/v1/orders", json=sale(shop)).status_code == 403
    assert readonly.get("/api/v1/sales/performances").status_code == 200


def test_the_money_posts_are_idempotent_in_the_openapi_document(client, shop):
    spec = client("administrator").get("/api/v1/openapi.json").get_json()
    for path in ("/orders", "/orders/{number}/payments", "/orders/{number}/cancel", "/contacts/{number}/credit"):
        params = [p.get("name") for p in spec["paths"][path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in params, path
    assert "/tickets/{barcode}" in spec["paths"] and "/sales/performances" in spec["paths"]
    amount = spec["components"]["schemas"]["Order"]["properties"]["balance"]
    assert amount["type"] == "string" and amount["example"] == "2420.00"
