"""The devices screens: devices per place of work (with their settings form generated from the
driver's schema and a "Test" page), device jobs (retry, cancel, resolve an unknown payment), and the
workstation agents (tokens)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import is_form_submitted
from flask_admin.model.template import EndpointLinkRowAction
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.web.admin import CoulissesBaseView, ModelView
from coulisses.web.extensions import db
from plugins.devices.i18n import _, _l
from plugins.devices.models import Device, DeviceAgent, DeviceJob
from plugins.devices.registry import KINDS, OPERATION_LABELS, get_registry
from plugins.devices.services import agents, config, jobs, runner
from plugins.devices.settings_form import form_class

STATE_LABELS = {"pending": _l("En attente"), "leased": _l("En cours"), "done": _l("Terminé"),
                "failed": _l("En échec"), "unknown": _l("Issue inconnue"), "cancelled": _l("Annulé")}
VIA_LABELS = {"agent": _l("Poste de travail (agent)"), "server": _l("Réseau (serveur)")}


def _label(mapping):
    return lambda view, context, model, name: str(mapping.get(getattr(model, name), getattr(model, name)))


class DeviceView(ModelView):
    column_list = ("location_code", "name", "kind", "role", "driver", "via", "url", "active", "last_status_at",
                   "last_error")
    column_labels = {"location_code": _l("Lieu de travail"), "name": _l("Nom"), "kind": _l("Type"),
                     "role": _l("Rôle"), "driver": _l("Pilote"), "via": _l("Piloté par"), "url": _l("Port"),
                     "active": _l("Actif"), "last_status_at": _l("Dernier état"), "last_error": _l("Dernière erreur"),
                     "settings": _l("Réglages"), "last_status": _l("État")}
    column_formatters = {"kind": _label(KINDS), "via": _label(VIA_LABELS)}
    column_filters = ("location_code", "kind", "active")
    column_searchable_list = ("location_code", "name")
    form_columns = ("location_code", "name", "kind", "role", "driver", "via", "url", "active")
    form_extra_fields = {
        "kind": SelectField(_l("Type"), choices=[], validators=[InputRequired()]),
        "driver": SelectField(_l("Pilote"), choices=[], validators=[InputRequired()]),
        "via": SelectField(_l("Piloté par"), choices=[], validators=[InputRequired()]),
    }
    form_args = {
        "location_code": {"label": _l("Lieu de travail"),
                          "description": _l("Le code du point de vente (par exemple Guichet).")},
        "name": {"label": _l("Nom")},
        "role": {"label": _l("Rôle"), "description": _l("Pour distinguer deux périphériques du même type "
                                                         "(par exemple billets, reçus).")},
        "url": {"label": _l("Port"), "description": _l("Poste : /dev/ttyUSB0, COM3. Réseau : socket://10.0.0.5:9100, "
                                                       "rfc2217://hôte:port.")},
        "active": {"label": _l("Actif")},
    }
    column_extra_row_actions = [
        EndpointLinkRowAction("fa fa-sliders", ".settings_view", title=_l("Réglages")),
        EndpointLinkRowAction("fa fa-plug", ".test_view", title=_l("Tester")),
    ]

    def _fill_choices(self, form):
        registry = get_registry()
        form.kind.choices = [SelectChoice(k, str(v)) for k, v in KINDS.items()]
        form.driver.choices = [SelectChoice(d.key, f"{d.label} ({d.key})") for d in
                               sorted(registry.drivers.values(), key=lambda d: (d.kind, -d.priority, d.key))]
        form.via.choices = [SelectChoice(k, str(v)) for k, v in VIA_LABELS.items()]
        return form

    def create_form(self, obj=None):
        return self._fill_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._fill_choices(super().edit_form(obj))

    def validate_form(self, form):
        ok = super().validate_form(form)
        if not is_form_submitted() or not ok:
            return ok
        data = {name: form[name].data for name in self.form_columns if name in form}
        data["settings"] = {}
        try:
            config.validate(data)
        except InvalidError as exc:
            for key, message in exc.fields.items():
                target = form[key] if key in form else None
                if target is not None:
                    target.errors = [*target.errors, message]
                else:
                    flash(message, "error")
            return False
        return True

    def on_model_change(self, form, model, is_created):
        driver = get_registry().driver(model.driver)
        previous = model.settings if not is_created and form.driver.object_data == model.driver else {}
        model.settings = driver.load_settings(previous)

    # ------------------------------------------------------------------ settings

    @expose("/settings/", methods=("GET", "POST"))
    def settings_view(self):
        if not self.can_write() or not current_user.has_permission("devices.manage"):
            abort(403)
        device = self._device()
        driver = get_registry().driver(device.driver)
        form = form_class(driver.settings_schema)(data=driver.load_settings(device.settings))
        if request.method == "POST" and form.validate():
            values = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
            try:
                config.update_device(db.session, device, {"settings": values})
                db.session.commit()
                flash(_("Réglages enregistrés."), "success")
                return redirect(url_for(".index_view"))
            except InvalidError as exc:
                db.session.rollback()
                for key, message in exc.fields.items():
                    name = key.split(".", 1)[-1]
                    if name in form:
                        form[name].errors = [*form[name].errors, message]
        return self.render("devices/settings.html", device=device, driver=driver, form=form)

    # ------------------------------------------------------------------ test

    @expose("/test/", methods=("GET", "POST"))
    def test_view(self):
        device = self._device()
        can_use = current_user.has_permission("devices.use")
        if request.method == "POST":
            if not can_use:
                abort(403)
            operation = request.form.get("operation", "")
            if operation not in ("probe", "status", "test"):
                abort(400)
            job = jobs.submit(db.session, device, operation, {}, reference=f"devices.test:{current_user.login}")
            db.session.commit()
            if device.via == "server":  # after commit: the operator waits for the answer (a no-op when the
                runner.run_server_job(db.engine, job.id)  # outbox already ran it: a job runs once)
            return redirect(url_for(".test_view", id=device.id, job=job.id))
        job = None
        if request.args.get("job", "").isdigit():
            job = db.session.get(DeviceJob, int(request.args["job"]))
            if job is not None and job.device_id != device.id:
                job = None
        if job is not None:
            db.session.refresh(job)
        recent = list(db.session.scalars(select(DeviceJob).where(DeviceJob.device_id == device.id)
                                         .order_by(DeviceJob.id.desc()).limit(5)))
        return self.render("devices/test.html", device=device, job=job, recent=recent, can_use=can_use,
                           kinds=KINDS, states=STATE_LABELS, operations=OPERATION_LABELS,
                           driver=get_registry().drivers.get(device.driver))

    def _device(self) -> Device:
        raw = request.args.get("id", "")
        if not raw.isdigit():
            abort(404)
        try:
            return config.get_device(db.session, int(raw))
        except NotFoundError:
            abort(404)


class JobView(ModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("id", "created_at", "location_code", "device", "operation", "state", "attempts", "error_message",
                   "reference", "finished_at")
    column_labels = {"id": _l("N°"), "created_at": _l("Créé le"), "location_code": _l("Lieu de travail"),
                     "device": _l("Périphérique"), "operation": _l("Opération"), "state": _l("État"),
                     "attempts": _l("Essais"), "error_message": _l("Erreur"), "reference": _l("Référence"),
                     "finished_at": _l("Terminé le")}
    column_formatters = {"state": _label(STATE_LABELS), "operation": _label(OPERATION_LABELS)}
    column_filters = ("location_code", "state", "operation")
    column_default_sort = ("id", True)

    def _act(self, ids, func, done_message):
        count = 0
        for job_id in self.coerce_ids(ids):
            try:
                func(db.session, job_id)
                db.session.commit()  # a network device's job runs after commit (the outbox)
                count += 1
            except (ConflictError, NotFoundError, InvalidError) as exc:
                db.session.rollback()
                flash(str(exc), "error")
        if count:
            flash(done_message % {"n": count}, "success")

    @action("retry", _l("Relancer"), _l("Relancer les travaux sélectionnés ?"))
    def action_retry(self, ids):
        self._act(ids, jobs.retry, _("%(n)s travail(s) relancé(s)."))

    @action("cancel", _l("Annuler"), _l("Annuler les travaux sélectionnés ?"))
    def action_cancel(self, ids):
        self._act(ids, jobs.cancel, _("%(n)s travail(s) annulé(s)."))

    @action("resolve_accepted", _l("Paiement accepté (vérifié sur le terminal)"),
            _l("Le journal du terminal montre-t-il ces paiements acceptés ?"))
    def action_resolve_accepted(self, ids):
        if not current_user.has_permission("devices.manage"):
            abort(403)
        self._act(ids, lambda s, i: jobs.resolve(s, i, "accepted"), _("%(n)s paiement(s) résolu(s)."))

    @action("resolve_declined", _l("Paiement refusé (vérifié sur le terminal)"),
            _l("Le journal du terminal montre-t-il ces paiements refusés ?"))
    def action_resolve_declined(self, ids):
        if not current_user.has_permission("devices.manage"):
            abort(403)
        self._act(ids, lambda s, i: jobs.resolve(s, i, "declined"), _("%(n)s paiement(s) résolu(s)."))


class AgentForm(FlaskForm):
    location_code = StringField(_l("Lieu de travail"), validators=[InputRequired(), Length(max=40)],
                                description=_l("Le code du point de vente (par exemple Guichet)."))
    label = StringField(_l("Nom du poste"), validators=[Length(max=120)])


class AgentView(ModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("location_code", "label", "hostname", "version", "last_seen_at", "ports", "created_at")
    column_formatters = {"ports": lambda view, context, model, name: ", ".join(
        f"{p.get('device')} ({p.get('description')})" if p.get("description") else str(p.get("device"))
        for p in (model.ports or []))}
    column_labels = {"location_code": _l("Lieu de travail"), "label": _l("Poste"), "hostname": _l("Machine"),
                     "version": _l("Version"), "last_seen_at": _l("Vu le"), "created_at": _l("Créé le"),
                     "ports": _l("Ports")}
    list_template = "devices/agent_list.html"

    @expose("/token/", methods=("GET", "POST"))
    def token_view(self):
        if not self.can_write():
            abort(403)
        form = AgentForm()
        token = None
        if form.validate_on_submit():
            try:
                agent, token = agents.create_agent(db.session, form.location_code.data, form.label.data)
                db.session.commit()
            except InvalidError as exc:
                db.session.rollback()
                form.location_code.errors = [*form.location_code.errors, *exc.fields.values()]
        return self.render("devices/agent_token.html", form=form, token=token,
                           locations=config.locations(db.session))

    @action("new_token", _l("Nouveau jeton (révoque l'ancien)"), _l("Remplacer le jeton des postes sélectionnés ?"))
    def action_new_token(self, ids):
        for agent in db.session.scalars(select(DeviceAgent).where(DeviceAgent.id.in_(self.coerce_ids(ids)))):
            token = agents.new_token(db.session, agent)
            flash(_("Nouveau jeton de %(agent)s (affiché une seule fois) : %(token)s", agent=str(agent), token=token),
                  "success")
        db.session.commit()

    @action("revoke", _l("Révoquer"), _l("Révoquer les postes sélectionnés ? Leur agent ne pourra plus se connecter."))
    def action_revoke(self, ids):
        for agent in db.session.scalars(select(DeviceAgent).where(DeviceAgent.id.in_(self.coerce_ids(ids)))):
            agents.revoke(db.session, agent)
        db.session.commit()
        flash(_("Postes révoqués."), "success")


def admin_views():
    return [
        DeviceView(Device, permission="devices.view", permission_edit="devices.manage", name=_l("Périphériques"),
                   endpoint="devices_device"),
        JobView(DeviceJob, permission="devices.view", permission_edit="devices.use", name=_l("Travaux"),
                endpoint="devices_job"),
        AgentView(DeviceAgent, permission="devices.manage", permission_edit="devices.manage", name=_l("Postes"),
                  endpoint="devices_agent"),
    ]


def ui_blueprint() -> Blueprint:
    """The plugin's templates (``devices/*.html``), scripts (``devices/live.js``) and the till's
    "Réessayer" (``plugins.devices.till``)."""
    from plugins.devices.till import retry_view

    bp = Blueprint("devices_ui", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/devices-static")
    bp.add_url_rule("/devices-till/retry", "till_retry", retry_view, methods=["POST"])  # the till's "Réessayer"
    return bp
