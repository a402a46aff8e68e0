"""Scans shown live on an open screen (the sales screen, the cancellation basket).

A scan forwarded by a workstation's agent changes a basket on the server (``devices_scan_received``);
a screen open at that point of sale learns it by long polling ``GET /api/v1/devices/scans?after=…&wait=…``
(``services.waiting``: the agent's mechanism, shared by every worker through the database) and then
redraws the parts of itself it marked ``data-live-region="…"`` from a fresh copy of the page, keeping
what the operator is typing and the focus, and announcing each scan (``aria-live``).

A screen asks for it in its template, with the point of sale's code and the plugin that consumes the
scans there: ``{% if devices_live_scans is defined %}{{ devices_live_scans(pos.code, "sales") }}{% endif %}``
(nothing is drawn when the operator may not see the devices, ``devices.view``).

A screen that can take a scan no basket took (the sales screen with no basket yet) names, in ``claim``,
the form, its field and its button that take a barcode (``{"form": "sell-form", "field": "scan",
"button": "scan-btn"}``): the page claims such a scan (``POST /api/v1/devices/scans/<id>/claim``: one
open screen wins, the others say another one took it), then submits that form with the barcode, as if
the operator had typed it (``devices.use``).
"""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from coulisses.web.rest import API_PREFIX
from coulisses.web.extensions import db
from plugins.devices.i18n import _l
from plugins.devices.services import agents


def live_scans(location_code: str | None, consumer: str, refresh_url: str | None = None,
               claim: dict | None = None) -> Markup:
    """The markup that makes the current page follow the scans of ``location_code``: a hidden element
    the script reads, a polite live region, the script. ``refresh_url``: the page to read the regions
    from again (default: the current URL); ``claim``: see above."""
    if not location_code or not current_user.is_authenticated or not current_user.has_permission("devices.view"):
        return Markup("")
    return Markup(render_template(
        "devices/_live_scans.html", location_code=location_code, consumer=consumer,
        after=agents.last_scan_id(db.session, location_code),
        scans_url=request.script_root + API_PREFIX + "/devices/scans",
        refresh_url=refresh_url or request.full_path.rstrip("?"),
        claim=claim if claim and current_user.has_permission("devices.use") else None,
        script_url=url_for("devices_ui.static", filename="devices/live.js")))


def js_messages() -> dict:
    return {
        "devices.scanTaken": _l("Code-barres %(code)s scanné : le panier est à jour."),
        "devices.scanUnused": _l("Code-barres %(code)s scanné : rien n'a été ajouté (billet inconnu, ou aucun panier "
                                 "ouvert à ce point de vente)."),
        "devices.scanElsewhere": _l("Code-barres %(code)s scanné : repris par un autre panier de ce point de vente."),
        "devices.scanClaimed": _l("Code-barres %(code)s scanné : son dossier est repris dans un nouveau panier."),
        "devices.liveLost": _l("Les scans n'arrivent plus sur cet écran : rechargez la page."),
    }
