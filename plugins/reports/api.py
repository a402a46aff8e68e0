"""REST endpoints of the reports plugin (``/api/v1``).

| method and path | permission | what |
|---|---|---|
| GET `/reports` | reports.view | the reports the caller may run, with their parameters and formats |
| POST `/reports/<code>/runs` | reports.view + the report's | `{"params": {...}, "format": "pdf", "separator": ";"}` → the file (200), or a background run (202, `Location`) |
| GET `/reports/runs/<id>` | reports.view | a run: state, progress, rows, error, `download` |
| GET `/reports/runs/<id>/file` | reports.view | the file of a finished run |
| POST `/documents` | reports.documents + the type's | `{"type": "sales.receipt", "object": "959", "correct": false}` → the document (201 new, 200 stored) |
| GET `/documents/<id>` / `/documents/<id>/file` | reports.documents | a document, its PDF (the stored bytes) |
| POST `/documents/<id>/send` | reports.send | `{"to": "a@b.fr"}` → queued (202) |
"""
from __future__ import annotations

import io

from flask import send_file, url_for
from flask_login import current_user
from marshmallow import Schema, fields, validate

from coulisses.web.extensions import db
from coulisses.web.schemas import SafeString


class RunBody(Schema):
    params = fields.Dict(load_default=dict)
    format = fields.String(load_default="pdf", validate=validate.OneOf(["pdf", "csv", "xlsx"]))
    separator = fields.String(load_default=",", validate=validate.OneOf([",", ";"]))
    background = fields.Boolean(load_default=None, allow_none=True)


class RunSchema(Schema):
    id = fields.Integer()
    report = fields.String()
    format = fields.String()
    state = fields.String()
    state_label = fields.String()
    rows_done = fields.Integer()
    rows_total = fields.Integer()
    percent = fields.Integer()
    error = fields.String(allow_none=True)
    file_name = fields.String(allow_none=True)
    download = fields.String(allow_none=True)


class ReportSchema(Schema):
    code = fields.String()
    title = fields.String()
    plugin = fields.String()
    description = fields.String()
    formats = fields.List(fields.String())
    parameters = fields.List(fields.Dict())


class DocumentBody(Schema):
    type = SafeString(80, min_length=1, required=True)
    object = SafeString(80, min_length=1, required=True)
    correct = fields.Boolean(load_default=False)


class ReportDocumentSchema(Schema):
    id = fields.Integer()
    type = fields.String(attribute="type_code")
    object = fields.String(attribute="object_ref")
    object_label = fields.String()
    number = fields.String(allow_none=True)
    sha256 = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String(attribute="created_by_login")
    replaces = fields.Integer(attribute="replaces_id", allow_none=True)
    file = fields.Method("file_url")

    def file_url(self, obj):
        return url_for("api.reports_document_file", document_id=obj.id)


class SendBody(Schema):
    to = fields.String(required=True)
    subject = fields.String(load_default=None, allow_none=True)


def _status(run):
    from plugins.reports.services import runs

    status = runs.run_status(db.session, run)
    status["download"] = url_for("api.reports_run_file", run_id=run.id) if status["state"] == "done" else None
    return status


def register_routes(api):
    from coulisses import InvalidError, NotFoundError
    from coulisses.i18n import _
    from coulisses.web.rest import ApiError

    from plugins.reports.params import ParamsError, describe_api
    from plugins.reports.registry import get_registry
    from plugins.reports.services import delivery, documents, runs

    def definition_for(code):
        definition = get_registry().report(code)
        if not current_user.has_permission(definition.permission):
            raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=definition.permission))
        return definition

    @api.route("/reports", permission="reports.view", response=ReportSchema, many=True, summary="The reports you may run")
    def list_reports():
        registry = get_registry()
        return [{"code": d.code, "title": str(d.title), "plugin": registry.owner(d.code), "description": str(d.description),
                 "formats": ["pdf", "csv", "xlsx"], "parameters": describe_api(d.params)}
                for defs in registry.reports_by_plugin(current_user.has_permission).values() for d in defs]

    @api.route("/reports/<code>/runs", ("POST",), permission="reports.view", body=RunBody, response=RunSchema,
               status=202, summary="Run a report: the file, or a background run (202) for a large one")
    def run_report(code, body):
        definition_for(code)
        try:
            started = runs.start(db.session, code, body["params"], body["format"],
                                 options={"separator": body["separator"]}, can=current_user.has_permission,
                                 background=body["background"] or None)
        except ParamsError as exc:
            raise ApiError(422, "invalid", str(exc), {f"params.{k}": v for k, v in exc.fields.items()}) from None
        if started.run is None:
            db.session.rollback()
            return send_file(io.BytesIO(started.data), mimetype=started.content_type, as_attachment=True,
                             download_name=started.name)
        db.session.commit()
        status = _status(started.run)
        from flask import jsonify

        response = jsonify(RunSchema().dump(status))
        response.status_code = 202
        response.headers["Location"] = url_for("api.reports_get_run", run_id=started.run.id)
        return response

    def run_or_404(run_id):
        try:
            run = runs.get_run(db.session, run_id)
        except NotFoundError:
            raise
        definition_for(run.report_code)
        if run.operator_id != current_user.id and not current_user.has_permission("reports.schedule"):
            raise ApiError(403, "forbidden", "This run belongs to another operator")
        return run

    @api.route("/reports/runs/<int:run_id>", permission="reports.view", response=RunSchema, summary="A report run")
    def get_run(run_id):
        return _status(run_or_404(run_id))

    @api.route("/reports/runs/<int:run_id>/file", permission="reports.view", summary="The file of a finished run")
    def run_file(run_id):
        from coulisses import ConflictError
        from coulisses import files as cfiles

        run = run_or_404(run_id)
        if run.file_id is None:
            raise ConflictError(_("Le rapport n'est pas prêt (%(state)s)", state=run.state))
        return send_file(io.BytesIO(cfiles.read(db.session, run.file_id)), mimetype=run.file.content_type,
                         as_attachment=True, download_name=run.file.name)

    @api.route("/documents", ("POST",), permission="reports.documents", body=DocumentBody, response=ReportDocumentSchema,
               status=201, summary="Generate a document (or get the stored one)",
               responses={200: "The document generated before for this object (stored, unchanged)"})
    def create_document(body):
        from coulisses import InvalidError, NotFoundError

        try:  # a type or an object that names nothing is wrong input (422), not a missing address (404)
            get_registry().document(body["type"])
        except NotFoundError as exc:
            raise InvalidError(str(exc), {"type": str(exc)}) from None
        try:
            before = documents.latest(db.session, body["type"], body["object"])
            document = documents.generate(db.session, body["type"], body["object"], correct=body["correct"],
                                          can=current_user.has_permission)
        except PermissionError as exc:
            raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=str(exc))) from None
        except NotFoundError as exc:
            raise InvalidError(str(exc), {"object": str(exc)}) from None
        return document, (200 if before is not None and before.id == document.id else 201)

    def document_or_404(document_id):
        document = documents.get_document(db.session, document_id)
        doc_type = get_registry().document(document.type_code)
        if not current_user.has_permission(doc_type.permission):
            raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=doc_type.permission))
        return document

    @api.route("/documents/<int:document_id>", permission="reports.documents", response=ReportDocumentSchema,
               summary="A generated document")
    def get_document(document_id):
        return document_or_404(document_id)

    @api.route("/documents/<int:document_id>/file", permission="reports.documents", summary="A document's PDF")
    def document_file(document_id):
        document = document_or_404(document_id)
        return send_file(io.BytesIO(documents.reprint(db.session, document)), mimetype="application/pdf",
                         download_name=document.file.name)

    @api.route("/documents/<int:document_id>/send", ("POST",), permission="reports.send", body=SendBody,
               status=202, summary="Send a document by e-mail (after commit, through the outbox)")
    def send_document(document_id, body):
        document = document_or_404(document_id)
        send = delivery.queue_document(db.session, document, body["to"], subject=body["subject"])
        return {"send": send.id, "to": send.recipient, "state": send.state}

