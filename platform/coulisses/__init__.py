"""Coulisses: the host. Plumbing only; the ticketing vocabulary lives in the plugins.

What a plugin needs from the host is importable from here:

    from coulisses import Manifest, Permission, hookimpl
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy

__version__ = "0.1.0"

PROJECT = "coulisses"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class Manifest:
    """What a plugin says about itself (module-level ``MANIFEST`` of the plugin package).

    ``requires_host`` is a PEP 440 specifier checked against the host version;
    ``depends`` and ``optional_depends`` name other plugins, optionally with a specifier
    (``"contacts>=0.1"``).
    """

    name: str
    version: str
    label: str
    depends: tuple[str, ...] | list[str] = ()
    optional_depends: tuple[str, ...] | list[str] = ()
    description: str = ""
    requires_host: str = ""


@dataclass(frozen=True)
class Permission:
    """A permission a plugin declares (``coulisses_permissions`` hook).

    ``code`` is ``"<plugin>.<action>"``; ``default_roles`` lists the default roles
    (``administrator`` always gets everything) granted it when it is first seen.
    """

    code: str
    label: str
    default_roles: tuple[str, ...] = field(default_factory=tuple)


class CoulissesError(Exception):
    """Base class of the host's errors that carry a message meant for a person."""


class PluginError(CoulissesError):
    """The plugin set cannot be loaded; the message names the plugin and the cause.

    ``cause`` is best a lazy string (``_l("n'est pas activé")``): the message is put together each
    time it is shown, in the language of the one who reads it (the operator's on the plugins screen,
    ``Accept-Language`` in the API, ``COULISSES_LOCALE`` in the CLI). ``import_failed``: the plugin (or
    a part of it) failed to import, its traceback says where (``--traceback``).
    """

    def __init__(self, plugin: str, cause: Any, *, import_failed: bool = False):
        self.plugin = plugin
        self.cause = cause
        self.import_failed = import_failed
        super().__init__(plugin, cause)

    def __str__(self) -> str:
        from coulisses.i18n import gettext

        return gettext("plugin « %(plugin)s » : %(cause)s", plugin=self.plugin, cause=self.cause)


class NotFoundError(CoulissesError):
    """The thing asked for does not exist (HTTP 404)."""


class ConflictError(CoulissesError):
    """The operation contradicts the current state (already cancelled, no seat left…) (HTTP 409)."""


class InvalidError(CoulissesError):
    """The input is wrong; ``fields`` maps field names to messages (HTTP 422, form errors)."""

    def __init__(self, message: str, fields: dict[str, str | list[str]] | None = None):
        self.fields = fields or {}
        super().__init__(message)


class BusyError(CoulissesError):
    """What the operation needs is held by another one that has not finished (a lock not obtained within
    the lock timeout, a deadlock): nothing was changed, try again in a moment (HTTP 503, Retry-After).

    Raised by the database layer (``coulisses.db``) in place of the driver's error, so that views and
    commands catch one host exception on SQLite and PostgreSQL alike.
    """

    retry_after = 2  # seconds
    DEFAULT_MESSAGE = "Une autre opération modifie les mêmes données : réessayez dans un instant."

    def __init__(self, message: str = DEFAULT_MESSAGE):
        super().__init__(message)
