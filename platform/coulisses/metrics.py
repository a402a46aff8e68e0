"""What ``/metrics`` reads from the database at each scrape (Prometheus text format).

The host's: the jobs of the outbox by state, the queue depth (jobs due) and the age of the oldest
due job, each worker's heartbeat age, each periodic task's last run and outcome. Plugins add their
own through the ``coulisses_metrics`` hook (sales and refunds counters…), returning ``Metric``::

    from coulisses.metrics import Metric

    @hookimpl
    def coulisses_metrics(session):
        paid = session.scalar(select(func.count()).select_from(Payment))
        return [Metric("coulisses_patrons_pledges_total", "counter", "Pledges recorded", [({}, paid)])]

A metric's name must start with ``coulisses_<plugin>_``; labels are a dict of strings.
The request counters and the database pool are the web process's own (``coulisses.web.metrics``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses import PluginError
from coulisses.i18n import _l
from coulisses.registry import must_return as _must_return, must_start as _must_start
from coulisses.db import utcnow

TYPES = ("counter", "gauge")


@dataclass
class Metric:
    """One metric family: ``samples`` is a list of ``(labels, value)``."""

    name: str
    type: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)


def host_metrics(session: Session, tasks: dict | None = None) -> list[Metric]:
    from coulisses import outbox, processes
    from coulisses import tasks as ctasks

    now = utcnow()
    counts = outbox.counts(session)
    found = [Metric("coulisses_jobs", "gauge", "Jobs of the outbox by state (parked: failed after their attempts).",
                    [({"state": state}, n) for state, n in sorted(counts.items())])]
    due = select(outbox.Job.run_after).where(outbox.Job.state == outbox.PENDING, outbox.Job.run_after <= now)
    depth = session.scalar(select(func.count()).select_from(due.subquery()))
    oldest = session.scalar(select(func.min(outbox.Job.run_after)).where(
        outbox.Job.state == outbox.PENDING, outbox.Job.run_after <= now))
    found.append(Metric("coulisses_jobs_due", "gauge", "Jobs waiting to run now (the queue depth).", [({}, depth)]))
    found.append(Metric("coulisses_jobs_oldest_due_age_seconds", "gauge",
                        "How long the oldest due job has been waiting (0: none).",
                        [({}, (now - oldest).total_seconds() if oldest else 0)]))
    retrying = session.scalar(select(func.count()).select_from(outbox.Job).where(
        outbox.Job.state == outbox.PENDING, outbox.Job.attempts > 0))
    found.append(Metric("coulisses_jobs_retrying", "gauge", "Pending jobs that failed at least once.",
                        [({}, retrying)]))
    workers = processes.every(session)
    found.append(Metric("coulisses_worker_heartbeat_age_seconds", "gauge",
                        "Seconds since each worker's last heartbeat.",
                        [({"worker": p.name, "version": p.version}, (now - p.seen_at).total_seconds())
                         for p in workers if p.kind == "worker"]))
    found.append(Metric("coulisses_workers_alive", "gauge", "Workers whose heartbeat is recent.",
                        [({}, len(processes.alive(session, "worker", now)))]))
    if tasks:
        ends = ctasks.states(session)
        ages, failed = [], []
        for name, task in sorted(tasks.items()):
            last = ctasks.last_run(session, task)
            if last is not None:
                ages.append(({"task": name}, (now - last).total_seconds()))
            state = ends.get(name)
            failed.append(({"task": name}, 1 if state is not None and state.last_status == "failed" else 0))
        found.append(Metric("coulisses_task_last_run_age_seconds", "gauge",
                            "Seconds since each periodic task last ran successfully.", ages))
        found.append(Metric("coulisses_task_failed", "gauge", "1 when a periodic task's last run failed.", failed))
    return found


def plugin_metrics(pm, session: Session) -> list[Metric]:
    from coulisses import plugins as cplugins

    found = []
    for plugin, metrics in cplugins.call_each_safely(pm, "coulisses_metrics", session=session):
        for metric in metrics or ():
            check(plugin, metric)
            found.append(metric)
    return found


def check(plugin: str, metric) -> None:
    if not isinstance(metric, Metric):
        raise PluginError(plugin, _must_return("coulisses_metrics", "Metric", metric))
    if not metric.name.startswith(f"coulisses_{plugin}_"):
        raise PluginError(plugin, _must_start(_l("métrique"), metric.name, f"coulisses_{plugin}_"))
    if metric.type not in TYPES:
        raise PluginError(plugin, _l("métrique « %(name)s » : le type doit être l'un de %(types)s", name=metric.name,
                                     types=", ".join(TYPES)))


def families(metrics: Iterable[Metric]):
    """``prometheus_client`` metric families of ``metrics`` (for a custom collector)."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    for metric in metrics:
        labels = sorted({key for labels, _value in metric.samples for key in labels})
        name = metric.name[:-len("_total")] if metric.type == "counter" and metric.name.endswith("_total") \
            else metric.name
        family = (CounterMetricFamily if metric.type == "counter" else GaugeMetricFamily)(
            name, metric.help, labels=labels)
        for sample_labels, value in metric.samples:
            family.add_metric([str(sample_labels.get(key, "")) for key in labels], float(value))
        yield family
