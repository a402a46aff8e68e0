"""Administration → Webhooks (the subscriptions: a URL, its events, its secret; "send a test") and
Administration → Envois de webhooks (the delivery log: each event sent, its attempts, the receiver's
answer; send again).

The signing secret is shown once, on the page that follows the creation (typed, or generated when left
empty), as the REST API's creation answer; the edit form never shows it: "Générer un nouveau secret"
replaces it and shows the new one once. Every change goes through ``coulisses.webhooks``' services,
which record it in the security journal."""
from __future__ import annotations

from flask import flash, g, make_response, request
from flask_admin import expose
from flask_admin.actions import action
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

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


class SubscriptionEditForm(SafeBaseForm):
    """A subscription as it is changed: never its secret, which may only be replaced."""

    url = StringField(_l("Adresse (URL) du destinataire"), validators=[DataRequired(), Length(max=500)],
                      description=_l("http:// ou https:// ; reçoit un POST JSON signé pour chaque événement."))
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = SelectMultipleField(_l("Événements"), validators=[DataRequired()], choices=[],
                                 description=_l("Ctrl ou Maj + clic, ou Maj + flèches, pour en choisir plusieurs."))
    active = BooleanField(_l("Actif"), default=True)
    rotate_secret = BooleanField(_l("Générer un nouveau secret de signature"), description=_l(
        "L'ancien cesse aussitôt de signer ; le nouveau est affiché une seule fois, après l'enregistrement."))

    def validate_url(self, field):
        errors = webhooks.validate_subscription(field.data or "", ["*"], "x" * webhooks.MIN_SECRET_LENGTH)
        if "url" in errors:
            raise ValidationError(errors["url"])


class SubscriptionForm(SubscriptionEditForm):
    """A new subscription: its secret typed, or generated when left empty."""

    rotate_secret = None
    secret = StringField(_l("Secret de signature"),
                         validators=[Optional(), Length(min=webhooks.MIN_SECRET_LENGTH, max=200)],
                         description=_l("Laissé vide : généré. Clé HMAC-SHA256 de l'en-tête Coulisses-Signature, "
                                        "affichée une seule fois après l'enregistrement : donnez-la au destinataire."))


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

    def get_edit_form(self):
        return SubscriptionEditForm

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        form = self._with_choices(super().edit_form(obj))
        if obj is not None and request.method != "POST":  # the events chosen, until the form is posted
            form.events.data = obj.events
        return form

    def _committed(self, work, failure: str):
        """``work()`` then commit: ``(True, its result)``; an error is shown as Flask-Admin shows its own
        (``failure`` with the error; the form kept) and rolled back: ``(False, None)``."""
        try:
            result = work()
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - shown like Flask-Admin's own errors, form kept
            if not self.handle_view_exception(exc):
                flash(str(failure) % {"error": str(exc)}, "error")
            db.session.rollback()
            return False, None
        return True, result

    def create_model(self, form):
        def work():
            model = webhooks.subscribe(db.session, form.url.data, form.events.data,
                                       secret=(form.secret.data or "").strip() or None,
                                       description=form.description.data or "")
            model.active = bool(form.active.data)
            self.on_model_change(form, model, True)
            return model

        done, model = self._committed(work, _l("Impossible d'enregistrer l'abonnement : %(error)s"))
        if not done:
            return False
        g.webhook_secret = model.secret  # shown once, on the page after this one
        self.after_model_change(form, model, True)
        return model

    def update_model(self, form, model):
        def work():
            webhooks.update_subscription(db.session, model, url=form.url.data, codes=form.events.data,
                                         description=form.description.data or "", active=bool(form.active.data))
            secret = webhooks.rotate_secret(db.session, model) if form.rotate_secret.data else None
            self.on_model_change(form, model, False)
            return secret

        done, secret = self._committed(work, _l("Impossible d'enregistrer l'abonnement : %(error)s"))
        if not done:
            return False
        if secret:
            g.webhook_secret = secret
        self.after_model_change(form, model, False)
        return True

    def delete_model(self, model):
        def work():
            self.on_model_delete(model)
            webhooks.unsubscribe(db.session, model)

        done, _nothing = self._committed(work, _l("Impossible de supprimer l'abonnement : %(error)s"))
        if done:
            self.after_model_delete(model)
        return done

    def _secret_once(self, response):
        """After a creation or a new secret: instead of going on, a page showing the secret, once
        (never cached), with a link to where Flask-Admin was going."""
        secret = g.pop("webhook_secret", None)
        if secret is None or getattr(response, "status_code", 200) not in (301, 302, 303):
            return response
        page = make_response(self.render("coulisses/webhook_secret.html", secret=secret, next_url=response.location))
        page.headers["Cache-Control"] = "no-store"
        return page

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        return self._secret_once(super().create_view())

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        return self._secret_once(super().edit_view())

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
