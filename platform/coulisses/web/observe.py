"""What the running application tells its administrator: logs and readiness.

- One log line per request (logger ``coulisses.request``): request id, method, path, status, duration,
  operator, client address. The request id is the proxy's ``X-Request-Id`` when it is a plain token,
  else a new one; it is sent back in the ``X-Request-Id`` header and appears on every line logged
  during the request.
- Text by default, one JSON object per line with ``COULISSES_LOG_FORMAT=json``; the level is
  ``COULISSES_LOG_LEVEL`` (``INFO``). Errors carry their traceback (``exc`` in JSON).
- Security events (failed logins, lock-outs, refused tokens) are logged by ``coulisses.security_events``
  with the client's address, for fail2ban.
- ``/health/ready``: the database answers and its schema is at the migrations' heads (the host's and
  every enabled plugin's); 503 with the reason otherwise.
"""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, jsonify, request

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
STANDARD_ATTRIBUTES = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class RequestContext(logging.Filter):
    """Adds the request id (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("coulisses_request_id", "-") if has_request_context() else "-"
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class _StandardError(logging.StreamHandler):
    """Writes to the ``sys.stderr`` of the moment (a test runner or a server may replace it)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(fmt: str = "text", level: str = "INFO", stream=None) -> logging.Handler:
    """The ``coulisses`` loggers write to ``stream`` (stderr: the journal, docker logs) in ``fmt``."""
    logger = logging.getLogger("coulisses")
    for handler in list(logger.handlers):
        if getattr(handler, "_coulisses", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _StandardError()
    handler._coulisses = True
    handler.addFilter(RequestContext())
    handler.setFormatter(JSONFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler


def init_observability(app) -> None:
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"], app.config.get("LOG_STREAM"))
    log = logging.getLogger("coulisses.request")

    @app.before_request
    def _start():
        sent = request.headers.get("X-Request-Id", "")
        g.coulisses_request_id = sent if REQUEST_ID.match(sent) else uuid.uuid4().hex
        g.coulisses_started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = g.get("coulisses_started")
        if started is None:
            return response
        duration = round((time.perf_counter() - started) * 1000, 1)
        from flask_login import current_user

        try:
            operator = current_user.login if current_user and current_user.is_authenticated else "-"
        except Exception:  # noqa: BLE001 - a failed request must still be logged
            operator = "-"
        response.headers["X-Request-Id"] = g.coulisses_request_id
        if request.path != "/health":  # the load balancer's probes would drown the rest
            log.info("%s %s %s %sms operator=%s address=%s", request.method, request.path, response.status_code,
                     duration, operator, request.remote_addr or "-",
                     extra={"method": request.method, "path": request.path, "status": response.status_code,
                            "duration_ms": duration, "operator": operator, "address": request.remote_addr})
        return response


def readiness(session, infos, order) -> tuple[bool, dict]:
    """Whether this instance can serve: the database answers and every enabled branch is migrated."""
    from coulisses import db as cdb
    from coulisses import migrations

    from coulisses.upgrade import unknown_revisions

    try:
        cdb.ping(session)
        connection = session.connection()
        unknown = unknown_revisions(connection, infos)
        if unknown:  # migrated by a newer version: this code must not serve it
            return False, {"database": "ok", "migrations": "unknown", "unknown": unknown}
        applied = migrations.applied_revisions(connection, infos)
        heads = migrations.branch_heads(connection, infos)
    except Exception as exc:  # noqa: BLE001
        logging.getLogger("coulisses.health").warning("not ready: database: %s", exc)
        return False, {"database": "unavailable"}
    behind = sorted(branch for branch, head in heads.items()
                    if branch in ("core", *order) and head not in applied)
    if behind:
        return False, {"database": "ok", "migrations": "behind", "behind": behind}
    return True, {"database": "ok", "migrations": "current"}


def register_health(app, db) -> None:
    @app.route("/health/ready")
    def health_ready():
        """Readiness for load balancers: database reachable and migrations current; public."""
        st = app.extensions["coulisses"]
        ready, details = readiness(db.session, st.infos, st.order)
        return jsonify({"status": "ok" if ready else "unavailable", **details}), 200 if ready else 503
