"""What an administrator may change for this plugin on the plugins screen (Administration → Plugins →
Réglages…), declared through the host's ``coulisses_settings_schema`` hook; the services read the
value with ``coulisses.config.current_config()``, the same in the app, the CLI and the tasks."""
from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from coulisses.i18n import _l


class PatronsSettings(Schema):
    PATRONS_MINIMUM_PLEDGE = fields.Decimal(
        load_default=Decimal("0.00"), places=2, validate=validate.Range(min=0), metadata={
            "label": _l("Montant minimum d'une promesse"),
            "description": _l("Une promesse plus petite est refusée (0 : aucun minimum).")})


def minimum_pledge() -> Decimal:
    from coulisses.config import current_config

    return Decimal(str(current_config().get("PATRONS_MINIMUM_PLEDGE") or "0"))
