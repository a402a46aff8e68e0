"""Registries that plugins build from their hooks (contact types, payment mode types, report
definitions, device drivers…), the same in the web app, the CLI, the periodic tasks and the worker.

Two pieces, one way of doing it for every plugin:

``collect(pm, hook_name, what=...)`` calls a list hook plugin by plugin (load order) and merges the
items by their key (``item.code`` by default). The same key given twice with two *different*
definitions refuses the start with a ``PluginError`` naming both plugins; the very same definition
given twice is kept once. The result is a ``Collected`` dict (key → item) that knows each item's
owner plugin.

``RegistrySlot(name, build, fallback)`` is where a plugin keeps the registry it builds from a plugin
manager. ``slot.get()`` answers, in this order:

1. the registry installed for the current block with ``slot.use(registry)`` (tests);
2. the registry of the *current plugin manager*: the running app's inside an app context, else the
   one the CLI, the worker or a task runner installed with ``use_manager(pm)`` — built once per
   manager by ``build(pm)``, so that it holds exactly the plugins enabled for that app or command;
3. else one built from a manager holding ``fallback`` plugins and their dependencies (plain scripts,
   service tests, benchmarks).
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.util
import sys
import threading
import weakref
from operator import attrgetter
from typing import Any, Callable, Generic, Iterable, TypeVar

from coulisses import PluginError
from coulisses.i18n import _l

T = TypeVar("T")
R = TypeVar("R")


class Collected(dict):
    """``key → item``, in load order, with ``owners[key]`` the plugin that contributed each item."""

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[Any, str] = {}

    def owner(self, key) -> str | None:
        return self.owners.get(key)


def collect(pm, hook_name: str, *, what: Any, key: Callable[[Any], Any] = attrgetter("code"),
            validate: Callable[[str, Any], None] | None = None, allow_same: bool = True,
            **hook_kwargs: Any) -> Collected:
    """Merge the lists returned by ``hook_name`` into a ``Collected`` registry.

    ``what`` names the kind of item in messages, a lazy string (``_l("type de mode de règlement")``). ``validate(plugin, item)`` may
    raise ``PluginError`` (or any error, turned into one naming the plugin) for an item that is wrong
    in itself. A key defined twice differently → ``PluginError`` naming both plugins; with
    ``allow_same=False`` even an identical second definition is refused.
    """
    from coulisses.plugins import call_each_safely

    merged = Collected()
    for plugin, items in call_each_safely(pm, hook_name, **hook_kwargs):
        if not isinstance(items, (list, tuple)):
            raise PluginError(plugin, _l("%(hook)s doit renvoyer une liste, pas un %(type)s", hook=hook_name,
                                              type=type(items).__name__))
        for item in items:
            if validate is not None:
                try:
                    validate(plugin, item)
                except PluginError:
                    raise
                except Exception as exc:  # noqa: BLE001 - named, like every startup error
                    raise PluginError(plugin, _l("%(what)s %(key)r : %(error)s", what=what, key=key(item),
                                                  error=str(exc))) from exc
            k = key(item)
            if k in merged:
                first = merged.owners[k]
                if merged[k] == item and allow_same:
                    continue
                if first == plugin:
                    raise PluginError(plugin, _l("%(what)s « %(key)s » : « %(plugin)s » en donne deux définitions",
                                                 what=what, key=k, plugin=plugin))
                raise PluginError(plugin, _l("%(what)s « %(key)s » : « %(first)s » en donne déjà une définition",
                                             what=what, key=k, first=first))
            merged[k] = item
            merged.owners[k] = plugin
    return merged


def must_return(hook_name: str, expected: str, item: Any):
    """The cause of a ``PluginError`` for a hook that returned something else than ``expected`` objects."""
    return _l("%(hook)s doit renvoyer des objets %(expected)s, pas un %(type)s", hook=hook_name, expected=expected,
              type=type(item).__name__)


def must_start(what: Any, code: str, prefix: str):
    """The cause of a ``PluginError`` for a code that does not start with its plugin's prefix."""
    return _l("%(what)s « %(code)s » : le code doit commencer par « %(prefix)s »", what=what, code=code, prefix=prefix)


# --------------------------------------------------------------------------- the current manager

_manager: contextvars.ContextVar[Any] = contextvars.ContextVar("coulisses_plugin_manager", default=None)
_process_manager: list[Any] = [None]


def current_manager():
    """The plugin manager of the running app (inside an app context), else the one installed by the
    CLI, the worker or a task runner (``use_manager`` / ``install_manager``), else None."""
    try:
        from flask import current_app, has_app_context

        if has_app_context():
            state = current_app.extensions.get("coulisses")
            if state is not None:
                return state.pm
    except ImportError:  # pragma: no cover - Flask is a dependency
        pass
    return _manager.get() or _process_manager[0]


@contextlib.contextmanager
def use_manager(pm):
    """Within the block, registries are built from ``pm`` (outside an app context)."""
    token = _manager.set(pm)
    try:
        yield pm
    finally:
        _manager.reset(token)


def install_manager(pm) -> None:
    """Make ``pm`` the plugin manager of this process outside Flask (the CLI, the worker)."""
    _process_manager[0] = pm


_slots: list["RegistrySlot"] = []  # every slot made, in the order their modules were imported


class RegistrySlot(Generic[R]):
    """Where a plugin keeps the registry it builds from a plugin manager (see the module's doc)."""

    def __init__(self, name: str, build: Callable[[Any], R], fallback: Iterable[str]):
        self.name = name
        # the module that made the slot: its plugin is the one whose registry this is
        self.module = sys._getframe(1).f_globals.get("__name__", "")
        _slots.append(self)
        self._build = build
        self._fallback = list(fallback)
        self._current: contextvars.ContextVar[R | None] = contextvars.ContextVar(f"{name}_registry", default=None)
        self._by_manager: "weakref.WeakKeyDictionary[Any, R]" = weakref.WeakKeyDictionary()
        self._default: R | None = None
        self._lock = threading.Lock()

    def use(self, registry: R):
        """``with slot.use(registry):`` — this registry for the current context (tests)."""

        @contextlib.contextmanager
        def block():
            token = self._current.set(registry)
            try:
                yield registry
            finally:
                self._current.reset(token)

        return block()

    def for_manager(self, pm) -> R:
        """The registry built from ``pm`` (built once per manager)."""
        registry = self._by_manager.get(pm)
        if registry is None:
            with self._lock:
                registry = self._by_manager.get(pm)
                if registry is None:
                    registry = self._build(pm)
                    self._by_manager[pm] = registry
        return registry

    def installed(self) -> R | None:
        """The registry of the current block or of the current manager, if any (no fallback built)."""
        block = self._current.get()
        if block is not None:
            return block
        pm = current_manager()
        return self.for_manager(pm) if pm is not None else None

    def default(self) -> R:
        """The registry of a manager holding the fallback plugins and their dependencies."""
        if self._default is None:
            from coulisses import plugins as cplugins

            infos = cplugins.discover()
            pm = cplugins.build_manager(infos, cplugins.resolve(infos, self._fallback))
            self._default = self._build(pm)
        return self._default

    def get(self) -> R:
        return self.installed() or self.default()


def build_registries(pm, infos: dict, order: Iterable[str]) -> list[str]:
    """Build, from ``pm``, every registry of the host and of the plugins in ``order`` (the one a plugin
    keeps in its ``registry`` module, or wherever it makes a ``RegistrySlot``), as the start would:
    a clash between two plugins (two definitions of one contact type code) raises the same
    ``PluginError``. Nothing is kept. Returns the names of the slots built.

    ``coulisses plugins enable`` and ``coulisses plugins check`` call it before anything changes.
    """
    from coulisses import outbox, tasks, webhooks  # noqa: F401 - the host's own slots

    order = list(order)
    packages: dict[str, str] = {}
    for name in order:
        module = infos[name].module
        package = getattr(module, "__name__", None)
        if package is None:
            continue
        packages[name] = package
        if hasattr(module, "__path__"):
            try:
                if importlib.util.find_spec(f"{package}.registry") is not None:
                    importlib.import_module(f"{package}.registry")
            except PluginError:
                raise
            except Exception as exc:  # noqa: BLE001 - named, like every startup error
                raise PluginError(name, _l("l'import de son registre a échoué (%(error)s)",
                                           error="{}: {}".format(type(exc).__name__, exc)),
                                  import_failed=True) from exc

    def owner(slot: RegistrySlot) -> str | None:
        if slot.module == "coulisses" or slot.module.startswith("coulisses."):
            return "core"
        for name, package in packages.items():
            if slot.module == package or slot.module.startswith(f"{package}."):
                return name
        return None

    built = []
    for slot in list(_slots):
        plugin = owner(slot)
        if plugin is None:
            continue
        try:
            slot._build(pm)
        except PluginError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PluginError(plugin, _l("son registre « %(registry)s » ne peut pas être construit : %(error)s",
                                          registry=slot.name, error="{}: {}".format(type(exc).__name__, exc))) from exc
        built.append(slot.name)
    return built
