"""The devices REST API: operators' endpoints with their permissions, the agents' endpoints bound to
their place of work, long polling, idempotent reports, OpenAPI."""
from __future__ import annotations

import threading
import time

from sqlalchemy import select

from plugins.devices.models import Device, DeviceJob
from plugins.devices.services import agents, config, jobs
from tests.conftest import app_session


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _setup(app, location="Guichet"):
    with app_session(app) as s:
        device = config.create_device(s, {"location_code": location, "name": "Imprimante reçus",
                                          "kind": "receipt_printer", "driver": "escpos", "via": "agent",
                                          "url": "/dev/ttyUSB0"})
        _agent, token = agents.create_agent(s, location, "Caisse 1")
        s.commit()
        return device.id, token


def test_operators_list_devices_and_submit_jobs_with_their_permissions(app, make_operator, token_for):
    device_id, _token = _setup(app)
    make_operator("lecteur", roles=["readonly"])
    make_operator("guichet", roles=["operator"])
    client = app.test_client()
    assert client.get("/api/v1/devices/devices").status_code == 401
    read = _bearer(token_for("lecteur"))
    listing = client.get("/api/v1/devices/devices?location_code=Guichet", headers=read).get_json()
    assert [(d["name"], d["settings"]["code_page"]) for d in listing] == [("Imprimante reçus", "cp858")]
    body = {"operation": "print_receipt", "payload": {"lines": ["Reçu"]}, "reference": "sales.order:959"}
    assert client.post(f"/api/v1/devices/devices/{device_id}/jobs", json=body, headers=read).status_code == 403
    use = {**_bearer(token_for("guichet")), "Idempotency-Key": "print-959"}
    first = client.post(f"/api/v1/devices/devices/{device_id}/jobs", json=body, headers=use)
    again = client.post(f"/api/v1/devices/devices/{device_id}/jobs", json=body, headers=use)
    assert first.status_code == 201 and first.get_json()["state"] == "pending"
    assert again.get_json()["id"] == first.get_json()["id"]  # the same key: one job
    bad = client.post(f"/api/v1/devices/devices/{device_id}/jobs", json={"operation": "pay"}, headers=use | {
        "Idempotency-Key": "x"})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"] == {"operation": "pay"}
    jobs_list = client.get("/api/v1/devices/jobs?location_code=Guichet&state=pending", headers=read).get_json()
    assert [j["reference"] for j in jobs_list] == ["sales.order:959"]


def test_an_agent_leases_reports_once_and_sees_only_its_place_of_work(app):
    device_id, token = _setup(app)
    other_id, other_token = _setup(app, "Accueil")
    with app_session(app) as s:
        mine = jobs.submit(s, s.get(Device, device_id), "print_receipt", {"lines": ["A"]}).id
        theirs = jobs.submit(s, s.get(Device, other_id), "print_receipt", {"lines": ["B"]}).id
        s.commit()
    client = app.test_client()
    auth = _bearer(token)
    cfg = client.get("/api/v1/devices/agent/config", headers=auth).get_json()
    assert cfg["location_code"] == "Guichet" and [d["id"] for d in cfg["devices"]] == [device_id]
    leased = client.post("/api/v1/devices/agent/lease", json={"wait": 0}, headers=auth).get_json()["jobs"]
    assert [j["id"] for j in leased] == [mine]
    report = {"lease_id": leased[0]["lease_id"], "ok": True, "result": {"printed": True}}
    stranger = client.post(f"/api/v1/devices/agent/jobs/{theirs}/result", json=report, headers=auth)
    assert stranger.status_code == 409
    done = client.post(f"/api/v1/devices/agent/jobs/{mine}/result", json=report, headers=auth)
    repeat = client.post(f"/api/v1/devices/agent/jobs/{mine}/result", json=report, headers=auth)
    assert done.get_json()["state"] == repeat.get_json()["state"] == "done"
    wrong = client.post(f"/api/v1/devices/agent/jobs/{mine}/result", json={**report, "lease_id": "nope"}, headers=auth)
    assert wrong.status_code == 409
    status = client.post("/api/v1/devices/agent/status", headers=auth, json={
        "statuses": [{"device_id": device_id, "status": {"paper": "near_end"}}, {"device_id": other_id, "status": {}}],
        "ports": [{"device": "/dev/ttyUSB0", "description": "USB Serial"}], "hostname": "caisse-1"})
    assert status.get_json() == {"recorded": 1}  # the other place's device is not this agent's
    with app_session(app) as s:
        assert s.get(Device, device_id).last_status == {"paper": "near_end"}


def test_the_lease_long_polls_until_a_job_is_committed(app):
    device_id, token = _setup(app)
    client = app.test_client()
    answers = []
    started = threading.Event()

    def poll():
        started.set()
        answers.append(client.post("/api/v1/devices/agent/lease", json={"wait": 20}, headers=_bearer(token)))

    thread = threading.Thread(target=poll)
    t0 = time.monotonic()
    thread.start()
    started.wait()
    with app_session(app) as s:
        job_id = jobs.submit(s, s.get(Device, device_id), "print_receipt", {"lines": ["A"]}).id
        s.commit()
    thread.join(25)
    assert [j["id"] for j in answers[0].get_json()["jobs"]] == [job_id]
    assert time.monotonic() - t0 < 15  # answered when the job came, not at the end of the wait
    empty = client.post("/api/v1/devices/agent/lease", json={"wait": 0.2}, headers=_bearer(token))
    assert empty.get_json() == {"jobs": []}


def test_scans_are_recorded_once_and_listed(app, make_operator, token_for):
    device_id, token = _setup(app)
    client = app.test_client()
    scan = {"scan_id": "a1", "code": "9590001", "symbology": "code128"}
    first = client.post("/api/v1/devices/agent/scans", json=scan, headers=_bearer(token))
    again = client.post("/api/v1/devices/agent/scans", json=scan, headers=_bearer(token))
    assert first.status_code == 201 and first.get_json()["id"] == again.get_json()["id"]
    make_operator("lecteur", roles=["readonly"])
    listed = client.get("/api/v1/devices/scans?location_code=Guichet", headers=_bearer(token_for("lecteur")))
    assert [s["code"] for s in listed.get_json()] == ["9590001"]


def test_an_unused_scan_is_claimed_by_one_screen_only(app, make_operator, token_for):
    """A scan no basket took: the first open screen to claim it wins; the second is told another took
    it (409), a reader cannot claim, an unknown scan is 404, a missing consumer 422."""
    device_id, token = _setup(app)
    client = app.test_client()
    scan = client.post("/api/v1/devices/agent/scans", json={"scan_id": "c1", "code": "9590002"},
                       headers=_bearer(token)).get_json()
    assert scan["consumed_by"] == ""
    make_operator("lecteur", roles=["readonly"])
    make_operator("guichet", roles=["operator"])
    make_operator("guichet2", roles=["operator"])
    url = f"/api/v1/devices/scans/{scan['id']}/claim"
    assert client.post(url, json={"consumer": "sales"}, headers=_bearer(token_for("lecteur"))).status_code == 403
    assert client.post(url, json={}, headers=_bearer(token_for("guichet"))).status_code == 422
    first = client.post(url, json={"consumer": "sales"}, headers=_bearer(token_for("guichet")))
    assert first.status_code == 200 and first.get_json()["consumed_by"] == "sales"
    second = client.post(url, json={"consumer": "sales"}, headers=_bearer(token_for("guichet2")))
    assert second.status_code == 409 and "9590002" in second.get_json()["error"]["message"]
    assert client.post("/api/v1/devices/scans/999999/claim", json={"consumer": "sales"},
                       headers=_bearer(token_for("guichet"))).status_code == 404
    with app_session(app) as s:
        assert s.get(agents.DeviceScan, scan["id"]).consumed_by == "sales"


def test_operators_cannot_use_the_agent_endpoints_and_agents_cannot_use_the_operators(app, make_operator, token_for):
    device_id, token = _setup(app)
    make_operator("guichet", roles=["operator"])
    client = app.test_client()
    assert client.post("/api/v1/devices/agent/lease", json={}, headers=_bearer(token_for("guichet"))).status_code == 403
    assert client.get("/api/v1/devices/devices", headers=_bearer(token)).status_code == 403
    assert client.get("/admin/devices_device/", headers=_bearer(token)).status_code in (302, 403)
    login_page = client.post("/login", data={"login": "agent-guichet-1", "password": ""})
    assert login_page.status_code != 302  # an agent account cannot log in to the screens


def test_retry_and_resolve_through_the_api(app, make_operator, token_for):
    device_id, token = _setup(app)
    with app_session(app) as s:
        terminal = config.create_device(s, {"location_code": "Guichet", "name": "TPE", "kind": "payment_terminal",
                                            "driver": "concert", "via": "agent", "url": "/dev/ttyACM0"})
        printing = jobs.submit(s, s.get(Device, device_id), "print_receipt", {"lines": ["A"]})
        paying = jobs.submit(s, terminal, "pay", {"amount": "42.50"})
        for job in jobs.lease_jobs(s, "Guichet", "agent"):
            code = "payment_unknown" if job.operation == "pay" else "cover_open"
            jobs.complete(s, job.id, job.lease_id, ok=False, error_code=code)
        s.commit()
        printing_id, paying_id = printing.id, paying.id
    make_operator("guichet", roles=["operator"])
    make_operator("chef", roles=["supervisor"])
    op, chef = _bearer(token_for("guichet")), _bearer(token_for("chef"))
    client = app.test_client()
    assert client.post(f"/api/v1/devices/jobs/{printing_id}/retry", headers=op).get_json()["state"] == "pending"
    assert client.post(f"/api/v1/devices/jobs/{paying_id}/retry", headers=op).status_code == 409
    assert client.post(f"/api/v1/devices/jobs/{paying_id}/resolve", json={"outcome": "declined"},
                       headers=op).status_code == 403
    resolved = client.post(f"/api/v1/devices/jobs/{paying_id}/resolve", json={"outcome": "declined"}, headers=chef)
    assert resolved.get_json()["state"] == "failed" and resolved.get_json()["resolution"] == "declined"


def test_the_endpoints_are_in_the_openapi_document(app, make_operator, token_for):
    make_operator("chef", roles=["administrator"])
    doc = app.test_client().get("/api/v1/openapi.json", headers=_bearer(token_for("chef"))).get_json()
    assert doc["paths"]["/devices/agent/lease"]["post"]["x-permission"] == "devices.agent"
    assert doc["paths"]["/devices/devices/{device_id}/jobs"]["post"]["x-permission"] == "devices.use"
    from openapi_spec_validator import validate

    validate(doc)
