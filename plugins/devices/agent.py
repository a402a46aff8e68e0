"""The workstation agent: ``coulisses devices agent --server URL --token TOKEN``.

A plain Python process on the operator's workstation (no web server, no database): it asks the
server for the devices of its place of work, long-polls their jobs, drives the ports with pyserial,
reports each job's outcome and each device's status, and forwards what the scanners read.

- It never runs a job twice: a job is run once per lease; its outcome is kept until the server has
  acknowledged it (the server answers a repeated report with the recorded outcome).
- It survives the server restarting (connection refused, 5xx: it waits, doubling the delay up to
  ``max_backoff``, never a busy loop) and a port unplugged (the job fails with a clear, retryable
  error; a scanner's port is reopened with the same backoff).
- Two jobs never interleave on one device (the device's lock, ``drivers.base.device_lock``).
"""
from __future__ import annotations

import json
import logging
import platform
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

from coulisses import InvalidError
from plugins.devices.drivers.base import device_lock, run as run_driver
from plugins.devices.errors import DeviceError
from plugins.devices.transport import discover_ports, open_port

log = logging.getLogger("coulisses.devices.agent")
VERSION = "0.1.0"


class ServerUnavailable(Exception):
    """The server cannot be reached now (down, restarting, 5xx): try again later."""


class AgentRefused(Exception):
    """The server refuses this agent (wrong or revoked token, not an agent's token): stop."""


@dataclass
class Report:
    job_id: int
    body: dict


@dataclass
class Agent:
    server: str
    token: str
    wait: float = 25.0  # long-poll duration asked of the server
    status_every: float = 60.0
    config_every: float = 300.0  # devices configured on the server since are picked up this often
    max_backoff: float = 60.0
    first_backoff: float = 0.5
    registry: object = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.server = self.server.rstrip("/")
        self.devices: dict[int, dict] = {}
        self.location_code = ""
        self.pending_reports: list[Report] = []
        self.reported: list[dict] = []  # the server's answers to our reports (the jobs as recorded)
        self.failures = 0
        self.changed = threading.Condition()
        self._scans: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._last_status = float("-inf")
        self._last_config = float("-inf")
        self.fatal: Exception | None = None

    # ------------------------------------------------------------------ HTTP

    def _call(self, method: str, path: str, body: dict | None = None, timeout: float | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.server}/api/v1{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
            "Accept": "application/json", "User-Agent": f"coulisses-devices-agent/{VERSION}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout or (self.wait + 15)) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                message = json.loads(payload)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = payload[:200].decode("utf-8", "replace")
            if exc.code in (401, 403):
                raise AgentRefused(f"{exc.code}: {message}") from None
            if exc.code >= 500 or exc.code == 429:
                raise ServerUnavailable(f"{exc.code}: {message}") from None
            raise HttpRefusal(exc.code, message) from None
        except (urllib.error.URLError, ConnectionError, socket.timeout, TimeoutError, OSError) as exc:
            raise ServerUnavailable(str(getattr(exc, "reason", exc))) from None

    # ------------------------------------------------------------------ life cycle

    def start(self) -> "Agent":
        """Run in background threads (tests); ``stop()`` ends them."""
        thread = threading.Thread(target=self.run, name="devices-agent", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=self.wait + 20)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def run(self) -> None:
        """The main loop, until ``stop()`` (or a refusal from the server)."""
        forwarder = threading.Thread(target=self._forward_scans, name="devices-agent-scans", daemon=True)
        forwarder.start()
        self._threads.append(forwarder)
        while not self.stop_event.is_set():
            try:
                if not self.location_code or time.monotonic() - self._last_config >= self.config_every:
                    self.load_config()
                self.deliver_reports()
                self.report_status_if_due()
                for job in self.lease():
                    self.run_job(job)
                self.failures = 0
            except ServerUnavailable as exc:
                self._backoff(f"server unavailable: {exc}")
            except AgentRefused as exc:
                log.error("the server refuses this agent: %s", exc)
                self.fatal = exc
                self.stop_event.set()
        self._notify()

    def _backoff(self, why: str) -> None:
        delay = min(self.max_backoff, self.first_backoff * 2 ** self.failures)
        self.failures += 1
        log.warning("%s; next try in %.1f s", why, delay)
        self._notify()
        self.stop_event.wait(delay)

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0):
        with self.changed:
            if not self.changed.wait_for(predicate, timeout):
                raise AssertionError("agent: condition not met in time")

    # ------------------------------------------------------------------ work

    def load_config(self) -> None:
        config = self._call("GET", "/devices/agent/config")
        self._last_config = time.monotonic()
        self.location_code = config["location_code"]
        self.devices = {d["id"]: d for d in config["devices"]}
        for device in self.devices.values():
            if device["kind"] == "scanner" and not any(t.name == f"scanner-{device['id']}" for t in self._threads):
                thread = threading.Thread(target=self._listen, args=(device,), name=f"scanner-{device['id']}",
                                          daemon=True)
                thread.start()
                self._threads.append(thread)
        log.info("agent of %s: %d device(s)", self.location_code, len(self.devices))

    def lease(self) -> list[dict]:
        answer = self._call("POST", "/devices/agent/lease", {"wait": self.wait, "hostname": platform.node(),
                                                             "version": VERSION})
        return answer["jobs"]

    def _driver(self, key: str):
        from plugins.devices.registry import get_registry

        return (self.registry or get_registry()).driver(key)

    def execute(self, job: dict) -> dict:
        """Drive the device for one leased job; returns the report's body (never raises DeviceError)."""
        device = self.devices.get(job["device_id"])
        if device is None:
            self.load_config()
            device = self.devices.get(job["device_id"])
        if device is None:
            return {"lease_id": job["lease_id"], "ok": False, "error_code": "port_unavailable",
                    "error_message": f"device {job['device_id']} is not configured for this workstation"}
        try:
            result = run_driver(self._driver(device["driver"]), device["url"], device["settings"], job["operation"],
                                job["payload"])
            return {"lease_id": job["lease_id"], "ok": True, "result": result}
        except DeviceError as exc:
            return {"lease_id": job["lease_id"], "ok": False, "error_code": exc.code, "error_message": exc.message,
                    "partial": exc.partial}
        except InvalidError as exc:
            return {"lease_id": job["lease_id"], "ok": False, "error_code": "protocol_error",
                    "error_message": f"{exc} {exc.fields}"}

    def run_job(self, job: dict) -> None:
        body = self.execute(job)  # run once; from here on, only the report is repeated
        self.pending_reports.append(Report(job["id"], body))
        self.deliver_reports()

    def deliver_reports(self) -> None:
        while self.pending_reports:
            report = self.pending_reports[0]
            try:
                recorded = self._call("POST", f"/devices/agent/jobs/{report.job_id}/result", report.body)
            except HttpRefusal as exc:  # the lease is no longer ours (409) or the job is gone (404)
                log.warning("job %s: report refused (%s)", report.job_id, exc)
                recorded = {"id": report.job_id, "refused": str(exc)}
            self.pending_reports.pop(0)
            with self.changed:
                self.reported.append(recorded)
                self.changed.notify_all()

    def report_status_if_due(self) -> None:
        if time.monotonic() - self._last_status < self.status_every:
            return
        statuses = []
        for device in self.devices.values():
            if device["kind"] == "scanner":
                continue
            try:
                status = run_driver(self._driver(device["driver"]), device["url"], device["settings"], "status",
                                    lock_wait=0.5)
                statuses.append({"device_id": device["id"], "status": status})
            except (DeviceError, InvalidError) as exc:
                statuses.append({"device_id": device["id"], "status": None, "error": str(exc)})
        self._call("POST", "/devices/agent/status", {"statuses": statuses, "ports": discover_ports(),
                                                     "hostname": platform.node(), "version": VERSION})
        self._last_status = time.monotonic()

    # ------------------------------------------------------------------ scanners

    def _listen(self, device: dict) -> None:
        failures = 0
        driver = self._driver(device["driver"])
        settings = driver.load_settings(device["settings"])
        while not self.stop_event.is_set():
            try:
                with device_lock(device["url"], wait=1.0), open_port(device["url"], driver.port_settings(settings)) as port:
                    failures = 0
                    driver.listen(port, settings, lambda scan: self._scans.put((device["id"], scan)), self.stop_event)
            except DeviceError as exc:
                delay = min(self.max_backoff, self.first_backoff * 2 ** failures)
                failures += 1
                log.warning("scanner %s: %s; reopening in %.1f s", device["name"], exc, delay)
                self.stop_event.wait(delay)

    def _forward_scans(self) -> None:
        pending: list[dict] = []
        failures = 0
        while not self.stop_event.is_set():
            if not pending:
                try:
                    device_id, scan = self._scans.get(timeout=0.5)
                except queue.Empty:
                    continue
                pending.append({"scan_id": uuid.uuid4().hex, "code": scan.code, "symbology": scan.symbology or "",
                                "device_id": device_id})
            try:
                recorded = self._call("POST", "/devices/agent/scans", pending[0], timeout=10)
                pending.pop(0)
                failures = 0
                with self.changed:
                    self.reported.append({"scan": recorded})
                    self.changed.notify_all()
            except HttpRefusal as exc:  # the server will never take this one (a bad device id…)
                log.warning("scan %s refused: %s", pending.pop(0)["code"], exc)
            except ServerUnavailable as exc:
                delay = min(self.max_backoff, self.first_backoff * 2 ** failures)
                failures += 1
                log.warning("scan not forwarded (%s); next try in %.1f s", exc, delay)
                self.stop_event.wait(delay)
            except AgentRefused:
                self.stop_event.wait(self.max_backoff)


class HttpRefusal(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(f"{status}: {message}")
