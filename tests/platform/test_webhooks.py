"""Webhooks and the change feed (issue 16): events delivered after commit to a local HTTP receiver
the tests start, signed (HMAC-SHA256 over timestamp and body), retried with backoff after a
receiver failure, never for a rolled-back transaction; the delivery log and "send a test"; the
change feed in commit order, permission-checked; the payloads in the OpenAPI document."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from coulisses import InvalidError, PluginError, webhooks
from coulisses import db as cdb
from coulisses import outbox
from coulisses import plugins as cplugins
from coulisses.db import clock, utcnow
from tests.conftest import csrf_token_of
from tests.platform.conftest import make_plugin

SECRET = "s3cret-for-the-receiver-only"


class Receiver:
    """A local HTTP server recording the POSTs it gets; answers the statuses queued in ``replies``
    (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.replies: list[int] = []
        self.closed = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.replies.pop(0) if receiver.replies else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/coulisses"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, i=-1) -> dict:
        return json.loads(self.requests[i]["body"])

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def contacts_app(make_app):
    return make_app(["contacts"])


def _subscribe(app, url, codes=("contacts.contact.created",), secret=SECRET):
    from coulisses.web.extensions import db

    with app.app_context():
        sub = webhooks.subscribe(db.session, url, list(codes), secret=secret, description="CRM")
        db.session.commit()
        return sub.id


def _create_contact(app, last_name="Akoka", *, commit=True):
    from coulisses.web.extensions import db
    from plugins.contacts.services.contacts import create_quick

    with app.app_context():
        contact = create_quick(db.session, {"civility": "MME", "last_name": last_name, "first_name": "Viviane",
                                            "country": "FR", "postal_code": "75006", "city": "PARIS"})
        number = contact.number
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
        return number


def _rows(app, model):
    from coulisses.web.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(model).order_by(model.id)))


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_an_event_is_delivered_after_commit_signed_with_the_subscription_secret(contacts_app, receiver):
    _subscribe(contacts_app, receiver.url)
    number = _create_contact(contacts_app)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    assert request["path"] == "/hooks/coulisses" and headers["Content-Type"] == "application/json"
    assert headers["Coulisses-Event"] == "contacts.contact.created"
    parts = dict(p.split("=", 1) for p in headers["Coulisses-Signature"].split(","))
    assert abs(int(parts["t"]) - time.time()) < 60
    assert hmac.compare_digest(parts["v1"], _expected_signature(SECRET, parts["t"], body))
    assert parts["v1"] != _expected_signature("another secret of some length", parts["t"], body)
    payload = json.loads(body)
    assert payload["event"] == "contacts.contact.created" and payload["id"] == int(headers["Coulisses-Delivery"])
    assert payload["data"]["number"] == number and payload["data"]["name"] == "AKOKA, Viviane"
    assert payload["data"]["kind"] == "individual" and payload["cursor"] >= 1
    [delivery] = _rows(contacts_app, webhooks.WebhookDelivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 1, 200)


def test_an_unsubscribed_event_and_an_inactive_subscription_send_nothing(contacts_app, receiver):
    from coulisses.web.extensions import db

    sub_id = _subscribe(contacts_app, receiver.url, ["contacts.contact.merged"])
    _create_contact(contacts_app)
    assert receiver.requests == []
    with contacts_app.app_context():
        sub = db.session.get(webhooks.WebhookSubscription, sub_id)
        sub.events, sub.active = ["*"], False
        db.session.commit()
    _create_contact(contacts_app, "Benali")
    assert receiver.requests == []
    assert len(_rows(contacts_app, webhooks.Change)) == 2  # the feed has them all the same


def test_nothing_is_delivered_nor_recorded_for_a_rolled_back_transaction(contacts_app, receiver):
    _subscribe(contacts_app, receiver.url)
    _create_contact(contacts_app, commit=False)
    assert receiver.requests == []
    assert _rows(contacts_app, webhooks.Change) == [] and _rows(contacts_app, webhooks.WebhookDelivery) == []
    assert _rows(contacts_app, outbox.Job) == []


def test_a_receiver_failure_is_retried_with_backoff_then_delivered(contacts_app, receiver):
    from coulisses.web.extensions import db

    _subscribe(contacts_app, receiver.url)
    receiver.replies = [500, 503]
    _create_contact(contacts_app)
    assert len(receiver.requests) == 1
    [delivery] = _rows(contacts_app, webhooks.WebhookDelivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("pending", 1, 500)
    assert delivery.last_error == "HTTP 500"
    [job] = _rows(contacts_app, outbox.Job)
    assert job.state == "pending" and timedelta(seconds=25) < job.run_after - utcnow() <= timedelta(seconds=30)
    with contacts_app.app_context():
        engine = db.session.get_bind()
        assert outbox.run_pending(engine) == 0  # not due yet
        later = utcnow() + timedelta(seconds=31)
        with clock(lambda: later):
            assert outbox.run_pending(engine) == 1
        [job] = _rows(contacts_app, outbox.Job)
        assert job.state == "pending" and job.run_after - later > timedelta(seconds=55)  # 30 s, then 60 s
        much_later = later + timedelta(seconds=61)
        with clock(lambda: much_later):
            assert outbox.run_pending(engine) == 1
    assert len(receiver.requests) == 3
    ids = {r["headers"]["Coulisses-Delivery"] for r in receiver.requests}
    assert ids == {str(delivery.id)}  # one delivery, three attempts: the receiver can deduplicate
    [delivery] = _rows(contacts_app, webhooks.WebhookDelivery)
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)


def test_an_unreachable_receiver_is_recorded_and_the_last_attempt_leaves_the_delivery_failed(contacts_app, receiver):
    from coulisses.web.extensions import db

    url = receiver.url
    receiver.close()  # nobody listens any more
    _subscribe(contacts_app, url)
    _create_contact(contacts_app)
    [delivery] = _rows(contacts_app, webhooks.WebhookDelivery)
    assert delivery.state == "pending" and delivery.last_status is None and "URLError" in delivery.last_error
    with contacts_app.app_context():
        job = db.session.scalars(select(outbox.Job)).one()
        job.max_attempts = 2
        db.session.commit()
        later = utcnow() + timedelta(minutes=5)
        with clock(lambda: later):
            outbox.run_pending(db.session.get_bind())
    [delivery] = _rows(contacts_app, webhooks.WebhookDelivery)
    [job] = _rows(contacts_app, outbox.Job)
    assert (delivery.state, delivery.attempts, job.state) == ("failed", 2, "parked")


def test_verify_signature_refuses_a_replay_a_tampered_body_and_a_wrong_secret():
    body = b'{"event":"x"}'
    now = 1_764_576_000
    header = webhooks.sign(SECRET, body, now)
    assert webhooks.verify_signature(SECRET, header, body, now=now + 10)
    assert not webhooks.verify_signature(SECRET, header, body, now=now + 301)  # too old: a replay
    assert not webhooks.verify_signature(SECRET, header, body + b" ", now=now)
    assert not webhooks.verify_signature("another secret entirely", header, body, now=now)
    assert not webhooks.verify_signature(SECRET, None, body, now=now)
    assert not webhooks.verify_signature(SECRET, "t=abc,v1=00", body, now=now)


def test_subscriptions_are_validated():
    with pytest.raises(InvalidError) as info:
        webhooks.subscribe(None, "ftp://example.org", ["contacts.contact.nope"], secret="short")
    assert set(info.value.fields) == {"url", "events", "secret"}


def test_event_codes_start_with_the_plugin_name_and_are_defined_once(register_plugin):
    register_plugin(make_plugin("tp_wh", hooks={"coulisses_webhook_events": lambda: [
        webhooks.WebhookEvent("other.thing", "Thing")]}))
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, ["tp_wh"])
    with pytest.raises(PluginError, match="« tp_wh ».*le code doit commencer par « tp_wh. »"):
        webhooks._build(pm)
    register_plugin(make_plugin("tp_wh2", hooks={"coulisses_webhook_events": lambda: [
        webhooks.WebhookEvent("tp_wh2.x", "X"), webhooks.WebhookEvent("tp_wh2.x", "Other X")]}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="« tp_wh2.x » : « tp_wh2 » en donne deux définitions"):
        webhooks._build(cplugins.build_manager(infos, ["tp_wh2"]))


def test_a_plugin_event_is_raised_through_emit_and_unknown_codes_are_refused(register_plugin, make_app, receiver):
    from marshmallow import Schema, fields

    from coulisses.web.extensions import db

    class PledgeSchema(Schema):
        amount = fields.Decimal(as_string=True)

    register_plugin(make_plugin("tp_pledge", hooks={"coulisses_webhook_events": lambda: [
        webhooks.WebhookEvent("tp_pledge.pledged", "Pledged", PledgeSchema)]}))
    app = make_app(["tp_pledge"])
    _subscribe(app, receiver.url, ["*"])
    with app.app_context():
        from decimal import Decimal

        webhooks.emit(db.session, "tp_pledge.pledged", {"amount": Decimal("12.50"), "ignored": 1})
        with pytest.raises(Exception, match="événement de webhook inconnu « tp_pledge.nope »"):
            webhooks.emit(db.session, "tp_pledge.nope", {})
        db.session.commit()
    assert receiver.json()["data"] == {"amount": "12.50"}


# --------------------------------------------------------------------------- the screens


def test_an_administrator_subscribes_on_screen_and_sends_a_test(contacts_app, make_operator, receiver):
    from tests.conftest import login

    make_operator("boss", roles=["administrator"])
    client = contacts_app.test_client()
    login(client, "boss")
    page = client.get("/admin/core_webhook_subscription/new/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="contacts.contact.created"' in html
    assert 'for="url"' in html and 'for="events"' in html and 'for="secret"' in html
    # a wrong URL: refused, what was typed is kept
    response = client.post("/admin/core_webhook_subscription/new/", data={
        "csrf_token": csrf_token_of(html), "url": "not a url", "description": "CRM",
        "events": ["contacts.contact.created"], "secret": SECRET, "active": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "http:// ou https://" in html and 'value="CRM"' in html
    response = client.post("/admin/core_webhook_subscription/new/", data={
        "csrf_token": csrf_token_of(html), "url": receiver.url, "description": "CRM",
        "events": ["contacts.contact.created", "contacts.contact.merged"], "secret": SECRET, "active": "y"})
    assert response.status_code == 200 and f'value="{SECRET}"' in response.get_data(as_text=True)  # shown once
    [sub] = _rows(contacts_app, webhooks.WebhookSubscription)
    assert sub.events == ["contacts.contact.created", "contacts.contact.merged"] and sub.created_by == "boss"
    listing = client.get("/admin/core_webhook_subscription/").get_data(as_text=True)
    assert "Contact créé (contacts.contact.created)" in listing and SECRET not in listing
    response = client.post("/admin/core_webhook_subscription/action/", data={
        "csrf_token": csrf_token_of(listing), "action": "send_test", "rowid": [str(sub.id)]})
    assert response.status_code == 302
    assert receiver.json()["event"] == "core.webhook.test" and receiver.json()["data"]["subscription"] == sub.id
    log = client.get("/admin/core_webhook_delivery/").get_data(as_text=True)
    assert "Test d&#39;un webhook (core.webhook.test)" in log and "Remise" in log and receiver.url in log


def test_the_webhook_screens_need_their_permission(contacts_app, make_operator):
    from tests.conftest import login

    make_operator("sup", roles=["supervisor"])
    client = contacts_app.test_client()
    login(client, "sup")
    assert client.get("/admin/core_webhook_subscription/").status_code == 403
    assert client.get("/admin/core_webhook_delivery/").status_code == 403


# --------------------------------------------------------------------------- the change feed


def test_the_change_feed_pages_in_commit_order_and_checks_permissions(contacts_app, make_operator, token_for):
    make_operator("integ", roles=(), permissions=["core.changes", "contacts.view"])
    make_operator("blind", roles=(), permissions=["core.changes"])
    make_operator("nochanges", roles=(), permissions=["contacts.view"])
    numbers = [_create_contact(contacts_app, name) for name in ("Akoka", "Benali", "Chen")]
    _create_contact(contacts_app, "Rolledback", commit=False)
    client = contacts_app.test_client()
    auth = {"Authorization": f"Bearer {token_for('integ')}"}
    page = client.get("/api/v1/changes?after=0&limit=2", headers=auth).get_json()
    assert [c["data"]["number"] for c in page["changes"]] == numbers[:2] and page["has_more"] is True
    assert [c["event"] for c in page["changes"]] == ["contacts.contact.created"] * 2
    assert page["changes"][0]["subject"] == f"contact:{numbers[0]}"
    rest = client.get(f"/api/v1/changes?after={page['next_cursor']}", headers=auth).get_json()
    assert [c["data"]["number"] for c in rest["changes"]] == numbers[2:] and rest["has_more"] is False
    again = client.get(f"/api/v1/changes?after={rest['next_cursor']}", headers=auth).get_json()
    assert again == {"changes": [], "next_cursor": rest["next_cursor"], "has_more": False}
    blind = client.get("/api/v1/changes", headers={"Authorization": f"Bearer {token_for('blind')}"})
    assert blind.status_code == 200 and blind.get_json()["changes"] == []  # no contacts.view: none shown
    refused = client.get("/api/v1/changes", headers={"Authorization": f"Bearer {token_for('nochanges')}"})
    assert refused.status_code == 403
    wrong = client.get("/api/v1/changes?events=contacts.contact.nope", headers=auth)
    assert wrong.status_code == 422 and "events" in wrong.get_json()["error"]["fields"]
    assert client.get("/api/v1/changes?after=-1", headers=auth).status_code == 422


def test_positions_follow_the_commits_not_the_inserts(contacts_app, is_postgres):
    """A change inserted first but committed last gets the later position (PostgreSQL: two
    transactions at once; SQLite has one writer at a time, so its commits follow its inserts)."""
    from sqlalchemy.orm import Session

    from coulisses.web.extensions import db

    with contacts_app.app_context():
        engine = db.session.get_bind()
    first, second = Session(engine), Session(engine)
    a = webhooks.emit(first, "contacts.contact.anonymised", {"number": 1})
    first.flush()
    if is_postgres:
        b = webhooks.emit(second, "contacts.contact.anonymised", {"number": 2})
        second.flush()
        assert a.id < b.id  # inserted first…
        second.commit()
        first.commit()  # …committed last
    else:
        first.commit()
        b = webhooks.emit(second, "contacts.contact.anonymised", {"number": 2})
        second.commit()
    ids = (a.id, b.id)
    first.close()
    second.close()
    with Session(engine) as s:
        positions = {c.id: c.position for c in s.scalars(select(webhooks.Change))}
    first_id, second_id = ids
    if is_postgres:
        assert positions[second_id] < positions[first_id]
    else:
        assert positions[first_id] < positions[second_id]


def test_the_payloads_are_in_the_openapi_document(contacts_app, make_operator, token_for):
    make_operator("docs", roles=["administrator"])
    doc = contacts_app.test_client().get("/api/v1/openapi.json",
                                         headers={"Authorization": f"Bearer {token_for('docs')}"}).get_json()
    hooks = doc["x-webhooks"]
    assert {"contacts.contact.created", "contacts.contact.merged", "contacts.contact.anonymised"} <= set(hooks)
    body = hooks["contacts.contact.created"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    ref = body["allOf"][1]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
    assert set(doc["components"]["schemas"][ref]["properties"]) >= {"number", "kind", "type", "name"}
    assert "WebhookEnvelope" in doc["components"]["schemas"] and "/changes" in doc["paths"]
    assert hooks["contacts.contact.created"]["post"]["x-permission"] == "contacts.view"


def test_old_changes_and_deliveries_are_purged(contacts_app):
    from coulisses.web.extensions import db

    _create_contact(contacts_app)
    with contacts_app.app_context():
        assert webhooks.purge(db.session, days=90) == 0
        later = utcnow() + timedelta(days=91)
        with clock(lambda: later):
            assert webhooks.purge(db.session, days=90) == 1
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(webhooks.Change)) == 0


def test_the_timeout_and_the_retention_come_from_the_configuration(make_app, monkeypatch):
    monkeypatch.setenv("COULISSES_WEBHOOKS_TIMEOUT", "3")
    monkeypatch.setenv("COULISSES_WEBHOOKS_RETENTION_DAYS", "30")
    app = make_app([])
    with app.app_context():
        assert webhooks._timeout() == 3.0 and app.config["WEBHOOKS_RETENTION_DAYS"] == 30


def _journal(app, prefix="webhook_"):
    from coulisses.security_events import SecurityEvent

    return [(e.kind, e.actor_login, e.detail) for e in _rows(app, SecurityEvent) if e.kind.startswith(prefix)]


def test_the_secret_is_shown_once_at_creation_never_in_the_edit_form_and_rotated_there(contacts_app, make_operator,
                                                                                        receiver):
    """The creation shows the secret (generated) once; the edit form never shows it; "Générer un nouveau
    secret" replaces it and shows the new one once; each change is in the security journal."""
    from tests.conftest import login

    make_operator("boss", roles=["administrator"])
    client = contacts_app.test_client()
    login(client, "boss")
    html = client.get("/admin/core_webhook_subscription/new/").get_data(as_text=True)
    created = client.post("/admin/core_webhook_subscription/new/", data={
        "csrf_token": csrf_token_of(html), "url": receiver.url + "/token-in-path", "description": "CRM",
        "events": ["contacts.contact.created"], "secret": "", "active": "y"})
    [sub] = _rows(contacts_app, webhooks.WebhookSubscription)
    assert len(sub.secret) >= webhooks.MIN_SECRET_LENGTH  # left empty: generated
    page = created.get_data(as_text=True)
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    assert f'value="{sub.secret}"' in page and 'data-testid="webhook-secret"' in page  # shown this once
    assert 'href="/admin/core_webhook_subscription/' in page
    for url in ("/admin/core_webhook_subscription/", f"/admin/core_webhook_subscription/details/?id={sub.id}"):
        assert sub.secret not in client.get(url).get_data(as_text=True)
    edit = client.get(f"/admin/core_webhook_subscription/edit/?id={sub.id}").get_data(as_text=True)
    assert sub.secret not in edit and 'name="secret"' not in edit and 'name="rotate_secret"' in edit

    # a change without a new secret: the secret stays, nothing shown, on to the list
    changed = client.post(f"/admin/core_webhook_subscription/edit/?id={sub.id}", data={
        "csrf_token": csrf_token_of(edit), "url": receiver.url + "/token-in-path", "description": "CRM",
        "events": ["contacts.contact.created", "contacts.contact.merged"]})
    assert changed.status_code == 302
    [after] = _rows(contacts_app, webhooks.WebhookSubscription)
    assert after.secret == sub.secret and not after.active and len(after.events) == 2

    rotated = client.post(f"/admin/core_webhook_subscription/edit/?id={sub.id}", data={
        "csrf_token": csrf_token_of(edit), "url": receiver.url + "/token-in-path", "description": "CRM",
        "events": ["contacts.contact.created"], "active": "y", "rotate_secret": "y"})
    [after] = _rows(contacts_app, webhooks.WebhookSubscription)
    assert after.secret != sub.secret
    assert rotated.status_code == 200 and f'value="{after.secret}"' in rotated.get_data(as_text=True)
    assert after.secret not in client.get(f"/admin/core_webhook_subscription/edit/?id={sub.id}").get_data(as_text=True)

    listing = client.get("/admin/core_webhook_subscription/").get_data(as_text=True)
    deleted = client.post("/admin/core_webhook_subscription/delete/", data={
        "csrf_token": csrf_token_of(listing), "id": str(sub.id), "url": "/admin/core_webhook_subscription/"})
    assert deleted.status_code == 302 and _rows(contacts_app, webhooks.WebhookSubscription) == []

    journal = _journal(contacts_app)
    assert [k for k, _who, _d in journal] == ["webhook_created", "webhook_changed", "webhook_changed",
                                             "webhook_secret_rotated", "webhook_deleted"]
    assert all(who == "boss" for _k, who, _d in journal)
    assert journal[0][2] == f"{sub.id} 127.0.0.1 contacts.contact.created"
    assert journal[1][2] == f"{sub.id} 127.0.0.1 events=contacts.contact.created,contacts.contact.merged active=-"
    assert not any(sub.secret in d or after.secret in d or "token-in-path" in d for _k, _w, d in journal)
    security = client.get("/admin/core_security_event/").get_data(as_text=True)
    assert "Secret d&#39;un abonnement webhook renouvelé" in security and "Abonnement webhook supprimé" in security
