"""The reports plugin: report engine (definitions from every plugin, streamed rows, totals, charts),
renderers (HTML preview with SVG charts, PDF, CSV, XLSX), the reports screen, favourites and scheduled
runs, documents (stored, numbered, never regenerated differently), the organisation identity and
e-mail delivery through the outbox.

Other plugins contribute through ``reports_definitions`` and ``reports_documents`` (``hookspecs.py``);
see ``SERVICES.md`` and docs/plugin-guide.md ("Reports").
"""
from coulisses import Manifest

MANIFEST = Manifest(
    name="reports",
    version="0.1.0",
    label="Rapports",
    depends=[],
    optional_depends=[],
    description="Report engine and documents: PDF, CSV, XLSX, charts, the reports screen, favourites and "
    "scheduled runs, the organisation identity, e-mail delivery.",
)

from plugins.reports.hooks import *  # noqa: E402,F401,F403 - the hook implementations
