"""The app factory: configuration, database, plugins, security, admin, REST, i18n."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy
from babel.support import LazyProxy
from flask import Flask, jsonify, redirect, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

import coulisses
from coulisses import CoulissesError, PluginError, Permission, hookimpl
from coulisses import db as cdb
from coulisses.config import apply_plugin_defaults
from coulisses import plugins as cplugins
from coulisses import plugin_settings, security
from coulisses.web import auth, forms, hardening, inputs, metrics, observe
from coulisses.web.admin import ModelView
from coulisses.web.extensions import babel, csrf, db, login_manager
from coulisses.web.rest import API_PREFIX, Api
from coulisses.web.api_webhooks import WebhookHooks

from coulisses import i18n
from coulisses.i18n import LANGUAGES, format_money  # noqa: F401 - format_money re-exported for plugins
ENVIRONMENTS = ("production", "development", "testing")


from coulisses.config import ConfigError, settings_environment  # noqa: E402 - ConfigError re-exported


# --------------------------------------------------------------------------- configuration


def load_config(overrides: dict[str, Any] | None = None, *, check_secret: bool = True) -> dict[str, Any]:
    """The host's configuration: defaults, then ``COULISSES_*`` environment variables, then overrides.

    ``check_secret=False`` (the database commands, which sign nothing) skips the secret key's checks."""
    env = settings_environment()  # the configuration file, overridden by the environment
    cfg: dict[str, Any] = {
        "ENV": env.get("COULISSES_ENV", "production"),
        "INSTANCE_PATH": env.get("COULISSES_INSTANCE_PATH", str(Path.cwd() / "instance")),
        "DATABASE_URL": env.get("COULISSES_DATABASE_URL"),
        "SECRET_KEY": env.get("COULISSES_SECRET_KEY"),
        "PLUGINS": env.get("COULISSES_PLUGINS"),
        "LOCALE": env.get("COULISSES_LOCALE", "fr"),
        "TIMEZONE": env.get("COULISSES_TIMEZONE", "Europe/Paris"),
        "CURRENCY": env.get("COULISSES_CURRENCY", "EUR"),
        "HTTPS": env.get("COULISSES_HTTPS", ""),
        # a lock held by another transaction is waited for at most this long (s), then "busy, try again"
        "LOCK_TIMEOUT": env.get("COULISSES_LOCK_TIMEOUT", cdb.DEFAULT_LOCK_TIMEOUT),
        # request bodies: JSON and forms (413 beyond), and multipart uploads (file imports)
        "MAX_BODY_BYTES": env.get("COULISSES_MAX_BODY_BYTES", inputs.MAX_BODY_BYTES),
        "MAX_UPLOAD_BYTES": env.get("COULISSES_MAX_UPLOAD_BYTES", inputs.MAX_UPLOAD_BYTES),
        # logs: "text" or "json" (one object per line), and the level (coulisses.web.observe)
        "LOG_FORMAT": env.get("COULISSES_LOG_FORMAT", "text"),
        "LOG_LEVEL": env.get("COULISSES_LOG_LEVEL", "INFO"),
        # behind a reverse proxy: how many proxies' X-Forwarded-* headers are trusted
        "PROXY_COUNT": env.get("COULISSES_PROXY_COUNT", 0),
        # webhooks: seconds a receiver has to answer; days changes and deliveries are kept
        "WEBHOOKS_TIMEOUT": env.get("COULISSES_WEBHOOKS_TIMEOUT", 10),
        "WEBHOOKS_RETENTION_DAYS": env.get("COULISSES_WEBHOOKS_RETENTION_DAYS", 90),
        # /metrics: closed until a token (Bearer) and/or an allow-list of addresses is set
        "METRICS_TOKEN": env.get("COULISSES_METRICS_TOKEN", ""),
        "METRICS_ALLOW": env.get("COULISSES_METRICS_ALLOW", ""),
    }
    if env.get("COULISSES_OUTBOX_RUN"):
        cfg["OUTBOX_RUN"] = env["COULISSES_OUTBOX_RUN"]
    for key, default in SECURITY_SETTINGS.items():
        cfg[key] = env.get(f"COULISSES_{key}", default)
    cfg.update(overrides or {})
    if cfg["ENV"] not in ENVIRONMENTS:
        raise ConfigError(_one_of("ENV", ENVIRONMENTS, cfg["ENV"]))
    for key in (*SECURITY_SETTINGS, "PROXY_COUNT", "WEBHOOKS_TIMEOUT", "WEBHOOKS_RETENTION_DAYS"):
        cfg[key] = _whole_number(key, cfg[key])
    cfg["HTTPS"] = str(cfg["HTTPS"]).strip().lower() in ("1", "true", "yes", "on")
    from coulisses.web.observe import LOG_FORMATS, LOG_LEVELS

    cfg["LOG_FORMAT"], cfg["LOG_LEVEL"] = str(cfg["LOG_FORMAT"]).lower(), str(cfg["LOG_LEVEL"]).upper()
    if cfg["LOG_FORMAT"] not in LOG_FORMATS:
        raise ConfigError(_one_of("LOG_FORMAT", LOG_FORMATS, cfg["LOG_FORMAT"]))
    if cfg["LOG_LEVEL"] not in LOG_LEVELS:
        raise ConfigError(_one_of("LOG_LEVEL", LOG_LEVELS, cfg["LOG_LEVEL"]))
    cfg["INSTANCE_PATH"] = str(Path(cfg["INSTANCE_PATH"]).resolve())
    try:
        cfg["LOCK_TIMEOUT"] = cdb.lock_timeout_setting(cfg["LOCK_TIMEOUT"])
    except ValueError as exc:
        raise ConfigError(i18n.lazy_gettext("COULISSES_%(error)s", error=exc)) from None
    for key in ("MAX_BODY_BYTES", "MAX_UPLOAD_BYTES"):
        try:
            cfg[key] = int(cfg[key])
        except (TypeError, ValueError):
            cfg[key] = 0
        if cfg[key] <= 0:
            raise ConfigError(i18n.lazy_gettext("COULISSES_%(key)s doit être un nombre d'octets positif", key=key))
    from coulisses.web.metrics import parse_allow_list

    try:
        parse_allow_list(cfg["METRICS_ALLOW"])
    except ValueError as exc:
        raise ConfigError(metrics.allow_list_error(exc)) from None
    if cfg["METRICS_TOKEN"] and len(str(cfg["METRICS_TOKEN"])) < MIN_METRICS_TOKEN_LENGTH:
        from coulisses.i18n import gettext

        raise ConfigError(gettext("COULISSES_METRICS_TOKEN est trop court (%(minimum)d caractères au moins) : "
                                  "générez-en un avec %(command)s.", minimum=MIN_METRICS_TOKEN_LENGTH,
                                  command="python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"))
    if not cfg["DATABASE_URL"]:
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(cfg["INSTANCE_PATH"]) / "coulisses.db")
    if check_secret and cfg["ENV"] == "production" and cfg.get("SECRET_KEY"):
        weakness = secret_key_weakness(cfg["SECRET_KEY"])
        if weakness:
            raise ConfigError(weakness)
    if not cfg.get("SECRET_KEY"):
        if cfg["ENV"] == "production":
            raise ConfigError(i18n.lazy_gettext(
                "COULISSES_SECRET_KEY n'est pas défini : l'application refuse de démarrer en production sans clé "
                "secrète (générez-en une avec %(command)s), ou mettez COULISSES_ENV=development sur une machine de "
                "développement.", command="python -c 'import secrets; print(secrets.token_hex(32))'"))
        cfg["SECRET_KEY"] = _development_secret(cfg)
    return cfg


MIN_SECRET_KEY_LENGTH = 32
MIN_METRICS_TOKEN_LENGTH = 24
# Values shown in documentation and examples: never a production key
KNOWN_EXAMPLE_SECRETS = frozenset({
    "...", "changeme", "change-me", "secret", "secret-key", "dev", "development", "testing-secret-key",
    "unused-by-the-cli", "your-secret-key", "replace-me",
})


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is not fit for production (one line), or None."""
    from coulisses.i18n import gettext

    key = str(key)
    how = "python3 -c 'import secrets; print(secrets.token_hex(32))'"
    if key.strip().lower() in KNOWN_EXAMPLE_SECRETS:
        return gettext("COULISSES_SECRET_KEY est une valeur d'exemple de la documentation : générez-en une "
                       "avec %(command)s.", command=how)
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return gettext("COULISSES_SECRET_KEY est trop courte (%(length)d caractères, %(minimum)d au moins) : "
                       "générez-en une avec %(command)s.", length=len(key), minimum=MIN_SECRET_KEY_LENGTH,
                       command=how)
    if len(set(key)) < 8:
        return gettext("COULISSES_SECRET_KEY est trop simple (trop peu de caractères différents) : générez-en "
                       "une avec %(command)s.", command=how)
    return None


# Idle timeout of operator sessions and login throttling (coulisses.throttle.Policy), in whole numbers
SECURITY_SETTINGS = {
    "SESSION_IDLE_MINUTES": 30,
    "TOKEN_CACHE_SECONDS": security.TOKEN_CACHE_SECONDS,  # a bearer token's look-up kept in the process
    "LOGIN_FREE_FAILURES": 3,
    "LOGIN_LOCK_FAILURES": 10,
    "LOGIN_ADDRESS_FREE_FAILURES": 10,
    "LOGIN_ADDRESS_LOCK_FAILURES": 30,
    "LOGIN_LOCK_MINUTES": 15,
    "LOGIN_MAX_DELAY_SECONDS": 30,
}


def _whole_number(key: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if number < 0:
        raise ConfigError(i18n.lazy_gettext("COULISSES_%(key)s doit être un nombre entier (0 ou plus), pas %(value)r",
                                            key=key, value=value))
    return number


def _one_of(key: str, allowed, value: Any):
    return i18n.lazy_gettext("COULISSES_%(key)s doit être l'une des valeurs %(allowed)s, pas %(value)r", key=key,
                             allowed=", ".join(allowed), value=value)


def _development_secret(cfg: dict) -> str:
    if cfg["ENV"] == "testing":
        return "testing-secret-key"
    path = Path(cfg["INSTANCE_PATH"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# --------------------------------------------------------------------------- the host as a plugin


class CoreHooks(WebhookHooks):
    """The host's own contributions, registered under the name ``core`` before every plugin."""

    @hookimpl
    def coulisses_permissions(self):
        return [
            Permission("core.plugins.view", i18n.lazy_gettext("Voir les plugins"), ("supervisor",)),
            Permission("core.plugins.manage", i18n.lazy_gettext("Activer et désactiver les plugins")),
            Permission("core.operators.manage", i18n.lazy_gettext("Gérer les opérateurs, rôles et jetons d'API")),
            Permission("core.api.docs", i18n.lazy_gettext("Lire la documentation de l'API"),
                       ("supervisor", "operator", "readonly")),
            Permission("core.jobs.view", i18n.lazy_gettext("Voir les tâches de fond"), ("supervisor",)),
            Permission("core.jobs.manage", i18n.lazy_gettext("Relancer ou annuler les tâches de fond"), ("supervisor",)),
            Permission("core.security.events", i18n.lazy_gettext("Consulter le journal de sécurité")),
            Permission("core.webhooks.manage", i18n.lazy_gettext("Gérer les webhooks et voir leurs envois")),
            Permission("core.changes", i18n.lazy_gettext("Lire le flux des changements (API)")),
        ]


    @hookimpl
    def coulisses_admin_views(self, admin):
        from coulisses.web.admin import core_admin_views

        return core_admin_views()


@dataclass
class CoulissesState:
    """What the app knows of its plugins: ``app.extensions["coulisses"]``."""

    infos: dict[str, cplugins.PluginInfo]
    order: list[str]
    pm: pluggy.PluginManager
    api: Api
    permissions: dict[str, security.DeclaredPermission]
    admin: Admin | None = None

    def is_enabled(self, name: str) -> bool:
        return name in self.order

    def plugin_rows(self) -> list[dict]:
        rows = []
        for name, info in self.infos.items():
            rows.append({
                "name": name,
                "label": info.label,
                "version": info.version,
                "state": "enabled" if name in self.order else ("error" if info.error else "disabled"),
                "depends": [d for d, _ in info.depends],
                "optional_depends": [d for d, _ in info.optional_depends],
                "description": info.manifest.description if info.manifest else (info.error or ""),
                "error": info.error,
            })
        return rows


def state() -> CoulissesState:
    from flask import current_app

    return current_app.extensions["coulisses"]


# --------------------------------------------------------------------------- the factory


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides the environment (keys without the COULISSES_ prefix).

    Raises ``ConfigError`` or ``PluginError`` with a message meant for the person starting it.
    """
    cfg = load_config(config)
    cdb.CURRENCY = cfg["CURRENCY"]
    cdb.PROCESS_KIND[0] = "web"
    here = Path(__file__).resolve().parent.parent
    app = Flask("coulisses", instance_path=cfg["INSTANCE_PATH"], template_folder=str(here / "templates"),
                static_folder=str(here / "static"), static_url_path="/static")
    app.config.update(cfg)
    app.json = JSONProvider(app)
    proxies = cfg["PROXY_COUNT"]
    if proxies:  # behind a reverse proxy: trust its X-Forwarded-For/Proto/Host headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.config["TESTING"] = cfg["ENV"] == "testing"
    # Jobs enqueued by a request run right after its commit: in a thread, inline in tests.
    app.config.setdefault("OUTBOX_RUN", "inline" if cfg["ENV"] == "testing" else "thread")
    app.config["DEBUG"] = cfg["ENV"] == "development" and app.config.get("DEBUG", False)
    # Secure session cookie: always with COULISSES_HTTPS=1, else whenever a request came over HTTPS
    app.config["SESSION_COOKIE_SECURE"] = bool(cfg.get("SESSION_COOKIE_SECURE", cfg["HTTPS"]))
    # process-wide (the cache is the process's): the last app created sets it
    security.token_cache.seconds = cfg["TOKEN_CACHE_SECONDS"]
    hardening.init_hardening(app)
    observe.init_observability(app)
    metrics.init_metrics(app)  # /metrics answers before the login machinery reads its bearer token
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked in before_request, bearer requests excepted
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    # The referrer check is the host's (auth.check_same_origin): Flask-WTF's refuses a login without a
    # Referer and one behind a proxy passing ``Host $host`` on a port other than 443.
    app.config["WTF_CSRF_SSL_STRICT"] = False
    app.config["BABEL_DEFAULT_LOCALE"] = cfg["LOCALE"]
    app.config["BABEL_DEFAULT_TIMEZONE"] = cfg["TIMEZONE"]
    app.config["FLASK_ADMIN_SWATCH"] = "default"
    engine_options: dict[str, Any] = {"url": cfg["DATABASE_URL"]}
    if cfg["DATABASE_URL"].startswith("sqlite"):
        Path(cfg["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    else:
        engine_options.update(pool_pre_ping=True)
    engine_options.update(cfg.get("ENGINE_OPTIONS", {}))
    app.config["SQLALCHEMY_ENGINES"] = {"default": engine_options}
    db.init_app(app)
    # No async engine is configured: drop Flask-SQLAlchemy-Lite's async teardown, which otherwise runs
    # through asgiref on every request and fails in a thread that has an event loop running.
    app.teardown_appcontext_funcs[:] = [
        f for f in app.teardown_appcontext_funcs if getattr(f, "__name__", "") != "_close_async_sessions"
    ]

    with app.app_context():
        cdb.configure_engine(db.engine, lock_timeout=cfg["LOCK_TIMEOUT"])
        infos = cplugins.discover()
        requested = cplugins.requested_plugins(db.session, infos, cplugins.parse_plugin_list(cfg["PLUGINS"]))
        order = cplugins.resolve(infos, requested)
        pm = cplugins.build_manager_with_core(infos, order, CoreHooks())
        apply_plugin_defaults(app.config, pm, config)
        # the settings administrators saved on the plugins screen (coulisses_settings_schema)
        plugin_settings.install(app.config, db.session, pm, explicit=config)
        permissions = security.collect_permissions(cplugins.call_each_safely(pm, "coulisses_permissions"))
        _sync_permissions(permissions)
        db.session.close()

    @app.before_request
    def _refresh_plugin_settings():  # a change saved by another worker process, within a few seconds
        plugin_settings.refresh(app.config, db.session, pm)

    # The host's catalogues, then each loaded plugin's (<plugin>/translations/<lang>/LC_MESSAGES/messages.po)
    translations = [str(here / "translations")]
    for name in order:
        root = infos[name].root
        if root is not None and (root / "translations").is_dir():
            translations.append(str(root / "translations"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translations)

    api = Api()
    st = CoulissesState(infos, order, pm, api, permissions)
    app.extensions["coulisses"] = st

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: app.config["TIMEZONE"])
    # Templates translate through coulisses.i18n, like the Python code: one set of catalogues.
    app.jinja_env.install_gettext_callables(gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True,
                                            pgettext=i18n.pgettext)
    forms.init_input_guards(app)  # body limits first: the CSRF check below reads the form
    auth.init_request_security(app)
    forms.init_form_guard(app)
    app.register_blueprint(auth.bp)
    forms.checked_by_form(app, "auth.login")

    admin = Admin(app, name="Coulisses", url="/admin",
                  theme=Bootstrap4Theme(base_template="coulisses/master.html", fluid=True),
                  index_view=_home_view(), csp_nonce_generator=hardening.csp_nonce)
    st.admin = admin
    with app.app_context():
        for plugin, views in cplugins.call_each_safely(pm, "coulisses_admin_views", admin=admin):
            # a lazy string: the menu category is shown in the operator's language
            if plugin == "core":
                label = i18n.lazy_gettext("Administration")
            else:  # the manifest's own (lazy) label, not the text it has at start-up
                label = infos[plugin].manifest.label if infos[plugin].manifest else infos[plugin].name
            for view in views:
                if plugin != "core" and not view.endpoint.startswith(f"{plugin}_"):
                    raise PluginError(plugin, i18n.lazy_gettext(
                        "le point d'entrée de la vue d'administration « %(endpoint)s » doit commencer par "
                        "« %(prefix)s »", endpoint=view.endpoint, prefix=plugin + "_"))
                if not view.category:
                    view.category = label
                admin.add_view(view)
                if isinstance(view, ModelView):  # its create and edit forms check their own fields
                    for name in ("create_view", "edit_view"):
                        forms.checked_by_form(app, f"{view.endpoint}.{name}")

    for plugin, blueprints in cplugins.call_each_safely(pm, "coulisses_blueprints"):
        for bp in blueprints:
            app.register_blueprint(bp)

    for impl in cplugins.ordered_impls(pm, "coulisses_api_routes"):
        api.current_plugin = None if impl.plugin_name == "core" else impl.plugin_name
        try:
            impl.function(api=api)
        except Exception as exc:  # noqa: BLE001 - named, like every hook called at startup
            raise PluginError(impl.plugin_name, cplugins.hook_failed("coulisses_api_routes", exc)) from exc
    api.current_plugin = None
    app.register_blueprint(api.blueprint)

    @app.route("/")
    def root():
        return redirect(url_for("admin.index"))

    @app.route("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico before reading the page's <link rel="icon">."""
        return redirect(url_for("static", filename="coulisses/favicon.svg"), 301)

    @app.route("/health")
    def health():
        """Liveness and database check for load balancers; public, and tells nothing else."""
        try:
            cdb.ping(db.session)
        except Exception:  # noqa: BLE001
            return jsonify({"status": "unavailable"}), 503
        return jsonify({"status": "ok"})

    observe.register_health(app, db)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        # Under /api/ every error is JSON, also for URLs no route matches (the API blueprint's own
        # handler only sees requests that reached one of its routes).
        if request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/"):
            return Api._http_error(exc)
        return error_page(exc)

    # An unexpected exception (outside the tests, which let it through) becomes Flask's
    # InternalServerError, answered by the handler above: the product's 500 page, or JSON under /api/.

    @app.context_processor
    def _template_context():
        ctx: dict[str, Any] = {"coulisses_state": st, "money": format_money, "local_dt": format_local_datetime,
                               "has_permission": auth.has_permission, "coulisses_version": coulisses.__version__,
                               "current_language": i18n.current_locale(), "language_names": i18n.LANGUAGE_NAMES,
                               "js_messages": i18n.js_messages, "json_script": i18n.json_script,
                               "locale_settings": i18n.locale_settings}
        ctx["plugin_js_messages"] = _plugin_js_messages
        for _plugin, values in cplugins.call_each(pm, "coulisses_template_context"):
            ctx.update(values)
        return ctx

    def _plugin_js_messages() -> dict[str, str]:
        """The strings the plugins' JavaScript shows on every page (hook ``coulisses_js_messages``),
        in the operator's language."""
        merged: dict[str, str] = {}
        for _plugin, values in cplugins.call_each(pm, "coulisses_js_messages"):
            merged.update({key: str(text) for key, text in (values or {}).items()})
        return merged

    app.jinja_env.globals["get_locale"] = _current_locale  # <html lang="…">
    # a date field of a hand-written screen: <input data-role="datepicker" data-date-format="{{ date_picker_format() }}">
    app.jinja_env.globals["date_picker_format"] = i18n.date_picker_format
    app.jinja_env.globals["date_placeholder"] = i18n.date_placeholder
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["local_dt"] = format_local_datetime
    app.jinja_env.filters["local_date"] = i18n.format_date
    app.jinja_env.filters["number"] = i18n.format_number
    app.jinja_env.filters["percent"] = i18n.format_percent

    for plugin, _ in cplugins.call_each_safely(pm, "coulisses_startup", app=app):
        pass
    return app


# The error pages' titles and messages, by status; other statuses get the generic ones
ERROR_PAGES = {
    400: (i18n.lazy_gettext("Demande incorrecte"),
          i18n.lazy_gettext("La demande envoyée n'a pas pu être comprise. Revenez en arrière et réessayez.")),
    403: (i18n.lazy_gettext("Accès refusé"),
          i18n.lazy_gettext("Vous n'avez pas la permission d'accéder à cette page.")),
    404: (i18n.lazy_gettext("Page introuvable"),
          i18n.lazy_gettext("Cette page n'existe pas ou n'existe plus. Vérifiez l'adresse, ou repartez de l'accueil.")),
    405: (i18n.lazy_gettext("Action impossible ici"),
          i18n.lazy_gettext("Cette page ne permet pas cette action. Revenez en arrière et utilisez les boutons de l'écran.")),
    413: (i18n.lazy_gettext("Envoi trop volumineux"),
          i18n.lazy_gettext("Ce qui a été envoyé dépasse la taille permise.")),
    500: (i18n.lazy_gettext("Erreur inattendue"),
          i18n.lazy_gettext("Une erreur inattendue est survenue ; rien n'a été enregistré de cette demande. "
                            "Elle est consignée dans le journal : réessayez, et prévenez votre administrateur "
                            "si elle se reproduit.")),
}
GENERIC_ERROR = (i18n.lazy_gettext("La demande n'a pas abouti"),
                 i18n.lazy_gettext("La demande n'a pas pu être traitée. Revenez en arrière et réessayez."))


def error_page(exc: HTTPException):
    """The product's own error page for ``exc``, in the operator's language, with the exception's
    headers (405: ``Allow``; 429: ``Retry-After``)."""
    from flask import render_template
    from flask_wtf.csrf import CSRFError

    code = exc.code or 500
    title, message = ERROR_PAGES.get(code, GENERIC_ERROR)
    back = None
    if isinstance(exc, CSRFError):
        # An expired session or a form not sent by Coulisses: say so, and how to get out of it.
        title = i18n.gettext("Formulaire expiré")
        message = i18n.gettext("Ce formulaire a expiré ou ne vient pas de Coulisses. "
                               "Revenez en arrière, rechargez la page et envoyez-le à nouveau.")
        if getattr(exc, "coulisses_explained", False):
            # Sent from another address than the server thinks it has: say which (a proxy's headers)
            message = exc.description
        back = request.referrer
    elif code in (400, 405, 413):
        back = request.referrer
    try:
        body = render_template("coulisses/error.html", code=code, title=str(title), message=str(message), back=back)
    except Exception:  # noqa: BLE001 - the error page must never fail in turn
        body = f"<!DOCTYPE html><html><head><title>{code}</title></head><body><main><h1>{code}</h1></main></body></html>"
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, code, headers


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, knowing lazy translated strings (``coulisses.i18n._l``); compact (no indentation,
    even in development) and in the order the answer was built (no sorting of the keys)."""

    compact = True
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, LazyProxy):
            return str(o)
        return DefaultJSONProvider.default(o)


def _home_view():
    from coulisses.web.admin import HomeView

    return HomeView(name=i18n.lazy_gettext("Accueil"), url="/admin")


def _sync_permissions(permissions) -> None:
    if not inspect(db.engine).has_table(security.KnownPermission.__tablename__):
        return  # a database not yet created: `coulisses db upgrade` will do it
    try:
        security.sync_roles_and_permissions(db.session, permissions)
        db.session.commit()
    except IntegrityError:  # another worker did it at the same moment
        db.session.rollback()


def _select_locale():
    """The language of a request: an API call's ``Accept-Language`` header first; a screen's the
    operator's choice (remembered), else the session's, else the browser's; else the deployment's."""
    from flask import has_request_context, session

    if not has_request_context():
        return None  # the default locale (COULISSES_LOCALE)
    header = request.accept_languages.best_match(LANGUAGES) if request.headers.get("Accept-Language") else None
    if request.path.startswith(API_PREFIX + "/") and header:
        return header
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    return header or None


def _current_locale() -> str:
    return i18n.current_locale()


def format_local_datetime(value, fmt: str | None = None) -> str:
    """A UTC datetime (or its ISO string) in the deployment's time zone and the operator's language:
    ``02.11.2015 20:15`` (fr), ``02/11/2015 20:15`` (en, es). ``fmt`` naming a day only
    (``"dd.MM.yyyy"``) gives the day."""
    if fmt is not None and "H" not in fmt:
        return i18n.format_date(value)
    return i18n.format_datetime(value)
