"""The sales plugin: the ticketing core — catalogue (seasons, venues, events, performances, seat
categories, tariffs, prices, fees), orders ("dossiers"), tickets and barcodes, operations, payments
and payment modes, credit balances ("soldes avoir"), points of sale and sales channels.

Domain: ``models/``, ``services/`` (see ``SERVICES.md``), ``hookspecs.py`` (the hooks it offers),
``api.py``. Screens (``admin.py``) and demo data (``demo/``) are separate modules.
"""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="sales",
    version="0.1.0",
    label=_l("Billetterie"),
    depends=["contacts"],
    optional_depends=["reports"],
    description=_l("Catalogue, dossiers, billets et codes-barres, opérations, règlements, modes de règlement, "
    "soldes avoir, points de vente et canaux de vente."),
)

from plugins.sales.hooks import *  # noqa: E402,F401,F403 - the hook implementations
