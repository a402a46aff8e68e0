"""The devices plugin: box-office hardware — ticket printers (BOCA FGL), receipt printers and cash
drawers (ESC/POS), barcode scanners, customer displays (CD5220), payment terminals (Concert E+,
Caisse-AP) — configured per place of work, driven by the server's worker (network devices) or by the
workstation agent (``coulisses devices agent``), with simulators for everything.

Layers: ``codecs/`` (pure), ``transport.py`` (pyserial), ``errors.py``, ``drivers/`` (registered
through ``devices_drivers``), ``simulators/``; the product: ``models.py``, ``services/``, ``api.py``,
``admin.py``, ``agent.py``, ``cli.py``. See ``SERVICES.md``.
"""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="devices",
    version="0.1.0",
    label=_l("Matériel de caisse"),
    depends=[],
    optional_depends=["sales", "reports"],  # the refunds plugin implements its hooks (and names it)
    description=_l("Le matériel de caisse : imprimantes de billets et de tickets, tiroir-caisse, lecteur de codes-barres, "
    "afficheur client, terminal de paiement ; l'agent du poste ; les simulateurs."),
)

from plugins.devices.hooks import *  # noqa: E402,F401,F403 - the hook implementations
