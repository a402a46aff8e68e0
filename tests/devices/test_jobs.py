"""Device jobs: leased once, completed once, retried on transient failures, never re-run; network
devices driven by the server with a lock per device; every failure leaves the job retryable with a
clear error, and an unknown payment waits for an operator."""
from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from coulisses import ConflictError
from coulisses.db import clock, utcnow
from plugins.devices.models import Device, DeviceJob
from plugins.devices.services import jobs, runner
from plugins.devices.simulators import (ConcertTerminalSimulator, DisplaySimulator, EscPosPrinterSimulator,
                                        FglPrinterSimulator)
from tests.devices.conftest import make_device

RECEIPT = {"lines": [{"text": "Reçu n° 42", "bold": True}, "Tosca — 2 places : 120,00 €"], "open_drawer": True}


def test_an_agent_job_is_leased_once_and_completed_once(db):
    printer = make_device(db)
    job = jobs.submit(db, printer, "print_receipt", RECEIPT, reference="sales.order:959")
    db.commit()
    first = jobs.lease_jobs(db, "Guichet", "agent:1")
    second = jobs.lease_jobs(db, "Guichet", "agent:2")
    assert [j.id for j in first] == [job.id] and second == []
    lease = first[0].lease_id
    done = jobs.complete(db, job.id, lease, ok=True, result={"printed": True})
    assert (done.state, done.result, done.attempts) == ("done", {"printed": True}, 1)
    again = jobs.complete(db, job.id, lease, ok=False, error_code="timeout")  # the same report, repeated
    assert (again.state, again.result) == ("done", {"printed": True})
    with pytest.raises(ConflictError):
        jobs.complete(db, job.id, "another-lease", ok=True)


def test_one_device_runs_one_job_at_a_time(db):
    printer = make_device(db)
    display = make_device(db, kind="display", driver="cd5220", name="Afficheur")
    a = jobs.submit(db, printer, "print_receipt", RECEIPT)
    b = jobs.submit(db, printer, "print_receipt", RECEIPT)
    c = jobs.submit(db, display, "show", {"lines": ["Total", "120,00 €"]})
    db.commit()
    assert [j.id for j in jobs.lease_jobs(db, "Guichet", "agent")] == [a.id, c.id]
    assert jobs.lease_jobs(db, "Guichet", "agent") == []  # b waits for a
    jobs.complete(db, a.id, a.lease_id, ok=True)
    assert [j.id for j in jobs.lease_jobs(db, "Guichet", "agent")] == [b.id]


def test_a_transient_failure_is_retried_later_and_paper_out_waits_for_an_operator(db):
    printer = make_device(db)
    job = jobs.submit(db, printer, "print_receipt", RECEIPT)
    db.commit()
    leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
    jobs.complete(db, job.id, leased.lease_id, ok=False, error_code="port_unavailable",
                  error_message="could not open port /dev/ttyUSB0")
    assert (job.state, job.error_code) == ("pending", "port_unavailable")
    assert jobs.lease_jobs(db, "Guichet", "agent") == []  # not before its backoff
    later = utcnow() + timedelta(seconds=6)
    with clock(lambda: later):
        leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
        jobs.complete(db, job.id, leased.lease_id, ok=False, error_code="paper_out", error_message="Papier épuisé")
    assert (job.state, job.retryable, job.error_message) == ("failed", True, "Papier épuisé")
    jobs.retry(db, job.id)
    assert job.state == "pending" and jobs.lease_jobs(db, "Guichet", "agent")[0].id == job.id


def test_a_payment_with_an_unknown_outcome_is_never_retried_and_an_operator_resolves_it(db):
    terminal = make_device(db, kind="payment_terminal", driver="concert", name="TPE")
    job = jobs.submit(db, terminal, "pay", {"amount": "42.50", "reference": "959"})
    db.commit()
    leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
    jobs.complete(db, job.id, leased.lease_id, ok=False, error_code="payment_unknown", error_message="timeout")
    assert (job.state, job.retryable) == ("unknown", False)
    with pytest.raises(ConflictError):
        jobs.retry(db, job.id)
    later = utcnow() + timedelta(hours=1)
    with clock(lambda: later):
        assert jobs.lease_jobs(db, "Guichet", "agent") == []
    jobs.resolve(db, job.id, "accepted")
    assert (job.state, job.resolution, job.result["amount"]) == ("done", "accepted", "42.50")


def test_a_lease_that_expires_is_not_run_again(db):
    printer = make_device(db)
    terminal = make_device(db, kind="payment_terminal", driver="concert", name="TPE")
    print_job = jobs.submit(db, printer, "print_receipt", RECEIPT)
    pay_job = jobs.submit(db, terminal, "pay", {"amount": "10.00"})
    db.commit()
    leases = {j.id: j.lease_id for j in jobs.lease_jobs(db, "Guichet", "agent")}
    later = utcnow() + timedelta(minutes=5)
    with clock(lambda: later):
        assert jobs.lease_jobs(db, "Guichet", "agent") == []
    assert (print_job.state, print_job.error_code, print_job.retryable) == ("failed", "lease_expired", True)
    assert pay_job.state == "unknown"
    # the agent was only slow: its late report for its lease is still taken
    jobs.complete(db, print_job.id, leases[print_job.id], ok=True, result={"printed": True})
    assert print_job.state == "done"


@pytest.mark.parametrize("transport", ["tcp", "pty"])
def test_a_job_is_run_after_commit_by_the_server_or_the_agent(db, sims, transport):
    printer = sims(EscPosPrinterSimulator, transport=transport)
    via = "server" if transport == "tcp" else "agent"  # a pseudo-terminal is a port of the workstation
    device = make_device(db, url=printer.url, via=via)
    job = jobs.submit(db, device, "print_receipt", RECEIPT)
    db.commit()
    assert printer.receipts == []  # nothing was printed inside the transaction
    if via == "server":
        assert runner.run_server_job(db.get_bind(), job.id) == ("done", None)
        assert runner.run_server_job(db.get_bind(), job.id) == ("done", None)  # never twice
    else:
        from plugins.devices.agent import Agent

        leased = jobs.lease_jobs(db, "Guichet", "agent")[0]
        agent = Agent("http://127.0.0.1:9", "unused")
        agent.devices = {device.id: {"id": device.id, "name": device.name, "kind": device.kind,
                                     "driver": device.driver, "url": device.url, "settings": device.settings}}
        body = agent.execute({"id": leased.id, "lease_id": leased.lease_id, "device_id": device.id,
                              "operation": leased.operation, "payload": leased.payload})
        assert body["ok"] and body["result"]["printed"] is True
        jobs.complete(db, job.id, body["lease_id"], ok=True, result=body["result"])
        assert job.state == "done"
    assert len(printer.receipts) == 1
    assert [line.text for line in printer.receipts[0]] == ["Reçu n° 42", "Tosca - 2 places : 120,00 €"]
    assert printer.drawer_open and printer.receipts[0][0].bold


def _run(db, device, operation="print_receipt", payload=RECEIPT):
    job = jobs.submit(db, device, operation, payload)
    db.commit()
    state, error = runner.run_server_job(db.get_bind(), job.id)
    db.expire_all()
    return db.get(DeviceJob, job.id), error


def test_every_failure_leaves_the_job_retryable_with_a_clear_error(db, sims):
    refused = make_device(db, via="server", url="socket://127.0.0.1:1", name="Débranchée")
    job, error = _run(db, refused)
    assert (job.state, job.error_code) == ("pending", "port_unavailable")  # retried automatically, later
    assert "Port indisponible" in job.error_message and "Connection refused" in job.error_message

    printer = sims(EscPosPrinterSimulator)
    printer.paper = "out"
    device = make_device(db, via="server", url=printer.url, kind="cash_drawer", driver="escpos_drawer", name="Tiroir")
    job, error = _run(db, device, "open_drawer", {})
    assert (job.state, job.error_code, job.retryable, job.error_message) == (
        "failed", "paper_out", True, f"{printer.url} : Papier épuisé")
    assert not printer.drawer_open

    silent = sims(EscPosPrinterSimulator)
    silent.online = False  # switched off at the end of a live cable: no answer
    device = make_device(db, via="server", url=silent.url, name="Éteinte", role="secours")
    device.settings = {**device.settings, "timeout": 0.3}
    db.commit()
    job, error = _run(db, device)
    assert (job.state, job.error_code) == ("pending", "timeout") and "ne répond pas" in job.error_message

    cut = sims(EscPosPrinterSimulator)
    cut.drop_on_data = True  # the cable is pulled as the job starts
    device = make_device(db, via="server", url=cut.url, name="Coupée", role="tiroir", kind="receipt_printer")
    job, error = _run(db, device)
    assert (job.state, job.error_code) == ("pending", "disconnected")
    assert "Liaison interrompue" in job.error_message


def test_the_device_lock_makes_a_second_job_wait(db, sims):
    printer = sims(EscPosPrinterSimulator)
    device = make_device(db, via="server", url=printer.url)
    assert jobs.lock_device(db, device.id, "someone-else", 60)
    db.commit()
    job, error = _run(db, device)
    assert job.state == "pending" and job.attempts == 0 and error.code == "device_busy"
    assert printer.receipts == []
    jobs.unlock_device(db, device.id, "someone-else")
    db.commit()
    assert runner.run_server_job(db.get_bind(), job.id)[0] == "done"


def test_concurrent_jobs_on_one_printer_never_interleave(db, sims, database_url):
    printer = sims(EscPosPrinterSimulator)
    device = make_device(db, via="server", url=printer.url)
    ids = []
    for n in range(4):
        lines = [{"text": f"Dossier {n} ligne {i}"} for i in range(30)]
        ids.append(jobs.submit(db, device, "print_receipt", {"lines": lines}).id)
    db.commit()
    bind = db.get_bind()
    barrier = threading.Barrier(4)
    finished = threading.Condition()
    done: list[int] = []
    outcomes: list = []

    def work(job_id):
        barrier.wait()
        while True:
            seen = len(done)
            state, error = runner.run_server_job(bind, job_id)
            outcomes.append((job_id, state, error and error.code))
            if state != "pending":
                with finished:
                    done.append(job_id)
                    finished.notify_all()
                return
            with Session(bind) as s:  # busy: due again, as the outbox would retry it
                s.get(DeviceJob, job_id).available_at = utcnow()
                s.commit()
            with finished:  # wait for the job holding the printer to finish
                finished.wait_for(lambda: len(done) > seen, timeout=10)

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(done) == ids and {o[2] for o in outcomes} <= {None, "device_busy"}
    printer.wait_for(lambda: len(printer.receipts) == 4)
    for receipt in printer.receipts:
        numbers = {line.text.split()[1] for line in receipt}
        assert len(numbers) == 1 and len(receipt) == 30  # one order per receipt, whole


def test_reconnects_after_a_simulator_restart(db, sims):
    printer = sims(FglPrinterSimulator)
    device = make_device(db, via="server", url=printer.url, kind="ticket_printer", driver="boca_fgl", name="BOCA")
    ticket = {"tickets": [{"elements": [{"type": "text", "row": 10, "col": 10, "text": "Tosca"}]}]}
    assert _run(db, device, "print_ticket", ticket)[0].state == "done"
    printer.stop()
    job, _error = _run(db, device, "print_ticket", ticket)
    assert (job.state, job.error_code) == ("pending", "port_unavailable")
    printer.start()  # same port
    db.get(DeviceJob, job.id).available_at = utcnow()
    db.commit()
    assert runner.run_server_job(db.get_bind(), job.id)[0] == "done"
    assert len(printer.tickets) == 2


def test_a_pty_device_unplugged_mid_job_fails_retryably(db, sims):
    display = sims(DisplaySimulator, transport="pty")
    path = display.url
    device = make_device(db, via="agent", url=path, kind="display", driver="cd5220", name="Afficheur")
    from plugins.devices.drivers import CD5220_DISPLAY
    from plugins.devices.drivers.base import run
    from plugins.devices.errors import DeviceError

    assert run(CD5220_DISPLAY, path, {}, "show", {"lines": ["Total", "12,50 €"]})["shown"][0].startswith("Total")
    display.wait_for(lambda: display.lines[0].startswith("Total"))
    display.stop()  # the USB cable is pulled: the pseudo-terminal is gone
    with pytest.raises(DeviceError) as caught:
        run(CD5220_DISPLAY, path, {}, "show", {"lines": ["x", "y"]})
    assert caught.value.retryable and caught.value.code in ("port_unavailable", "disconnected")


def test_a_write_that_cannot_complete_times_out():
    from plugins.devices.errors import DeviceTimeout
    from plugins.devices.transport import PortSettings, open_port

    master, slave = os.openpty()  # nobody reads the other side: the line fills up
    try:
        import tty

        tty.setraw(slave)
        with pytest.raises(DeviceTimeout):
            with open_port(os.ttyname(slave), PortSettings(timeout=0.2, write_timeout=0.2)) as port:
                port.write(b"x" * 1_000_000)
    finally:
        os.close(master)
        os.close(slave)


def test_a_native_port_is_opened_exclusively(sims):
    from plugins.devices.errors import PortUnavailable
    from plugins.devices.transport import open_port

    display = sims(DisplaySimulator, transport="pty")
    with open_port(display.url):
        with pytest.raises(PortUnavailable):
            with open_port(display.url):
                pass


@pytest.mark.parametrize("outcome,state,code", [("accept", "done", ""), ("decline", "failed", "payment_declined"),
                                                 ("timeout", "unknown", "payment_unknown"),
                                                 ("bad_checksum", "unknown", "payment_unknown")])
def test_payment_outcomes(db, sims, outcome, state, code):
    terminal = sims(ConcertTerminalSimulator, outcome=outcome)
    device = make_device(db, via="server", url=terminal.url, kind="payment_terminal", driver="concert", name="TPE")
    device.settings = {**device.settings, "answer_timeout": 1, "timeout": 1}
    db.commit()
    job, error = _run(db, device, "pay", {"amount": "42.50", "reference": "959"})
    assert (job.state, job.error_code) == (state, code)
    assert terminal.requests and terminal.requests[0].amount == __import__("decimal").Decimal("42.50")
    assert job.max_attempts == 1 and job.retryable is (state == "done")


def test_a_network_job_goes_through_the_host_outbox_after_commit(db, sims, monkeypatch):
    from sqlalchemy import select

    from coulisses.outbox import Job

    monkeypatch.setenv("COULISSES_OUTBOX_RUN", "inline")
    printer = sims(EscPosPrinterSimulator)
    device = make_device(db, via="server", url=printer.url)
    job = jobs.submit(db, device, "print_receipt", RECEIPT, reference="sales.order:959")
    queued = db.scalar(select(Job).where(Job.kind == "devices.print"))
    assert queued.payload == {"device_job_id": job.id} and printer.receipts == []
    db.commit()  # the outbox runs it now (inline), after the commit
    db.expire_all()
    assert db.get(DeviceJob, job.id).state == "done" and len(printer.receipts) == 1
    assert db.get(Job, queued.id).state == "done"

    printer.stop()  # unplugged: the outbox retries later, the device job waits
    second = jobs.submit(db, device, "print_receipt", RECEIPT)
    db.commit()
    db.expire_all()
    retried = db.scalars(select(Job).where(Job.kind == "devices.print").order_by(Job.id.desc())).first()
    assert (db.get(DeviceJob, second.id).state, retried.state) == ("pending", "pending")
    assert "Port indisponible" in retried.last_error


def test_an_unknown_payment_parks_its_outbox_job_at_once(db, sims, monkeypatch):
    from sqlalchemy import select

    from coulisses.outbox import Job

    monkeypatch.setenv("COULISSES_OUTBOX_RUN", "inline")
    terminal = sims(ConcertTerminalSimulator, outcome="timeout")
    device = make_device(db, via="server", url=terminal.url, kind="payment_terminal", driver="concert", name="TPE")
    device.settings = {**device.settings, "answer_timeout": 1, "timeout": 1}
    db.commit()
    job = jobs.submit(db, device, "pay", {"amount": "42.50"})
    db.commit()
    db.expire_all()
    outbox_job = db.scalar(select(Job).where(Job.kind == "devices.print"))
    assert db.get(DeviceJob, job.id).state == "unknown"
    assert outbox_job.state == "parked" and "Issue du paiement inconnue" in outbox_job.last_error
    assert len(terminal.requests) == 1
