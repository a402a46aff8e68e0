"""Security headers on every answer (pages, JSON, static files, errors) and the session cookie.

- Content-Security-Policy: scripts only from Coulisses itself (``script-src 'self'``) plus the
  nonce of the request for the few ``<script>`` blocks Flask-Admin writes inline (its modal forms);
  no inline event handler (``onclick=`` …) works: templates use the host's ``data-confirm`` and
  ``data-autosubmit`` attributes instead (``static/coulisses/behaviours.js``). Styles may be inline
  (``style=""`` attributes are common in Flask-Admin's templates and carry no code).
- No framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``), ``nosniff``, a same-origin
  referrer, a minimal ``Permissions-Policy``, ``Cross-Origin-Opener-Policy``; HSTS over HTTPS.
- The session cookie is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when ``COULISSES_HTTPS=1`` or
  when the request arrived over HTTPS (directly, or as the trusted proxy says).

A template needing an inline script gives it the nonce: ``<script nonce="{{ csp_nonce() }}">``.
"""
from __future__ import annotations

import secrets

from flask import g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000"


def csp_nonce() -> str:
    """The nonce of the current request (one per request, unguessable)."""
    nonce = g.get("coulisses_csp_nonce")
    if nonce is None:
        nonce = g.coulisses_csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str | None) -> str:
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join((
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, ``Secure`` whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        return has_request_context() and request.is_secure


def _flask_admin_originals(app) -> None:
    """Flask-Admin's Bootstrap 4 templates also under ``flask_admin_bootstrap4/``: the host overrides a
    few of its macro files (inline JavaScript removed) and delegates the other macros to the originals."""
    from pathlib import Path

    import flask_admin
    from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

    originals = Path(flask_admin.__file__).resolve().parent / "templates" / "bootstrap4"
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader, PrefixLoader({"flask_admin_bootstrap4": FileSystemLoader(str(originals))})])


def init_hardening(app) -> None:
    _flask_admin_originals(app)
    app.session_interface = SessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers["Content-Security-Policy"] = content_security_policy(g.get("coulisses_csp_nonce"))
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = HSTS
        return response
