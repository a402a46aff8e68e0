"""``GET /metrics``: Prometheus text format, for the organisation's monitoring.

Closed (404) until configured: ``COULISSES_METRICS_TOKEN`` (the scraper sends ``Authorization:
Bearer <token>``) and/or ``COULISSES_METRICS_ALLOW`` (client addresses or networks allowed,
``10.0.0.0/8,127.0.0.1``); when both are set, both must match. A wrong token counts as a failed API
token (throttled, logged for fail2ban).

Exposed:
- ``coulisses_http_requests_total{method,status}`` and ``coulisses_http_request_duration_seconds``
  (histogram, by method) — every request but ``/health`` and ``/metrics``;
- ``coulisses_db_pool_*`` — the scraped process's connection pool (size, checked out, overflow);
- what ``coulisses.metrics`` reads from the database: jobs, workers' heartbeats, periodic tasks, and
  the plugins' ``coulisses_metrics``;
- ``coulisses_info{version}``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder writable
by the service (cleared at each start; the systemd unit's ``RuntimeDirectory``): the request counters
of every worker are then added up, whichever worker answers the scrape.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Response, abort, g, request

import coulisses

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
NOT_COUNTED = ("/health", "/health/ready", "/metrics")
_request_metrics: list = []


def _requests():
    """The request counter and histogram, created once per process (after PROMETHEUS_MULTIPROC_DIR
    is known)."""
    if not _request_metrics:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry(auto_describe=True)
        counter = Counter("coulisses_http_requests", "HTTP requests answered, by method and status.",
                          ["method", "status"], registry=registry)
        duration = Histogram("coulisses_http_request_duration_seconds", "Time to answer a request, by method.",
                             ["method"], buckets=BUCKETS, registry=registry)
        _request_metrics.extend([registry, counter, duration])
    return _request_metrics


def parse_allow_list(value) -> list:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks; raises ``ValueError`` naming a bad entry."""
    networks = []
    for part in str(value or "").replace(";", ",").split(","):
        part = part.strip()
        if part:
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(part) from None
    return networks


def allow_list_error(exc: ValueError):
    """The message of a ``ConfigError`` for a bad entry of ``COULISSES_METRICS_ALLOW``."""
    from coulisses.i18n import _l

    return _l("COULISSES_METRICS_ALLOW : %(entry)s n'est ni une adresse ni un réseau (10.0.0.0/8)", entry=str(exc))


def _allowed(app) -> None:
    """Abort unless the request may read the metrics."""
    token = app.config.get("METRICS_TOKEN") or ""
    networks = app.config.get("METRICS_NETWORKS") or []
    if not token and not networks:
        abort(404)
    if networks:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            abort(403)
        if not any(address in network for network in networks):
            abort(403)
    if token:
        header = request.headers.get("Authorization", "")
        sent = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(sent.encode(), token.encode()):
            from coulisses import throttle
            from coulisses.web.extensions import db

            throttle.failed(db.session, "api", address=request.remote_addr or "")
            db.session.commit()
            response = Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
            abort(response)


def _pool_metrics(engine):
    from coulisses.metrics import Metric

    pool = engine.pool
    pid = str(os.getpid())
    found = [Metric("coulisses_db_pool_checked_out", "gauge", "Connections in use in this process's pool.",
                    [({"pid": pid}, pool.checkedout())])] if hasattr(pool, "checkedout") else []
    if hasattr(pool, "size"):
        found.append(Metric("coulisses_db_pool_size", "gauge", "Size of this process's connection pool.",
                            [({"pid": pid}, pool.size())]))
    if hasattr(pool, "overflow"):
        found.append(Metric("coulisses_db_pool_overflow", "gauge", "Connections beyond the pool's size.",
                            [({"pid": pid}, max(0, pool.overflow()))]))
    return found


class _DatabaseCollector:
    """Collected at each scrape: the database's figures, the plugins', the pool's."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from coulisses import metrics as cmetrics
        from coulisses import tasks as ctasks
        from coulisses.metrics import Metric
        from sqlalchemy.exc import SQLAlchemyError

        from coulisses import BusyError
        from coulisses.web.extensions import db

        st = self.app.extensions["coulisses"]
        found = [Metric("coulisses_info", "gauge", "The running Coulisses version.",
                        [({"version": coulisses.__version__}, 1)])]
        found += _pool_metrics(db.engine)
        try:
            found += cmetrics.host_metrics(db.session, ctasks.tasks_of(st.pm))
            found += cmetrics.plugin_metrics(st.pm, db.session)
            found.append(Metric("coulisses_database_up", "gauge", "1 when the database answered.", [({}, 1)]))
        except (SQLAlchemyError, BusyError):  # the scrape still answers, saying the database is down
            db.session.rollback()
            found.append(Metric("coulisses_database_up", "gauge", "1 when the database answered.", [({}, 0)]))
        finally:
            db.session.rollback()  # read only
        yield from cmetrics.families(found)


def init_metrics(app) -> None:
    """Count every request; answer ``/metrics`` before the login machinery looks at its bearer token."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    try:
        app.config["METRICS_NETWORKS"] = parse_allow_list(app.config.get("METRICS_ALLOW"))
    except ValueError as exc:
        from coulisses.config import ConfigError

        raise ConfigError(allow_list_error(exc)) from None
    registry, counter, duration = _requests()

    @app.before_request
    def _metrics_start():
        g.coulisses_metrics_started = time.perf_counter()
        if request.path == "/metrics":
            if request.method not in ("GET", "HEAD"):
                abort(405)
            _allowed(app)
            output = CollectorRegistry(auto_describe=True)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                from prometheus_client import multiprocess

                multiprocess.MultiProcessCollector(output)
            else:
                output.register(_Forward(registry))
            output.register(_DatabaseCollector(app))
            return Response(generate_latest(output), 200, {"Content-Type": CONTENT_TYPE_LATEST,
                                                           "Cache-Control": "no-store"})
        return None

    @app.after_request
    def _metrics_count(response):
        started = g.get("coulisses_metrics_started")
        if started is not None and request.path not in NOT_COUNTED:
            counter.labels(request.method, str(response.status_code)).inc()
            duration.labels(request.method).observe(time.perf_counter() - started)
        return response


class _Forward:
    """The process's own request metrics, inside the registry of one scrape."""

    def __init__(self, registry):
        self.registry = registry

    def collect(self):
        yield from self.registry.collect()
