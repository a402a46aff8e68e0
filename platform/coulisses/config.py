"""The configuration as services see it, in the web app and outside it (CLI, tasks, benchmarks).

Settings come from, in this order (the later wins): the defaults (the host's, the plugins'
``coulisses_config_defaults``), a configuration file, the ``COULISSES_*`` environment variables, and
the configuration passed to ``create_app``. The file is ``COULISSES_CONFIG`` (a path; it must exist),
else ``<instance>/coulisses.toml`` when there is one. It is TOML: top-level keys are settings without
their prefix (``secret_key = "…"`` or ``SECRET_KEY``), a table is a plugin's or a group's prefix
(``[contacts] purge_enabled = true`` is ``CONTACTS_PURGE_ENABLED``). ``settings_environment()`` gives
the merged ``COULISSES_*`` strings every reader uses, ``setting_sources()`` where each one came from.

``current_config()`` is the Flask app's ``config`` inside an app context, else the configuration the
CLI (or a test) installed with ``use_config``. Plugins' defaults (``coulisses_config_defaults``) are
applied the same way in both: a ``COULISSES_<KEY>`` environment variable overrides a default, and an
explicit configuration value overrides both.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from coulisses import CoulissesError

PREFIX = "COULISSES_"
FILE_NAME = "coulisses.toml"


class ConfigError(CoulissesError):
    """A setting that is missing or wrong: the message is meant for the person starting Coulisses."""

_config: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("coulisses_config", default=None)


def coerce(value: str, default: Any) -> Any:
    """An environment string turned into the type of the default it overrides."""
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(value)
    return value


def config_file_path(environ: Mapping[str, str] | None = None) -> Path | None:
    """The configuration file in use: ``COULISSES_CONFIG``, else ``<instance>/coulisses.toml`` if present."""
    from coulisses.i18n import gettext

    environ = os.environ if environ is None else environ
    explicit = environ.get(PREFIX + "CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(gettext("COULISSES_CONFIG désigne %(path)s, qui n'existe pas.", path=str(path)))
        return path
    instance = Path(environ.get(PREFIX + "INSTANCE_PATH") or Path.cwd() / "instance")
    path = instance / FILE_NAME
    return path if path.is_file() else None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def read_config_file(path: Path) -> dict[str, str]:
    """The file's settings as ``COULISSES_<KEY>`` strings, the same form as the environment's."""
    from coulisses.i18n import gettext

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(gettext("Le fichier de configuration %(path)s est illisible : %(reason)s",
                                  path=str(path), reason=str(exc))) from None
    values: dict[str, str] = {}

    def walk(table: Mapping[str, Any], prefix: str) -> None:
        for key, value in table.items():
            name = prefix + str(key).upper().replace("-", "_")
            if not prefix and name.startswith(PREFIX):
                name = name[len(PREFIX):]
            if isinstance(value, dict):
                walk(value, name + "_")
            else:
                values[PREFIX + name] = _as_text(value)

    walk(data, "")
    return values


def settings_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``COULISSES_*`` settings: the configuration file's, overridden by the environment's."""
    environ = os.environ if environ is None else environ
    path = config_file_path(environ)
    merged = read_config_file(path) if path is not None else {}
    merged.update({k: v for k, v in environ.items() if k.startswith(PREFIX)})
    return merged


def setting_sources(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{"SECRET_KEY": "environment" | "file"}`` for each setting given outside the defaults."""
    environ = os.environ if environ is None else environ
    path = config_file_path(environ)
    sources = {k[len(PREFIX):]: "file" for k in (read_config_file(path) if path is not None else {})}
    sources.update({k[len(PREFIX):]: "environment" for k in environ if k.startswith(PREFIX)})
    return sources


def apply_plugin_defaults(config: dict[str, Any], pm, explicit: Mapping[str, Any] | None = None) -> None:
    """Fill ``config`` with the plugins' defaults, overridden by the environment and ``explicit``."""
    from coulisses import plugins as cplugins

    explicit = explicit or {}
    settings = settings_environment()
    for _plugin, defaults in cplugins.call_each_safely(pm, "coulisses_config_defaults"):
        for key, value in defaults.items():
            if key in explicit:
                config[key] = explicit[key]
                continue
            env_value = settings.get(f"COULISSES_{key}")
            config[key] = coerce(env_value, value) if env_value is not None else value


def current_config() -> Mapping[str, Any]:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.config
    cfg = _config.get()
    return cfg if cfg is not None else {}


@contextlib.contextmanager
def use_config(config: Mapping[str, Any]):
    token = _config.set(config)
    try:
        yield config
    finally:
        _config.reset(token)


def install_config(config: Mapping[str, Any]) -> None:
    """Make ``config`` the current configuration of this process outside Flask (the CLI)."""
    _config.set(config)


# --------------------------------------------------------------------------- coulisses config check

SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN")
HOST_ONLY_KEYS = {"CONFIG", "TEST_DATABASE_URL"}


def masked(key: str, value: Any) -> str:
    """A setting as it may be shown: secrets hidden, a database URL without its password."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as written in the file
    if any(word in key for word in SECRET_WORDS):
        return "********"
    if key == "DATABASE_URL":
        from sqlalchemy.engine import make_url

        try:
            return make_url(str(value)).render_as_string(hide_password=True)
        except Exception:  # noqa: BLE001 - shown as refused below
            return "********"
    return str(value)


def check_configuration(environ: Mapping[str, str] | None = None):
    """``(rows, problems)``: each effective setting as ``(key, shown value, source)`` and the reasons
    the configuration is refused (empty: fine). Reads no database."""
    from coulisses import plugins as cplugins
    from coulisses.i18n import gettext as _
    from coulisses.web.app import load_config, secret_key_weakness

    environ = os.environ if environ is None else environ
    problems: list[str] = []
    try:
        path = config_file_path(environ)
        from_file = read_config_file(path) if path is not None else {}
    except ConfigError as exc:
        return [], [str(exc)]
    secret = settings_environment(environ).get(PREFIX + "SECRET_KEY")
    try:  # the secret key is checked below, with the other reasons
        cfg = load_config({"SECRET_KEY": secret or "checked-below"}, check_secret=False)
    except ConfigError as exc:
        return [], [str(exc)]
    sources = setting_sources(environ)
    if cfg["ENV"] == "production":
        if not secret:
            problems.append(_("COULISSES_SECRET_KEY manque : elle est obligatoire en production."))
        else:
            weakness = secret_key_weakness(secret)
            if weakness:
                problems.append(weakness)
    plugin_defaults: dict[str, tuple[str, Any]] = {}
    try:
        infos = cplugins.discover()
        pm = cplugins.build_manager(infos, [n for n, info in infos.items() if not info.error])
        for plugin, defaults in cplugins.call_each_safely(pm, "coulisses_config_defaults"):
            for key, value in defaults.items():
                plugin_defaults[key] = (plugin, value)
        from coulisses.plugin_settings import declared_defaults

        for key, (plugin, value) in declared_defaults(pm).items():  # the settings edited on screen too
            plugin_defaults.setdefault(key, (plugin, value))
    except CoulissesError as exc:
        problems.append(str(exc))
    settings = settings_environment(environ)
    for key, (plugin, default) in plugin_defaults.items():
        if PREFIX + key in settings:
            try:
                cfg[key] = coerce(settings[PREFIX + key], default)
            except ValueError:
                problems.append(_("COULISSES_%(key)s doit être un nombre entier, pas %(value)r.",
                                  key=key, value=settings[PREFIX + key]))
                cfg[key] = settings[PREFIX + key]
        else:
            cfg[key] = default
    known = set(cfg) | HOST_ONLY_KEYS
    for name in from_file:
        if name[len(PREFIX):] not in known:
            problems.append(_("Réglage inconnu dans %(path)s : %(key)s (faute de frappe ?)",
                              path=str(path), key=name[len(PREFIX):].lower()))
    rows = []
    for key in sorted(cfg):
        if key in plugin_defaults and key not in sources:
            source = _("défaut du plugin %(plugin)s", plugin=plugin_defaults[key][0])
        elif sources.get(key) == "environment":
            source = _("environnement (COULISSES_%(key)s)", key=key)
        elif sources.get(key) == "file":
            source = _("fichier %(path)s", path=str(path))
        else:
            source = _("défaut")
        if key == "SECRET_KEY" and not secret:
            shown = _("(générée hors production)") if cfg["ENV"] != "production" else ""
        else:
            shown = masked(key, cfg[key])
        rows.append((key, shown, source))
    return rows, problems
