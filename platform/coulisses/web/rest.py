"""The REST base: ``/api/v1``, bearer tokens, JSON errors, marshmallow, OpenAPI, idempotency.

A plugin declares an endpoint through the ``coulisses_api_routes(api)`` hook::

    @api.route("/contacts/<int:number>", permission="contacts.view", response=ContactSchema,
               summary="A contact's sheet", tags=["contacts"])
    def get_contact(number):
        return services.get_sheet(db.session, number)

The view receives ``args`` (the loaded ``query`` schema) and ``body`` (the loaded ``body`` schema)
when those are declared, returns an object that the ``response`` schema dumps (or a Flask
response), and raises ``coulisses.NotFoundError`` / ``ConflictError`` / ``InvalidError`` for the
404 / 409 / 422 errors. The session is committed after a successful POST/PUT/PATCH/DELETE and
rolled back otherwise. ``idempotent=True`` (required for endpoints that move money) honours the
``Idempotency-Key`` header: a repeated request with the same key replays the first response.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify, request
from flask_login import current_user
from marshmallow import Schema, ValidationError
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException

import coulisses
from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import Base, UTCDateTime, utcnow
from coulisses.web.extensions import db

API_PREFIX = "/api/v1"
OPENAPI_PERMISSION = "core.api.docs"  # declared by the host (CoreHooks.coulisses_permissions)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_response(status: int, code: str, message: str, fields: dict | None = None) -> Response:
    payload: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        payload["error"]["fields"] = fields
    response = jsonify(payload)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="coulisses"'
    return response


class IdempotencyKey(Base):
    """The first response to a request sent with an ``Idempotency-Key``, replayed on repeats."""

    __tablename__ = "core_idempotency_key"
    __table_args__ = (UniqueConstraint("operator_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@dataclass
class Route:
    rule: str
    methods: tuple[str, ...]
    endpoint: str
    permission: str | None
    summary: str
    description: str
    tags: list[str]
    query: type[Schema] | None
    body: type[Schema] | None
    response: type[Schema] | None
    many: bool
    status: int
    idempotent: bool
    plugin: str | None = None
    extra_responses: dict = field(default_factory=dict)


def _schema_instance(schema, **kw):
    return schema(**kw) if isinstance(schema, type) else schema


class Api:
    """The ``/api/v1`` blueprint and the routes plugins declare on it."""

    def __init__(self) -> None:
        self.blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
        self.routes: list[Route] = []
        self.current_plugin: str | None = None
        self.blueprint.add_url_rule("/openapi.json", "openapi", self._openapi_view)
        self.blueprint.register_error_handler(ApiError, lambda e: error_response(e.status, e.code, e.message, e.fields))
        self.blueprint.register_error_handler(HTTPException, self._http_error)

    @staticmethod
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    def route(
        self,
        rule: str,
        methods: tuple[str, ...] | list[str] = ("GET",),
        *,
        permission: str | None,
        summary: str,
        description: str = "",
        tags: list[str] | None = None,
        query: type[Schema] | None = None,
        body: type[Schema] | None = None,
        response: type[Schema] | None = None,
        many: bool = False,
        status: int = 200,
        idempotent: bool = False,
        endpoint: str | None = None,
    ) -> Callable:
        methods = tuple(m.upper() for m in methods)

        def decorator(view: Callable) -> Callable:
            name = endpoint or (f"{self.current_plugin}_{view.__name__}" if self.current_plugin else view.__name__)
            route = Route(rule, methods, name, permission, summary, description or (view.__doc__ or "").strip(),
                          tags or ([self.current_plugin] if self.current_plugin else []), query, body, response,
                          many, status, idempotent, self.current_plugin)
            self.routes.append(route)

            @functools.wraps(view)
            def wrapper(**kwargs):
                return self._dispatch(route, view, kwargs)

            wrapper.coulisses_permission = permission  # read by the security test and the docs
            self.blueprint.add_url_rule(rule, name, wrapper, methods=list(methods))
            return view

        return decorator

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, route: Route, view: Callable, kwargs: dict) -> Response:
        if not current_user.is_authenticated:
            raise ApiError(401, "unauthenticated", "Authentication required: send 'Authorization: Bearer <token>'")
        if not current_user.has_permission(route.permission):
            raise ApiError(403, "forbidden", f"Permission '{route.permission}' is required")
        writes = request.method in ("POST", "PUT", "PATCH", "DELETE")
        try:
            if route.query is not None:
                kwargs["args"] = self._load(route.query, request.args.to_dict(flat=True))
            if route.body is not None:
                data = request.get_json(silent=True)
                if data is None:
                    raise ApiError(400, "bad_request", "The request body must be a JSON document")
                kwargs["body"] = self._load(route.body, data)
            key = request.headers.get("Idempotency-Key") if route.idempotent else None
            if key:
                replay = self._replay(route, key)
                if replay is not None:
                    return replay
            result = view(**kwargs)
            response = self._respond(route, result)
            if key:
                self._store(route, key, response)
            if writes:
                db.session.commit()
            return response
        except ApiError:
            db.session.rollback()
            raise
        except NotFoundError as exc:
            db.session.rollback()
            raise ApiError(404, "not_found", str(exc)) from None
        except ConflictError as exc:
            db.session.rollback()
            raise ApiError(409, "conflict", str(exc)) from None
        except InvalidError as exc:
            db.session.rollback()
            raise ApiError(422, "invalid", str(exc), exc.fields) from None
        except IntegrityError:
            db.session.rollback()
            if route.idempotent and request.headers.get("Idempotency-Key"):
                replay = self._replay(route, request.headers["Idempotency-Key"])
                if replay is not None:
                    return replay
            raise ApiError(409, "conflict", "The operation conflicts with a concurrent change; try again") from None
        except Exception:
            db.session.rollback()
            raise

    @staticmethod
    def _load(schema, data):
        try:
            return _schema_instance(schema).load(data)
        except ValidationError as exc:
            raise ApiError(422, "invalid", "The request has invalid fields", _flatten(exc.messages)) from None

    @staticmethod
    def _respond(route: Route, result) -> Response:
        if isinstance(result, Response):
            return result
        status = route.status
        if isinstance(result, tuple):
            result, status = result
        if route.response is not None:
            result = _schema_instance(route.response, many=route.many).dump(result)
        response = jsonify(result)
        response.status_code = status
        return response

    @staticmethod
    def _request_hash() -> str:
        return hashlib.sha256(request.method.encode() + request.full_path.encode() + request.get_data()).hexdigest()

    def _replay(self, route: Route, key: str) -> Response | None:
        row = db.session.scalar(select(IdempotencyKey).where(
            IdempotencyKey.operator_id == current_user.id, IdempotencyKey.key == key))
        if row is None:
            return None
        if row.request_hash != self._request_hash():
            raise ApiError(422, "idempotency_key_reused",
                           "This Idempotency-Key was already used for a different request")
        response = current_app.response_class(row.body, status=row.status, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response

    def _store(self, route: Route, key: str, response: Response) -> None:
        db.session.add(IdempotencyKey(operator_id=current_user.id, key=key[:200], endpoint=route.endpoint,
                                      request_hash=self._request_hash(), status=response.status_code,
                                      body=response.get_data(as_text=True)))
        db.session.flush()

    # ------------------------------------------------------------------ OpenAPI

    def openapi(self) -> dict:
        spec = APISpec(
            title="Coulisses API",
            version=coulisses.__version__,
            openapi_version="3.0.3",
            plugins=[MarshmallowPlugin()],
            info={"description": "The Coulisses REST API. Authenticate with 'Authorization: Bearer <token>' "
                                 "(coulisses operators token LOGIN)."},
            servers=[{"url": API_PREFIX}],
        )
        spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
        spec.components.schema("Error", {
            "type": "object",
            "properties": {"error": {"type": "object", "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True}}}},
        })
        err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        # failed bearer tokens are throttled by client address (coulisses.throttle)
        throttled = {**err, "description": "Too many failed attempts from this address: wait Retry-After seconds",
                     "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}
        paths: dict[str, dict] = {}
        for route in self.routes:
            path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", route.rule)
            for method in route.methods:
                op: dict[str, Any] = {
                    "operationId": route.endpoint,
                    "summary": route.summary,
                    "tags": route.tags,
                    "security": [{"bearer": []}],
                    "responses": {"401": err, "403": err, "429": throttled},
                    "x-permission": route.permission,
                }
                if route.description:
                    op["description"] = route.description
                params = [{"in": "path", "name": p, "required": True, "schema": {"type": "integer" if f"int:{p}" in route.rule else "string"}}
                          for p in re.findall(r"<(?:[a-z_]+:)?([a-z_]+)>", route.rule)]
                if route.query is not None:
                    params.append({"in": "query", "schema": route.query})
                if route.idempotent:
                    params.append({"in": "header", "name": "Idempotency-Key", "required": False,
                                   "schema": {"type": "string"},
                                   "description": "Repeat a request safely: the first response is replayed."})
                if params:
                    op["parameters"] = params
                if route.body is not None:
                    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
                    op["responses"]["422"] = err
                ok: dict[str, Any] = {"description": "Success"}
                if route.response is not None:
                    schema: Any = route.response
                    if route.many:
                        schema = {"type": "array", "items": route.response}
                    ok["content"] = {"application/json": {"schema": schema}}
                op["responses"][str(route.status)] = ok
                if "{" in path:
                    op["responses"]["404"] = err
                paths.setdefault(path, {})[method.lower()] = op
        for path, operations in paths.items():
            spec.path(path=path, operations=operations)
        return spec.to_dict()

    def _openapi_view(self):
        if not current_user.is_authenticated:
            raise ApiError(401, "unauthenticated", "Authentication required: send 'Authorization: Bearer <token>'")
        if not current_user.has_permission(OPENAPI_PERMISSION):
            raise ApiError(403, "forbidden", f"Permission '{OPENAPI_PERMISSION}' is required")
        return jsonify(self.openapi())


def _flatten(messages) -> dict:
    if isinstance(messages, dict):
        return {str(k): (v if isinstance(v, (list, str)) else _flatten(v)) for k, v in messages.items()}
    return {"_schema": messages}


def json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps(value) -> str:
    return json.dumps(value, default=json_default)
