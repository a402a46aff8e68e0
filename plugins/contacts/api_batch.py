"""REST endpoints of duplicates, merge, personal data, import and export (``/api/v1``).

- ``GET  /contacts/duplicates`` (contacts.merge): open pairs, with the field comparison;
- ``POST /contacts/duplicates/detect`` (contacts.merge): run the detection;
- ``POST /contacts/duplicates/<id>/merge`` (contacts.merge): body ``{"head": <number>, "choices":
  {"email": "other", ...}}``; returns the merge log;
- ``POST /contacts/duplicates/<id>/false-positive`` (contacts.merge);
- ``POST /contacts/<number>/anonymise`` (contacts.personal_data);
- ``POST /contacts/purge`` (contacts.personal_data): ``{"months": 36, "simulate": true}``;
- ``POST /contacts/import`` (contacts.import): multipart ``file`` (CSV or XLSX), form fields
  ``dry_run`` (default false), ``mapping`` (JSON object header → field), ``delimiter``,
  ``encoding``; returns the report (rejected lines with line number and reason, likely duplicates);
- ``GET  /contacts/export.csv?…`` (contacts.export): the advanced-search criteria; streamed CSV.
"""
from __future__ import annotations

import json

from flask import Response, request
from marshmallow import INCLUDE, Schema, fields, validate

from coulisses import InvalidError
from coulisses.web.extensions import db
from coulisses.web.schemas import Int, Limit, Number, Offset, SafeString
from coulisses.i18n import _

from plugins.contacts.services import duplicates as dup
from plugins.contacts.services import exporting, importing, personal_data
from plugins.contacts.services.contacts import get_contact

TAG = ["contacts"]


class PairContactSchema(Schema):
    number = fields.Integer()
    label = fields.String()


class ComparisonSchema(Schema):
    field = fields.String()
    label = fields.String()
    a = fields.Raw(allow_none=True)
    b = fields.Raw(allow_none=True)
    differ = fields.Boolean()


class PairSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    key = fields.String()
    score = fields.Integer()
    detected_at = fields.DateTime()
    a = fields.Nested(PairContactSchema)
    b = fields.Nested(PairContactSchema)
    fields_ = fields.List(fields.Nested(ComparisonSchema), data_key="fields")


class PairListSchema(Schema):
    total = fields.Integer()
    items = fields.List(fields.Nested(PairSchema))


class PairListQuery(Schema):
    limit = Limit(50, 500)
    offset = Offset()


class DetectSchema(Schema):
    examined = fields.Integer()
    groups = fields.Integer()
    new_pairs = fields.Integer()
    known_pairs = fields.Integer()
    open_pairs = fields.Integer()


class MergeBodySchema(Schema):
    head = Number(required=True, metadata={"description": "number of the contact to keep"})
    choices = fields.Dict(keys=SafeString(60), values=fields.String(validate=validate.OneOf(["head", "other"])),
                          load_default=dict, validate=validate.Length(max=100),
                          metadata={"description": "field → head | other"})


class MergeLogSchema(Schema):
    id = fields.Integer()
    head_number = fields.Integer()
    merged_number = fields.Integer()
    choices = fields.Dict()
    moved = fields.Dict()
    created_at = fields.DateTime()
    created_by_id = fields.Integer(allow_none=True)


class PurgeBodySchema(Schema):
    months = Int(1, 1200, load_default=None)
    simulate = fields.Boolean(load_default=True)


class AnonymiseSchema(Schema):
    number = fields.Integer()
    anonymised_at = fields.DateTime()


class RejectSchema(Schema):
    line = fields.Integer()
    reason = fields.String()
    values = fields.List(fields.String())


class ImportDuplicateSchema(Schema):
    line = fields.Integer()
    reason = fields.String()
    number = fields.Integer(allow_none=True, metadata={"description": "the existing contact it looks like"})
    other_line = fields.Integer(allow_none=True, metadata={"description": "the earlier line it looks like"})


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    filename = fields.String()
    headers = fields.List(fields.String())
    mapping = fields.Dict()
    unmapped = fields.List(fields.String())
    total = fields.Integer()
    imported = fields.Integer()
    rejected = fields.Integer()
    rejects = fields.List(fields.Nested(RejectSchema))
    duplicates = fields.List(fields.Nested(ImportDuplicateSchema),
                             metadata={"description": "likely duplicates (imported all the same)"})
    first_number = fields.Integer(allow_none=True)
    last_number = fields.Integer(allow_none=True)
    seconds = fields.Float()


class ExportQuery(Schema):
    class Meta:
        unknown = INCLUDE  # the advanced-search criteria, checked by the service


def pair_dict(session, pair) -> dict:
    from plugins.contacts.services.contacts import contact_label

    return {"id": pair.id, "status": pair.status, "key": pair.key, "score": pair.score,
            "detected_at": pair.detected_at,
            "a": {"number": pair.contact_a.number, "label": contact_label(pair.contact_a)},
            "b": {"number": pair.contact_b.number, "label": contact_label(pair.contact_b)},
            "fields_": [{**row, "label": str(row["label"]), "a": _plain(row["a"]), "b": _plain(row["b"])}
                        for row in dup.comparison(pair)]}


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def register_routes(api) -> None:
    @api.route("/contacts/duplicates", permission="contacts.merge", query=PairListQuery, response=PairListSchema,
               summary="Open likely-duplicate pairs", tags=TAG)
    def list_duplicates(args):
        pairs, total = dup.open_pairs(db.session, limit=args["limit"], offset=args["offset"])
        return {"total": total, "items": [pair_dict(db.session, p) for p in pairs]}

    @api.route("/contacts/duplicates/detect", methods=["POST"], permission="contacts.merge", response=DetectSchema,
               summary="Run the likely-duplicate detection", tags=TAG)
    def detect_duplicates():
        return vars(dup.detect(db.session))

    @api.route("/contacts/duplicates/<int:pair_id>/merge", methods=["POST"], permission="contacts.merge",
               body=MergeBodySchema, response=MergeLogSchema, summary="Merge a pair into the kept contact", tags=TAG)
    def merge_duplicates(pair_id, body):
        """Every reference to the merged contact moves to the head; the merged contact is
        deactivated ("Fusionné dans le contact N"), its number never reused; a merge log is kept."""
        pair = dup.get_pair(db.session, pair_id)
        return dup.merge_pair(db.session, pair, body["head"], body.get("choices"))

    @api.route("/contacts/duplicates/<int:pair_id>/false-positive", methods=["POST"], permission="contacts.merge",
               response=PairSchema, summary="Mark a pair as not duplicates (never proposed again)", tags=TAG)
    def false_positive(pair_id):
        pair = dup.mark_false_positive(db.session, dup.get_pair(db.session, pair_id))
        return pair_dict(db.session, pair)

    @api.route("/contacts/<int:number>/anonymise", methods=["POST"], permission="contacts.personal_data",
               response=AnonymiseSchema, summary="Anonymise a contact (keeps country, city, postal code)", tags=TAG)
    def anonymise_contact(number):
        contact = personal_data.anonymise(db.session, get_contact(db.session, number))
        return {"number": contact.number, "anonymised_at": contact.anonymised_at}

    @api.route("/contacts/purge", methods=["POST"], permission="contacts.personal_data", body=PurgeBodySchema,
               summary="Delete inactive prospects and anonymise inactive customers (simulate by default)", tags=TAG)
    def purge_contacts(body):
        return personal_data.purge(db.session, body.get("months"), simulate=body["simulate"]).as_dict()

    @api.route("/contacts/import", methods=["POST"], permission="contacts.import", response=ImportReportSchema,
               summary="Import a CSV or XLSX file of contacts (multipart 'file'; 'dry_run', 'mapping')", tags=TAG)
    def import_contacts():
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise InvalidError(_("Aucun fichier"), {"file": _("Envoyez le fichier dans le champ « file »")})
        form = request.form
        dry_run = str(form.get("dry_run", request.args.get("dry_run", ""))).lower() in ("1", "true", "yes", "oui", "on")
        try:
            mapping = json.loads(form["mapping"]) if form.get("mapping") else None
        except ValueError:
            raise InvalidError(_("Correspondance illisible"), {"mapping": _("Objet JSON attendu")}) from None
        report = importing.import_file(db.session, upload.stream, filename=upload.filename, mapping=mapping,
                                       dry_run=dry_run, delimiter=form.get("delimiter") or None,
                                       encoding=form.get("encoding") or "utf-8-sig")
        return report.as_dict()

    @api.route("/contacts/export.csv", permission="contacts.export", query=ExportQuery,
               summary="Export the contacts an advanced search finds, as CSV (streamed)", tags=TAG)
    def export_contacts(args):
        from plugins.contacts.services.search import advanced_condition

        criteria = dict(request.args)
        advanced_condition(criteria)  # criteria errors (422) before the response starts
        return Response(exporting.stream_csv(db.session.get_bind(), criteria), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'})
