"""The REST API of payment modes: the operator's fields (listed, accepted as ``details``, 422 naming
the field), a mode's settings, changing the payer (correction entries), pending payments resolved by
an operator; permissions; idempotency."""
from decimal import Decimal

import pytest

from tests.conftest import app_session
from tests.sales.test_api import client, sale, shop  # noqa: F401 - fixtures


def put(api_client, url, json):
    return api_client.put(url, json=json)


@pytest.fixture
def api(app, make_operator, token_for):
    """``api(role)``: a test client with a bearer token (get, post, put)."""
    made = {}

    def factory(role="operator"):
        if role not in made:
            make_operator(f"pm_{role}", roles=[role])
            made[role] = token_for(f"pm_{role}")
        headers = {"Authorization": f"Bearer {made[role]}"}
        c = app.test_client()

        class Client:
            def get(self, url, **kw):
                return c.get(url, headers={**headers, **kw.pop("headers", {})}, **kw)

            def post(self, url, **kw):
                return c.post(url, headers={**headers, **kw.pop("headers", {})}, **kw)

            def put(self, url, **kw):
                return c.put(url, headers={**headers, **kw.pop("headers", {})}, **kw)

        return Client()

    return factory


def test_payment_modes_list_the_fields_the_operator_fills(api, shop):  # noqa: F811
    modes = {m["code"]: m for m in api("readonly").get("/api/v1/sales/payment-modes").get_json()}
    assert [f["name"] for f in modes["CHEQUE"]["operator_fields"]] == ["cheque_number", "bank"]
    assert modes["CHEQUE"]["operator_fields"][0]["label"] == "N° de chèque"
    assert modes["CASH"]["gives_change"] and modes["CASH"]["operator_fields"] == []
    assert modes["CARD"]["completes_later"] is False and modes["CARD"]["type_label"] == "Carte bancaire"
    en = api("readonly").get("/api/v1/sales/payment-modes/CHEQUE", headers={"Accept-Language": "en"}).get_json()
    assert en["operator_fields"][0]["label"] == "Cheque number"


def test_details_are_accepted_and_validated(api, shop):  # noqa: F811
    ops = api("supervisor")
    settings = ops.put("/api/v1/sales/payment-modes/CHEQUE/settings", json={"settings": {"require_bank": True}})
    assert settings.status_code == 200 and settings.get_json()["settings"]["require_bank"] is True
    bad = ops.post("/api/v1/orders", json=sale(shop, payments=[
        {"mode": "CHEQUE", "amount": "220.00", "details": {"cheque_number": "123"}}]))
    assert bad.status_code == 422
    assert bad.get_json()["error"]["fields"] == {"payments.0.details.bank": "Champ obligatoire."}
    unknown = ops.post("/api/v1/orders", json=sale(shop, payments=[
        {"mode": "CASH", "amount": "220.00", "details": {"colour": "red"}}]))
    assert unknown.status_code == 422 and "payments.0.details.colour" in unknown.get_json()["error"]["fields"]
    ok = ops.post("/api/v1/orders", json=sale(shop, payments=[
        {"mode": "CHEQUE", "amount": "220.00", "details": {"cheque_number": "123", "bank": "LCL"}}]))
    assert ok.status_code == 201
    (payment,) = ok.get_json()["payments"]
    assert (payment["details"], payment["reference"]) == ({"cheque_number": "123", "bank": "LCL"}, "123")


def test_mode_settings_are_validated_and_need_the_settings_permission(api, shop):  # noqa: F811
    assert api("operator").get("/api/v1/sales/payment-modes/CASH/settings").status_code == 403
    sup = api("supervisor")
    form = sup.get("/api/v1/sales/payment-modes/CASH/settings").get_json()
    assert [f["name"] for f in form["settings_fields"]] == ["min_amount", "max_amount"]
    bad = sup.put("/api/v1/sales/payment-modes/CASH/settings", json={"settings": {"max_amount": "lots"}})
    assert bad.status_code == 422 and list(bad.get_json()["error"]["fields"]) == ["settings.max_amount"]
    ok = sup.put("/api/v1/sales/payment-modes/CASH/settings", json={"settings": {"max_amount": "500"}})
    assert ok.get_json()["settings"]["max_amount"] == "500.00"
    refused = sup.post("/api/v1/orders", json=sale(shop, quantity=5, payments=[{"mode": "CASH", "amount": "600.00"}]))
    assert refused.status_code == 409 and "dépasse le maximum de 500,00" in refused.get_json()["error"]["message"]


def test_changing_the_payer_writes_correction_entries(api, shop, app):  # noqa: F811
    from plugins.contacts.services.contacts import create_quick

    with app_session(app) as s:
        other = create_quick(s, {"civility": "M", "last_name": "Martin", "first_name": "Paul", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"}).number
        s.commit()
    created = api("operator").post("/api/v1/orders", json=sale(shop, payments=[{"mode": "CARD", "amount": "220.00"}]))
    number = created.get_json()["number"]
    assert api("operator").post(f"/api/v1/orders/{number}/payer", json={"payer": other}).status_code == 403
    sup = api("supervisor")
    headers = {"Idempotency-Key": "payer-1"}
    first = sup.post(f"/api/v1/orders/{number}/payer", json={"payer": other, "reason": "Erreur"}, headers=headers)
    again = sup.post(f"/api/v1/orders/{number}/payer", json={"payer": other, "reason": "Erreur"}, headers=headers)
    assert first.status_code == 201 and again.get_json() == first.get_json()
    order = first.get_json()
    original = order["payments"][0]["id"]
    assert [(p["amount"], p["correction_of"]) for p in order["payments"]] == [
        ("220.00", None), ("-220.00", original), ("220.00", original)]
    assert order["payer_number"] == other and order["balance"] == "0.00"
    nothing = sup.post(f"/api/v1/orders/{number}/payer", json={"payer": other})
    assert nothing.status_code == 409
    missing = sup.post(f"/api/v1/orders/{number}/payer", json={"payer": 99999999})
    assert missing.status_code == 422 and "payer" in missing.get_json()["error"]["fields"]


def test_pending_payments_are_listed_and_resolved_by_a_supervisor(api, shop, app):  # noqa: F811
    from plugins.sales.services import orders, payments

    created = api("operator").post("/api/v1/orders", json=sale(shop)).get_json()
    with app_session(app) as s:
        order = orders.get_order(s, created["number"])
        # a pending payment as a payment terminal would leave it (its plugin is the devices helper's)
        from plugins.sales.models import Operation, PendingPayment
        from plugins.sales.services.journal import record_operation
        from plugins.sales.services.settings import get_payment_mode

        op = record_operation(s, "pay", order=order, details={})
        s.add(PendingPayment(order_id=order.id, payment_mode_id=get_payment_mode(s, "CARD").id,
                             amount=Decimal("220.00"), state="unknown", operation_id=op.id, details={},
                             message="Pas de réponse du terminal"))
        s.commit()
        assert isinstance(op, Operation) and payments.pending_amount(s, order) == Decimal("220.00")
    (row,) = api("readonly").get(f"/api/v1/sales/pending-payments?order={created['number']}").get_json()
    assert (row["state"], row["amount"], row["message"]) == ("unknown", "220.00", "Pas de réponse du terminal")
    url = f"/api/v1/sales/pending-payments/{row['id']}/resolve"
    assert api("operator").post(url, json={"outcome": "completed", "note": "vu"}).status_code == 403
    sup = api("supervisor")
    assert sup.post(url, json={"outcome": "maybe", "note": "vu"}).status_code == 422
    done = sup.post(url, json={"outcome": "completed", "note": "Journal du TPE : accepté", "reference": "AUTH 7"})
    assert done.status_code == 200 and done.get_json()["state"] == "completed"
    detail = api("readonly").get(f"/api/v1/orders/{created['number']}").get_json()
    assert (detail["state"], detail["payments"][0]["reference"]) == ("settled", "AUTH 7")
    assert sup.post(url, json={"outcome": "failed", "note": "non"}).status_code == 409
    assert api("readonly").get("/api/v1/sales/pending-payments").get_json() == []
