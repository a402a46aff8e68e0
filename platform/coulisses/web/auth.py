"""Login, logout, the operator behind each request (session or bearer token), permission checks."""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, jsonify, make_response, redirect, render_template, request, session, url_for
from coulisses.i18n import _, _l, _n
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from coulisses import BusyError
from coulisses import db as cdb
from coulisses import security, throttle
from coulisses.security_events import reset_client_address, set_client_address
from coulisses.web.extensions import csrf, db, login_manager
from coulisses.web.forms import CoulissesForm
from coulisses.web.rest import error_response

bp = Blueprint("auth", __name__)
LAST_SEEN = "_coulisses_seen"  # the operator's last request (seconds since the epoch), in the signed session
LAST_SEEN_PRECISION = 10       # seconds: the session cookie is rewritten at most this often


class LoginForm(CoulissesForm):
    login = StringField(_l("Identifiant"), validators=[DataRequired()])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path of this site, else the home page (no open redirect: browsers read
    ``//host`` and ``/\\host`` as another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("admin.index")


def _client_address() -> str:
    return request.remote_addr or ""


def _refusal_message(refusal: throttle.Refusal) -> str:
    if refusal.locked:
        return _n("Trop d'échecs de connexion : la connexion est bloquée pendant %(num)d minute. "
                        "Réessayez plus tard ou demandez à un administrateur de la débloquer.",
                        "Trop d'échecs de connexion : la connexion est bloquée pendant %(num)d minutes. "
                        "Réessayez plus tard ou demandez à un administrateur de la débloquer.", refusal.minutes)
    return _n("Trop de tentatives de connexion : réessayez dans %(num)d seconde.",
                    "Trop de tentatives de connexion : réessayez dans %(num)d secondes.", refusal.retry_after)


@dataclass
class Attempt:
    """The outcome of a login attempt: the operator, or an error to show (and its HTTP status)."""

    operator: security.Operator | None = None
    error: str | None = None
    status: int = 200
    retry_after: int | None = None


def attempt_login(login: str, password: str) -> Attempt:
    """Check a login and password through the throttle (scope ``operator``); the caller commits."""
    address = _client_address()
    refusal = throttle.before_attempt(db.session, "operator", login=login, address=address)
    if refusal is not None:
        return Attempt(error=_refusal_message(refusal), status=429, retry_after=refusal.retry_after)
    operator = security.authenticate(db.session, login, password)
    if operator is None:
        error = _("Identifiant inconnu ou mot de passe erroné.")
        refusal = throttle.failed(db.session, "operator", login=login, address=address)
        if refusal is not None:
            error = f"{error} {_refusal_message(refusal)}"
        return Attempt(error=error, status=401)
    throttle.succeeded(db.session, "operator", login=login)
    return Attempt(operator=operator)


def _open_session(operator: security.Operator) -> None:
    session.clear()  # a new session at login: nothing from before survives (session fixation)
    login_user(operator)
    session[LAST_SEEN] = int(cdb.utcnow().timestamp())


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    result = Attempt()
    if form.validate_on_submit():
        result = attempt_login(form.login.data, form.password.data)
        if result.operator is not None:
            operator = result.operator
            security.record_event(db.session, "login_succeeded", operator=operator,
                                  actor=cdb.Actor(operator.id, operator.login))
            db.session.commit()
            _open_session(operator)
            return redirect(_safe_next(request.args.get("next")))
        db.session.commit()  # the failure is counted even though the attempt fails
    response = make_response(render_template("coulisses/login.html", form=form, error=result.error), result.status)
    if result.retry_after:
        response.headers["Retry-After"] = str(result.retry_after)
    return response


@bp.route("/change-operator", methods=["POST"])
def change_operator():
    """"Change operator" at the till: another operator logs in without leaving the screen (a dialog
    posts here); the page keeps what it shows, its basket included, and gets the new CSRF token."""
    previous = current_user._get_current_object() if current_user.is_authenticated else None
    result = attempt_login(request.form.get("login", ""), request.form.get("password", ""))
    if result.operator is None:
        db.session.commit()
        response = jsonify({"error": {"code": "refused" if result.status == 429 else "unauthenticated",
                                      "message": result.error}})
        response.status_code = result.status
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    operator = result.operator
    actor = cdb.Actor(previous.id, previous.login) if previous is not None else cdb.Actor(operator.id, operator.login)
    security.record_event(db.session, "operator_changed", operator=operator, actor=actor,
                          detail=f"{previous.login if previous is not None else '-'} {operator.login}")
    db.session.commit()
    _open_session(operator)
    return jsonify({"login": operator.login, "name": operator.full_name or operator.login,
                    "csrf_token": generate_csrf(),
                    "message": _("Opérateur : %(name)s", name=operator.full_name or operator.login)})


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        security.record_event(db.session, "logout", operator=current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.pop(LAST_SEEN, None)
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


def _load_operator(operator_id: str):
    try:
        op = db.session.get(security.Operator, int(operator_id))
    except (TypeError, ValueError):
        return None
    return op if op is not None and op.active else None


@login_manager.user_loader
def _load_session_operator(operator_id: str):
    """The operator of the request's session. A REST request (``/api/…``: the autocomplete's
    keystrokes, the screens' look-ups) takes it from the process's cache of identities
    (``security.identity_for_operator``: no query once cached, the same invalidation as the token
    cache) as a ``BearerOperator``, which the API already serves; the screens load the ``Operator``."""
    from coulisses.web.rest import API_PREFIX

    if not request.path.startswith(API_PREFIX + "/"):
        return _load_operator(operator_id)
    try:
        identity = security.identity_for_operator(db.session, int(operator_id))
    except (TypeError, ValueError):
        return None
    return BearerOperator(identity) if identity is not None else None


@login_manager.request_loader
def _load_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or req.path == "/metrics":  # the metrics token is no operator's
        return None
    address = req.remote_addr or ""
    refusal = throttle.before_attempt(db.session, "api", address=address)
    if refusal is not None:  # this address is waiting or locked out: the token is not even looked at
        db.session.commit()
        g.coulisses_throttled = refusal
        return None
    identity = security.identity_for_token(db.session, header[7:].strip())
    if identity is None:
        refusal = throttle.failed(db.session, "api", address=address)
        db.session.commit()  # the failure is counted even though the request fails
        if refusal is not None:  # this failure starts a wait (or the lock): 429 rather than 401
            g.coulisses_throttled = refusal
        return None
    g.coulisses_bearer = True
    if security.token_use_due(identity):  # the token's last use, recorded at most once a minute
        try:
            security.record_token_use(db.session, identity)
            db.session.commit()
        except BusyError:  # a statistic: never worth making the request wait or fail
            db.session.rollback()
    return BearerOperator(identity)


class BearerOperator:
    """``current_user`` of an API request authenticated by its bearer token (or by the operator's
    session: ``_load_session_operator``): its id, login and permissions come from the cached identity
    (``security.identity_for_token`` / ``identity_for_operator``), so that answering the API loads
    no operator; anything else (``roles``, a change of ``locale``…) is read from, or written to, the
    ``Operator`` loaded from the request's database session on first use. Whether the request is
    exempt from CSRF is ``g.coulisses_bearer`` (set for a token only), never this class."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    active = True

    def __init__(self, identity: security.TokenIdentity | security.OperatorIdentity) -> None:
        object.__setattr__(self, "_identity", identity)

    id = property(lambda self: self._identity.operator_id)
    login = property(lambda self: self._identity.login)
    full_name = property(lambda self: self._identity.full_name)
    is_administrator = property(lambda self: self._identity.administrator)
    permissions = property(lambda self: set(self._identity.permissions))

    @property
    def locale(self):
        loaded = self.__dict__.get("_operator")
        return loaded.locale if loaded is not None else self._identity.locale

    def has_permission(self, code: str | None) -> bool:
        return self._identity.has_permission(code)

    def get_id(self) -> str:
        return str(self._identity.operator_id)

    def __str__(self) -> str:
        return self._identity.login

    def _get_operator(self) -> security.Operator:
        loaded = self.__dict__.get("_operator")
        if loaded is None:
            loaded = db.session.get(security.Operator, self._identity.operator_id)
            object.__setattr__(self, "_operator", loaded)
        return loaded

    def __getattr__(self, name):  # only what the identity does not carry
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get_operator(), name)

    def __setattr__(self, name, value) -> None:
        setattr(self._get_operator(), name, value)


def _too_many_requests(refusal: throttle.Refusal):
    response = error_response(429, "too_many_requests", _refusal_message(refusal))
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _expire_idle_session():
    """End the operator's session after ``SESSION_IDLE_MINUTES`` without a request (shared
    workstations); the next page asks for the login and comes back where it was."""
    from flask import current_app

    minutes = current_app.config.get("SESSION_IDLE_MINUTES") or 0
    if "_user_id" not in session or not minutes:
        return None
    now = int(cdb.utcnow().timestamp())
    seen = session.get(LAST_SEEN)
    if isinstance(seen, int) and now - seen <= minutes * 60:
        if now - seen >= LAST_SEEN_PRECISION or now < seen:
            session[LAST_SEEN] = now
        return None
    operator = _load_operator(session.get("_user_id"))
    if operator is not None:
        security.record_event(db.session, "session_expired", operator=operator,
                              actor=cdb.Actor(operator.id, operator.login), detail=f"{minutes}min")
        db.session.commit()
    # the message in the operator's language, chosen while the operator is still known
    message = _n("Votre session a expiré après %(num)d minute sans activité : reconnectez-vous.",
                 "Votre session a expiré après %(num)d minutes sans activité : reconnectez-vous.", minutes)
    logout_user()
    session.pop(LAST_SEEN, None)
    flash(message, "warning")
    if request.method not in ("GET", "HEAD") and not request.path.startswith("/api/"):
        # A form sent after the expiry: back to the page it came from once logged in again
        back = urlsplit(request.referrer or "")
        target = back.path + (f"?{back.query}" if back.query else "") if back.path.startswith("/") else None
        return redirect(url_for("auth.login", next=target))
    return None


class OriginMismatch(Exception):
    """A form sent from another address than the one the server is reached at (CSRF or a proxy's Host)."""


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def check_same_origin() -> None:
    """A browser's unsafe request comes from this site: its ``Origin`` (else ``Referer``) names the host
    the request was sent to. Flask-WTF's own HTTPS check (``WTF_CSRF_SSL_STRICT``) is off: it refuses a
    request without a Referer, and a proxy passing ``Host $host`` (without the port) on a port other than
    443. Here the session-bound CSRF token stays the protection; the origin, when the browser gives one,
    must match the host (any port when the Host header carries none), and an HTTPS request never comes
    from an ``http://`` page. A mismatch raises a ``CSRFError`` that says what was expected and received."""
    from flask_wtf.csrf import CSRFError

    sent = request.headers.get("Origin")
    if not sent or sent == "null":
        sent = request.referrer
    if not sent:
        return
    origin = _origin_of(sent)
    host = request.host
    expected = _origin_of(f"{request.scheme}://{host}/")
    if origin is None or expected is None:
        return
    scheme, hostname, port = origin
    try:
        host_has_port = urlsplit(f"http://{host}/").port is not None
    except ValueError:
        host_has_port = False
    if (hostname == expected[1] and (not host_has_port or port == expected[2])
            and not (request.is_secure and scheme == "http")):
        return
    parts = urlsplit(sent)
    received = f"{parts.scheme}://{parts.netloc}"
    wanted = f"{request.scheme}://{host}"
    logging.getLogger("coulisses.security").warning(
        "form refused: sent from %s, the server is reached as %s (Host: %r, X-Forwarded-Host: %r, "
        "X-Forwarded-Proto: %r)", received, wanted, request.headers.get("Host"),
        request.headers.get("X-Forwarded-Host"), request.headers.get("X-Forwarded-Proto"))
    error = CSRFError(_("Ce formulaire a été envoyé depuis %(received)s, mais le serveur se croit joint à "
                        "l'adresse %(expected)s. Derrière un proxy, celui-ci doit transmettre l'adresse "
                        "demandée par le navigateur (en-tête Host avec le port, X-Forwarded-Proto et "
                        "COULISSES_PROXY_COUNT) : voir docs/deploy/nginx.conf.",
                        received=received, expected=wanted))
    error.coulisses_explained = True
    raise error


def init_request_security(app) -> None:
    """Idle timeout, throttled tokens, CSRF for every unsafe request that does not carry a bearer
    token; the client's address and the actor for the journal and the audit columns."""

    @app.before_request
    def _csrf_and_actor():
        g.coulisses_address_token = set_client_address(request.remote_addr or "")
        expired = _expire_idle_session()
        if expired is not None:
            return expired
        authenticated = current_user.is_authenticated  # loads the operator (session, else bearer token)
        refusal = g.get("coulisses_throttled")
        if refusal is not None:
            return _too_many_requests(refusal)
        # Only a request authenticated by its bearer token is exempt: a session cookie with a stray
        # Authorization header is still a browser request. An anonymous API call gets its 401 from the API.
        by_token = g.get("coulisses_bearer", False)
        anonymous_api = not authenticated and request.path.startswith("/api/")
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not by_token and not anonymous_api:
            csrf.protect()
            check_same_origin()
        if authenticated:
            g.coulisses_actor_token = cdb.set_actor(cdb.Actor(current_user.id, current_user.login))

    @app.teardown_request
    def _reset_actor(exc):
        address = g.pop("coulisses_address_token", None)
        if address is not None:
            reset_client_address(address)
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
