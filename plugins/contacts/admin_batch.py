"""Screens of duplicates and import (Contacts > Doublons, Contacts > Import).

- ``/admin/contacts/duplicates/`` (contacts.merge): the open likely-duplicate pairs, a button that runs
  the detection; ``/admin/contacts/duplicates/<id>/``: the two contacts side by side, one radio per
  field to pick the value to keep, which contact is kept (the "head"), then "Fusionner" or "Ce ne
  sont pas des doublons" (false positive, never proposed again).
- ``/admin/contacts/import/`` (contacts.import): upload a CSV or XLSX file; the mapping preview (each
  header → a field, the first rows); a dry run or the import; the report (rejected lines with line
  number and reason) and the download of the rejected lines (CSV with an ``erreur`` column).
"""
from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, request, url_for
from flask_admin import expose

from coulisses import ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.i18n import _, _l, _n
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.contacts.admin_common import CATEGORY
from plugins.contacts.services import duplicates as dup
from plugins.contacts.services import importing
from plugins.contacts.services.contacts import contact_label
_TOKEN = re.compile(r"[0-9a-f]{32}")


class DuplicatesView(CoulissesBaseView):
    """Contacts > Doublons."""

    permission = "contacts.merge"

    @expose("/")
    def index(self):
        page = max(0, request.args.get("page", 0, type=int))
        pairs, total = dup.open_pairs(db.session, limit=50, offset=page * 50)
        rows = [{"pair": p, "a": contact_label(p.contact_a), "b": contact_label(p.contact_b)} for p in pairs]
        return self.render("contacts/duplicates_list.html", rows=rows, total=total, page=page,
                           logs=dup.merge_logs(db.session, limit=10))

    @expose("/detect", methods=["POST"])
    def detect(self):
        result = dup.detect(db.session)
        db.session.commit()
        flash(" ".join((
            _n("Détection : %(num)d contact examiné,", "Détection : %(num)d contacts examinés,", result.examined),
            _n("%(num)d nouvelle paire,", "%(num)d nouvelles paires,", result.new_pairs),
            _n("%(num)d paire à traiter.", "%(num)d paires à traiter.", result.open_pairs))), "success")
        return redirect(url_for(".index"))

    def _pair(self, pair_id: int):
        try:
            return dup.get_pair(db.session, pair_id)
        except NotFoundError:
            abort(404)

    @expose("/<int:pair_id>/")
    def pair(self, pair_id):
        pair = self._pair(pair_id)
        return self.render("contacts/duplicates_pair.html", pair=pair, rows=dup.comparison(pair), errors={})

    @expose("/<int:pair_id>/merge", methods=["POST"])
    def merge(self, pair_id):
        pair = self._pair(pair_id)
        head_side = request.form.get("head", "a")
        head = pair.contact_a if head_side != "b" else pair.contact_b
        # radios say which contact's value to keep: "a" or "b"; the service wants head / other
        choices = {}
        for name in dup.MERGE_FIELDS:
            side = request.form.get(f"field_{name}")
            if side in ("a", "b"):
                choices[name] = "head" if side == head_side else "other"
        try:
            log = dup.merge_pair(db.session, pair, head.number, choices)
            db.session.commit()
        except (InvalidError, ConflictError) as exc:
            db.session.rollback()
            flash(_("Fusion refusée : %(reason)s", reason=exc), "error")
            pair = self._pair(pair_id)
            return self.render("contacts/duplicates_pair.html", pair=pair, rows=dup.comparison(pair),
                               errors=getattr(exc, "fields", {}) or {}), 422
        flash(_("Le contact %(merged)s a été fusionné dans le contact %(head)s.", merged=log.merged_number,
                head=log.head_number), "success")
        return redirect(url_for(".index"))

    @expose("/<int:pair_id>/false-positive", methods=["POST"])
    def false_positive(self, pair_id):
        pair = self._pair(pair_id)
        try:
            dup.mark_false_positive(db.session, pair)
            db.session.commit()
            flash(_("Paire marquée « pas des doublons » : elle ne sera plus proposée."), "success")
        except ConflictError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".index"))


class ImportView(CoulissesBaseView):
    """Contacts > Import."""

    permission = "contacts.import"

    @staticmethod
    def _folder() -> Path:
        folder = Path(current_app.instance_path) / "contacts-imports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _upload(self, token: str) -> tuple[Path, dict]:
        if not _TOKEN.fullmatch(token or ""):
            abort(404)
        meta_path = self._folder() / f"{token}.json"
        if not meta_path.exists():
            abort(404)
        meta = json.loads(meta_path.read_text())
        return self._folder() / f"{token}.upload", meta

    @expose("/", methods=["GET", "POST"])
    def index(self):
        if request.method == "GET":
            return self.render("contacts/import_upload.html", errors={})
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self.render("contacts/import_upload.html", errors={"file": _("Choisissez un fichier")}), 422
        token = uuid.uuid4().hex
        path = self._folder() / f"{token}.upload"
        upload.save(path)
        meta = {"filename": upload.filename, "delimiter": request.form.get("delimiter") or None,
                "encoding": request.form.get("encoding") or "utf-8-sig"}
        (self._folder() / f"{token}.json").write_text(json.dumps(meta))
        return redirect(url_for(".mapping", token=token))

    @expose("/<token>/", methods=["GET"])
    def mapping(self, token):
        path, meta = self._upload(token)
        try:
            with path.open("rb") as f:
                prev = importing.preview(f, filename=meta["filename"], delimiter=meta["delimiter"],
                                         encoding=meta["encoding"], rows=5)
        except CoulissesError as exc:
            details = " ; ".join(str(m) for m in (getattr(exc, "fields", None) or {}).values())
            flash(_("Fichier illisible : %(reason)s %(details)s", reason=exc, details=details).strip(), "error")
            return redirect(url_for(".index"))
        return self.render("contacts/import_mapping.html", token=token, meta=meta, preview=prev,
                           fields=importing.IMPORT_FIELDS, labels=importing.FIELD_LABELS, errors={})

    @expose("/<token>/run", methods=["POST"])
    def run(self, token):
        path, meta = self._upload(token)
        with path.open("rb") as f:
            headers = importing.read_rows(f, filename=meta["filename"], delimiter=meta["delimiter"],
                                          encoding=meta["encoding"])[0]
        mapping = {h: request.form.get(f"map_{i}", "") for i, h in enumerate(headers)}
        dry_run = request.form.get("action") != "import"
        rejects_path = self._folder() / f"{token}.rejets.csv"
        try:
            with path.open("rb") as f, rejects_path.open("w", encoding="utf-8-sig", newline="") as out:
                report = importing.import_file(db.session, f, filename=meta["filename"], mapping=mapping,
                                               dry_run=dry_run, delimiter=meta["delimiter"],
                                               encoding=meta["encoding"], commit=not dry_run, rejects_out=out)
            if dry_run:
                db.session.rollback()
            else:
                db.session.commit()
        except InvalidError as exc:
            db.session.rollback()
            with path.open("rb") as f:
                prev = importing.preview(f, filename=meta["filename"], delimiter=meta["delimiter"],
                                         encoding=meta["encoding"], mapping=mapping)
            flash(str(exc), "error")
            return self.render("contacts/import_mapping.html", token=token, meta=meta, preview=prev,
                               fields=importing.IMPORT_FIELDS, labels=importing.FIELD_LABELS,
                               errors=exc.fields or {}), 422
        if not dry_run:
            path.unlink(missing_ok=True)
        return self.render("contacts/import_report.html", token=token, report=report,
                           labels=importing.FIELD_LABELS)

    @expose("/<token>/rejets.csv")
    def rejects(self, token):
        if not _TOKEN.fullmatch(token or ""):
            abort(404)
        path = self._folder() / f"{token}.rejets.csv"
        if not path.exists():
            abort(404)
        return Response(path.read_bytes(), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="lignes-rejetees.csv"'})


def batch_admin_views() -> list:
    return [
        DuplicatesView(name=_l("Doublons"), endpoint="contacts_duplicates", url="/admin/contacts/duplicates",
                       category=CATEGORY),
        ImportView(name=_l("Import"), endpoint="contacts_import", url="/admin/contacts/import", category=CATEGORY),
    ]
