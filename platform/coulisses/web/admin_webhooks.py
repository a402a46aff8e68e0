"""Administration → Webhooks (the subscriptions: a URL, its events, its secret; "send a test") and
Administration → Envois de webhooks (the delivery log: each event sent, its attempts, the receiver's
answer; send again)."""
from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from coulisses import webhooks
from coulisses.i18n import _, _l
from coulisses.web.admin import ModelView
from coulisses.web.extensions import db
from coulisses.web.forms import SafeBaseForm


def event_choices() -> list[tuple[str, str]]:
    registered = webhooks.events()
    choices = [("*", str(_l("Tous les événements (y compris ceux des plugins ajoutés plus tard)")))]
    choices += sorted(((code, f"{ev.label} ({code})") for code, ev in registered.items()
                       if code != webhooks.TEST_EVENT), key=lambda c: c[1])
    return choices


class SubscriptionForm(SafeBaseForm):
    url = StringField(_l("Adresse (URL) du destinataire"), validators=[DataRequired(), Length(max=500)],
                      description=_l("http:// ou https:// ; reçoit un POST JSON signé pour chaque événement."))
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = SelectMultipleField(_l("Événements"), validators=[DataRequired()], choices=[],
                                 description=_l("Ctrl ou Maj + clic, ou Maj + flèches, pour en choisir plusieurs."))
    secret = StringField(_l("Secret de signature"), validators=[DataRequired(), Length(min=webhooks.MIN_SECRET_LENGTH, max=200)],
                         description=_l("Clé HMAC-SHA256 de l'en-tête Coulisses-Signature : donnez-la au "
                                        "destinataire ; changez-la pour révoquer l'ancienne."))
    active = BooleanField(_l("Actif"), default=True)

    def validate_url(self, field):
        errors = webhooks.validate_subscription(field.data or "", ["*"], "x" * webhooks.MIN_SECRET_LENGTH)
        if "url" in errors:
            raise ValidationError(errors["url"])


def _events_cell(view, context, model, name):
    labels = dict(event_choices())
    return Markup("<br>").join(escape(labels.get(code, code)) for code in model.events)


class SubscriptionView(ModelView):
    """The webhook subscriptions."""

    column_list = ("url", "description", "events_text", "active", "created_at", "created_by")
    column_details_list = ("url", "description", "events_text", "active", "created_at", "created_by")
    column_labels = {"url": _l("Adresse"), "description": _l("Description"), "events_text": _l("Événements"),
                     "active": _l("Actif"), "created_at": _l("Créé le"), "created_by": _l("Par")}
    column_formatters = {"events_text": _events_cell}
    column_formatters_detail = {"events_text": _events_cell}
    column_default_sort = ("id", False)
    can_export = False
    form = SubscriptionForm

    def _with_choices(self, form):
        form.events.choices = event_choices()
        return form

    def create_form(self, obj=None):
        form = self._with_choices(super().create_form(obj))
        if not form.secret.data:
            form.secret.data = webhooks.new_secret()
        return form

    def edit_form(self, obj=None):
        form = self._with_choices(super().edit_form(obj))
        if obj is not None and not form.is_submitted():
            form.events.data = obj.events
        return form

    def populate_obj(self, form, model):
        model.url = form.url.data.strip()
        model.description = form.description.data or ""
        model.events = form.events.data
        model.secret = form.secret.data.strip()
        model.active = bool(form.active.data)

    def create_model(self, form):
        from coulisses.db import current_actor

        model = webhooks.WebhookSubscription(created_by=(current_actor().login or "")[:120])
        self.populate_obj(form, model)
        try:
            db.session.add(model)
            self.on_model_change(form, model, True)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - shown like Flask-Admin's own errors, form kept
            if not self.handle_view_exception(exc):
                flash(_("Impossible d'enregistrer l'abonnement : %(error)s", error=str(exc)), "error")
            db.session.rollback()
            return False
        self.after_model_change(form, model, True)
        return model

    def update_model(self, form, model):
        try:
            self.populate_obj(form, model)
            self.on_model_change(form, model, False)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001
            if not self.handle_view_exception(exc):
                flash(_("Impossible d'enregistrer l'abonnement : %(error)s", error=str(exc)), "error")
            db.session.rollback()
            return False
        self.after_model_change(form, model, False)
        return True

    @action("send_test", _l("Envoyer un test"))
    def action_send_test(self, ids):
        subs = list(db.session.scalars(select(webhooks.WebhookSubscription)
                                       .where(webhooks.WebhookSubscription.id.in_(self.coerce_ids(ids)))))
        for sub in subs:
            webhooks.send_test(db.session, sub)
        db.session.commit()
        flash(_("%(n)s test(s) envoyé(s) : voyez le résultat dans Envois de webhooks.", n=len(subs)), "success")


def _state_cell(view, context, model, name):
    return model.state_label


def _subscription_cell(view, context, model, name):
    return model.subscription.url if model.subscription else ""


def _event_cell(view, context, model, name):
    ev = webhooks.events().get(model.event)
    return f"{ev.label} ({model.event})" if ev is not None else model.event


class DeliveryView(ModelView):
    """The delivery log: newest first, filtered by state, event and subscription; send again."""

    column_list = ("created_at", "event", "subscription", "state", "attempts", "last_status",
                   "last_attempt_at", "delivered_at", "last_error")
    column_details_list = ("id", "created_at", "event", "subscription", "state", "attempts", "last_status",
                           "last_attempt_at", "delivered_at", "last_error", "data_json")
    column_filters = ("state", "event", "subscription.url")
    column_default_sort = ("id", True)
    column_labels = {"id": _l("N°"), "created_at": _l("Créé le"), "event": _l("Événement"),
                     "subscription": _l("Destinataire"), "subscription.url": _l("Destinataire"),
                     "state": _l("État"), "attempts": _l("Essais"), "last_status": _l("Réponse HTTP"),
                     "last_attempt_at": _l("Dernier essai"), "delivered_at": _l("Remis le"),
                     "last_error": _l("Dernière erreur"), "data_json": _l("Données")}
    column_formatters = {"state": _state_cell, "subscription": _subscription_cell, "event": _event_cell}
    column_formatters_detail = column_formatters
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False

    @action("redeliver", _l("Renvoyer"), _l("Renvoyer les envois choisis ?"))
    def action_redeliver(self, ids):
        rows = list(db.session.scalars(select(webhooks.WebhookDelivery)
                                       .where(webhooks.WebhookDelivery.id.in_(self.coerce_ids(ids)))))
        for row in rows:
            webhooks.redeliver(db.session, row)
        db.session.commit()
        flash(_("%(n)s envoi(s) relancé(s).", n=len(rows)), "success")


def webhook_views(category):
    return [
        SubscriptionView(webhooks.WebhookSubscription, permission="core.webhooks.manage", name=_l("Webhooks"),
                         endpoint="core_webhook_subscription", category=category),
        DeliveryView(webhooks.WebhookDelivery, permission="core.webhooks.manage", name=_l("Envois de webhooks"),
                     endpoint="core_webhook_delivery", category=category),
    ]
