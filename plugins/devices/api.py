"""REST endpoints of the devices plugin (``/api/v1/devices/...``).

Two audiences: operators and integrators (devices, jobs, scans: ``devices.view`` / ``devices.use``),
and the workstation agents (``/devices/agent/...``: ``devices.agent``, with a device token bound to
the agent's place of work). The lease endpoint long-polls: it answers as soon as a job is due, or
after ``wait`` seconds with no job.
"""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy import select

from coulisses import ConflictError
from coulisses.web.extensions import db
from plugins.devices import api_schemas as s
from plugins.devices.i18n import _
from plugins.devices.models import Device, DeviceJob
from plugins.devices.services import agents, config, jobs, waiting


def _agent():
    return agents.agent_of(db.session, current_user.id)


def register_routes(api):
    # ------------------------------------------------------------------ operators, integrators

    @api.route("/devices/devices", permission="devices.view", query=s.DeviceListQuerySchema,
               response=s.DeviceSchema, many=True, summary="The configured devices (of one place of work)")
    def list_devices(args):
        stmt = select(Device).order_by(Device.location_code, Device.kind, Device.role)
        if args["location_code"]:
            stmt = stmt.where(Device.location_code == args["location_code"])
        return list(db.session.scalars(stmt))

    @api.route("/devices/jobs", permission="devices.view", query=s.JobListQuerySchema, response=s.JobSchema,
               many=True, summary="Device jobs, newest first")
    def list_jobs(args):
        states = (args["state"],) if args["state"] else None
        return jobs.jobs_at(db.session, args["location_code"], states=states)

    @api.route("/devices/jobs/<int:job_id>", permission="devices.view", response=s.JobSchema,
               summary="One device job")
    def get_job(job_id):
        return _job(job_id)

    @api.route("/devices/devices/<int:device_id>/jobs", ("POST",), permission="devices.use", body=s.SubmitSchema,
               response=s.JobSchema, status=201, idempotent=True,
               summary="Ask a device to do something (test, status, print, show, open the drawer, pay)")
    def submit_job(device_id, body):
        device = config.get_device(db.session, device_id)
        return jobs.submit(db.session, device, body["operation"], body["payload"], reference=body["reference"])

    @api.route("/devices/jobs/<int:job_id>/retry", ("POST",), permission="devices.use", response=s.JobSchema,
               summary="Run a failed job again")
    def retry_job(job_id):
        return jobs.retry(db.session, job_id)

    @api.route("/devices/jobs/<int:job_id>/resolve", ("POST",), permission="devices.manage", body=s.DeviceJobResolveSchema,
               response=s.JobSchema, idempotent=True,
               summary="State the outcome of a payment the terminal did not report")
    def resolve_job(job_id, body):
        return jobs.resolve(db.session, job_id, body["outcome"])

    @api.route("/devices/scans", permission="devices.view", query=s.ScanQuerySchema, response=s.ScanSchema,
               many=True, summary="The last scans of a place of work, or (after, wait) the next ones: long polling")
    def list_scans(args):
        location = args["location_code"]
        if args["after"] is None:
            return agents.recent_scans(db.session, location)
        return waiting.long_poll(db.session, lambda: agents.scans_after(db.session, location, args["after"]),
                                 args["wait"], limit=current_app.config["DEVICES_LONG_POLL_SECONDS"])

    @api.route("/devices/scans/<int:scan_id>/claim", ("POST",), permission="devices.use", body=s.ScanClaimSchema,
               response=s.ScanSchema, summary="An open screen takes a scan no basket took (one screen wins)",
               responses={409: "Another screen or basket took the scan"})
    def claim_scan(scan_id, body):
        return agents.claim_scan(db.session, scan_id, body["consumer"])

    # ------------------------------------------------------------------ workstation agents

    @api.route("/devices/agent/config", permission="devices.agent", response=s.AgentConfigSchema,
               summary="Agent: the devices of its place of work",
               responses={409: "The token is not a workstation agent's"})
    def agent_config():
        agent = _agent()
        return {"location_code": agent.location_code, "agent": str(agent),
                "devices": config.devices_at(db.session, agent.location_code, via="agent")}

    @api.route("/devices/agent/lease", ("POST",), permission="devices.agent", body=s.LeaseRequestSchema,
               response=s.LeaseSchema, summary="Agent: lease the due jobs of its place of work (long polling)")
    def agent_lease(body):
        agent = _agent()
        agents.seen(db.session, agent, hostname=body["hostname"], version=body["version"], ports=body["ports"])
        location, holder = agent.location_code, f"agent:{agent.id}"
        leased = waiting.long_poll(db.session, lambda: jobs.lease_jobs(db.session, location, holder,
                                                                       limit=body["limit"]),
                                   body["wait"], limit=current_app.config["DEVICES_LONG_POLL_SECONDS"])
        return {"jobs": leased}

    @api.route("/devices/agent/jobs/<int:job_id>/result", ("POST",), permission="devices.agent", body=s.ResultSchema,
               response=s.JobSchema, summary="Agent: report a leased job's outcome (once; a repeat is answered "
                                             "with the recorded outcome)")
    def agent_result(job_id, body):
        agent = _agent()
        job = _job(job_id)
        if job.location_code != agent.location_code:
            raise ConflictError(_("Ce travail n'est pas celui de ce poste."))
        return jobs.complete(db.session, job_id, body["lease_id"], ok=body["ok"], result=body["result"],
                             error_code=body["error_code"], error_message=body["error_message"],
                             partial=body["partial"])

    @api.route("/devices/agent/status", ("POST",), permission="devices.agent", body=s.StatusReportSchema,
               response=s.RecordedSchema, summary="Agent: report its devices' status and its ports")
    def agent_status(body):
        agent = _agent()
        agents.seen(db.session, agent, hostname=body["hostname"], version=body["version"], ports=body["ports"])
        return {"recorded": agents.record_statuses(db.session, agent, body["statuses"])}

    @api.route("/devices/agent/scans", ("POST",), permission="devices.agent", body=s.ScanInSchema,
               response=s.ScanSchema, status=201, summary="Agent: forward a scan (recorded once per scan_id)")
    def agent_scan(body):
        agent = _agent()
        return agents.record_scan(db.session, agent.location_code, body["scan_id"], body["code"], body["symbology"],
                                  body["device_id"])


def _job(job_id: int) -> DeviceJob:
    from coulisses import NotFoundError

    job = db.session.get(DeviceJob, job_id)
    if job is None:
        raise NotFoundError(_("Travail %(id)s introuvable", id=job_id))
    return job
