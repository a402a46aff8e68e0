"""The plugin's admin screens: one generated CRUD view, checked by the plugin's permissions."""
from __future__ import annotations

from coulisses.web.admin import ModelView
from coulisses.web.app import format_money, format_local_datetime

from coulisses_patrons import MANAGE, VIEW
from coulisses_patrons.models import Patronage


class PatronageView(ModelView):
    column_list = ("pledged_on", "donor_name", "amount", "note", "created_at")
    column_default_sort = ("pledged_on", True)
    column_searchable_list = ("donor_name",)
    column_filters = ("pledged_on",)
    column_labels = {"pledged_on": "Date de la promesse", "donor_name": "Mécène", "amount": "Montant",
                     "note": "Note", "created_at": "Saisie le"}
    column_formatters = {
        "amount": lambda view, context, model, name: format_money(model.amount),
        "created_at": lambda view, context, model, name: format_local_datetime(model.created_at),
    }
    form_columns = ("donor_name", "amount", "pledged_on", "note")


def admin_views():
    # The endpoint is prefixed with the plugin's name (the host refuses it otherwise); the menu is the
    # plugin's label ("Mécénat") because no category is given.
    return [PatronageView(Patronage, permission=VIEW, permission_edit=MANAGE, name="Promesses de mécénat",
                          endpoint="patrons_patronage")]
