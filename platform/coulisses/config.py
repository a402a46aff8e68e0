"""The configuration as services see it, in the web app and outside it (CLI, tasks, benchmarks).

``current_config()`` is the Flask app's ``config`` inside an app context, else the configuration the
CLI (or a test) installed with ``use_config``. Plugins' defaults (``coulisses_config_defaults``) are
applied the same way in both: a ``COULISSES_<KEY>`` environment variable overrides a default, and an
explicit configuration value overrides both.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from typing import Any, Mapping

_config: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar("coulisses_config", default=None)


def coerce(value: str, default: Any) -> Any:
    """An environment string turned into the type of the default it overrides."""
    if isinstance(default, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(value)
    return value


def apply_plugin_defaults(config: dict[str, Any], pm, explicit: Mapping[str, Any] | None = None) -> None:
    """Fill ``config`` with the plugins' defaults, overridden by the environment and ``explicit``."""
    from coulisses import plugins as cplugins

    explicit = explicit or {}
    for _plugin, defaults in cplugins.call_each_safely(pm, "coulisses_config_defaults"):
        for key, value in defaults.items():
            if key in explicit:
                config[key] = explicit[key]
                continue
            env_value = os.environ.get(f"COULISSES_{key}")
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
