"""Plugin settings an administrator edits on the plugins screen, from the schema each plugin declares
(``coulisses_settings_schema``: a marshmallow Schema class, one field per setting, ``load_default``
its default).

Where a value comes from, the later winning: the schema's default (and the plugin's
``coulisses_config_defaults``), the value saved on the screen (stored in ``core_setting`` under
``plugin_setting:<KEY>``), then the configuration file, the ``COULISSES_<KEY>`` environment variable
and the configuration given to ``create_app`` — those are *fixed*: the screen shows them and does not
change them.

Services read every setting the same way, ``coulisses.config.current_config()[KEY]``, in the web app,
the CLI, the tasks and the worker: the app and each command apply the saved values at start
(``install``), and a long-running process picks up a change made elsewhere within
``REFRESH_SECONDS`` (``refresh``, called before each request and by the worker's loop).
Every change is recorded in the security journal (``plugin_settings_changed``: who, which key, the
old and the new value).
"""
from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any, Mapping, MutableMapping

from marshmallow import Schema, ValidationError, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import InvalidError, PluginError
from coulisses import plugins as cplugins
from coulisses.db import Setting, get_setting, set_setting
from coulisses.i18n import _, _l
from coulisses.registry import must_start

STORE_PREFIX = "plugin_setting:"
REVISION_KEY = "plugin_settings.revision"
REFRESH_SECONDS = 5.0
FIXED_KEY = "_COULISSES_FIXED_SETTINGS"  # in the config: the keys given outside the database
_REVISION_SEEN = "_COULISSES_SETTINGS_REVISION"
_CHECKED_AT = "_COULISSES_SETTINGS_CHECKED_AT"


def schemas(pm) -> dict[str, Schema]:
    """``plugin → Schema instance`` for each plugin declaring settings (keys checked)."""
    found: dict[str, Schema] = {}
    for plugin, schema in cplugins.call_each_safely(pm, "coulisses_settings_schema"):
        if schema is None:
            continue
        if not (isinstance(schema, type) and issubclass(schema, Schema)):
            raise PluginError(plugin, _l("coulisses_settings_schema doit renvoyer une classe Schema de marshmallow"))
        instance = schema()
        prefix = f"{plugin.upper()}_"
        for name in instance.fields:
            if not name.startswith(prefix):
                raise PluginError(plugin, must_start(_l("réglage"), name, prefix))
        found[plugin] = instance
    return found


def _default(field: fields.Field) -> Any:
    value = field.load_default
    return value() if callable(value) else (None if value is fields.missing_ else value)


def declared_defaults(pm) -> dict[str, tuple[str, Any]]:
    """``KEY → (plugin, default)`` for every setting a plugin declares editable."""
    return {key: (plugin, _default(field)) for plugin, schema in schemas(pm).items()
            for key, field in schema.fields.items()}


def fixed_keys(explicit: Mapping[str, Any] | None = None) -> set[str]:
    """The settings given by the configuration file, the environment or ``explicit`` (create_app's)."""
    from coulisses.config import PREFIX, settings_environment

    keys = {k[len(PREFIX):] for k in settings_environment()}
    return keys | set(explicit or {})


def _encode(value: Any) -> str:
    return json.dumps(str(value) if isinstance(value, Decimal) else value)


def stored(session: Session) -> dict[str, Any]:
    rows = session.scalars(select(Setting).where(Setting.key.startswith(STORE_PREFIX)))
    return {row.key[len(STORE_PREFIX):]: json.loads(row.value) for row in rows}


def _effective(schema: Schema, key: str, raw: Any) -> Any:
    """A stored value through its field (a Decimal back from its string); the default if it no longer loads."""
    try:
        return schema.load({key: raw}, partial=True)[key]
    except ValidationError:
        return _default(schema.fields[key])


def install(config: MutableMapping[str, Any], session: Session, pm, explicit: Mapping[str, Any] | None = None) -> None:
    """At start (app, command): remember the fixed keys, keep the defaults to fall back on, apply."""
    config[FIXED_KEY] = fixed_keys(explicit)
    config["_COULISSES_SETTINGS_DEFAULTS"] = {
        key: config.get(key, _default(field)) for schema in schemas(pm).values() for key, field in schema.fields.items()}
    _apply(config, session, pm)


def _apply(config: MutableMapping[str, Any], session: Session, pm) -> None:
    fixed = config.get(FIXED_KEY) or set()
    defaults = config.get("_COULISSES_SETTINGS_DEFAULTS") or {}
    try:
        saved = stored(session)
        revision = get_setting(session, REVISION_KEY, "0")
    except Exception:  # noqa: BLE001 - a database without the host's tables yet: the defaults
        session.rollback()
        saved, revision = {}, "0"
    for schema in schemas(pm).values():
        for key, field in schema.fields.items():
            if key in fixed:
                continue
            config[key] = _effective(schema, key, saved[key]) if key in saved else defaults.get(key, _default(field))
    config[_REVISION_SEEN] = revision
    config[_CHECKED_AT] = time.monotonic()


def refresh(config: MutableMapping[str, Any], session: Session, pm, *, force: bool = False) -> bool:
    """Apply the values saved by another process, if any changed since this one last looked (at most
    every ``REFRESH_SECONDS``). True when it re-read them."""
    if FIXED_KEY not in config:
        return False
    if not force and time.monotonic() - config.get(_CHECKED_AT, 0) < REFRESH_SECONDS:
        return False
    config[_CHECKED_AT] = time.monotonic()
    try:
        revision = get_setting(session, REVISION_KEY, "0")
    except Exception:  # noqa: BLE001
        session.rollback()
        return False
    if revision == config.get(_REVISION_SEEN) and not force:
        return False
    _apply(config, session, pm)
    return True


def rows(pm, plugin: str, config: Mapping[str, Any]) -> list[dict]:
    """The plugin's editable settings for the screen: key, label, description, kind of input, choices,
    default, effective value, fixed (given outside the database)."""
    schema = schemas(pm).get(plugin)
    if schema is None:
        return []
    fixed = config.get(FIXED_KEY) or set()
    out = []
    for key, field in schema.fields.items():
        choices = None
        for validator in getattr(field, "validators", []):
            if hasattr(validator, "choices"):
                choices = list(validator.choices)
        kind = ("boolean" if isinstance(field, fields.Boolean) else "integer" if isinstance(field, fields.Integer)
                else "decimal" if isinstance(field, fields.Decimal) else "choice" if choices else "text")
        out.append({"key": key, "label": str(field.metadata.get("label") or key),
                    "description": str(field.metadata.get("description") or ""), "kind": kind,
                    "choices": choices, "default": _default(field), "value": config.get(key, _default(field)),
                    "fixed": key in fixed})
    return out


def save(session: Session, pm, plugin: str, form: Mapping[str, Any], config: MutableMapping[str, Any]) -> list[str]:
    """Validate and store the values of ``plugin``'s settings given in ``form`` (strings as typed; a
    boolean absent is false), record each change in the security journal, apply them to ``config``.
    Returns the keys that changed; raises ``InvalidError`` (field messages) and changes nothing when a
    value is refused. The caller commits."""
    from coulisses.security_events import record_event

    schema = schemas(pm).get(plugin)
    if schema is None:
        raise InvalidError(_("le plugin « %(plugin)s » ne déclare aucun réglage", plugin=plugin))
    fixed = config.get(FIXED_KEY) or set()
    data: dict[str, Any] = {}
    for key, field in schema.fields.items():
        if key in fixed:
            continue
        if isinstance(field, fields.Boolean):
            data[key] = str(form.get(key, "")).lower() in ("1", "true", "on", "yes", "y")
        else:
            data[key] = str(form.get(key, "")).strip()
    try:
        values = schema.load(data, partial=True)
    except ValidationError as exc:
        raise InvalidError(_("Réglages non valides"), {k: v if isinstance(v, list) else [str(v)]
                                                for k, v in exc.messages.items()}) from None
    changed = []
    saved = stored(session)
    for key, value in values.items():
        before = config.get(key)
        if key in saved and _effective(schema, key, saved[key]) == value and before == value:
            continue
        if key not in saved and before == value:
            continue
        set_setting(session, STORE_PREFIX + key, _encode(value))
        record_event(session, "plugin_settings_changed", detail=f"{plugin} {key} {_encode(before)} -> {_encode(value)}")
        changed.append(key)
    if changed:
        revision = str(int(get_setting(session, REVISION_KEY, "0") or 0) + 1)
        set_setting(session, REVISION_KEY, revision)
        session.flush()
        for key in changed:
            config[key] = values[key]
        config[_REVISION_SEEN] = revision
    return changed
