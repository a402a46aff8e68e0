"""The workstation agent end to end: a live server, the agent in threads, the simulators. It prints,
shows, forwards scans, reports statuses and ports, survives the server restarting and the port being
unplugged, and never runs a job twice."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from plugins.devices.agent import Agent
from plugins.devices.models import Device, DeviceAgent, DeviceJob, DeviceScan
from plugins.devices.services import agents, config, jobs
from plugins.devices.simulators import DisplaySimulator, EscPosPrinterSimulator, ScannerSimulator
from tests.conftest import app_session


class LiveServer:
    """The app served in a thread on 127.0.0.1; ``stop()`` and ``start()`` again on the same port."""

    def __init__(self, app):
        self.app = app
        self.port = 0
        self.server = None
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self.server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live(make_app):
    app = make_app(["devices"], DEVICES_RETRY_DELAY_SECONDS=0)
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def station(live, sims):
    """A workstation "Guichet" with a receipt printer on a pseudo-terminal, a display and a scanner,
    and its agent's token."""
    printer = sims(EscPosPrinterSimulator, transport="pty")
    display = sims(DisplaySimulator)
    scanner = sims(ScannerSimulator, aim=True)
    with app_session(live.app) as s:
        ids = {}
        for kind, driver, url in (("receipt_printer", "escpos", printer.url), ("display", "cd5220", display.url),
                                  ("scanner", "serial_scanner", scanner.url)):
            ids[kind] = config.create_device(s, {"location_code": "Guichet", "name": kind, "kind": kind,
                                                 "driver": driver, "via": "agent", "url": url}).id
        _agent, token = agents.create_agent(s, "Guichet", "Caisse 1")
        s.commit()
    return {"printer": printer, "display": display, "scanner": scanner, "ids": ids, "token": token}


def _agent(live, token):
    return Agent(live.url, token, wait=1.0, first_backoff=0.05, max_backoff=0.2, status_every=0)


def _submit(app, device_id, operation, payload):
    with app_session(app) as s:
        job = jobs.submit(s, s.get(Device, device_id), operation, payload)
        s.commit()
        return job.id


def _state(app, job_id):
    with app_session(app) as s:
        return s.get(DeviceJob, job_id)


def _reported(agent, job_id, state):
    return lambda: any(r.get("id") == job_id and r.get("state") == state for r in agent.reported)


def test_the_agent_prints_shows_and_forwards_scans(live, station):
    printer, display, scanner = station["printer"], station["display"], station["scanner"]
    with _agent(live, station["token"]) as agent:
        receipt = _submit(live.app, station["ids"]["receipt_printer"], "print_receipt",
                          {"lines": ["Reçu n° 42", "Total 120,00 €"], "open_drawer": True})
        shown = _submit(live.app, station["ids"]["display"], "show", {"lines": ["Total", "120,00 €"]})
        agent.wait_for(_reported(agent, receipt, "done"))
        agent.wait_for(_reported(agent, shown, "done"))
        assert [line.text for line in printer.receipts[0]] == ["Reçu n° 42", "Total 120,00 €"]
        assert printer.drawer_open
        display.wait_for(lambda: display.lines[1].startswith("120,00 €"))

        scanner.wait_for(lambda: scanner.connections)
        scanner.scan("9590001", split=True)
        agent.wait_for(lambda: any(r.get("scan", {}).get("code") == "9590001" for r in agent.reported))
    with app_session(live.app) as s:
        scan = s.scalar(select(DeviceScan))
        assert (scan.location_code, scan.code, scan.symbology, scan.device_id) == (
            "Guichet", "9590001", "code128", station["ids"]["scanner"])
        agent_row = s.scalar(select(DeviceAgent))
        assert agent_row.last_seen_at is not None and isinstance(agent_row.ports, list)
        statuses = {d.kind: d.last_status for d in s.scalars(select(Device))}
        assert statuses["receipt_printer"]["paper"] == "ok"
        assert s.get(DeviceJob, receipt).attempts == 1


def test_the_agent_survives_the_server_restarting(live, station):
    printer = station["printer"]
    agent = _agent(live, station["token"]).start()
    try:
        agent.wait_for(lambda: agent.location_code == "Guichet")
        live.stop()
        agent.wait_for(lambda: agent.failures >= 2)  # it waits, and tries again
        job = _submit(live.app, station["ids"]["receipt_printer"], "print_receipt", {"lines": ["Après redémarrage"]})
        live.start()  # same port
        agent.wait_for(_reported(agent, job, "done"))
        assert [r[0].text for r in printer.receipts] == ["Après redémarrage"]
        assert agent.failures == 0
    finally:
        agent.stop()


def test_an_unplugged_printer_fails_the_job_retryably_and_it_prints_once_plugged_again(live, station, sims):
    tcp_printer = sims(EscPosPrinterSimulator)
    with app_session(live.app) as s:
        device = s.get(Device, station["ids"]["receipt_printer"])
        device.url = tcp_printer.url
        s.commit()
    tcp_printer.stop()  # unplugged
    with _agent(live, station["token"]) as agent:
        job = _submit(live.app, station["ids"]["receipt_printer"], "print_receipt", {"lines": ["Billet 1"]})
        agent.wait_for(lambda: any(r.get("id") == job and r.get("error_code") == "port_unavailable"
                                   for r in agent.reported))
        assert "Port indisponible" in _state(live.app, job).error_message
        tcp_printer.start()  # plugged again: the automatic retry prints it
        agent.wait_for(_reported(agent, job, "done"))
    assert [r[0].text for r in tcp_printer.receipts] == ["Billet 1"]


def test_a_report_lost_on_the_way_is_sent_again_and_the_job_is_not_run_twice(live, station):
    printer = station["printer"]
    agent = _agent(live, station["token"])
    job = _submit(live.app, station["ids"]["receipt_printer"], "print_receipt", {"lines": ["Une seule fois"]})
    try:
        agent.load_config()
        leased = agent.lease()
        assert [j["id"] for j in leased] == [job]
        live.stop()  # the server goes away while the job prints
        from plugins.devices.agent import ServerUnavailable

        with pytest.raises(ServerUnavailable):
            agent.run_job(leased[0])
        assert len(agent.pending_reports) == 1 and len(printer.receipts) == 1
        live.start()
        agent.deliver_reports()
        assert agent.pending_reports == [] and agent.reported[-1]["state"] == "done"
        assert agent.lease() == [] and len(printer.receipts) == 1
    finally:
        agent.stop()  # its scanner thread


def test_an_operator_token_is_not_an_agent_token(live, make_operator, token_for):
    make_operator("chef", roles=["administrator"])
    agent = Agent(live.url, token_for("chef"), wait=0)
    from plugins.devices.agent import HttpRefusal

    with pytest.raises(HttpRefusal) as caught:
        agent.load_config()
    assert caught.value.status == 409 and "agent de poste" in str(caught.value)
    stopped = Agent(live.url, "wrong-token", wait=0, first_backoff=0.01)
    stopped.run()  # a refused token stops the agent with a clear cause instead of looping
    assert "401" in str(stopped.fatal)
