"""The outbox: jobs run after commit, never for a rolled-back transaction, retried then parked, run
once even with several workers; periodic tasks under a lock; stored files."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import PluginError
from coulisses import db as cdb
from coulisses import files, outbox
from coulisses import plugins as cplugins
from coulisses import tasks as ctasks
from coulisses.config import use_config
from coulisses.db import Actor, acting_as, clock
from coulisses.i18n import current_locale, use_locale
from coulisses.outbox import Job, JobType, Park, enqueue
from coulisses.registry import use_manager
from tests.conftest import csrf_token_of, login
from tests.platform.conftest import make_plugin

RUNS: list = []


def _record(session, job):
    RUNS.append((job.payload.get("n"), current_locale(), cdb.current_actor().login))
    if job.payload.get("write"):
        cdb.set_setting(session, f"job.{job.payload['n']}", "written")
    return {"ok": job.payload.get("n")}


def _fail(session, job):
    RUNS.append(("fail", job.attempts))
    cdb.set_setting(session, "job.fail", "must not stay")
    raise RuntimeError("printer on fire")


def _park(session, job):
    RUNS.append(("park", job.attempts))
    raise Park("payment outcome unknown: an operator must check the terminal")


JOB_TYPES = [JobType("tp_jobs.record", _record, "Enregistrer"), JobType("tp_jobs.fail", _fail, "Échouer", max_attempts=3),
             JobType("tp_jobs.park", _park, "Arrêter")]


@pytest.fixture
def jobs_plugin(register_plugin):
    RUNS.clear()
    register_plugin(make_plugin("tp_jobs", hooks={"coulisses_job_types": lambda: JOB_TYPES}))
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_jobs"]))
    with use_manager(pm):
        yield pm


@pytest.fixture
def engine(database_url):
    from tests.conftest import create_schema

    create_schema(database_url, [])
    engine = cdb.make_engine(database_url)
    yield engine
    engine.dispose()


def _jobs(engine):
    with Session(engine) as s:
        return {j.id: (j.kind, j.state, j.attempts) for j in s.scalars(select(Job).order_by(Job.id))}


def test_a_job_runs_after_commit_and_never_for_a_rolled_back_transaction(jobs_plugin, engine):
    with use_config({"OUTBOX_RUN": "inline"}):
        with Session(engine) as s:
            enqueue(s, "tp_jobs.record", {"n": 1, "write": True})
            assert RUNS == []  # not inside the transaction
            s.rollback()
        assert RUNS == [] and _jobs(engine) == {}
        with Session(engine) as s, use_locale("es"), acting_as(Actor(None, "marie")):
            job_id = enqueue(s, "tp_jobs.record", {"n": 2, "write": True}).id
            s.commit()
        assert RUNS == [(2, "es", "marie")]  # with the locale and the operator of whoever enqueued it
    with Session(engine) as s:
        done = s.get(Job, job_id)
        assert done.state == "done" and done.result == {"ok": 2} and done.attempts == 1
        assert cdb.get_setting(s, "job.2") == "written"  # the job's writes commit with its "done"


def test_without_a_runner_the_worker_runs_what_is_due(jobs_plugin, engine):
    with use_config({"OUTBOX_RUN": "off"}):
        with Session(engine) as s:
            enqueue(s, "tp_jobs.record", {"n": 1})
            enqueue(s, "tp_jobs.record", {"n": 2}, delay=timedelta(minutes=5))
            s.commit()
    assert RUNS == []
    assert outbox.run_pending(engine) == 1 and [r[0] for r in RUNS] == [1]
    later = cdb.utcnow() + timedelta(minutes=6)
    with clock(lambda: later):
        assert outbox.run_pending(engine) == 1
    assert [r[0] for r in RUNS] == [1, 2] and outbox.run_pending(engine) == 0


def test_a_failing_job_is_retried_with_backoff_then_parked_and_retried_by_hand(jobs_plugin, engine):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    now = [start]
    with clock(lambda: now[0]), use_config({"OUTBOX_RUN": "inline"}):
        with Session(engine) as s:
            job_id = enqueue(s, "tp_jobs.fail", {}).id
            s.commit()  # first attempt, inline
        with Session(engine) as s:
            job = s.get(Job, job_id)
            assert (job.state, job.attempts) == ("pending", 1)
            assert "printer on fire" in job.last_error and job.run_after == start + timedelta(seconds=30)
            assert cdb.get_setting(s, "job.fail") is None  # a failed job's writes are rolled back
        assert outbox.run_pending(engine) == 0  # not yet due
        now[0] = start + timedelta(seconds=31)
        assert outbox.run_pending(engine) == 1
        with Session(engine) as s:
            assert s.get(Job, job_id).run_after == now[0] + timedelta(seconds=60)  # doubled
        now[0] += timedelta(seconds=61)
        outbox.run_pending(engine)
        with Session(engine) as s:
            job = s.get(Job, job_id)
            assert (job.state, job.attempts) == ("parked", 3)
            outbox.retry(s, job)
            s.commit()  # retried by hand: runs again at once
        assert RUNS[-1] == ("fail", 4)


def test_park_stops_at_once(jobs_plugin, engine):
    with use_config({"OUTBOX_RUN": "inline"}), Session(engine) as s:
        job_id = enqueue(s, "tp_jobs.park", {}).id
        s.commit()
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert (job.state, job.attempts) == ("parked", 1) and "payment outcome unknown" in job.last_error
    assert RUNS == [("park", 1)]


def test_dedupe_key_and_unknown_kinds(jobs_plugin, engine):
    with Session(engine) as s:
        first = enqueue(s, "tp_jobs.record", {"n": 1}, dedupe_key="print-959")
        assert enqueue(s, "tp_jobs.record", {"n": 2}, dedupe_key="print-959").id == first.id
        with pytest.raises(Exception, match="type de tâche inconnu « tp_jobs.nope »"):
            enqueue(s, "tp_jobs.nope", {})


def test_a_job_whose_runner_died_is_taken_back(jobs_plugin, engine):
    with use_config({"OUTBOX_RUN": "off"}), Session(engine) as s:
        job_id = enqueue(s, "tp_jobs.record", {"n": 7}).id
        s.commit()
    assert outbox.claim_next(engine, "dead-worker") == job_id  # claimed, then the process dies
    assert outbox.run_pending(engine) == 0  # leased: nobody else takes it
    later = cdb.utcnow() + timedelta(minutes=11)
    with clock(lambda: later):
        assert outbox.run_pending(engine) == 1
    with Session(engine) as s:
        job = s.get(Job, job_id)
        assert job.state == "done" and job.attempts == 2 and "dead-worker stopped" in job.last_error


def test_two_workers_never_run_one_job_twice(jobs_plugin, engine, is_postgres):
    with use_config({"OUTBOX_RUN": "off"}), Session(engine) as s:
        for n in range(40):
            enqueue(s, "tp_jobs.record", {"n": n})
        s.commit()
    errors = []

    def work(name):
        try:
            with use_manager(jobs_plugin):
                outbox.run_pending(engine, worker=name)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r[0] for r in RUNS) == list(range(40))  # each job exactly once
    assert {state for _k, state, _a in _jobs(engine).values()} == {"done"}


def test_the_jobs_screen_shows_failures_and_retries(jobs_plugin, make_app, make_operator, register_plugin):
    app = make_app(["tp_jobs"])
    make_operator("chef", roles=["administrator"])
    client = app.test_client()
    login(client, "chef")
    from coulisses.web.extensions import db

    with app.app_context():
        job = enqueue(db.session, "tp_jobs.fail", {})
        db.session.commit()  # inline in tests: the first attempt fails
        job_id = job.id
    page = client.get("/admin/core_job/").get_data(as_text=True)
    assert "Échouer (tp_jobs.fail)" in page and "RuntimeError: printer on fire" in page and "En attente" in page
    answer = client.post("/admin/core_job/action/", data={"action": "cancel", "rowid": str(job_id),
                                                          "csrf_token": csrf_token_of(page)})
    assert answer.status_code == 302
    assert "Annulée" in client.get("/admin/core_job/").get_data(as_text=True)


def test_two_plugins_cannot_define_one_job_type(register_plugin):
    register_plugin(make_plugin("tp_a", hooks={"coulisses_job_types": lambda: [JobType("tp_a.x", _record)]}))
    register_plugin(make_plugin("tp_b", hooks={"coulisses_job_types": lambda: [JobType("tp_a.x", _fail)]}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="type de tâche « tp_a.x » : le code doit commencer par « tp_b. »"):
        with use_manager(cplugins.build_manager(infos, ["tp_a", "tp_b"])):
            outbox.job_types()


# --------------------------------------------------------------------------- periodic tasks


def test_a_task_is_never_run_twice_at_once_and_a_failure_does_not_stop_the_others(engine):
    seen = []
    inner: list = []

    def slow(session):
        seen.append("slow")
        inner.append(ctasks.run(session_b, task, runner="cron-2"))  # a second cron run meanwhile
        return "done"

    task = ctasks.Task("tp.slow", "hourly", slow)
    broken = ctasks.Task("tp.broken", "hourly", lambda s: 1 / 0)
    with Session(engine) as session_a, Session(engine) as session_b:
        outcome = ctasks.run(session_a, task, runner="cron-1")
        assert outcome.status == "ok" and seen == ["slow"]
        assert inner[0].status == "skipped" and "cron-1" in inner[0].error
        failed = ctasks.run(session_a, broken)
        assert failed.status == "failed" and "ZeroDivisionError" in failed.error
        assert ctasks.run(session_a, ctasks.Task("tp.after", "hourly", lambda s: "fine")).status == "ok"
        states = ctasks.states(session_a)
        assert states["tp.broken"].last_status == "failed" and "ZeroDivisionError" in states["tp.broken"].last_error
        assert states["tp.slow"].locked_until is None


def test_two_tasks_with_one_name_refuse_the_start(register_plugin):
    register_plugin(make_plugin("tp_a", hooks={"coulisses_periodic_tasks": lambda: [
        ctasks.Task("nightly.clean", "nightly", lambda s: None)]}))
    register_plugin(make_plugin("tp_b", hooks={"coulisses_periodic_tasks": lambda: [
        ctasks.Task("nightly.clean", "nightly", lambda s: None)]}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="tâche périodique « nightly.clean » : « tp_a » en donne déjà une définition"):
        ctasks.tasks_of(cplugins.build_manager(infos, ["tp_a", "tp_b"]))


def test_cli_tasks_run_reports_a_failure_and_runs_the_rest(cli, register_plugin):
    ran = []
    register_plugin(make_plugin("tp_t", hooks={"coulisses_periodic_tasks": lambda: [
        ctasks.Task("tp.a_broken", "hourly", lambda s: 1 / 0),
        ctasks.Task("tp.b_fine", "hourly", lambda s: ran.append("b") or "ok")]}))
    assert cli("db", "upgrade").exit_code == 0
    assert cli("plugins", "enable", "tp_t").exit_code == 0
    result = cli("tasks", "run", "--due")
    assert result.exit_code == 1
    assert "tp.a_broken : ÉCHEC, ZeroDivisionError" in result.output and "tp.b_fine : ok" in result.output
    assert ran == ["b"]
    listed = cli("tasks", "list").output
    assert "échouée" in listed and "réussie" in listed


def test_cli_worker_once_runs_the_due_jobs(cli, register_plugin, database_url):
    register_plugin(make_plugin("tp_w", hooks={"coulisses_job_types": lambda: [JobType("tp_w.go", _record)]}))
    RUNS.clear()
    assert cli("db", "upgrade").exit_code == 0
    assert cli("plugins", "enable", "tp_w").exit_code == 0
    engine = cdb.make_engine(database_url)
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, ["tp_w"])), use_config({"OUTBOX_RUN": "off"}), \
            Session(engine) as s:
        enqueue(s, "tp_w.go", {"n": 5})
        s.commit()
    engine.dispose()
    result = cli("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "1 travail exécuté." in result.output and RUNS[0][0] == 5


# --------------------------------------------------------------------------- stored files


def test_stored_files_come_back_byte_for_byte_and_are_checked(engine):
    with Session(engine) as s:
        stored = files.store(s, b"%PDF-1.7 facture", "facture/../F1.pdf", "application/pdf", purpose="invoice")
        s.commit()
        assert stored.name == "facture..F1.pdf" and stored.size == 16
    with Session(engine) as s:
        assert files.read(s, stored.id) == b"%PDF-1.7 facture"
        s.get(files.StoredFile, stored.id).data = b"tampered"
        s.flush()
        with pytest.raises(files.FileIntegrityError):
            files.read(s, stored.id)


def test_in_the_web_app_a_job_runs_in_a_thread_with_the_app_plugins_and_settings(register_plugin, make_app):
    done = threading.Event()
    seen = {}

    def handler(session, job):
        from coulisses.config import current_config

        seen["setting"] = current_config().get("TP_THREAD_SETTING")
        seen["thread"] = threading.current_thread().name
        done.set()

    register_plugin(make_plugin("tp_thread", hooks={"coulisses_job_types": lambda: [JobType("tp_thread.go", handler)]}))
    app = make_app(["tp_thread"], OUTBOX_RUN="thread", TP_THREAD_SETTING="from the app")
    from coulisses.web.extensions import db

    with app.test_request_context("/"):
        job_id = enqueue(db.session, "tp_thread.go", {}).id
        db.session.commit()
    assert done.wait(20), "the job did not run after commit"
    assert seen["setting"] == "from the app" and seen["thread"].startswith("coulisses-outbox")
    engine = cdb.make_engine(app.config["DATABASE_URL"])
    for _ in range(200):  # the thread commits the job's state right after the handler returns
        with Session(engine) as s:
            if s.get(Job, job_id).state == "done":
                break
        done.wait(0.05)
    with Session(engine) as s:
        assert s.get(Job, job_id).state == "done"
    engine.dispose()
