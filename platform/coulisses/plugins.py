"""Plugin discovery, manifests, the dependency graph, the enabled set, the plugin manager.

Rules (DESIGN.md): enabling a plugin enables what it depends on; disabling one is refused while an
enabled plugin depends on it; disabling keeps the data. A missing dependency, a cycle, an
incompatible version, a plugin that fails to import or a hook implementation that matches no hook:
the host refuses to start with one message naming the plugin and the cause.
"""
from __future__ import annotations

import difflib
import importlib
import logging
import sys
import traceback
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import String, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import coulisses
from coulisses import Manifest, PluginError, hookspecs
from coulisses.db import Actor, Base, UTCDateTime, current_actor, utcnow
from coulisses.i18n import _l
from coulisses.security_events import record_event

log = logging.getLogger("coulisses.plugins")

ENTRY_POINT_GROUP = "coulisses.plugins"
BUILTIN_DISTRIBUTION = "coulisses"  # the distribution of the host and the built-in plugins
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
DEP_RE = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(.*)$")

# Plugins registered by code rather than by entry point (tests' throwaway plugins).
_registered: dict[str, Any] = {}


def register(plugin: Any) -> None:
    """Make ``plugin`` (a module, class or object with a ``MANIFEST``) discoverable, as if installed."""
    _registered[plugin.MANIFEST.name] = plugin


def unregister(name: str) -> None:
    _registered.pop(name, None)


@dataclass
class PluginInfo:
    name: str
    manifest: Manifest | None
    module: Any = None
    error: str | None = None
    exception: BaseException | None = None  # what made ``error``: its traceback for ``--traceback``
    distribution: str | None = None
    source: str = "entry point"
    depends: list[tuple[str, SpecifierSet]] = field(default_factory=list)
    optional_depends: list[tuple[str, SpecifierSet]] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.manifest.version if self.manifest else "?"

    @property
    def label(self) -> str:
        return str(self.manifest.label) if self.manifest else self.name

    @property
    def root(self) -> Path | None:
        """The folder of the plugin's package (its templates, static files and migrations)."""
        path = getattr(self.module, "__file__", None)
        return Path(path).parent if path else None

    @property
    def migrations_dir(self) -> Path | None:
        root = self.root
        if root is not None and (root / "migrations").is_dir():
            return root / "migrations"
        return None


def _parse_deps(owner: str, deps: Iterable[str]) -> list[tuple[str, SpecifierSet]]:
    parsed = []
    for dep in deps:
        m = DEP_RE.match(dep)
        if not m:
            raise PluginError(owner, _l("dépendance incorrecte %(dependency)r dans son MANIFEST", dependency=dep))
        try:
            parsed.append((m.group(1), SpecifierSet(m.group(2).strip())))
        except InvalidSpecifier:
            raise PluginError(owner, _l("contrainte de version incorrecte dans la dépendance %(dependency)r",
                                      dependency=dep)) from None
    return parsed


def _inspect(name: str, module: Any, source: str, distribution: str | None = None) -> PluginInfo:
    manifest = getattr(module, "MANIFEST", None)
    info = PluginInfo(name=name, manifest=manifest, module=module, source=source, distribution=distribution)
    if not isinstance(manifest, Manifest):
        info.error = _l("n'a pas de MANIFEST (un coulisses.Manifest en tête de son paquet)")
        return info
    if manifest.name != name:
        info.error = _l("son point d'entrée s'appelle « %(name)s » mais son MANIFEST dit « %(manifest)s »",
                         name=name, manifest=manifest.name)
        return info
    if not NAME_RE.match(name):
        info.error = _l("son nom ne doit contenir que des minuscules, des chiffres et des tirets bas")
        return info
    try:
        Version(manifest.version)
        info.depends = _parse_deps(name, manifest.depends)
        info.optional_depends = _parse_deps(name, manifest.optional_depends)
    except InvalidVersion:
        info.error = _l("sa version %(version)r n'est pas un numéro de version valide", version=manifest.version)
    except PluginError as exc:
        info.error = exc.cause
    if info.error is None and hasattr(module, "__path__"):
        # The plugin's tables must be known (migrations, schema creation) even before it is loaded.
        try:
            if importlib.util.find_spec(f"{module.__name__}.models") is not None:
                importlib.import_module(f"{module.__name__}.models")
        except Exception as exc:  # noqa: BLE001
            info.error = _l("l'import de ses modèles a échoué (%(error)s)%(where)s",
                             error="{}: {}".format(type(exc).__name__, exc),
                             where=where(exc))
            info.exception = exc
    return info


def where(exc: BaseException) -> str:
    """`` at /path/to/file.py:12``: where an import failed (the innermost frame; a syntax error's own line)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" at {exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    # the innermost frame outside the import machinery
    frames = [f for f in frames if not f.filename.startswith("<frozen ")] or frames
    if not frames:
        return ""
    return f" at {frames[-1].filename}:{frames[-1].lineno}"


def hook_failed(hook_name: str, exc: BaseException):
    """The cause of a ``PluginError`` for a hook that raised: ``coulisses_startup a échoué : RuntimeError: …``."""
    return _l("%(hook)s a échoué : %(error)s", hook=hook_name, error="{}: {}".format(type(exc).__name__, exc))


def quoted(names: Iterable[str]):
    """``« a », « b »``: plugin names in a message, with the quotation marks of the language it is shown in."""
    from coulisses.i18n import LazyString, gettext

    def join(names: list[str]) -> str:
        return ", ".join(gettext("« %(name)s »", name=n) for n in names)

    return LazyString(join, list(names), enable_cache=False)


def _needs(dep: str, spec: SpecifierSet, installed: str):
    return _l("demande %(dependency)s%(spec)s, mais %(dependency)s %(installed)s est installé",
              dependency=dep, spec=str(spec), installed=installed)


def discover() -> dict[str, PluginInfo]:
    """Every installed plugin (entry points of group ``coulisses.plugins``) and registered one.

    A plugin that fails to import is returned with its ``error`` set; it only stops the host if it
    is enabled.
    """
    found: dict[str, PluginInfo] = {}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else None
        if ep.name in found:
            prev = found[ep.name]
            if prev.distribution != dist:
                found[ep.name] = PluginInfo(
                    ep.name, None, error=_l("installé deux fois (par %(first)s et %(second)s)",
                                                 first=prev.distribution, second=dist)
                )
            continue
        try:
            module = ep.load()
        except Exception as exc:  # noqa: BLE001 - any import failure is reported, by name
            found[ep.name] = PluginInfo(
                ep.name, None, error=_l("l'import a échoué (%(error)s)%(where)s",
                                         error="{}: {}".format(type(exc).__name__, exc),
                                         where=where(exc)),
                distribution=dist, exception=exc,
            )
            continue
        found[ep.name] = _inspect(ep.name, module, "entry point", dist)
    for name, plugin in _registered.items():
        found[name] = _inspect(name, plugin, "registered")
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- the graph


def resolve(infos: dict[str, PluginInfo], requested: Iterable[str]) -> list[str]:
    """The plugins to load for ``requested``: with their dependencies, checked, in load order.

    Load order: by dependency depth (a plugin after everything it depends on, optional dependencies
    included when they are loaded), then by name. Raises ``PluginError`` naming the plugin at fault.
    """
    wanted: set[str] = set()
    stack = list(dict.fromkeys(requested))
    host_version = Version(coulisses.__version__)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        info = infos.get(name)
        if info is None:
            raise PluginError(name, _l("n'est pas installé (aucun point d'entrée dans le groupe coulisses.plugins)"))
        if info.error:
            raise PluginError(name, info.error, import_failed=info.exception is not None) from info.exception
        spec = info.manifest.requires_host
        if spec and host_version not in SpecifierSet(spec):
            raise PluginError(name, _l("demande l'hôte %(spec)s, cet hôte est en %(version)s", spec=spec,
                                        version=str(host_version)))
        wanted.add(name)
        for dep, spec in info.depends:
            dep_info = infos.get(dep)
            if dep_info is None:
                raise PluginError(name, _l("dépend de « %(dependency)s », qui n'est pas installé", dependency=dep))
            if dep_info.error:
                raise PluginError(dep, dep_info.error, import_failed=dep_info.exception is not None) from dep_info.exception
            if spec and Version(dep_info.version) not in spec:
                raise PluginError(name, _needs(dep, spec, dep_info.version))
            stack.append(dep)
    for name in wanted:  # optional dependencies that are loaded must be compatible
        for dep, spec in infos[name].optional_depends:
            if dep in wanted and spec and Version(infos[dep].version) not in spec:
                raise PluginError(name, _needs(dep, spec, infos[dep].version))

    def edges(name: str) -> list[str]:
        info = infos[name]
        return [d for d, _ in info.depends] + [d for d, _ in info.optional_depends if d in wanted]

    depth: dict[str, int] = {}
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in depth:
            return depth[name]
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise PluginError(cycle[0], _l("cycle de dépendances : %(cycle)s", cycle=" -> ".join(cycle)))
        visiting.append(name)
        d = 1 + max((visit(dep) for dep in edges(name)), default=-1)
        visiting.pop()
        depth[name] = d
        return d

    for name in sorted(wanted):
        visit(name)
    return sorted(wanted, key=lambda n: (depth[n], n))


def dependants(infos: dict[str, PluginInfo], name: str, among: Iterable[str]) -> list[str]:
    """The plugins among ``among`` that depend (not optionally) on ``name``."""
    return sorted(
        other for other in among
        if other != name and infos.get(other) and any(d == name for d, _ in infos[other].depends)
    )


def all_hook_names(pm: pluggy.PluginManager) -> list[str]:
    return sorted(n for n in pm.hook.__dict__ if not n.startswith("_") and getattr(pm.hook, n).has_spec())


def build_manager(infos: dict[str, PluginInfo], order: list[str], core: Any = None, *,
                  warn: bool = True) -> pluggy.PluginManager:
    """A pluggy manager with the host's hooks, the loaded plugins' hooks and their implementations.

    ``core`` is the host's own hook implementations, registered first under the name ``core``. With
    ``warn``, a function named like a hook without ``@hookimpl`` is logged (``unmarked_hooks``);
    commands that show the warnings themselves pass ``warn=False``.
    """
    pm = pluggy.PluginManager(coulisses.PROJECT)
    pm.add_hookspecs(hookspecs)
    if core is not None:
        pm.register(core, name="core")
    for name in order:
        module = infos[name].module
        spec_module = getattr(module, "hookspecs", None)
        if spec_module is None and hasattr(module, "__path__"):
            if importlib.util.find_spec(f"{module.__name__}.hookspecs") is not None:
                spec_module = importlib.import_module(f"{module.__name__}.hookspecs")
        if spec_module is not None:
            pm.add_hookspecs(spec_module)
    for name in order:
        try:
            pm.register(infos[name].module, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(name, _validation_message(pm, exc)) from None
    known = all_hook_names(pm)
    for hook_name in list(pm.hook.__dict__):
        if hook_name.startswith("_"):
            continue
        caller = getattr(pm.hook, hook_name)
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            close = difflib.get_close_matches(hook_name, known, n=1)
            if close:
                cause = _l("l'implémentation de hook « %(hook)s » ne correspond à aucune spécification de hook "
                           "(vouliez-vous dire « %(close)s » ?)", hook=hook_name, close=close[0])
            else:
                cause = _l("l'implémentation de hook « %(hook)s » ne correspond à aucune spécification de hook",
                           hook=hook_name)
            raise PluginError(impl.plugin_name, cause)
    pm.check_pending()
    for name in order if warn else ():
        for message in unmarked_hooks(infos[name], known):
            log.warning("%s", message)
    return pm


build_manager_with_core = build_manager


# --------------------------------------------------------------------------- what a plugin implements


def implemented_hooks(module: Any) -> list[str]:
    """The names of the ``@hookimpl`` functions a plugin object or module has (what pluggy registers)."""
    marker = f"{coulisses.PROJECT}_impl"
    return sorted(n for n in dir(module) if not n.startswith("_") and hasattr(getattr(module, n, None), marker))


def spec_names(infos: dict[str, PluginInfo]) -> set[str]:
    """Every hook name the host and the installed plugins specify (each plugin's ``hookspecs`` module)."""
    marker = f"{coulisses.PROJECT}_spec"
    modules = [hookspecs]
    for info in infos.values():
        module = info.module
        if info.error or module is None:
            continue
        spec_module = getattr(module, "hookspecs", None)
        if spec_module is None and hasattr(module, "__path__"):
            try:
                if importlib.util.find_spec(f"{module.__name__}.hookspecs") is not None:
                    spec_module = importlib.import_module(f"{module.__name__}.hookspecs")
            except Exception:  # noqa: BLE001 - a broken hookspecs module is reported when the plugin loads
                spec_module = None
        if spec_module is not None:
            modules.append(spec_module)
    return {n for m in modules for n in dir(m) if hasattr(getattr(m, n, None), marker)}


def unmarked_hooks(info: PluginInfo, known: Iterable[str]) -> list[str]:
    """Warnings for the functions of a plugin (its package and its ``hooks`` module) named like a hook
    but without ``@hookimpl``: the host never calls them."""
    from coulisses.i18n import _

    module = info.module
    if module is None:
        return []
    marker = f"{coulisses.PROJECT}_impl"
    known = set(known)
    places = [module]
    hooks_module = sys.modules.get(f"{getattr(module, '__name__', '')}.hooks")
    if hooks_module is not None:
        places.append(hooks_module)
    found: dict[str, str] = {}
    for place in places:
        for attr in dir(place):
            value = getattr(place, attr, None)
            if attr in known and callable(value) and not hasattr(value, marker) and attr not in found:
                code = getattr(value, "__code__", None)
                at = " ({}:{})".format(code.co_filename, code.co_firstlineno) if code is not None else ""
                found[attr] = _("plugin '%(plugin)s' : la fonction '%(function)s'%(where)s porte le nom d'un hook "
                                "mais n'est pas décorée par @hookimpl : Coulisses ne l'appelle pas",
                                plugin=info.name, function=attr, where=at)
    return [found[k] for k in sorted(found)]


def check_set(infos: dict[str, PluginInfo], order: list[str], core: Any = None) -> pluggy.PluginManager:
    """Load ``order`` as the start would, without an app: the plugin manager (hook names and
    arguments), the permissions and every registry (``coulisses.registry.build_registries``: two
    definitions of one code). Raises the ``PluginError`` the start would raise; returns the manager."""
    from coulisses import security
    from coulisses.registry import build_registries, use_manager

    pm = build_manager(infos, order, core, warn=False)
    security.collect_permissions(call_each_safely(pm, "coulisses_permissions"))
    with use_manager(pm):
        build_registries(pm, infos, order)
    return pm


def _validation_message(pm: pluggy.PluginManager, exc: pluggy.PluginValidationError):
    """pluggy's multi-line validation error as one line naming the hook and the arguments at fault."""
    text = str(exc)
    hook = re.search(r"for hook '([^']+)'", text)
    extra = re.search(r"Argument\(s\) (\{.*?\}) are declared", text)
    if hook and extra:
        name = hook.group(1)
        caller = getattr(pm.hook, name, None)
        spec_args = ", ".join(caller.spec.argnames) if caller is not None and caller.spec else ""
        args = ", ".join(sorted(_names_in(extra.group(1))))
        return _l("l'implémentation de hook « %(hook)s » prend des arguments (%(args)s) que sa spécification "
                  "%(hook)s(%(spec_args)s) n'a pas", hook=name, args=args, spec_args=spec_args)
    return _l("une implémentation de hook ne correspond pas à sa spécification : %(detail)s",
              detail=" ".join(text.split()))


def _names_in(text: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", text))


def ordered_impls(pm: pluggy.PluginManager, hook_name: str) -> list:
    """The implementations of a hook in load order (pluggy's own call order is the reverse)."""
    caller = getattr(pm.hook, hook_name)
    order = {name: i for i, (name, _) in enumerate(pm.list_name_plugin())}
    return sorted(caller.get_hookimpls(), key=lambda impl: order.get(impl.plugin_name, 0))


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a hook plugin by plugin, in load order, returning ``(plugin_name, result)`` pairs.

    For hooks whose results the host must attribute to a plugin (menus, permissions, registries).
    """
    results = []
    for impl in ordered_impls(pm, hook_name):
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        result = impl.function(**args)
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


def call_each_safely(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Like ``call_each``, but an exception becomes a ``PluginError`` naming the plugin."""
    results = []
    for impl in ordered_impls(pm, hook_name):
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            result = impl.function(**args)
        except PluginError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PluginError(impl.plugin_name, hook_failed(hook_name, exc)) from exc
        if result is not None:
            results.append((impl.plugin_name, result))
    return results


# --------------------------------------------------------------------------- the enabled set


class PluginState(Base):
    """Which plugins an organisation uses: one row per plugin ever enabled."""

    __tablename__ = "core_plugin"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))  # enabled | disabled
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(120), default="")


def parse_plugin_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    names = [v.strip() for v in value if v and v.strip()]
    return names


def stored_states(session: Session) -> dict[str, PluginState] | None:
    """The recorded plugin states, or None when the database has no plugin table yet."""
    if not inspect(session.get_bind()).has_table(PluginState.__tablename__):
        return None
    return {row.name: row for row in session.scalars(select(PluginState))}


def requested_plugins(session: Session | None, infos: dict[str, PluginInfo], seed: list[str] | None) -> list[str]:
    """The plugins the organisation has enabled: from the database, or the seed the first time.

    The seed is ``COULISSES_PLUGINS``; without it, every installed built-in plugin.
    """
    states = stored_states(session) if session is not None else None
    if states:
        return [name for name, row in states.items() if row.state == "enabled"]
    if seed is not None:
        return seed
    return [name for name, info in infos.items()
            if info.source == "entry point" and info.distribution == BUILTIN_DISTRIBUTION and not info.error]


def record_enabled(session: Session, infos: dict[str, PluginInfo], names: Iterable[str], by: str) -> list[str]:
    """Record ``names`` (and their dependencies) as enabled; returns the ones whose state changed."""
    states = stored_states(session) or {}
    current = [n for n, row in states.items() if row.state == "enabled"]
    order = resolve(infos, list(current) + list(names))
    changed = []
    for name in order:
        row = states.get(name)
        if row is None:
            row = PluginState(name=name)
            session.add(row)
        if row.state != "enabled" or row.version != infos[name].version:
            if row.state != "enabled":
                changed.append(name)
            row.state, row.version, row.changed_at, row.changed_by = "enabled", infos[name].version, utcnow(), by
    for name in changed:
        record_event(session, "plugin_enabled", login="", detail=f"{name} {infos[name].version}", actor=_actor(by))
    return changed


def _actor(by: str) -> Actor:
    """Who changes the plugin set: the operator acting (a screen), else ``by`` (``cli:user``)."""
    actor = current_actor()
    return actor if actor.login else Actor(None, by)


def record_disabled(session: Session, infos: dict[str, PluginInfo], name: str, by: str) -> None:
    """Record ``name`` as disabled; refused while an enabled plugin depends on it. Keeps the data."""
    states = stored_states(session) or {}
    row = states.get(name)
    if row is None or row.state != "enabled":
        raise PluginError(name, _l("n'est pas activé"))
    enabled = [n for n, r in states.items() if r.state == "enabled"]
    users = dependants(infos, name, enabled)
    if users:
        raise PluginError(name, _l("ne peut pas être désactivé : %(plugins)s en dépend(ent)", plugins=quoted(users)))
    row.state, row.changed_at, row.changed_by = "disabled", utcnow(), by
    record_event(session, "plugin_disabled", login="", detail=f"{name} {row.version}", actor=_actor(by))


def install_defaults(session: Session, pm: pluggy.PluginManager) -> list[str]:
    """Run ``coulisses_install_defaults`` for the enabled plugins that never ran it on this database
    (recorded in ``core_setting`` as ``defaults.<plugin>``); returns their names. The caller commits."""
    from coulisses.db import get_setting, set_setting
    from coulisses.i18n import default_language, use_locale

    done = []
    with use_locale(default_language()):
        for impl in ordered_impls(pm, "coulisses_install_defaults"):
            key = f"defaults.{impl.plugin_name}"
            if get_setting(session, key):
                continue
            try:
                impl.function(session=session)
            except PluginError:
                raise
            except Exception as exc:  # noqa: BLE001 - named, like every hook the host calls
                raise PluginError(impl.plugin_name, hook_failed("coulisses_install_defaults", exc)) from exc
            set_setting(session, key, utcnow().isoformat())
            done.append(impl.plugin_name)
    session.flush()
    return done
