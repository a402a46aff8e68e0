"""Flask-Admin base views that apply the permissions, CSRF and audit rules, and the host's screens.

A plugin gets a correct CRUD screen with a few lines::

    ModelView(Venue, permission="sales.catalogue.view", permission_edit="sales.catalogue.manage",
              endpoint="sales_venue", name="Lieux", category="Catalogue")

Every request is checked: a view needs a logged-in operator holding ``permission``; creating,
editing, deleting and bulk actions also need ``permission_edit``. CSRF is enforced app-wide (every
form carries the token). Audit columns are read-only and filled from the logged-in operator.
"""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as _admin_l  # Flask-Admin's own catalogue
from flask_admin.contrib.sqla import ModelView as _SqlaModelView
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from coulisses import i18n
from coulisses.i18n import LANGUAGE_NAMES, LazyString, _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import DecimalField, Field, PasswordField, SelectMultipleField
from wtforms.validators import Optional
from wtforms.widgets import TextInput

from coulisses import BusyError, outbox, security
from coulisses.db import AuditMixin, currency_exponent, parse_money
from coulisses.web.extensions import db
from coulisses.web.forms import SafeBaseForm

AUDIT_COLUMNS = ("created_at", "updated_at", "created_by_id", "updated_by_id", "created_by", "updated_by")
EDIT_ENDPOINTS = {"create_view", "edit_view", "delete_view", "action_view", "ajax_update", "import_view"}


class SecuredView:
    """Mixin: login required, then ``permission``; anonymous users are sent to the login page."""

    permission: str | None = None

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and current_user.has_permission(self.permission)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(403)

    def is_visible(self) -> bool:
        return self.is_accessible()


class CoulissesBaseView(SecuredView, BaseView):
    """A work screen (Jinja template), with its permission: ``MyView(permission="x.y", name=..., endpoint=...)``."""

    def __init__(self, *args, permission: str | None = None, **kwargs):
        if permission is not None:
            self.permission = permission
        super().__init__(*args, **kwargs)


class MoneyField(DecimalField):
    """An amount typed as people type it ("1 500,50" or "1500.50"); more decimals than the currency
    has is an error, never a rounding."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_money(valuelist[0])
        except (TypeError, ValueError) as exc:
            self.data = None
            raise ValueError(str(exc)) from None


def deployment_timezone() -> ZoneInfo:
    """The deployment's time zone (``COULISSES_TIMEZONE``, Europe/Paris by default)."""
    from coulisses.config import current_config

    return ZoneInfo(current_config().get("TIMEZONE") or "Europe/Paris")


class LocalDateTimeField(Field):
    """A moment stored in UTC (``UTCDateTime``), shown and typed in the deployment's time zone as the
    seeds write it: "02.11.2015 20:15" (also accepted: "2015-11-02 20:15", "2015-11-02T20:15").

    ``data`` is an aware UTC datetime. A time that does not exist locally (the hour skipped when
    clocks go forward) is an error; an ambiguous one (the hour repeated in autumn) is the first.
    """

    widget = TextInput()
    DISPLAY_FORMAT = "%d.%m.%Y %H:%M"
    FORMATS = ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
               "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")

    def __init__(self, label=None, validators=None, render_kw=None, **kwargs):
        render_kw = {"placeholder": LazyString(_datetime_placeholder), "autocomplete": "off", **(render_kw or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.raw = None

    def _value(self):
        if self.raw is not None:
            return self.raw
        if isinstance(self.data, datetime):
            value = self.data if self.data.tzinfo else self.data.replace(tzinfo=timezone.utc)
            return i18n.format_datetime(value)
        return ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw = " ".join(valuelist).strip()
        if not self.raw:
            self.data = None
            return
        naive = None
        for fmt in self.FORMATS:
            try:
                naive = datetime.strptime(self.raw, fmt)
                break
            except ValueError:
                continue
        if naive is None:
            self.data = None
            raise ValueError(i18n.gettext(
                "Date et heure attendues sous la forme %(pattern)s (ex. %(example)s)",
                pattern=_datetime_placeholder(), example=i18n.format_datetime(_EXAMPLE)))
        tz = deployment_timezone()
        local = naive.replace(tzinfo=tz)
        utc = local.astimezone(timezone.utc)
        if utc.astimezone(tz).replace(tzinfo=None) != naive:
            self.data = None
            raise ValueError(i18n.gettext("%(value)s n'existe pas à l'heure locale (%(zone)s) : changement d'heure",
                                          value=self.raw, zone=tz.key))
        self.data = utc


def _datetime_placeholder() -> str:
    """``jj.mm.aaaa hh:mm`` (fr), ``dd/mm/yyyy hh:mm`` (en): what a date-and-time field expects."""
    return i18n.date_placeholder() + " hh:mm"


_EXAMPLE = datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)


def local_datetime_formatter(view, value, name=None) -> str:
    """List and detail views: a UTC datetime in the deployment's time zone, written as the operator's
    language writes it ("02.11.2015 20:15" in French, "02/11/2015 20:15" in English and Spanish)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return i18n.format_datetime(value)


class CoulissesModelConverter(AdminModelConverter):
    """Flask-Admin's form converter, knowing the host's column types (``Money``, ``UTCDateTime``)."""

    @converts("Money")
    def conv_money(self, column, field_args, **extra):
        field_args.setdefault("places", currency_exponent())
        return MoneyField(**field_args)

    @converts("UTCDateTime")
    def conv_utc_datetime(self, column, field_args, **extra):
        return LocalDateTimeField(**field_args)


class ModelView(SecuredView, _SqlaModelView):
    """Generated CRUD for a model, with read (``permission``) and write (``permission_edit``) checks."""

    permission_edit: str | None = None
    model_form_converter = CoulissesModelConverter
    form_base_class = SafeBaseForm  # a field holding a control character is refused, what was typed kept
    column_type_formatters = {**typefmt.BASE_FORMATTERS, datetime: local_datetime_formatter}
    # bool as in the lists (a check or a cross, never "True"/"False")
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, bool: typefmt.bool_formatter,
                                     datetime: local_datetime_formatter}
    page_size = 50
    can_view_details = True
    can_export = True
    export_types = ["csv"]

    def __init__(self, model, *, permission: str | None = None, permission_edit: str | None = None,
                 name=None, category=None, endpoint=None, **kwargs):
        if permission is not None:
            self.permission = permission
        if permission_edit is not None:
            self.permission_edit = permission_edit
        if self.permission is None:
            raise ValueError(f"ModelView for {model.__name__} needs a permission")
        if issubclass(model, AuditMixin):
            excluded = tuple(self.form_excluded_columns or ())
            self.form_excluded_columns = excluded + tuple(c for c in AUDIT_COLUMNS if c not in excluded)
        super().__init__(model, db, name=name, category=category, endpoint=endpoint, **kwargs)

    def can_write(self) -> bool:
        return current_user.is_authenticated and current_user.has_permission(self.permission_edit or self.permission)

    def handle_view_exception(self, exc) -> bool:
        if isinstance(exc, BusyError):  # a lock not obtained in time: say so, keep the form
            from coulisses.web.forms import busy_message

            db.session.rollback()  # before reading anything else (the operator's language) in this session
            flash(busy_message(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def _handle_view(self, name, **kwargs):
        response = super()._handle_view(name, **kwargs)
        if response is not None:
            return response
        if name in EDIT_ENDPOINTS and not self.can_write():
            abort(403)
        return None

    # Flask-Admin reads these attributes when rendering buttons; tie them to the write permission.
    def _flag(name):  # noqa: N805 - helper building properties
        def getter(self):
            return self.__dict__.get(name, getattr(type(self), name + "_default", True)) and self.can_write()

        def setter(self, value):
            self.__dict__[name] = value

        return property(getter, setter)

    can_create = _flag("can_create")
    can_edit = _flag("can_edit")
    can_delete = _flag("can_delete")
    del _flag

    def coerce_ids(self, ids) -> tuple:
        """The selected row ids (strings from the form) as the primary key's Python type.

        Flask-Admin filters ``pk IN ('5')`` with strings, which PostgreSQL refuses for an integer key.
        """
        pks = self.model.__mapper__.primary_key
        if len(pks) != 1:
            return tuple(ids)
        try:
            python_type = pks[0].type.python_type
        except NotImplementedError:
            return tuple(ids)
        coerced = []
        for value in ids:
            try:
                coerced.append(python_type(value))
            except (TypeError, ValueError):
                continue  # not an id of this table: nothing to act on
        return tuple(coerced)

    @action("delete", _admin_l("Delete"), _admin_l("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        return super().action_delete(self.coerce_ids(ids))


class HomeView(SecuredView, AdminIndexView):
    """The landing page: who is logged in, the enabled plugins."""

    permission = None

    @expose("/")
    def index(self):
        from flask import current_app

        state = current_app.extensions["coulisses"]
        return self.render("coulisses/home.html", plugins=state.plugin_rows())


class PluginsView(CoulissesBaseView):
    """The installed plugins: their real state and its cause (as ``coulisses plugins list``), their
    settings, and — with ``core.plugins.manage`` — enabling and disabling them with the CLI's checks."""

    permission = "core.plugins.view"
    manage_permission = "core.plugins.manage"
    ACTIONS = ("enable", "disable")

    @staticmethod
    def _state():
        from flask import current_app

        from coulisses import plugins as cplugins

        state = current_app.extensions["coulisses"]
        return state, cplugins.parse_plugin_list(current_app.config.get("PLUGINS")), current_app.config

    @expose("/")
    def index(self):
        from coulisses import plugin_admin

        state, seed, config = self._state()
        from coulisses import plugin_settings

        rows = plugin_admin.plugin_rows(db.session, state.infos, seed, config)
        editable, saved = plugin_settings.schemas(state.pm), plugin_settings.stored(db.session)
        fixed = config.get(plugin_settings.FIXED_KEY) or set()
        for row in rows:
            # the server runs with the plugins it started with: a change shows after a restart
            row["restart"] = row["name"] in state.infos and row["enabled"] != (row["name"] in state.order)
            row["running"] = row["name"] in state.order
            row["settings"] = plugin_admin.plugin_settings(state.infos, row["name"], config)
            for setting in row["settings"]:  # saved on the settings page (and not fixed elsewhere)
                if setting["key"] in saved and setting["key"] not in fixed:
                    setting["source"] = "screen"
            row["editable"] = row["running"] and row["name"] in editable
            row["changed_on"] = datetime.fromisoformat(row["changed_at"]) if row["changed_at"] else None
        return self.render("coulisses/plugins.html", plugins=rows, state_labels=plugin_admin.STATE_LABELS,
                           can_manage=security_has(self.manage_permission))

    @expose("/<action>/<plugin>", methods=("GET", "POST"))
    def change(self, action, plugin):
        from flask import current_app

        name = plugin
        from flask_login import current_user

        from coulisses import CoulissesError, plugin_admin
        from coulisses.i18n import _
        from coulisses import plugins as cplugins

        if action not in self.ACTIONS:
            abort(404)
        if not security_has(self.manage_permission):
            abort(403)
        state, seed, config = self._state()
        if name not in state.infos:
            abort(404)
        if request.method == "GET":  # the confirmation: what will change
            error = None
            adds, users = [], []
            try:
                if action == "enable":
                    adds = plugin_admin.enabling_would_add(db.session, state.infos, name, seed)
                    current = cplugins.resolve(state.infos, cplugins.requested_plugins(db.session, state.infos, seed))
                    refusal, _warnings = plugin_admin.problem(
                        state.infos, cplugins.resolve(state.infos, [*current, name]), config)
                    error = str(refusal) if refusal is not None and adds else None  # told before confirming
                else:
                    enabled = cplugins.resolve(state.infos, cplugins.requested_plugins(db.session, state.infos, seed))
                    users = cplugins.dependants(state.infos, name, enabled)
            except CoulissesError as exc:
                error = str(exc)
            db.session.rollback()
            return self.render("coulisses/plugin_confirm.html", action=action, name=name,
                               info=state.infos[name], adds=adds, users=users, error=error)
        by = current_user.login
        try:
            if action == "enable":
                changed, order, _warnings = plugin_admin.enable(db.session, state.infos, name, seed, by, config)
            else:
                plugin_admin.disable(db.session, state.infos, name, seed, by)
                changed, order = [name], None
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(_("Refusé : %(error)s", error=str(exc)), "error")
            return redirect(url_for(".index"))
        if action == "enable" and changed:
            try:  # only the branches of what was just enabled: the running host's schema is up to date
                plugin_admin.install_enabled(db.engine, state.infos, order, config, only=changed)
            except Exception as exc:  # noqa: BLE001 - recorded as enabled: say what to do, never a 500
                current_app.logger.exception("installing the plugins %s failed", changed)
                flash(_("Plugin activé, mais sa base n'a pas pu être mise à jour : %(error)s. "
                         "Lancez `coulisses db upgrade` avant de redémarrer.", error=str(exc)), "error")
                return redirect(url_for(".index"))
        if not changed:
            flash(_("%(name)s est déjà activé.", name=name), "info")
        elif action == "enable":
            flash(_("Activé : %(names)s. Redémarrez le serveur pour l'utiliser.", names=", ".join(changed)), "success")
        else:
            flash(_("Désactivé : %(name)s (ses données sont conservées). Redémarrez le serveur.", name=name),
                  "success")
        return redirect(url_for(".index"))


    @expose("/settings/<plugin>", methods=("GET", "POST"))
    def settings(self, plugin):
        """Edit a running plugin's settings from its declared schema (``coulisses_settings_schema``)."""
        from coulisses.web.admin_plugin_settings import settings_view

        if not security_has(self.manage_permission):
            abort(403)
        return settings_view(self, plugin)


def security_has(code: str) -> bool:
    from coulisses.web.auth import has_permission

    return has_permission(code)


class OperatorView(ModelView):
    column_list = ("login", "full_name", "active", "roles", "last_login_at")
    column_searchable_list = ("login", "full_name")
    column_filters = ("active",)
    column_labels = {"login": _l("Identifiant"), "full_name": _l("Nom complet"), "active": _l("Actif"),
                     "roles": _l("Rôles"), "locale": _l("Langue"), "last_login_at": _l("Dernière connexion")}
    # Flask-Admin only adds form_extra_fields that form_columns lists
    form_columns = ("login", "full_name", "active", "locale", "roles", "new_password")
    form_choices = {"locale": [("", _l("Langue de l'organisation")), *LANGUAGE_NAMES.items()]}
    form_extra_fields = {"new_password": PasswordField(_l("Nouveau mot de passe"), validators=[Optional()])}
    column_details_exclude_list = ("password_hash",)
    column_export_exclude_list = ("password_hash",)
    can_delete = False

    def update_model(self, form, model):
        g.coulisses_before = ({r.code for r in model.roles}, bool(model.active))  # for the journal
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        password = form.new_password.data
        if password:
            security.check_password_strength(password)
            model.password_hash = security.hash_password(password)
        elif is_created:
            raise ValueError(str(_l("Un nouvel opérateur doit avoir un mot de passe.")))
        db.session.flush()
        if is_created:
            security.record_event(db.session, "operator_created", operator=model,
                                  detail=" ".join(sorted(r.code for r in model.roles)))
            return
        roles, active = g.pop("coulisses_before", (None, None))
        if password:
            security.record_event(db.session, "password_changed", operator=model)
        if roles is not None:
            security.record_role_change(db.session, model, roles)
        if active is not None and active != bool(model.active):
            model.active = active  # set_active records the change and revokes the tokens
            security.set_active(db.session, model, not active)

    def handle_view_exception(self, exc):
        if isinstance(exc, security.SecurityError):
            flash(str(exc), "error")
            return True
        return super().handle_view_exception(exc)

    @action("deactivate", _l("Désactiver"), _l("Désactiver les opérateurs sélectionnés et révoquer leurs jetons ?"))
    def action_deactivate(self, ids):
        for op in db.session.scalars(select(security.Operator).where(security.Operator.id.in_(self.coerce_ids(ids)))):
            if op.id == current_user.id:
                flash(_l("Vous ne pouvez pas vous désactiver vous-même."), "error")
                continue
            security.set_active(db.session, op, False)
        db.session.commit()


class RoleView(ModelView):
    column_list = ("code", "name", "builtin")
    column_formatters = {"name": lambda v, c, m, n: m.display_name}
    form_columns = ("code", "name", "permission_codes")
    form_extra_fields = {"permission_codes": SelectMultipleField(_l("Permissions"), choices=[], validate_choice=True)}
    can_delete = True

    def _refresh_choices(self, form):
        rows = db.session.scalars(select(security.KnownPermission).order_by(security.KnownPermission.code))
        # the label is stored as its French source: shown in the operator's language
        form.permission_codes.choices = [(r.code, f"{r.code} — {i18n.gettext(r.label)}") for r in rows]
        return form

    def create_form(self, obj=None):
        return self._refresh_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._refresh_choices(super().edit_form(obj))
        if request.method == "GET" and obj is not None:
            form.permission_codes.data = sorted(obj.permission_codes)
        return form

    def update_model(self, form, model):
        g.coulisses_before = set(model.permission_codes)  # for the journal
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        wanted = set(form.permission_codes.data or [])
        model.permissions = [p for p in model.permissions if p.permission in wanted]
        for code in sorted(wanted - model.permission_codes):
            model.permissions.append(security.RolePermission(permission=code))
        security.record_permission_change(db.session, model, None if is_created else g.pop("coulisses_before", set()))

    def on_model_delete(self, model):
        security.record_event(db.session, "role_deleted", login="",
                              detail=f"{model.code} " + " ".join(sorted(model.permission_codes)))

    def delete_model(self, model):
        if model.builtin:
            flash(_l("Un rôle par défaut ne peut pas être supprimé."), "error")
            return False
        return super().delete_model(model)


class ApiTokenView(ModelView):
    column_list = ("operator", "label", "hint", "created_at", "last_used_at", "revoked_at")
    column_labels = {"hint": _l("Commence par")}
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False

    @action("revoke", _l("Révoquer"), _l("Révoquer les jetons sélectionnés ?"))
    def action_revoke(self, ids):
        for tok in db.session.scalars(select(security.ApiToken).where(security.ApiToken.id.in_(self.coerce_ids(ids)))):
            security.revoke_token(db.session, tok)
        db.session.commit()


JOB_STATE_LABELS = {"pending": _l("En attente"), "running": _l("En cours"), "done": _l("Terminée"),
                    "parked": _l("En échec (arrêtée)"), "cancelled": _l("Annulée")}


class JobView(ModelView):
    """The outbox's jobs: what waits, what failed and why; retry or cancel by hand."""

    column_list = ("id", "kind", "state", "attempts", "run_after", "created_at", "created_by_login", "last_error")
    column_details_list = ("id", "kind", "state", "attempts", "max_attempts", "run_after", "started_at",
                           "finished_at", "worker", "created_at", "created_by_login", "locale", "payload_json",
                           "result_json", "progress_done", "progress_total", "last_error")
    column_filters = ("state", "kind")
    column_default_sort = ("id", True)
    column_labels = {"id": _l("N°"), "kind": _l("Type"), "state": _l("État"), "attempts": _l("Essais"),
                     "max_attempts": _l("Essais permis"), "run_after": _l("Prévue le"), "created_at": _l("Créée le"),
                     "created_by_login": _l("Par"), "last_error": _l("Dernière erreur"), "started_at": _l("Commencée le"),
                     "finished_at": _l("Finie le"), "worker": _l("Exécutant"), "locale": _l("Langue"),
                     "payload_json": _l("Données"), "result_json": _l("Résultat"), "progress_done": _l("Fait"),
                     "progress_total": _l("Sur")}
    column_formatters = {
        "state": lambda v, c, m, n: JOB_STATE_LABELS.get(m.state, m.state),
        "kind": lambda v, c, m, n: _job_label(m.kind),
        "last_error": lambda v, c, m, n: (m.last_error or "").strip().splitlines()[-1][:160] if m.last_error else "",
    }
    column_formatters_detail = {"state": column_formatters["state"], "kind": column_formatters["kind"]}
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False

    @action("retry", _l("Relancer"), _l("Relancer les tâches choisies ?"))
    def action_retry(self, ids):
        self._each(ids, outbox.retry, _l("%(n)s tâche(s) relancée(s)."))

    @action("cancel", _l("Annuler"), _l("Annuler les tâches choisies ? Elles ne seront pas exécutées."))
    def action_cancel(self, ids):
        self._each(ids, outbox.cancel, _l("%(n)s tâche(s) annulée(s)."))

    def _each(self, ids, operation, message):
        from coulisses import CoulissesError

        done = 0
        for job in db.session.scalars(select(outbox.Job).where(outbox.Job.id.in_(self.coerce_ids(ids)))):
            try:
                operation(db.session, job)
                done += 1
            except CoulissesError as exc:
                flash(str(exc), "error")
        db.session.commit()
        flash(str(message) % {"n": done}, "success")


def _job_label(kind: str) -> str:
    job_type = outbox.job_types().get(kind)
    return f"{job_type.label} ({kind})" if job_type is not None and job_type.label else kind


def core_admin_views():
    from coulisses.security_events import SecurityEvent
    from coulisses.web.admin_security import SecurityEventView
    from coulisses.web.admin_webhooks import webhook_views

    admin_menu = _l("Administration")  # lazy: the menu shows it in the operator's language
    return [
        PluginsView(name=_l("Plugins"), endpoint="core_plugins", category=admin_menu),
        OperatorView(security.Operator, permission="core.operators.manage", name=_l("Opérateurs"),
                     endpoint="core_operator", category=admin_menu),
        RoleView(security.Role, permission="core.operators.manage", name=_l("Rôles"), endpoint="core_role",
                 category=admin_menu),
        JobView(outbox.Job, permission="core.jobs.view", permission_edit="core.jobs.manage", name=_l("Tâches de fond"),
                endpoint="core_job", category=admin_menu),
        ApiTokenView(security.ApiToken, permission="core.operators.manage", name=_l("Jetons d'API"),
                     endpoint="core_api_token", category=admin_menu),
        SecurityEventView(SecurityEvent, permission="core.security.events", name=_l("Journal de sécurité"),
                          endpoint="core_security_event", category=admin_menu),
        *webhook_views(admin_menu),
    ]
