"""``coulisses devices simulate | token | agent | work``."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from plugins.devices.drivers import ESCPOS_RECEIPT
from tests.conftest import create_schema
from tests.platform.conftest import cli  # noqa: F401 - the fixture

COULISSES = str(Path(sys.executable).with_name("coulisses"))


def test_simulate_starts_every_simulator_and_prints_their_urls(database_url, tmp_path):
    from plugins.devices.drivers import BOCA_FGL, CD5220_DISPLAY, CONCERT
    from plugins.devices.drivers.base import run

    create_schema(database_url, ["devices"])
    env = {**os.environ, "COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "devices",
           "COULISSES_ENV": "development", "COULISSES_INSTANCE_PATH": str(tmp_path)}
    proc = subprocess.Popen([COULISSES, "devices", "simulate"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        urls = {}
        for line in proc.stdout:
            if "Ctrl-C" in line:
                break
            label, url = line.rstrip().rsplit(None, 1)
            urls[label.strip()] = url
        assert len(urls) == 6 and all(u.startswith("socket://127.0.0.1:") for u in urls.values())
        assert run(ESCPOS_RECEIPT, urls["Imprimante de reçus ESC/POS"], {}, "status")["paper"] == "ok"
        assert run(BOCA_FGL, urls["Imprimante de billets BOCA (FGL)"], {}, "status")["state"] == "ready"
        assert run(CD5220_DISPLAY, urls["Afficheur client"], {}, "show", {"lines": ["a", "b"]})
        assert run(CONCERT, urls["Terminal de paiement (Concert E+)"], {}, "pay", {"amount": "1.00"})["accepted"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0


def test_token_creates_an_agent_for_a_place_of_work(cli, database_url):
    create_schema(database_url, ["devices"])
    result = cli("devices", "token", "Guichet", "--label", "Caisse 1", env={"COULISSES_PLUGINS": "devices"})
    assert result.exit_code == 0, result.output
    assert "Agent Caisse 1 pour Guichet" in result.output
    token = result.output.strip().splitlines()[-1]
    assert " " not in token and len(token) > 30
    empty = cli("devices", "token", " ", env={"COULISSES_PLUGINS": "devices"})
    assert empty.exit_code == 1 and "Traceback" not in empty.output and "obligatoire" in empty.output


def test_the_agent_refused_by_the_server_says_so_in_one_line(cli, make_app, database_url):
    from tests.devices.test_agent import LiveServer

    server = LiveServer(make_app(["devices"]))
    try:
        result = cli("devices", "agent", "--server", server.url, "--token", "not-a-token", "--wait", "0",
                     env={"COULISSES_PLUGINS": "devices"})
    finally:
        server.stop()
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        "Erreur : Le serveur refuse cet agent : 401: Authentification requise : envoyez « Authorization: Bearer <jeton> »")


def test_the_hourly_task_fails_the_jobs_a_workstation_never_reported(cli, database_url):
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from coulisses import db as cdb
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import jobs
    from tests.devices.conftest import make_device

    create_schema(database_url, ["devices"])
    engine = cdb.make_engine(database_url)
    infos = cplugins.discover()
    with Session(engine) as s, use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["devices"]))):
        job = jobs.submit(s, make_device(s), "print_receipt", {"lines": ["x"]})
        s.commit()
        jobs.lease_jobs(s, "Guichet", "agent")
        job.lease_expires_at = cdb.utcnow() - timedelta(seconds=1)
        s.commit()
        job_id = job.id
    result = cli("tasks", "run", "devices.expire_leases", env={"COULISSES_PLUGINS": "devices"})
    assert result.exit_code == 0, result.output
    assert "devices.expire_leases : 1" in result.output
    with Session(engine) as s:
        assert (s.get(DeviceJob, job_id).state, s.get(DeviceJob, job_id).error_code) == ("failed", "lease_expired")
    engine.dispose()
