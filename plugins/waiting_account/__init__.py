"""The waiting_account plugin: deferred payment on account ("compte d'attente") — authorisation and
maximum outstanding per contact, the payment mode type "Compte d'attente" with its instalments
("avec suivi"), settlement with a physical payment, invoices (gapless ranges, Factur-X), SEPA
direct debit (mandates, pain.008 files), the follow-up reports.

Domain: ``models.py``, ``services/`` (see ``SERVICES.md``); screens ``admin.py``; REST ``api.py``;
documents and reports ``reports.py``; demo ``demo.py``.
"""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="waiting_account",
    version="0.1.0",
    label=_l("Compte d'attente"),
    depends=["sales", "contacts", "reports"],
    optional_depends=[],
    description=_l("Paiement différé par compte d'attente : autorisation et encours maximum par contact, échéances, "
                   "prélèvement SEPA, factures (Factur-X), solde du compte, rapports de suivi."),
)

from plugins.waiting_account.hooks import *  # noqa: E402,F401,F403 - the hook implementations
