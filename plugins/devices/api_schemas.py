"""Marshmallow schemas of the devices REST API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from plugins.devices.models import JOB_STATES


class DeviceSchema(Schema):
    id = fields.Integer(dump_only=True)
    location_code = fields.String()
    name = fields.String()
    kind = fields.String()
    role = fields.String()
    driver = fields.String()
    via = fields.String()
    url = fields.String()
    settings = fields.Dict()
    active = fields.Boolean()
    last_status = fields.Dict(allow_none=True)
    last_status_at = fields.DateTime(allow_none=True)
    last_error = fields.String()


class JobSchema(Schema):
    id = fields.Integer(dump_only=True)
    device_id = fields.Integer()
    location_code = fields.String()
    operation = fields.String()
    payload = fields.Dict()
    reference = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    lease_id = fields.String(allow_none=True)
    lease_expires_at = fields.DateTime(allow_none=True)
    result = fields.Raw(allow_none=True)
    error_code = fields.String()
    error_message = fields.String()
    retryable = fields.Boolean()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    resolution = fields.String()


class JobListQuerySchema(Schema):
    location_code = fields.String(load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(JOB_STATES))


class DeviceListQuerySchema(Schema):
    location_code = fields.String(load_default=None)


class SubmitSchema(Schema):
    operation = fields.String(required=True)
    payload = fields.Dict(load_default=dict)
    reference = fields.String(load_default="", validate=validate.Length(max=120))


class DeviceJobResolveSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["accepted", "declined"]))


class AgentDeviceSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    role = fields.String()
    driver = fields.String()
    url = fields.String()
    settings = fields.Dict()


class AgentConfigSchema(Schema):
    location_code = fields.String()
    agent = fields.String()
    devices = fields.List(fields.Nested(AgentDeviceSchema))


class LeaseRequestSchema(Schema):
    wait = fields.Float(load_default=0, validate=validate.Range(min=0, max=60))
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=50))
    hostname = fields.String(load_default="", validate=validate.Length(max=120))
    version = fields.String(load_default="", validate=validate.Length(max=40))
    ports = fields.List(fields.Dict(), load_default=None, allow_none=True)


class LeasedJobSchema(Schema):
    id = fields.Integer()
    lease_id = fields.String()
    lease_expires_at = fields.DateTime()
    device_id = fields.Integer()
    operation = fields.String()
    payload = fields.Dict()
    reference = fields.String()


class LeaseSchema(Schema):
    jobs = fields.List(fields.Nested(LeasedJobSchema))


class ResultSchema(Schema):
    lease_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    ok = fields.Boolean(required=True)
    result = fields.Dict(load_default=None, allow_none=True)
    partial = fields.Dict(load_default=None, allow_none=True)
    error_code = fields.String(load_default="", validate=validate.Length(max=40))
    error_message = fields.String(load_default="", validate=validate.Length(max=2000))


class StatusItemSchema(Schema):
    device_id = fields.Integer(required=True)
    status = fields.Dict(load_default=None, allow_none=True)
    error = fields.String(load_default="")


class StatusReportSchema(Schema):
    statuses = fields.List(fields.Nested(StatusItemSchema), load_default=list)
    ports = fields.List(fields.Dict(), load_default=None, allow_none=True)
    hostname = fields.String(load_default="", validate=validate.Length(max=120))
    version = fields.String(load_default="", validate=validate.Length(max=40))


class RecordedSchema(Schema):
    recorded = fields.Integer()


class ScanInSchema(Schema):
    scan_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    code = fields.String(required=True, validate=validate.Length(min=1, max=200))
    symbology = fields.String(load_default="", validate=validate.Length(max=30))
    device_id = fields.Integer(load_default=None, allow_none=True)
    location_code = fields.String(load_default=None, validate=validate.Length(max=40))


class ScanSchema(Schema):
    id = fields.Integer()
    location_code = fields.String()
    device_id = fields.Integer(allow_none=True)
    code = fields.String()
    symbology = fields.String()
    received_at = fields.DateTime()
    consumed_by = fields.String()


class ScanClaimSchema(Schema):
    consumer = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "The plugin whose screen takes the scan (e.g. sales)"})


class ScanQuerySchema(Schema):
    location_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    after = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0),
                           metadata={"description": "Only the scans recorded after this scan id, oldest first "
                                                    "(a screen's live feed); without it, the last scans, newest first"})
    wait = fields.Float(load_default=0.0, validate=validate.Range(min=0, max=60),
                        metadata={"description": "With after: seconds to wait for a scan (long polling; at most "
                                                 "DEVICES_LONG_POLL_SECONDS)"})
