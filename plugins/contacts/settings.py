"""The contacts plugin's settings an administrator edits on the plugins screen
(``coulisses_settings_schema``); services read them with ``current_config()`` / ``registry.config``."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from coulisses.i18n import _l


class ContactsSettings(Schema):
    CONTACTS_PURGE_ENABLED = fields.Boolean(load_default=False, metadata={
        "label": _l("Purge des données personnelles active"),
        "description": _l("Coché : la tâche hebdomadaire supprime les prospects et anonymise les clients inactifs. "
                          "Décoché : elle simule seulement et dit ce qu'elle ferait.")})
    CONTACTS_INACTIVITY_MONTHS = fields.Integer(load_default=36, validate=validate.Range(min=1, max=240), metadata={
        "label": _l("Mois d'inactivité avant la purge"),
        "description": _l("Un contact sans achat ni modification depuis ce nombre de mois est purgé (1 à 240).")})
