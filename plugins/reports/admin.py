"""The reports screens: the list of reports by plugin, a report's parameters form (keeps what was
typed on error), its preview (a paged table with totals and the charts as inline SVG), downloads in
each format, background runs with their progress, favourites and schedules. Documents and the
organisation identity are in ``admin_documents.py``. Thin: parse, call a service, render."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import InvalidError
from coulisses.i18n import _, _l
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.reports.params import ParamsError, describe
from plugins.reports.registry import get_registry
from plugins.reports.services import engine, runs

PAGE_SIZE = 50
RESERVED = {"csrf_token", "action", "format", "separator", "page", "fav_name", "fav_schedule", "fav_recipients",
            "fav_format"}
SCHEDULE_LABELS = {"": _l("Pas d'envoi"), "daily": _l("Chaque jour"), "weekly": _l("Chaque lundi"),
                   "monthly": _l("Le 1er de chaque mois")}


def ui_blueprint() -> Blueprint:
    """Templates (``reports/*.html``) and static files (``/reports-static/reports/...``)."""
    return Blueprint("reports_ui", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/reports-static")


def plugin_label(name: str | None) -> str:
    from coulisses import plugins as cplugins

    info = cplugins.discover().get(name or "")
    return str(info.manifest.label) if info is not None and info.manifest else (name or "")


def _page() -> int:
    try:
        return max(1, int(request.args.get("page") or request.form.get("page") or 1))
    except ValueError:
        return 1


def _definition_or_404(code: str):
    from coulisses import NotFoundError

    try:
        definition = get_registry().report(code)
    except NotFoundError:
        abort(404)
    if not current_user.has_permission(definition.permission):
        abort(403)
    return definition


class ReportsView(CoulissesBaseView):
    permission = "reports.view"

    @expose("/")
    def index(self):
        registry = get_registry()
        groups = [(plugin_label(plugin), defs) for plugin, defs in
                  registry.reports_by_plugin(current_user.has_permission).items()]
        favourites = [f for f in runs.favourites_of(db.session, current_user.id) if f.report_code in registry.reports]
        recent = runs.recent_runs(db.session, current_user.id)
        return self.render("reports/index.html", groups=groups, favourites=favourites, recent=recent,
                           registry=registry, schedule_labels=SCHEDULE_LABELS)

    @expose("/run/<code>", methods=("GET", "POST"))
    def run(self, code):
        definition = _definition_or_404(code)
        session = db.session
        values = {k: v for k, v in (request.form if request.method == "POST" else request.args).items()
                  if k not in RESERVED}
        favourite = None
        if request.args.get("favourite"):
            favourite = next((f for f in runs.favourites_of(session, current_user.id, code)
                              if str(f.id) == request.args["favourite"]), None)
            if favourite is not None:
                values = dict(favourite.params)
        action = request.form.get("action") if request.method == "POST" else None
        errors, preview, fav_errors, status = {}, None, {}, 200
        try:
            if action == "download":
                return self._download(definition, values)
            if action == "favourite":
                return self._save_favourite(definition, values)
            if action == "preview":
                preview = self._preview(definition, values, _page())
        except ParamsError as exc:
            errors, status = exc.fields, 422
        except InvalidError as exc:
            fav_errors, status = exc.fields, 422
            session.rollback()
        fields = describe(definition.params, session, values, errors)
        return self.render("reports/run.html", definition=definition, fields=fields, errors=errors,
                           preview=preview, fav_errors=fav_errors, form=request.form, favourite=favourite,
                           owner=plugin_label(get_registry().owner(code)), schedule_labels=SCHEDULE_LABELS,
                           can_schedule=current_user.has_permission("reports.schedule"),
                           favourites=runs.favourites_of(session, current_user.id, code)), status

    def _preview(self, definition, values, page: int) -> dict:
        from plugins.reports.render.charts import svg
        from plugins.reports.render.values import display

        session = db.session
        definition, params = engine.check(session, definition.code, values)
        outcome = engine.Outcome()
        first, last = (page - 1) * PAGE_SIZE, page * PAGE_SIZE
        shown, index = [], 0
        for line in engine.walk(definition, definition.rows(session, params), outcome):
            if first <= index < last:
                shown.append(line)
            if line.kind == "row":
                index += 1
        if definition.summary is not None:
            outcome.summary = list(definition.summary(session, params))
        charts = []
        for i, data in enumerate(outcome.charts):
            label_col, value_col = definition.column(data.chart.label), definition.column(data.chart.value)
            series = [(label if isinstance(label, str) else display(label_col, label), value)
                      for label, value in data.series()]
            charts.append({"title": str(data.chart.title), "label": str(label_col.label), "value": str(value_col.label),
                           "svg": svg(data.chart.kind, str(data.chart.title), series,
                                      lambda v, c=value_col: display(c, v), f"chart-{i}"),
                           "rows": [(label, display(value_col, value)) for label, value in series]})
        session.rollback()  # the preview only read
        pages = max(1, -(-outcome.rows // PAGE_SIZE))
        group_col = definition.column(definition.group_by) if definition.group_by else None
        return {"lines": shown, "rows": outcome.rows, "page": min(page, pages), "pages": pages,
                "totals": outcome.totals, "charts": charts, "summary": outcome.summary,
                "display": display, "group_col": group_col}

    def _download(self, definition, values):
        fmt = request.form.get("format") or "pdf"
        options = {"separator": ";"} if request.form.get("separator") == ";" else {}
        started = runs.start(db.session, definition.code, values, fmt, options=options,
                             can=current_user.has_permission)
        if started.run is not None:
            db.session.commit()  # the job runs after commit
            return redirect(url_for(".run_page", run_id=started.run.id))
        db.session.rollback()
        import io

        return send_file(io.BytesIO(started.data), mimetype=started.content_type, as_attachment=True,
                         download_name=started.name)

    def _save_favourite(self, definition, values):
        form = request.form
        fav = runs.save_favourite(db.session, current_user.id, definition.code, form.get("fav_name", ""), values,
                                  form.get("fav_format") or "pdf", schedule=form.get("fav_schedule", ""),
                                  recipients=form.get("fav_recipients", ""),
                                  can_schedule=current_user.has_permission("reports.schedule"))
        db.session.commit()
        flash(_("Favori « %(name)s » enregistré.", name=fav.name), "success")
        return redirect(url_for(".run", code=definition.code, favourite=fav.id))

    @expose("/favourites/<int:favourite_id>/delete", methods=("POST",))
    def delete_favourite(self, favourite_id):
        from coulisses import NotFoundError

        try:
            runs.delete_favourite(db.session, current_user.id, favourite_id)
        except NotFoundError:
            abort(404)
        db.session.commit()
        flash(_("Favori supprimé."), "success")
        return redirect(url_for(".index"))

    def _run_or_404(self, run_id):
        from coulisses import NotFoundError

        try:
            run = runs.get_run(db.session, run_id)
        except NotFoundError:
            abort(404)
        _definition_or_404(run.report_code)
        if run.operator_id != current_user.id and not current_user.has_permission("reports.schedule"):
            abort(403)
        return run

    @expose("/runs/<int:run_id>")
    def run_page(self, run_id):
        run = self._run_or_404(run_id)
        return self.render("reports/run_status.html", run=run, status=runs.run_status(db.session, run),
                           definition=get_registry().report(run.report_code))

    @expose("/runs/<int:run_id>/status")
    def run_status(self, run_id):
        run = self._run_or_404(run_id)
        status = runs.run_status(db.session, run)
        if status["state"] == "done":
            status["download"] = url_for(".run_file", run_id=run.id)
        return jsonify(status)

    @expose("/runs/<int:run_id>/file")
    def run_file(self, run_id):
        import io

        from coulisses import files as cfiles

        run = self._run_or_404(run_id)
        if run.file_id is None:
            abort(404)
        return send_file(io.BytesIO(cfiles.read(db.session, run.file_id)), mimetype=run.file.content_type,
                         as_attachment=True, download_name=run.file.name)


def admin_views():
    from plugins.reports.admin_documents import DocumentsView, IdentityView

    menu = _l("Rapports")  # lazy: the menu follows the operator's language
    return [ReportsView(name=_l("Rapports"), endpoint="reports_reports", category=menu),
            DocumentsView(name=_l("Documents"), endpoint="reports_documents", category=menu),
            IdentityView(name=_l("Identité de l'organisme"), endpoint="reports_identity", category=menu)]
