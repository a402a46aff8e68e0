"""The reports hooks called through plugin implementations (``reports_definitions``,
``reports_documents``, ``reports_document_sent``), duplicate codes refusing the start, the contacts
reports, the CLI (list, run with a progress bar, errors in one line), two operators running the same
report at once, scheduled favourites sent by e-mail."""
from __future__ import annotations

import csv
import io
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy.orm import Session

import coulisses
from coulisses import PluginError
from coulisses import plugins as cplugins
from coulisses.config import use_config
from coulisses.db import Actor, acting_as, clock
from coulisses.registry import use_manager
from tests.reports.conftest import CONFIG, attachments, mail_config, make_tp_rep, numbers_definition


def test_reports_definitions_and_documents_come_from_the_hooks(rdb):
    from plugins.reports.registry import get_registry

    registry = get_registry()
    assert registry.reports.owner("tp_rep.numbers") == "tp_rep"
    assert registry.documents.owner("tp_rep.thing") == "tp_rep"


def test_a_duplicate_report_code_refuses_the_start_naming_both(register_plugin, tp_rep):
    from plugins.reports.registry import registry_for

    attrs = {"MANIFEST": coulisses.Manifest(name="tp_rep2", version="1.0", label="Deux", depends=["reports"]),
             "reports_definitions": staticmethod(coulisses.hookimpl(
                 lambda: [numbers_definition().__class__(**{**numbers_definition().__dict__, "title": "Autre"})]))}
    register_plugin(type("P2", (), attrs)())
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["reports", "tp_rep", "tp_rep2"]))
    with pytest.raises(PluginError, match="tp_rep2.*rapport « tp_rep.numbers » : le code doit commencer par « tp_rep2. »"):
        registry_for(pm)


def test_reports_document_sent_is_called_after_the_mail_left(rdb, register_plugin, smtp_server, database_url):
    from plugins.reports.services import delivery, documents

    seen = []
    attrs = {"MANIFEST": coulisses.Manifest(name="tp_sent", version="1.0", label="Envoyé", depends=["reports"]),
             "reports_document_sent": staticmethod(coulisses.hookimpl(
                 lambda session, document, recipient, contact_id: seen.append((document.type_code, recipient,
                                                                               len(smtp_server.messages)))))}
    register_plugin(type("P3", (), attrs)())
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["reports", "tp_rep", "tp_sent"]))
    with use_manager(pm), use_config(mail_config(smtp_server)):
        document = documents.generate(rdb, "tp_rep.thing", "12")
        delivery.queue_document(rdb, document, documents.recipient_of(rdb, document).email)
        rdb.commit()
    assert seen == [("tp_rep.thing", "chose@example.org", 1)]
    [(name, data)] = attachments(smtp_server.messages[0])
    assert data.startswith(b"%PDF") and name.startswith("thing-R")


def test_a_failing_smtp_server_leaves_the_job_to_retry(rdb):
    from coulisses.outbox import Job
    from plugins.reports.models import DocumentSend
    from plugins.reports.services import delivery, documents

    document = documents.generate(rdb, "tp_rep.thing", "13")
    send = delivery.queue_document(rdb, document, "x@example.org")
    rdb.commit()  # port 1: refused
    job = rdb.get(Job, send.job_id)
    rdb.refresh(job)
    assert job.state == "pending" and job.attempts == 1 and "Connection refused" in job.last_error
    assert rdb.get(DocumentSend, send.id).state == "queued"


def test_two_operators_running_the_same_report_at_once(rdb, database_url):
    from coulisses import db as cdb
    from coulisses.registry import current_manager
    from plugins.reports.services import engine

    engine_ = cdb.make_engine(database_url)
    pm = current_manager()
    results, errors = {}, []

    def run(login, n):
        try:
            with use_manager(pm), use_config(dict(CONFIG)), acting_as(Actor(None, login)), Session(engine_) as s:
                data, _n, _t = engine.render_bytes(s, "tp_rep.numbers", {"n": str(n)}, "csv")
                results[login] = data
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(login, n)) for login, n in (("anne", 400), ("bruno", 300))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine_.dispose()
    assert errors == []
    for login, n in (("anne", 400), ("bruno", 300)):
        rows = list(csv.reader(io.StringIO(results[login].decode("utf-8-sig"))))
        assert len(rows) == n + 1 and rows[-1][1] == f"Ligne {n - 1}"


def test_two_background_runs_at_once(rdb):
    from coulisses.outbox import run_pending
    from plugins.reports.services import runs

    with use_config({**CONFIG, "OUTBOX_RUN": "off"}):
        with acting_as(Actor(None, "anne")):
            a = runs.start(rdb, "tp_rep.numbers", {"n": "120"}, "csv").run
        with acting_as(Actor(None, "bruno")):
            b = runs.start(rdb, "tp_rep.numbers", {"n": "150", "kind": "b"}, "csv").run
        rdb.commit()
        assert runs.run_status(rdb, a)["state"] == "pending"
        run_pending(rdb.get_bind())
    rdb.expire_all()
    from coulisses import files as cfiles

    for run, count in ((a, 120), (b, 75)):
        status = runs.run_status(rdb, run)
        assert status["state"] == "done" and status["rows_done"] == count
        assert len(cfiles.read(rdb, run.file_id).decode("utf-8-sig").strip().splitlines()) == count + 1


def test_scheduled_favourite_is_sent_by_email(rdb, smtp_server):
    from coulisses import security
    from coulisses.tasks import Task, run as run_task
    from plugins.reports.models import Favourite, Run
    from plugins.reports.services import runs

    security.sync_roles_and_permissions(rdb, {})
    chef = security.create_operator(rdb, "chef", "correct horse battery", "Chef", ["supervisor"])
    rdb.commit()
    paris_morning = datetime(2015, 11, 2, 7, 0, tzinfo=timezone.utc)
    with clock(lambda: paris_morning):
        fav = runs.save_favourite(rdb, chef.id, "tp_rep.numbers", "Chaque jour", {"n": "5"}, "xlsx",
                                  schedule="daily", recipients="direction@opera.example; compta@opera.example")
        rdb.commit()
    assert fav.next_run_at == datetime(2015, 11, 3, 5, 0, tzinfo=timezone.utc)  # 06:00 in Paris
    task = Task("reports.scheduled", "hourly", runs.enqueue_due_favourites)
    with use_config(mail_config(smtp_server)):
        with clock(lambda: datetime(2015, 11, 3, 4, 0, tzinfo=timezone.utc)):
            assert run_task(rdb, task).result == 0
        with clock(lambda: datetime(2015, 11, 3, 5, 30, tzinfo=timezone.utc)):
            assert run_task(rdb, task).result == 1
    [message] = smtp_server.messages
    assert "direction@opera.example" in message["To"] and "compta@opera.example" in message["To"]
    [(name, data)] = attachments(message)
    assert name.endswith(".xlsx") and data.startswith(b"PK")
    fav = rdb.get(Favourite, fav.id)
    assert fav.next_run_at == datetime(2015, 11, 4, 5, 0, tzinfo=timezone.utc)
    assert rdb.query(Run).filter_by(favourite_id=fav.id).one().rows == 5
    with pytest.raises(coulisses.InvalidError) as caught:
        runs.save_favourite(rdb, chef.id, "tp_rep.numbers", "Mauvais", {"n": "5"}, schedule="weekly", recipients="x@")
    assert "recipients" in caught.value.fields


def test_next_run_of_each_schedule():
    from plugins.reports.services.runs import next_run

    saturday = datetime(2015, 10, 31, 12, 0, tzinfo=timezone.utc)
    assert next_run("weekly", saturday) == datetime(2015, 11, 2, 5, 0, tzinfo=timezone.utc)
    assert next_run("monthly", saturday) == datetime(2015, 11, 1, 5, 0, tzinfo=timezone.utc)
    assert next_run("daily", saturday) == datetime(2015, 11, 1, 5, 0, tzinfo=timezone.utc)
    assert next_run("", saturday) is None


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_env(database_url, tmp_path, monkeypatch, tp_rep):
    from click.testing import CliRunner

    from coulisses.cli import main
    from tests.conftest import create_schema

    create_schema(database_url, ["reports", "tp_rep"])
    monkeypatch.setenv("COULISSES_DATABASE_URL", database_url)
    monkeypatch.setenv("COULISSES_ENV", "testing")
    monkeypatch.setenv("COULISSES_PLUGINS", "reports,tp_rep")
    monkeypatch.setenv("COULISSES_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_cli_lists_and_runs_a_report(cli_env, tmp_path):
    listed = cli_env("reports", "list")
    assert listed.exit_code == 0, listed.output
    assert "tp_rep.numbers" in listed.output and "n*" in listed.output
    out = tmp_path / "nombres.pdf"
    ran = cli_env("reports", "run", "tp_rep.numbers", "--param", "n=40", "--format", "pdf", "-o", str(out))
    assert ran.exit_code == 0, ran.output
    assert "40 lignes" in ran.output and out.read_bytes().startswith(b"%PDF")
    out = tmp_path / "nombres.csv"
    ran = cli_env("reports", "run", "tp_rep.numbers", "-p", "n=3", "--format", "csv", "--separator", ";", "-o", str(out))
    assert ran.exit_code == 0 and out.read_text(encoding="utf-8-sig").splitlines()[1].startswith("A;Ligne 0;")


def test_cli_bad_parameters_give_one_clear_line(cli_env, tmp_path):
    ran = cli_env("reports", "run", "tp_rep.numbers", "--param", "n=beaucoup", "-o", str(tmp_path / "x.pdf"))
    assert ran.exit_code == 1 and "n:" in ran.output and "Traceback" not in ran.output
    ran = cli_env("reports", "run", "nope.x", "-o", str(tmp_path / "x.pdf"))
    assert ran.exit_code == 1 and "nope.x" in ran.output
