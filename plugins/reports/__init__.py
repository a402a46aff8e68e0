"""The reports plugin: report engine (definitions from every plugin, streamed rows, totals, charts),
renderers (HTML preview with SVG charts, PDF, CSV, XLSX), the reports screen, favourites and scheduled
runs, documents (stored, numbered, never regenerated differently), the organisation identity and
e-mail delivery through the outbox.

Other plugins contribute through ``reports_definitions`` and ``reports_documents`` (``hookspecs.py``);
see ``SERVICES.md`` and docs/plugin-guide.md ("Reports").
"""
from coulisses import Manifest
from coulisses.i18n import _l

MANIFEST = Manifest(
    name="reports",
    version="0.1.0",
    label=_l("Rapports"),
    depends=[],
    optional_depends=[],
    description=_l("Moteur de rapports et documents : PDF, CSV, XLSX, graphiques, l'écran des rapports, favoris et "
    "envois programmés, l'identité de l'organisation, l'envoi par courriel."),
)

from plugins.reports.hooks import *  # noqa: E402,F401,F403 - the hook implementations
