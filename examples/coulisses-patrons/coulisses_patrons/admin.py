"""The plugin's admin screens: one generated CRUD view, checked by the plugin's permissions."""
from __future__ import annotations

from flask import url_for
from markupsafe import Markup
from wtforms import IntegerField, ValidationError
from wtforms.validators import Optional

from coulisses.web.admin import ModelView
from coulisses.web.app import format_money, format_local_datetime
from coulisses.web.extensions import db

from coulisses_patrons import MANAGE, VIEW, services
from coulisses_patrons.models import Patronage


def _a_patron(form, field):
    """The contact number typed must be a contact of type patron (the service's message)."""
    if field.data is None:
        return
    errors: dict[str, str] = {}
    if services.patron_contact(db.session, field.data, errors) is None:
        raise ValidationError(errors["contact_number"])


def _contact_link(view, context, model, name):
    if model.contact is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("contacts_sheet.sheet", number=model.contact.number),
                                                model.contact.number)


class PatronageView(ModelView):
    column_list = ("pledged_on", "donor_name", "contact", "amount", "note", "created_at")
    column_default_sort = ("pledged_on", True)
    column_searchable_list = ("donor_name",)
    column_filters = ("pledged_on",)
    column_labels = {"pledged_on": "Date de la promesse", "donor_name": "Mécène", "contact": "Contact",
                     "amount": "Montant", "note": "Note", "created_at": "Saisie le",
                     "patron_number": "N° de contact du mécène"}
    column_formatters = {
        "amount": lambda view, context, model, name: format_money(model.amount),
        "created_at": lambda view, context, model, name: format_local_datetime(model.created_at),
        "contact": _contact_link,
    }
    # The contact is typed as its number (a select of every contact would not scale to a million).
    form_columns = ("donor_name", "patron_number", "amount", "pledged_on", "note")
    form_extra_fields = {"patron_number": IntegerField("N° de contact du mécène",
                                                        validators=[Optional(), _a_patron])}

    def on_form_prefill(self, form, id):
        model = self.get_one(id)
        form.patron_number.data = model.contact_number if model is not None else None

    def on_model_change(self, form, model, is_created):
        number = form.patron_number.data
        model.contact = None if number is None else services.patron_contact(db.session, number, {})


def admin_views():
    # The endpoint is prefixed with the plugin's name (the host refuses it otherwise); the menu is the
    # plugin's label ("Mécénat") because no category is given.
    return [PatronageView(Patronage, permission=VIEW, permission_edit=MANAGE, name="Promesses de mécénat",
                          endpoint="patrons_patronage")]
