"""Webhook subscriptions managed through the REST API (issue 16), with a bearer token and the
permission of Administration → Webhooks (``core.webhooks.manage``): subscribe (the secret shown
only then), list, change, delete, the deliveries, "send a test", send again; bad input is a 422
naming the field; every operation is in the OpenAPI document."""
from __future__ import annotations

import json

import pytest

from coulisses import webhooks
from tests.platform.test_webhooks import SECRET, Receiver, _create_contact, _expected_signature, _rows


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def api(make_app, make_operator, token_for):
    app = make_app(["contacts"])
    make_operator("integ", roles=["administrator"])
    make_operator("sup", roles=["supervisor"])
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token_for('integ')}"}
    return app, client, auth, {"Authorization": f"Bearer {token_for('sup')}"}


def test_subscribe_list_change_and_delete_through_the_api(api, receiver):
    app, client, auth, _sup = api
    events = client.get("/api/v1/webhooks/events", headers=auth).get_json()
    codes = [e["code"] for e in events]
    assert "contacts.contact.created" in codes and webhooks.TEST_EVENT not in codes
    created = client.post("/api/v1/webhooks/subscriptions", headers=auth, json={
        "url": receiver.url, "events": ["contacts.contact.created"], "description": "CRM"})
    assert created.status_code == 201, created.get_json()
    sub = created.get_json()
    assert len(sub["secret"]) >= webhooks.MIN_SECRET_LENGTH  # generated, shown once
    assert sub["events"] == ["contacts.contact.created"] and sub["active"] is True and sub["created_by"] == "integ"
    listing = client.get("/api/v1/webhooks/subscriptions", headers=auth)
    assert listing.status_code == 200 and [s["id"] for s in listing.get_json()] == [sub["id"]]
    assert sub["secret"] not in listing.get_data(as_text=True)  # never again
    one = client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth).get_json()
    assert "secret" not in one and one["url"] == receiver.url

    number = _create_contact(app)  # delivered after commit, signed with the generated secret
    request = receiver.requests[-1]
    parts = dict(p.split("=", 1) for p in request["headers"]["Coulisses-Signature"].split(","))
    assert parts["v1"] == _expected_signature(sub["secret"], parts["t"], request["body"])
    assert json.loads(request["body"])["data"]["number"] == number

    changed = client.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth, json={
        "events": ["contacts.contact.merged"], "secret": SECRET, "active": False})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["events"] == ["contacts.contact.merged"] and changed.get_json()["active"] is False
    assert "secret" not in changed.get_json()
    assert changed.get_json()["url"] == receiver.url and changed.get_json()["description"] == "CRM"  # kept
    [row] = _rows(app, webhooks.WebhookSubscription)
    assert row.secret == SECRET and row.events == ["contacts.contact.merged"] and not row.active
    _create_contact(app, "Benali")
    assert len(receiver.requests) == 1  # no longer asked for

    deleted = client.delete(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth)
    assert deleted.status_code == 204
    assert _rows(app, webhooks.WebhookSubscription) == [] and _rows(app, webhooks.WebhookDelivery) == []
    assert client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth).status_code == 404


def test_a_given_secret_is_kept_and_a_test_is_sent_logged_and_sent_again(api, receiver):
    app, client, auth, _sup = api
    sub = client.post("/api/v1/webhooks/subscriptions", headers=auth, json={
        "url": receiver.url, "events": ["*"], "secret": SECRET, "active": False}).get_json()
    assert sub["secret"] == SECRET and sub["active"] is False
    receiver.replies = [500]
    sent = client.post(f"/api/v1/webhooks/subscriptions/{sub['id']}/test", headers=auth)
    assert sent.status_code == 202, sent.get_json()
    assert sent.get_json()["event"] == webhooks.TEST_EVENT and sent.get_json()["subscription"] == sub["id"]
    assert len(receiver.requests) == 1 and receiver.json()["data"]["subscription"] == sub["id"]  # even inactive
    log = client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}/deliveries", headers=auth).get_json()
    assert [(d["event"], d["state"], d["attempts"], d["last_status"]) for d in log] == [
        (webhooks.TEST_EVENT, "pending", 1, 500)]  # the receiver failed: retried later
    again = client.post(f"/api/v1/webhooks/deliveries/{log[0]['id']}/redeliver", headers=auth)
    assert again.status_code == 202 and again.get_json()["id"] != log[0]["id"]
    assert len(receiver.requests) == 2
    log = client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}/deliveries?state=delivered", headers=auth).get_json()
    assert [(d["id"], d["state"], d["last_status"]) for d in log] == [(again.get_json()["id"], "delivered", 200)]
    assert log[0]["data"] == receiver.json()["data"]


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://example.org/hook", "events": ["contacts.contact.created"]}, "url"),
    ({"url": "not a url", "events": ["contacts.contact.created"]}, "url"),
    ({"url": "https://crm.example.org/hook", "events": ["contacts.contact.nope"]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": [webhooks.TEST_EVENT]}, "events"),
    ({"url": "https://crm.example.org/hook", "events": []}, "events"),
    ({"url": "https://crm.example.org/hook"}, "events"),
    ({"events": ["*"]}, "url"),
    ({"url": "https://crm.example.org/hook", "events": ["*"], "secret": "short"}, "secret"),
    ({"url": "https://crm.example.org/hook", "events": "contacts.contact.created"}, "events"),
    ({"url": "https://crm.example.org/hook", "events": ["*"], "active": "maybe"}, "active"),
])
def test_bad_input_is_a_422_naming_the_field_and_saves_nothing(api, body, field):
    app, client, auth, _sup = api
    response = client.post("/api/v1/webhooks/subscriptions", headers=auth, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    assert _rows(app, webhooks.WebhookSubscription) == []


def test_a_bad_change_is_a_422_naming_the_field_and_changes_nothing(api):
    app, client, auth, _sup = api
    sub = client.post("/api/v1/webhooks/subscriptions", headers=auth, json={
        "url": "https://crm.example.org/hook", "events": ["contacts.contact.created"]}).get_json()
    for body, field in (({"url": "mailto:crm@example.org"}, "url"), ({"events": ["sales.nope"]}, "events"),
                        ({"events": []}, "events"), ({"secret": "x"}, "secret")):
        response = client.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth, json=body)
        assert response.status_code == 422 and field in response.get_json()["error"]["fields"], body
    [row] = _rows(app, webhooks.WebhookSubscription)
    assert (row.url, row.events) == ("https://crm.example.org/hook", ["contacts.contact.created"])
    wrong_state = client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}/deliveries?state=lost", headers=auth)
    assert wrong_state.status_code == 422 and "state" in wrong_state.get_json()["error"]["fields"]
    assert client.patch("/api/v1/webhooks/subscriptions/999", headers=auth, json={}).status_code == 404
    assert client.post("/api/v1/webhooks/deliveries/999/redeliver", headers=auth).status_code == 404


def test_the_endpoints_need_the_webhooks_permission(api):
    _app, client, _auth, sup = api
    assert client.get("/api/v1/webhooks/subscriptions").status_code == 401
    for method, path in (("get", "/api/v1/webhooks/subscriptions"), ("get", "/api/v1/webhooks/events"),
                         ("post", "/api/v1/webhooks/subscriptions"), ("delete", "/api/v1/webhooks/subscriptions/1"),
                         ("post", "/api/v1/webhooks/subscriptions/1/test")):
        response = getattr(client, method)(path, headers=sup, json={} if method == "post" else None)
        assert response.status_code == 403, (method, path)
        assert "core.webhooks.manage" in response.get_json()["error"]["message"]


def test_the_endpoints_are_in_the_openapi_document(api):
    _app, client, auth, _sup = api
    doc = client.get("/api/v1/openapi.json", headers=auth).get_json()
    paths = doc["paths"]
    assert set(paths["/webhooks/subscriptions"]) == {"get", "post"}
    assert set(paths["/webhooks/subscriptions/{subscription_id}"]) == {"get", "patch", "delete"}
    assert "get" in paths["/webhooks/subscriptions/{subscription_id}/deliveries"]
    assert "post" in paths["/webhooks/subscriptions/{subscription_id}/test"]
    assert "post" in paths["/webhooks/deliveries/{delivery_id}/redeliver"]
    post = paths["/webhooks/subscriptions"]["post"]
    assert post["x-permission"] == "core.webhooks.manage" and "422" in post["responses"]
    created = post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    listed = paths["/webhooks/subscriptions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    listed = listed["items"]["$ref"].rsplit("/", 1)[1]
    schemas = doc["components"]["schemas"]
    assert "secret" in schemas[created]["properties"] and "secret" not in schemas[listed]["properties"]


def test_the_refunds_and_waiting_account_payloads_are_in_the_openapi_document(make_app, make_operator, token_for):
    app = make_app(["refunds", "waiting_account"])
    make_operator("docs", roles=["administrator"])
    doc = app.test_client().get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token_for('docs')}"}
                                ).get_json()
    hooks, schemas = doc["x-webhooks"], doc["components"]["schemas"]
    expected = {
        "refunds.order.refunded": ("sales.view", {"order", "operation", "tickets", "value", "kept", "refunds",
                                                  "transferred", "exchange_order", "cause", "contact"}),
        "refunds.order.exchanged": ("sales.view", {"order", "exchange_order", "transferred"}),
        "waiting_account.invoice.issued": ("waiting_account.view", {"number", "kind", "contact", "orders", "total",
                                                                    "net_total", "vat_total", "cancels"}),
        "waiting_account.account.settled": ("waiting_account.view", {"contact", "via", "receipt", "mode", "amount",
                                                                     "to_account", "to_credit", "balance"}),
    }
    for code, (permission, properties) in expected.items():
        post = hooks[code]["post"]
        assert post["x-permission"] == permission and post["summary"]
        body = post["requestBody"]["content"]["application/json"]["schema"]["allOf"][1]["properties"]
        assert body["event"]["enum"] == [code]
        ref = body["data"]["$ref"].rsplit("/", 1)[1]
        assert properties <= set(schemas[ref]["properties"]), code
    # the documentation names exactly the events registered
    import pathlib
    import re

    from coulisses import webhooks

    docs = pathlib.Path(__file__).resolve().parents[2] / "docs"
    registered = {code for code in webhooks.events() if code != webhooks.TEST_EVENT}
    for name in ("hooks.md", "plugin-guide.md"):
        named = set(re.findall(r"`((?:contacts|sales|refunds|waiting_account)\.[a-z_]+\.[a-z_]+)`",
                               (docs / name).read_text()))
        assert named == registered, name


def test_the_api_replaces_a_secret_and_every_change_is_in_the_security_journal(api, receiver):
    from coulisses.security_events import SecurityEvent

    app, client, auth, sup = api
    sub = client.post("/api/v1/webhooks/subscriptions", headers=auth, json={
        "url": receiver.url, "events": ["*"], "secret": SECRET}).get_json()
    assert client.post(f"/api/v1/webhooks/subscriptions/{sub['id']}/secret", headers=sup).status_code == 403
    rotated = client.post(f"/api/v1/webhooks/subscriptions/{sub['id']}/secret", headers=auth)
    assert rotated.status_code == 200, rotated.get_json()
    secret = rotated.get_json()["secret"]
    assert secret != SECRET and len(secret) >= webhooks.MIN_SECRET_LENGTH  # shown in this answer only
    [row] = _rows(app, webhooks.WebhookSubscription)
    assert row.secret == secret
    assert "secret" not in client.get(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth).get_json()
    assert client.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth,
                        json={"description": "CRM", "secret": SECRET}).status_code == 200
    assert client.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth,
                        json={"description": "CRM"}).status_code == 200  # nothing changes: nothing recorded
    assert client.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth,
                        json={"url": "nope"}).status_code == 422  # refused: nothing recorded
    assert client.delete(f"/api/v1/webhooks/subscriptions/{sub['id']}", headers=auth).status_code == 204
    journal = [(e.kind, e.scope, e.actor_login, e.detail) for e in _rows(app, SecurityEvent)
               if e.kind.startswith("webhook_")]
    n = sub["id"]
    assert journal == [("webhook_created", "operator", "integ", f"{n} 127.0.0.1 *"),
                       ("webhook_secret_rotated", "operator", "integ", f"{n} 127.0.0.1"),
                       ("webhook_changed", "operator", "integ", f"{n} 127.0.0.1 description"),
                       ("webhook_secret_rotated", "operator", "integ", f"{n} 127.0.0.1"),
                       ("webhook_deleted", "operator", "integ", f"{n} 127.0.0.1")]
    assert not any(SECRET in d or secret in d for *_rest, d in journal)
