"""The documents screen (generated documents, reprint, a corrected version, send by e-mail) and the
organisation identity screen."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.reports.registry import get_registry
from plugins.reports.services import delivery, documents
from plugins.reports.services.identity import TEXT_FIELDS, get_identity, update_identity


def _type_or_404(code: str):
    try:
        doc_type = get_registry().document(code)
    except NotFoundError:
        abort(404)
    if not current_user.has_permission(doc_type.permission):
        abort(403)
    return doc_type


class DocumentsView(CoulissesBaseView):
    permission = "reports.documents"

    @expose("/")
    def index(self):
        type_code, ref = request.args.get("type") or None, (request.args.get("ref") or "").strip() or None
        registry = get_registry()
        rows = [d for d in documents.documents_for(db.session, type_code, ref)
                if d.type_code in registry.documents and current_user.has_permission(registry.documents[d.type_code].permission)]
        return self.render("reports/documents.html", rows=rows, registry=registry, type_code=type_code, ref=ref or "")

    @expose("/object")
    def object(self):
        doc_type = _type_or_404(request.args.get("type", ""))
        ref = (request.args.get("ref") or "").strip()
        try:
            obj = doc_type.load(db.session, ref)
        except NotFoundError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        ref = doc_type.object_ref(obj)
        rows = documents.documents_for(db.session, doc_type.code, ref)
        recipient = doc_type.recipient(db.session, obj) if doc_type.recipient else None
        return self.render("reports/document_object.html", doc_type=doc_type, ref=ref, label=doc_type.object_label(obj),
                           rows=rows, recipient=recipient, can_send=current_user.has_permission("reports.send"),
                           to=request.args.get("to", recipient.email if recipient and recipient.email else ""),
                           error=None)

    @expose("/generate", methods=("POST",))
    def generate(self):
        doc_type = _type_or_404(request.form.get("type", ""))
        ref = request.form.get("ref", "")
        try:
            document = documents.generate(db.session, doc_type.code, ref, correct=request.form.get("correct") == "1")
        except NotFoundError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        db.session.commit()
        flash(_("Document %(label)s prêt.", label=document.number or document.object_label), "success")
        return redirect(url_for(".object", type=doc_type.code, ref=document.object_ref))

    @expose("/<int:document_id>/file")
    def file(self, document_id):
        document = self._document_or_404(document_id)
        data = documents.reprint(db.session, document)
        return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                         download_name=document.file.name)

    @expose("/<int:document_id>/send", methods=("POST",))
    def send(self, document_id):
        if not current_user.has_permission("reports.send"):
            abort(403)
        document = self._document_or_404(document_id)
        to = request.form.get("to", "")
        try:
            delivery.queue_document(db.session, document, to, subject=request.form.get("subject") or None)
        except InvalidError as exc:
            db.session.rollback()
            doc_type = get_registry().document(document.type_code)
            obj = doc_type.load(db.session, document.object_ref)
            return self.render("reports/document_object.html", doc_type=doc_type, ref=document.object_ref,
                               label=doc_type.object_label(obj), rows=documents.documents_for(db.session, doc_type.code,
                                                                                               document.object_ref),
                               recipient=None, can_send=True, to=to, error=exc.fields.get("to")), 422
        db.session.commit()
        flash(_("Envoi de %(label)s à %(to)s en cours.", label=document.number or document.object_label, to=to.strip()),
              "success")
        return redirect(url_for(".object", type=document.type_code, ref=document.object_ref))

    def _document_or_404(self, document_id):
        try:
            document = documents.get_document(db.session, document_id)
        except NotFoundError:
            abort(404)
        _type_or_404(document.type_code)
        return document


class IdentityView(CoulissesBaseView):
    permission = "reports.identity.manage"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        row = get_identity(db.session)
        errors, status = {}, 200
        values = {k: getattr(row, k) or "" for k in TEXT_FIELDS}
        if request.method == "POST":
            values = {k: request.form.get(k, "") for k in TEXT_FIELDS}
            upload = request.files.get("logo")
            logo = None
            if upload is not None and upload.filename:
                logo = (upload.read(), upload.filename, upload.mimetype)
            try:
                update_identity(db.session, values, logo=logo, remove_logo=request.form.get("remove_logo") == "1")
            except InvalidError as exc:
                db.session.rollback()
                errors, status = exc.fields, 422
            else:
                db.session.commit()
                flash(_("Identité de l'organisme enregistrée."), "success")
                return redirect(url_for(".index"))
        else:
            db.session.commit()  # the empty row, the first time
        return self.render("reports/identity.html", values=values, errors=errors, has_logo=row.logo_file_id is not None,
                           logo_url=url_for(".logo") if row.logo_file_id else None), status

    @expose("/logo")
    def logo(self):
        from coulisses import files as cfiles

        row = get_identity(db.session)
        if row.logo_file_id is None:
            abort(404)
        stored = cfiles.get(db.session, row.logo_file_id)
        return send_file(io.BytesIO(cfiles.read(db.session, stored)), mimetype=stored.content_type)
