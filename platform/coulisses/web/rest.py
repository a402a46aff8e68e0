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
``Idempotency-Key`` header (1 to ``IDEMPOTENCY_KEY_MAX`` printable characters; 422 otherwise): a
repeated request with the same key replays the first response, also when it ran at the same time as
the first and met the conflict the first one caused.

Before a view runs, every input is checked (``coulisses.web.inputs``; 422 naming the field, never a
500): integer path parameters are within 0…2^31−1 for ids (``<int:…_id>``), 0…2^53−1 for numbers
(``<int:number>``), and text parameters hold no control character; a
JSON body is at most ``MAX_BODY_BYTES`` (413), nested at most ``MAX_JSON_DEPTH`` levels, holds no
control character, lone surrogate, NaN or integer beyond 64 bits; then the ``query`` and ``body``
schemas apply their own bounds (``coulisses.web.schemas``). A lock not obtained within the lock
timeout answers 503 with ``Retry-After`` ("busy, try again"). The OpenAPI document lists every status
an operation can answer.
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
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import HTTPException

import coulisses
from coulisses import BusyError, ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.db import Base, UTCDateTime, utcnow
from coulisses.i18n import _, _l
from coulisses.web import inputs, validation_messages
from coulisses.web.extensions import db
from coulisses.web.schemas import ID_MAX, NUMBER_MAX, text_input

API_PREFIX = "/api/v1"
OPENAPI_PERMISSION = "core.api.docs"  # declared by the host (CoreHooks.coulisses_permissions)
IDEMPOTENCY_KEY_MAX = 200  # characters: the stored column's length
PATH_TEXT_MAX = 200  # characters of a text path parameter
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict | None = None) -> Response:
    payload: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        payload["error"]["fields"] = fields
    response = jsonify(payload)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="coulisses"'
    if status == 503:
        response.headers["Retry-After"] = str(BusyError.retry_after)
    for name, value in (headers or {}).items():
        response.headers[name] = value
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


def _schema_instance(schema, many: bool = False):
    """One instance per schema class (and ``many``), made once: marshmallow's ``load`` and ``dump`` keep
    no state in the instance, and building one (its fields copied) cost more than the answer itself."""
    return _schema_of(schema, many) if isinstance(schema, type) else schema


@functools.lru_cache(maxsize=None)
def _schema_of(schema: type, many: bool):
    return schema(many=many)


class Api:
    """The ``/api/v1`` blueprint and the routes plugins declare on it."""

    def __init__(self) -> None:
        self.blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)
        self.routes: list[Route] = []
        self.current_plugin: str | None = None
        # callables ``extend(spec) -> dict``: more components, and top-level keys merged in the document
        self.openapi_extensions: list[Callable[[APISpec], dict]] = []
        self.blueprint.add_url_rule("/openapi.json", "openapi", self._openapi_view)
        self.blueprint.register_error_handler(ApiError, lambda e: error_response(e.status, e.code, e.message, e.fields))
        self.blueprint.register_error_handler(HTTPException, self._http_error)

    @staticmethod
    def _http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        # keep the exception's own headers (405: Allow) but not its HTML content type
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        message = exc.description or exc.name
        if exc.description == type(exc).description:  # werkzeug's English text: say it in the reader's language
            message = _http_message(exc.code or 500) or message
        return error_response(exc.code or 500, code, message, headers=headers)

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
        responses: dict[int, str] | None = None,
    ) -> Callable:
        """Declare an endpoint. ``responses`` documents statuses the host cannot infer (``{409: "why"}``
        on a GET); the host lists 401, 403, 404 (path parameters), 422 (input), and for writes 400, 409,
        413 and 503 by itself."""
        methods = tuple(m.upper() for m in methods)

        def decorator(view: Callable) -> Callable:
            name = endpoint or (f"{self.current_plugin}_{view.__name__}" if self.current_plugin else view.__name__)
            route = Route(rule, methods, name, permission, summary, description or (view.__doc__ or "").strip(),
                          tags or ([self.current_plugin] if self.current_plugin else []), query, body, response,
                          many, status, idempotent, self.current_plugin, dict(responses or {}))
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
            raise ApiError(401, "unauthenticated", _("Authentification requise : envoyez « Authorization: Bearer <jeton> »"))
        if not current_user.has_permission(route.permission):
            raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=route.permission))
        writes = request.method in WRITE_METHODS
        key = self._idempotency_key(route)
        try:
            _check_path(kwargs)
            if route.query is not None:
                _check_query()
                with text_input():
                    kwargs["args"] = self._load(route.query, request.args.to_dict(flat=True))
            if route.body is not None:
                kwargs["body"] = self._load(route.body, _json_body())
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
        except (CoulissesError, IntegrityError) as exc:
            db.session.rollback()
            # A duplicate sent while the first was running met the conflict the first one caused (a
            # seat now taken, a key now stored): once the first is committed, its answer is the answer.
            replay = self._replay(route, key) if key else None
            if replay is not None:
                return replay
            raise _api_error(exc) from None
        except (DataError, OverflowError):
            db.session.rollback()  # the database refused a value no schema bounded: the input's fault
            raise ApiError(422, "invalid", _("Une valeur est hors limites ou trop longue pour son champ")) from None
        except Exception:
            db.session.rollback()
            raise

    @staticmethod
    def _idempotency_key(route: Route) -> str | None:
        key = request.headers.get("Idempotency-Key") if route.idempotent else None
        if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
            raise ApiError(422, "invalid", _("En-tête Idempotency-Key invalide"), {"Idempotency-Key": [
                _("De 1 à %(max)s caractères ASCII imprimables (%(count)s reçus)", max=IDEMPOTENCY_KEY_MAX, count=len(key))]})
        return key

    @staticmethod
    def _load(schema, data):
        try:
            return _schema_instance(schema).load(data)
        except ValidationError as exc:
            raise ApiError(422, "invalid", _("La requête contient des champs invalides"), _flatten(exc.messages)) from None

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
        db.session.add(IdempotencyKey(operator_id=current_user.id, key=key, endpoint=route.endpoint,
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
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True,
                           "description": "Each wrong field (or parameter, or header) and what is wrong"}}}},
        })
        paths: dict[str, dict] = {}
        for route in self.routes:
            path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", route.rule)
            for method in route.methods:
                op: dict[str, Any] = {
                    "operationId": route.endpoint,
                    "summary": route.summary,
                    "tags": route.tags,
                    "security": [{"bearer": []}],
                    "x-permission": route.permission,
                }
                if route.description:
                    op["description"] = route.description
                params = [_path_parameter(route.rule, p) for p in re.findall(r"<(?:[a-z_]+:)?([a-z_]+)>", route.rule)]
                if route.query is not None:
                    params.append({"in": "query", "schema": route.query})
                if route.idempotent:
                    params.append({"in": "header", "name": "Idempotency-Key", "required": False,
                                   "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX,
                                              "pattern": "^[\\x20-\\x7e]+$"},
                                   "description": "Repeat a request safely: the first response is replayed "
                                                  f"(1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters)."})
                if params:
                    op["parameters"] = params
                if route.body is not None:
                    op["requestBody"] = {"required": True, "content": {"application/json": {"schema": route.body}}}
                ok: dict[str, Any] = {"description": "Success"}
                if route.response is not None:
                    schema: Any = route.response
                    if route.many:
                        schema = {"type": "array", "items": route.response}
                    ok["content"] = {"application/json": {"schema": schema}}
                op["responses"] = {str(route.status): ok, **_error_responses(route, method, bool(params))}
                for status, description in route.extra_responses.items():
                    if 200 <= status < 300:  # another success (an existing resource returned): the same body
                        op["responses"][str(status)] = {**ok, "description": description}
                paths.setdefault(path, {})[method.lower()] = op
        for path, operations in paths.items():
            spec.path(path=path, operations=operations)
        extra: dict[str, Any] = {}
        for extend in self.openapi_extensions:
            extra.update(extend(spec) or {})
        return {**spec.to_dict(), **extra}

    def _openapi_view(self):
        if not current_user.is_authenticated:
            raise ApiError(401, "unauthenticated", _("Authentification requise : envoyez « Authorization: Bearer <jeton> »"))
        if not current_user.has_permission(OPENAPI_PERMISSION):
            raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=OPENAPI_PERMISSION))
        return jsonify(self.openapi())


_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,%d}" % IDEMPOTENCY_KEY_MAX)


def _api_error(exc: Exception) -> ApiError:
    """The host's exceptions (and a unique constraint met by a concurrent change) as API errors."""
    if isinstance(exc, NotFoundError):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, InvalidError):
        return ApiError(422, "invalid", str(exc), exc.fields)
    if isinstance(exc, BusyError):
        from coulisses.web.forms import busy_message

        return ApiError(503, "busy", busy_message(exc))
    if isinstance(exc, ConflictError):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, IntegrityError):
        return ApiError(409, "conflict", _("L'opération est en conflit avec une modification simultanée ; réessayez"))
    return ApiError(422, "invalid", str(exc))


def _http_message(status: int) -> str | None:
    messages = {
        400: _l("Requête invalide."),
        401: _l("Authentification requise."),
        403: _l("Accès refusé."),
        404: _l("Cette adresse n'existe pas."),
        405: _l("Méthode non autorisée pour cette adresse (voir l'en-tête Allow)."),
        409: _l("Conflit avec l'état actuel."),
        413: _l("Requête trop volumineuse."),
        415: _l("Type de contenu non pris en charge."),
        429: _l("Trop de tentatives : patientez avant de réessayer."),
        500: _l("Erreur interne du serveur."),
        503: _l("Service momentanément indisponible : réessayez."),
    }
    message = messages.get(status)
    return str(message) if message is not None else None


def path_int_max(name: str) -> int:
    """The largest value of an integer path parameter: a row id (``id``, ``…_id``) fits 32 bits; any
    other integer (a number people read: ``number``) is at most 2^53−1."""
    return ID_MAX if name == "id" or name.endswith("_id") else NUMBER_MAX


def _check_path(kwargs: dict) -> None:
    """Path parameters: integers within 0…``path_int_max``, text on one line, at most ``PATH_TEXT_MAX`` long."""
    problems = {}
    for name, value in kwargs.items():
        if isinstance(value, int) and not 0 <= value <= path_int_max(name):
            problems[name] = [_("Doit être compris entre %(min)s et %(max)s.", min=0, max=path_int_max(name))]
        elif isinstance(value, str):
            problem = inputs.text_problem(value, multiline=False)
            if problem is None and len(value) > PATH_TEXT_MAX:
                problem = _("Au plus %(max)s caractères.", max=PATH_TEXT_MAX)
            if problem:
                problems[name] = [problem]
    if problems:
        raise ApiError(422, "invalid", _("La requête contient des paramètres invalides"), problems)


def _check_query() -> None:
    problems = {}
    for name, values in request.args.lists():
        for value in [name, *values]:
            problem = inputs.text_problem(value)
            if problem:
                problems[inputs.visible(name)] = [problem]
                break
    if problems:
        raise ApiError(422, "invalid", _("La requête contient des paramètres invalides"), problems)


def _json_body():
    """The request's JSON document, checked by ``coulisses.web.inputs`` before any schema sees it."""
    if not request.is_json:
        raise ApiError(400, "bad_request", _("Le corps de la requête doit être un document JSON (Content-Type: application/json)"))
    raw = request.get_data(cache=True)  # 413 beyond MAX_BODY_BYTES
    if inputs.json_too_deep(raw):
        raise ApiError(422, "invalid", _("Le corps de la requête est imbriqué trop profondément"),
                       {"_body": [_("Au plus %(depth)s niveaux de tableaux et d'objets imbriqués.", depth=inputs.MAX_JSON_DEPTH)]})
    try:
        data = inputs.parse_json(raw)
    except ValueError:
        raise ApiError(400, "bad_request", _("Le corps de la requête doit être un document JSON")) from None
    problems = inputs.data_problems(data)
    if problems:
        raise ApiError(422, "invalid", _("La requête contient des champs invalides"), {k: [v] for k, v in problems.items()})
    return data


def _path_parameter(rule: str, name: str) -> dict:
    if f"int:{name}" in rule:
        schema = {"type": "integer", "minimum": 0, "maximum": path_int_max(name)}
    else:
        schema = {"type": "string", "minLength": 1, "maxLength": PATH_TEXT_MAX}
    return {"in": "path", "name": name, "required": True, "schema": schema}


_ERROR_STATUSES = {
    400: "The body is not a JSON document (or a browser session's CSRF token is missing)",
    401: "No valid bearer token",
    403: "The operator lacks the permission (x-permission)",
    404: "Nothing at this address (a path parameter names nothing)",
    409: "The operation contradicts the current state (no place left, already paid…), or met a concurrent change",
    413: "The body is larger than the limit (MAX_BODY_BYTES, 1 MiB by default)",
    422: "Invalid input: error.fields names each wrong field, parameter or header",
    429: "Too many failed attempts from this address: wait Retry-After seconds",
    503: "Busy: another operation holds what this one needs; nothing was changed, try again (Retry-After)",
}


def _error_responses(route: Route, method: str, has_parameters: bool) -> dict:
    """Every error status the host or the view can answer for this operation."""
    # 429: failed bearer tokens are throttled by client address (coulisses.throttle)
    statuses = {401, 403, 429, *(status for status in route.extra_responses if status >= 400)}
    if "<" in route.rule:
        statuses.add(404)
    if has_parameters or route.body is not None:
        statuses.add(422)
    if method in WRITE_METHODS:
        statuses.update({400, 409, 413, 422, 503})
    out = {}
    for status in sorted(statuses):
        description = route.extra_responses.get(status) or _ERROR_STATUSES.get(status, "Error")
        response: dict[str, Any] = {"description": description,
                                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if status in (429, 503):
            response["headers"] = {"Retry-After": {"description": "Seconds to wait before trying again",
                                                   "schema": {"type": "integer", "minimum": 1}}}
        out[str(status)] = response
    return out


def _flatten(messages) -> dict:
    messages = validation_messages.translate(messages)
    if isinstance(messages, dict):
        return {str(k): (v if isinstance(v, (list, str)) else _flatten(v)) for k, v in messages.items()}
    return {"_schema": messages}


def json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def dumps(value) -> str:
    return json.dumps(value, default=json_default)
