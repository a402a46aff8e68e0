"""Login, logout, the operator behind each request (session or bearer token), permission checks."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from coulisses.i18n import _, _l
from flask_login import current_user, login_user, logout_user
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from coulisses import BusyError
from coulisses import db as cdb
from coulisses import security
from coulisses.web.extensions import csrf, db, login_manager
from coulisses.web.forms import CoulissesForm

bp = Blueprint("auth", __name__)


class LoginForm(CoulissesForm):
    login = StringField(_l("Identifiant"), validators=[DataRequired()])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        operator = security.authenticate(db.session, form.login.data, form.password.data)
        if operator is None:
            error = _("Identifiant inconnu ou mot de passe erroné.")
        else:
            db.session.commit()
            session.clear()  # a new session at login: nothing from before survives (session fixation)
            login_user(operator)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("coulisses/login.html", form=form, error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("Vous êtes déconnecté."))
    return redirect(url_for("auth.login"))


@bp.route("/locale", methods=["POST"])
def set_locale():
    """The operator's language, chosen from the menu in one click and remembered (for an operator,
    in the database; before login, in the session)."""
    from coulisses.i18n import normalize_language

    lang = normalize_language(request.form.get("locale"))
    if lang is None:
        abort(400)
    session["locale"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.commit()
    return redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))


@login_manager.user_loader
def _load_operator(operator_id: str):
    try:
        op = db.session.get(security.Operator, int(operator_id))
    except (TypeError, ValueError):
        return None
    return op if op is not None and op.active else None


@login_manager.request_loader
def _load_from_token(req):
    header = req.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        op = security.operator_for_token(db.session, header[7:].strip())
        if op is not None:
            g.coulisses_bearer = True
            if db.session.dirty:  # the token's last use was recorded (at most once a minute)
                try:
                    db.session.commit()
                except BusyError:  # a statistic: never worth making the request wait or fail
                    db.session.rollback()
        return op
    return None


def init_request_security(app) -> None:
    """CSRF for every unsafe request that does not carry a bearer token; the actor for audit."""

    @app.before_request
    def _csrf_and_actor():
        authenticated = current_user.is_authenticated  # loads the operator (session, else bearer token)
        # Only a request authenticated by its bearer token is exempt: a session cookie with a stray
        # Authorization header is still a browser request. An anonymous API call gets its 401 from the API.
        by_token = g.get("coulisses_bearer", False)
        anonymous_api = not authenticated and request.path.startswith("/api/")
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not by_token and not anonymous_api:
            csrf.protect()
        if authenticated:
            g.coulisses_actor_token = cdb.set_actor(cdb.Actor(current_user.id, current_user.login))

    @app.teardown_request
    def _reset_actor(exc):
        token = g.pop("coulisses_actor_token", None)
        if token is not None:
            try:
                cdb._actor.reset(token)
            except ValueError:  # reset from another context (streamed response)
                pass


def permission_required(code: str | None):
    """Decorator for plain Flask views (blueprints): login and the permission ``code`` required."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_permission(code):
                abort(403)
            return view(*args, **kwargs)

        wrapper.coulisses_permission = code
        return wrapper

    return decorator


def require(code: str | None) -> None:
    """In a view: stop with 403 unless the logged-in operator holds the permission ``code``."""
    if not has_permission(code):
        abort(403)


def has_permission(code: str | None) -> bool:
    return current_user.is_authenticated and current_user.has_permission(code)
