"""The sales API never answers 500 to the inputs that once did (issue 7) and refuses what its document
refuses: amounts beyond their maximum or not matching their pattern, fractional quantities, contact
numbers beyond their range, bodies beyond the size limit; a closed point of sale is a 422."""
import pytest

from tests.sales.test_api import client, sale, shop  # noqa: F401 - fixtures and helpers of the sales API tests


def fields_of(response, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"].get("fields", {})


def taken(api, shop) -> int:
    return api.get(f"/api/v1/sales/performances/{shop['performance']}").get_json()["taken"]


@pytest.mark.parametrize("amount", ["92233720368547758.08", "1e3", "1000000000.00", "12.345", "-20.00", "0.00",
                                    " 20.00", "20,00"])
def test_a_payment_amount_outside_its_pattern_or_range_is_refused(client, shop, amount):
    api = client()
    response = api.post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CASH", "amount": amount}]))
    assert fields_of(response)["payments"]["0"]["amount"]
    assert taken(api, shop) == 0


def test_a_json_number_is_never_money(client, shop):
    response = client().post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CASH", "amount": 220}]))
    assert fields_of(response)["payments"]["0"]["amount"] == ['Un montant s\'écrit comme un texte décimal, par exemple "20.00" (pas un nombre JSON).']


@pytest.mark.parametrize("quantity", [1.5, 2.0, "2", 0, 5001, True])
def test_a_quantity_is_a_whole_number_never_truncated(client, shop, quantity):
    api = client()
    assert fields_of(api.post("/api/v1/orders", json=sale(shop, quantity=quantity)))["lines"]["0"]["quantity"]
    assert taken(api, shop) == 0


@pytest.mark.parametrize("field", ["buyer", "payer", "structure"])
def test_contact_numbers_beyond_their_range_are_refused(client, shop, field):
    body = sale(shop)
    body[field] = 9223372036854775808
    assert field in fields_of(client().post("/api/v1/orders", json=body))


def test_ids_of_a_line_beyond_their_range_and_an_unknown_performance(client, shop):
    api = client()
    body = sale(shop)
    body["lines"][0]["performance"] = 2**31
    assert fields_of(api.post("/api/v1/orders", json=body))["lines"]["0"]["performance"]
    body["lines"][0]["performance"] = 2**31 - 1
    assert fields_of(api.post("/api/v1/orders", json=body)) == {"lines.0.performance": "Séance introuvable : 2147483647"}


def test_an_order_number_beyond_its_range_in_the_path(client, shop):
    api = client()
    assert "number" in fields_of(api.get("/api/v1/orders/9223372036854775808"))
    assert api.get(f"/api/v1/orders/{2**53 - 1}").status_code == 404


def test_a_ten_megabyte_body_is_a_413(client, shop):
    response = client().post("/api/v1/orders", json=sale(shop, note="x" * (10 * 1024 * 1024)))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "request_entity_too_large"


def test_a_credit_adjustment_beyond_the_maximum_amount(client, shop):
    api = client("administrator")
    response = api.post(f"/api/v1/contacts/{shop['buyer']}/credit",
                        json={"amount": "92233720368547758.08", "reason": "Geste"})
    assert "amount" in fields_of(response)
    response = api.post(f"/api/v1/contacts/{shop['buyer']}/credit", json={"amount": "999999999.99", "reason": "Geste"})
    assert response.status_code == 201 and response.get_json()["balance"] == "999999999.99"


def test_a_closed_point_of_sale_is_a_422_naming_it(client, shop, app):
    from tests.conftest import app_session
    from plugins.sales.services import settings

    with app_session(app) as s:
        settings.create_point_of_sale(s, "OLD", "Ancien guichet", "box_office").active = False
        s.commit()
    api = client()
    response = api.post("/api/v1/orders", json=sale(shop, point_of_sale="OLD"))
    assert fields_of(response) == {"point_of_sale": "Point de vente fermé"}
    response = api.post("/api/v1/orders", json=sale(shop, point_of_sale="NOWHERE"))
    assert fields_of(response) == {"point_of_sale": "Point de vente inconnu"}
    sold = api.post("/api/v1/orders", json=sale(shop)).get_json()
    response = api.post(f"/api/v1/orders/{sold['number']}/print", json={"point_of_sale": "OLD"})
    assert "point_of_sale" in fields_of(response)
