"""The change feed (``GET /api/v1/changes?after=CURSOR``), the webhook subscriptions managed through
the API (``/api/v1/webhooks/…``, permission ``core.webhooks.manage``, as Administration → Webhooks:
list, subscribe, change, replace the secret, delete, their deliveries, send a test, send again; each
change recorded in the security journal by the services), and the webhook payloads
in the OpenAPI document (``x-webhooks``: one entry per event, its envelope and its ``data`` schema)."""
from __future__ import annotations

import json
import re

from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from coulisses import InvalidError, hookimpl, webhooks
from coulisses.i18n import _l
from coulisses.web.extensions import db
from coulisses.web.schemas import Limit, SafeString

MAX_LIMIT = 500


class ChangesQuery(Schema):
    after = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2 ** 62),
                           metadata={"description": "The cursor of the last change already read (0: from the start)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT),
                           metadata={"description": f"At most this many changes (1 to {MAX_LIMIT})"})
    events = fields.String(load_default="", validate=validate.Length(max=2000),
                           metadata={"description": "Only these events (codes separated by commas)"})


class ChangeSchema(Schema):
    cursor = fields.Integer(attribute="position", metadata={"description": "Pass it as ?after= to read what follows"})
    event = fields.String(metadata={"description": "The event's code (see x-webhooks)"})
    subject = fields.String(metadata={"description": "What it is about, e.g. contact:1042 or order:959"})
    occurred_at = fields.DateTime(attribute="at")
    data = fields.Dict(metadata={"description": "The event's payload: the same as its webhook's data"})


class ChangesPageSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))
    next_cursor = fields.Integer(metadata={"description": "The cursor to pass next time (unchanged when nothing is new)"})
    has_more = fields.Boolean(metadata={"description": "More changes are ready: ask again at once"})


# --------------------------------------------------------------------------- managing subscriptions

MANAGE = "core.webhooks.manage"  # the permission of Administration → Webhooks


class WebhookEventInfoSchema(Schema):
    code = fields.String(metadata={"description": "What to put in a subscription's events"})
    label = fields.Function(lambda ev: str(ev.label))
    description = fields.Function(lambda ev: str(ev.description or ""))
    permission = fields.String(allow_none=True, metadata={"description": "What a token needs to read it in GET /changes"})


class WebhookSubscriptionSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    description = fields.String()
    events = fields.List(fields.String(), metadata={"description": "Event codes (\"*\": every event)"})
    active = fields.Boolean()
    created_at = fields.DateTime()
    created_by = fields.String()


class WebhookSubscriptionCreatedSchema(WebhookSubscriptionSchema):
    secret = fields.String(metadata={"description": "The signing secret: shown only in this answer, keep it"})


def _events_field(**kwargs):
    return fields.List(SafeString(120), validate=validate.Length(min=1, max=200), metadata={
        "description": "Event codes (GET /webhooks/events), or \"*\" for every event"}, **kwargs)


class WebhookSubscriptionCreateSchema(Schema):
    url = SafeString(500, required=True, metadata={"description": "http:// or https:// address receiving the POSTs"})
    events = _events_field(required=True)
    description = SafeString(200, load_default="")
    secret = SafeString(200, min_length=webhooks.MIN_SECRET_LENGTH, load_default=None, metadata={
        "description": f"At least {webhooks.MIN_SECRET_LENGTH} characters; generated when not given"})
    active = fields.Boolean(load_default=True)


class WebhookSubscriptionUpdateSchema(Schema):
    url = SafeString(500)
    events = _events_field()
    description = SafeString(200)
    secret = SafeString(200, min_length=webhooks.MIN_SECRET_LENGTH, metadata={
        "description": "A new signing secret (the old one stops signing); never shown again"})
    active = fields.Boolean()


class WebhookDeliveryQuery(Schema):
    state = fields.String(load_default=None, validate=validate.OneOf(sorted(webhooks.DELIVERY_STATES)))
    limit = Limit(100, 500)


class WebhookDeliverySchema(Schema):
    id = fields.Integer(metadata={"description": "Also the Coulisses-Delivery header"})
    subscription = fields.Integer(attribute="subscription_id")
    event = fields.String()
    cursor = fields.Function(lambda d: d.change.position if d.change is not None else None,
                             metadata={"description": "The change's cursor (null for a test)"})
    state = fields.String(metadata={"description": "pending, delivered, failed or cancelled"})
    attempts = fields.Integer()
    last_status = fields.Integer(allow_none=True, metadata={"description": "The receiver's last HTTP status"})
    last_error = fields.String()
    created_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    data = fields.Function(lambda d: json.loads(d.data_json or "{}"), metadata={"description": "The event's data"})


def _fields_error(errors: dict):
    from coulisses.i18n import _
    from coulisses.web.rest import ApiError

    return ApiError(422, "invalid", _("L'abonnement n'est pas valide"),
                    {name: [message] for name, message in errors.items()})


def register_subscription_routes(api) -> None:
    from coulisses import NotFoundError
    from coulisses.i18n import _

    def subscription(subscription_id: int) -> webhooks.WebhookSubscription:
        sub = db.session.get(webhooks.WebhookSubscription, subscription_id)
        if sub is None:
            raise NotFoundError(_("Abonnement %(id)s introuvable", id=subscription_id))
        return sub

    common = {"permission": MANAGE, "tags": ["webhooks"]}

    @api.route("/webhooks/events", summary="The events a subscription may ask for", response=WebhookEventInfoSchema,
               many=True, endpoint="core_webhook_events", **common)
    def list_events():
        return [ev for code, ev in sorted(webhooks.events().items()) if code != webhooks.TEST_EVENT]

    @api.route("/webhooks/subscriptions", summary="The webhook subscriptions", response=WebhookSubscriptionSchema,
               many=True, endpoint="core_webhook_subscriptions", **common)
    def list_subscriptions():
        return list(db.session.scalars(select(webhooks.WebhookSubscription).order_by(webhooks.WebhookSubscription.id)))

    @api.route("/webhooks/subscriptions", methods=["POST"], summary="Subscribe a URL to events",
               body=WebhookSubscriptionCreateSchema, response=WebhookSubscriptionCreatedSchema, status=201,
               endpoint="core_webhook_subscribe", **common)
    def create_subscription(body):
        """The answer holds the signing secret (given, or generated): the only time it is shown."""
        try:
            sub = webhooks.subscribe(db.session, body["url"], body["events"], secret=body["secret"],
                                     description=body["description"])
        except InvalidError as exc:
            raise _fields_error(exc.fields) from None
        sub.active = body["active"]
        db.session.flush()
        return sub

    @api.route("/webhooks/subscriptions/<int:subscription_id>", summary="A webhook subscription",
               response=WebhookSubscriptionSchema, endpoint="core_webhook_subscription", **common)
    def get_subscription(subscription_id):
        return subscription(subscription_id)

    @api.route("/webhooks/subscriptions/<int:subscription_id>", methods=["PATCH"],
               summary="Change a webhook subscription", body=WebhookSubscriptionUpdateSchema, response=WebhookSubscriptionSchema,
               endpoint="core_webhook_subscription_update", **common)
    def update_subscription(subscription_id, body):
        """Only the fields given change; ``active: false`` pauses the deliveries (queued ones are
        cancelled when their turn comes)."""
        sub = subscription(subscription_id)
        try:
            return webhooks.update_subscription(db.session, sub, url=body.get("url"), codes=body.get("events"),
                                                secret=body.get("secret"), description=body.get("description"),
                                                active=body.get("active"))
        except InvalidError as exc:
            raise _fields_error(exc.fields) from None

    @api.route("/webhooks/subscriptions/<int:subscription_id>/secret", methods=["POST"],
               summary="Replace a subscription's signing secret with a generated one",
               response=WebhookSubscriptionCreatedSchema, endpoint="core_webhook_rotate_secret", **common)
    def rotate_secret(subscription_id):
        """The old secret stops signing at once; the answer holds the new one: the only time it is shown."""
        sub = subscription(subscription_id)
        webhooks.rotate_secret(db.session, sub)
        return sub

    @api.route("/webhooks/subscriptions/<int:subscription_id>", methods=["DELETE"],
               summary="Delete a webhook subscription and its delivery log", status=204,
               endpoint="core_webhook_subscription_delete", **common)
    def delete_subscription(subscription_id):
        webhooks.unsubscribe(db.session, subscription(subscription_id))
        return "", 204

    @api.route("/webhooks/subscriptions/<int:subscription_id>/deliveries", query=WebhookDeliveryQuery,
               summary="A subscription's deliveries, newest first", response=WebhookDeliverySchema, many=True,
               endpoint="core_webhook_deliveries", **common)
    def list_deliveries(subscription_id, args):
        return webhooks.deliveries_of(db.session, subscription(subscription_id), state=args["state"],
                                      limit=args["limit"])

    @api.route("/webhooks/subscriptions/<int:subscription_id>/test", methods=["POST"],
               summary="Send a test event (core.webhook.test)", response=WebhookDeliverySchema, status=202,
               endpoint="core_webhook_send_test", **common)
    def send_test(subscription_id):
        """Queued now, sent after the answer (even to an inactive subscription): read the result in
        its deliveries."""
        return webhooks.send_test(db.session, subscription(subscription_id))

    @api.route("/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"],
               summary="Send a delivery again (a new delivery of the same event and data)",
               response=WebhookDeliverySchema, status=202, endpoint="core_webhook_redeliver", **common)
    def redeliver(delivery_id):
        delivery = db.session.get(webhooks.WebhookDelivery, delivery_id)
        if delivery is None:
            raise NotFoundError(_("Envoi %(id)s introuvable", id=delivery_id))
        return webhooks.redeliver(db.session, delivery)


def register_routes(api) -> None:
    register_subscription_routes(api)

    from coulisses.i18n import _
    from coulisses.web.rest import ApiError

    @api.route("/changes", permission="core.changes", summary="Read the change feed", query=ChangesQuery,
               response=ChangesPageSchema, tags=["core"], endpoint="core_changes")
    def changes(args):
        """What happened after ``after``, oldest first, in commit order: a poller stores ``next_cursor``
        and asks again with it; nothing committed later ever appears below a cursor already read. Only
        the events the token's permissions allow are listed (``x-webhooks`` names each event's
        permission)."""
        readable = webhooks.readable_events(current_user.has_permission)
        wanted = [c.strip() for c in args["events"].split(",") if c.strip()]
        unknown = [c for c in wanted if c not in webhooks.events() or c == webhooks.TEST_EVENT]
        if unknown:
            raise ApiError(422, "invalid", _("La requête contient des champs invalides"),
                           {"events": [_("Événements inconnus : %(codes)s", codes=", ".join(unknown))]})
        codes = [c for c in readable if not wanted or c in wanted]
        rows, more = webhooks.changes_after(db.session, args["after"], codes, args["limit"])
        return {"changes": rows, "next_cursor": rows[-1].position if rows else args["after"], "has_more": more}


def _component(code_or_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", code_or_name)


def openapi_webhooks(spec) -> dict:
    """Register each event's payload schema and describe its webhook (``x-webhooks``; OpenAPI 3.0
    has no ``webhooks`` section)."""
    spec.components.schema("WebhookEnvelope", {
        "type": "object", "required": ["id", "event", "occurred_at", "data"],
        "properties": {
            "id": {"type": "integer", "description": "The delivery's id (also in Coulisses-Delivery; the same on every retry)"},
            "event": {"type": "string"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "cursor": {"type": "integer", "nullable": True, "description": "The change's cursor in GET /changes"},
            "data": {"type": "object"}}})
    names: dict[type, str] = {}
    hooks: dict[str, dict] = {}
    for code, ev in sorted(webhooks.events().items()):
        data: dict = {"type": "object"}
        if ev.schema is not None:
            if ev.schema not in names:
                names[ev.schema] = "WebhookData_" + _component(ev.schema.__name__)
                spec.components.schema(names[ev.schema], schema=ev.schema)
            data = {"$ref": f"#/components/schemas/{names[ev.schema]}"}
        hooks[code] = {"post": {
            "summary": str(ev.label),
            "description": (str(ev.description) + "\n\n" if ev.description else "")
            + "Signed: Coulisses-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, t + '.' + body)>.",
            "x-permission": ev.permission,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"allOf": [
                {"$ref": "#/components/schemas/WebhookEnvelope"},
                {"type": "object", "properties": {"event": {"type": "string", "enum": [code]}, "data": data}}]}}}},
            "responses": {"2XX": {"description": "Received (anything else, or no answer, is retried with backoff)"}},
        }}
    return {"x-webhooks": hooks}


def _purge_webhooks(session):
    from coulisses.config import current_config

    days = int(current_config().get("WEBHOOKS_RETENTION_DAYS") or 90)
    return {"deleted_changes": webhooks.purge(session, days=days)}


class WebhookHooks:
    """The host's hook implementations for webhooks (``CoreHooks`` inherits them): the test event, the
    delivery job, the retention task, the change feed and the payloads in the OpenAPI document."""

    @hookimpl
    def coulisses_webhook_events(self):
        return webhooks.CORE_EVENTS

    @hookimpl
    def coulisses_job_types(self):
        return webhooks.JOB_TYPES

    @hookimpl
    def coulisses_periodic_tasks(self):
        from coulisses.tasks import Task

        return [Task("core.webhooks.purge", "nightly", _purge_webhooks,
                     _l("Supprime les changements et envois de webhooks de plus de "
                        "WEBHOOKS_RETENTION_DAYS jours (90 par défaut)."))]

    @hookimpl
    def coulisses_api_routes(self, api):
        register_routes(api)
        api.openapi_extensions.append(openapi_webhooks)
