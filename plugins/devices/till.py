"""The till's notice of its point of sale's device jobs (the sales screen, the cancellation basket).

A print or a drawer that failed never undid the sale or the refund: the operator sees it here, on the
screen they work in, and retries it ("Réessayer", ``jobs.retry``) once the paper or the cable is
fixed. A payment on the terminal whose outcome is unknown is never retried: the notice says so and
links to where an operator resolves it ("Règlements en attente", or the device jobs).

A screen asks for it in its template, with the page to come back to after "Réessayer":
``{% if devices_till_jobs is defined %}{{ devices_till_jobs(pos_code, page_url) }}{% endif %}``
(nothing is drawn when there is nothing to say, or when the operator may not see the devices).
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from coulisses import CoulissesError
from coulisses.web.auth import _safe_next, require
from coulisses.web.extensions import db
from plugins.devices.i18n import _
from plugins.devices.registry import OPERATION_LABELS
from plugins.devices.services import jobs


def _resolve_url() -> str:
    """Where an unknown payment is resolved: the sales plugin's "Règlements en attente", else the jobs."""
    try:
        return url_for("sales_pending.index")
    except BuildError:
        return url_for("devices_job.index_view", flt0_state_equals="unknown")


def till_jobs(location_code: str | None, back_url: str | None = None) -> Markup:
    if not location_code or not current_user.is_authenticated or not current_user.has_permission("devices.view"):
        return Markup("")
    notice = jobs.till_jobs(db.session, location_code)
    if not notice:
        return Markup("")
    return Markup(render_template(
        "devices/_till_jobs.html", notice=notice, labels=OPERATION_LABELS, back=back_url or request.full_path.rstrip("?"),
        can_retry=current_user.has_permission("devices.use"), resolve_url=_resolve_url(),
        jobs_url=url_for("devices_job.index_view")))


def retry_view():
    """POST ``/devices-till/retry``: "Réessayer" a failed job of the till's notice, then back to the
    screen (``next``), with what happened said there."""
    require("devices.use")
    raw = request.form.get("job", "")
    try:
        job = jobs.retry(db.session, int(raw) if raw.isdigit() else 0)
        label = OPERATION_LABELS.get(job.operation, job.operation)
        db.session.commit()  # a network device's job runs after commit (the outbox)
        flash(_("%(operation)s relancée (travail %(id)s).", operation=label, id=job.id), "success")
    except CoulissesError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(_safe_next(request.form.get("next")))
