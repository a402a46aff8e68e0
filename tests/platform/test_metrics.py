"""/metrics (issue 15): Prometheus text format, closed until a token or an allow-list is set."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from coulisses.db import utcnow
from tests.conftest import app_session
from tests.platform.conftest import make_plugin

TOKEN = "m3tr1cs-t0ken-for-the-scraper-0123"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def samples(response) -> dict:
    """``{(name, frozenset(labels)): value}`` of a scrape, parsed as Prometheus would."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())), 0)


def test_metrics_are_closed_until_configured(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 404


def test_a_token_opens_them_and_a_wrong_one_is_refused_and_logged(make_app):
    stream = io.StringIO()
    app = make_app([], METRICS_TOKEN=TOKEN, LOG_STREAM=stream)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Coulisses login failure for <token> from 127.0.0.1 (scope api)" in stream.getvalue()
    assert client.post("/metrics", headers=BEARER).status_code == 405
    found = samples(client.get("/metrics", headers=BEARER))
    import coulisses

    assert value(found, "coulisses_info", version=coulisses.__version__) == 1
    assert value(found, "coulisses_database_up") == 1
    assert stream.getvalue().count("login failure") == 2  # the right token is no failed login


def test_requests_are_counted_by_status_and_timed(make_app):
    app = make_app([], METRICS_TOKEN=TOKEN)
    client = app.test_client()
    before = samples(client.get("/metrics", headers=BEARER))
    client.get("/login")
    client.get("/login")
    client.get("/no-such-page")
    client.get("/health")  # the load balancer's probes are not counted
    after = samples(client.get("/metrics", headers=BEARER))
    ok = ("coulisses_http_requests_total", {"method": "GET", "status": "200"})
    missing = ("coulisses_http_requests_total", {"method": "GET", "status": "404"})
    assert value(after, ok[0], **ok[1]) - value(before, ok[0], **ok[1]) == 2
    assert value(after, missing[0], **missing[1]) - value(before, missing[0], **missing[1]) == 1
    timed = "coulisses_http_request_duration_seconds_count"
    assert value(after, timed, method="GET") - value(before, timed, method="GET") == 3
    assert value(after, "coulisses_db_pool_size", pid=str(__import__("os").getpid())) >= 1


def test_the_queue_the_failures_and_the_workers_heartbeats(make_app, register_plugin):
    from coulisses import outbox, processes

    def fail(session, job):
        raise outbox.Park("printer on fire")

    register_plugin(make_plugin("tp_jobs", hooks={"coulisses_job_types": lambda: [
        outbox.JobType("tp_jobs.print", fail), outbox.JobType("tp_jobs.later", fail)]}))
    app = make_app(["tp_jobs"], METRICS_TOKEN=TOKEN, OUTBOX_RUN="off")
    with app_session(app) as session:
        for _ in range(3):
            outbox.enqueue(session, "tp_jobs.print")
        outbox.enqueue(session, "tp_jobs.later", delay=timedelta(hours=1))
        session.commit()
        parked = outbox.enqueue(session, "tp_jobs.print")
        session.commit()
        outbox.run_job(session.get_bind(), parked.id)
        processes.beat(session, "worker:box-office:42")
        old = processes.Process(name="worker:old:7", kind="worker", version="0.0.9",
                                started_at=utcnow() - timedelta(hours=2), seen_at=utcnow() - timedelta(minutes=30))
        session.add(old)
        session.commit()
    found = samples(app.test_client().get("/metrics", headers=BEARER))
    assert value(found, "coulisses_jobs", state="pending") == 4
    assert value(found, "coulisses_jobs", state="parked") == 1
    assert value(found, "coulisses_jobs_due") == 3
    assert value(found, "coulisses_jobs_oldest_due_age_seconds") >= 0
    import coulisses

    recent = value(found, "coulisses_worker_heartbeat_age_seconds", worker="worker:box-office:42",
                   version=coulisses.__version__)
    assert 0 <= recent < 60
    assert value(found, "coulisses_worker_heartbeat_age_seconds", worker="worker:old:7", version="0.0.9") >= 1800
    assert value(found, "coulisses_workers_alive") == 1


def test_an_allow_list_limits_the_addresses(make_app):
    app = make_app([], METRICS_ALLOW="10.0.0.0/8, 192.0.2.1", PROXY_COUNT=1)
    client = app.test_client()
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    both = make_app([], METRICS_ALLOW="10.0.0.0/8", METRICS_TOKEN=TOKEN, PROXY_COUNT=1, schema=False).test_client()
    assert both.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"}).status_code == 401
    assert both.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3", **BEARER}).status_code == 200


def test_bad_metrics_settings_are_refused(make_app):
    from coulisses.web.app import ConfigError

    with pytest.raises(ConfigError, match="COULISSES_METRICS_TOKEN est trop court"):
        make_app([], METRICS_TOKEN="short")
    with pytest.raises(ConfigError, match="COULISSES_METRICS_ALLOW : 10.0.0.300"):
        make_app([], METRICS_ALLOW="10.0.0.300", schema=False)


def test_a_plugin_adds_its_figures_through_the_hook(make_app, register_plugin):
    from coulisses.metrics import Metric

    def figures(session):
        return [Metric("coulisses_tp_box_tickets_sold_total", "counter", "Tickets sold.",
                       [({"channel": "guichet"}, 12), ({"channel": "web"}, 30)]),
                Metric("coulisses_tp_box_open_baskets", "gauge", "Baskets open now.", [({}, 2)])]

    register_plugin(make_plugin("tp_box", hooks={"coulisses_metrics": figures}))
    app = make_app(["tp_box"], METRICS_TOKEN=TOKEN)
    found = samples(app.test_client().get("/metrics", headers=BEARER))
    assert value(found, "coulisses_tp_box_tickets_sold_total", channel="web") == 30
    assert value(found, "coulisses_tp_box_open_baskets") == 2


def test_a_plugin_metric_outside_its_prefix_is_refused_naming_the_plugin(make_app, register_plugin):
    from coulisses import PluginError
    from coulisses.metrics import Metric

    register_plugin(make_plugin("tp_rogue", hooks={"coulisses_metrics": lambda session: [
        Metric("coulisses_http_requests_total", "counter", "Forged.", [({}, 1)])]}))
    app = make_app(["tp_rogue"], METRICS_TOKEN=TOKEN)
    with pytest.raises(PluginError, match="plugin « tp_rogue » : métrique « coulisses_http_requests_total » : le code doit commencer"):
        app.test_client().get("/metrics", headers=BEARER)
