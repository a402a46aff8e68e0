"""The change feed (``GET /api/v1/changes?after=CURSOR``) and the webhook payloads in the OpenAPI
document (``x-webhooks``: one entry per event, its envelope and its ``data`` schema)."""
from __future__ import annotations

import re

from flask_login import current_user
from marshmallow import Schema, fields, validate

from coulisses import hookimpl, webhooks
from coulisses.i18n import _l
from coulisses.web.extensions import db

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


def register_routes(api) -> None:
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
