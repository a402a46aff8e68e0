"""The refunds plugin: the cancellation basket ("Échange - annulation"), refunds, exchanges,
self-exchanges (AUTO-ÉCHANGE) and cancelled performances.

Domain: ``models.py``, ``services/`` (see ``SERVICES.md``), ``hookspecs.py`` (the hooks it offers),
``registry.py`` (the product kinds sold in exchange), ``api.py``. Screens: ``admin.py``.
"""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="refunds",
    version="0.1.0",
    label=_l("Remboursements"),
    depends=["sales", "contacts"],
    optional_depends=["reports", "devices"],  # waiting_account implements its hooks: it names refunds, not the reverse
    description=_l("Panier d'annulation, remboursement, échange et auto-échange de billets payés, causes "
    "d'annulation et leurs frais, séances annulées remboursées en lot."),
)

from plugins.refunds.hooks import *  # noqa: E402,F401,F403 - the hook implementations
