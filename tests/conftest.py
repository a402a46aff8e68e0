"""Fixtures shared by every test: a database per test (SQLite file, or a PostgreSQL schema when
COULISSES_TEST_DATABASE_URL is set), an app with exactly the plugins a test needs, operators,
logged-in clients, bearer-token clients, throwaway plugins that are always unregistered.

They live in ``coulisses.testing`` so that plugin authors use the same ones
(``pytest_plugins = ["coulisses.testing"]``); importing them here makes them this suite's fixtures,
and keeps ``from tests.conftest import login, PASSWORD`` working.
"""
from __future__ import annotations

from coulisses.testing import *  # noqa: F401,F403 - the fixtures and helpers, see coulisses.testing
from coulisses.testing import (  # noqa: F401 - named for `from tests.conftest import ...`
    PASSWORD,
    PG_URL,
    app_session,
    create_schema,
    csrf_token_of,
    login,
)


# --------------------------------------------------------------------------- every hook is exercised
#
# A hook counts as tested when a test makes the host or a plugin call it through a plugin's
# implementation (a built-in plugin's, the example's or a throwaway one's), not when a test merely
# names it. Every implementation registered on any plugin manager during the run is wrapped to
# record its hook; when the whole suite ran, a hook never called fails the run
# (tests/platform/test_hooks_documented.py lists the hooks; docs/hooks.md documents them).

import functools  # noqa: E402
import json  # noqa: E402

import pluggy  # noqa: E402
import pytest  # noqa: E402

CALLED_HOOKS: set[str] = set()
_original_register = pluggy.PluginManager.register


def _recording(impl, hook_name):
    function = impl.function
    if getattr(function, "_coulisses_recorded", False):
        return

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        CALLED_HOOKS.add(hook_name)
        return function(*args, **kwargs)

    wrapper._coulisses_recorded = True
    impl.function = wrapper


def _register_and_record(self, plugin, name=None):
    plugin_name = _original_register(self, plugin, name)
    if plugin_name and plugin_name != "core" and self.project_name == "coulisses":
        for caller in self.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin_name == plugin_name:
                    _recording(impl, caller.name)
    return plugin_name


pluggy.PluginManager.register = _register_and_record


def _whole_suite(config) -> bool:
    from pathlib import Path

    root = Path(config.rootpath)
    args = [Path(a.split("::")[0]).resolve() for a in config.args]
    return (not config.option.keyword and not config.option.markexpr and not getattr(config.option, "lf", False)
            and all(a in (root, root / "tests") for a in args))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pytest-xdist: gather what each worker saw
    CALLED_HOOKS.update(json.loads(getattr(node, "workeroutput", {}).get("coulisses_hooks", "[]")))


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: report to the controller
        config.workeroutput["coulisses_hooks"] = json.dumps(sorted(CALLED_HOOKS))
        return
    if not _whole_suite(config) or session.shouldfail or session.shouldstop or exitstatus not in (0, 1):
        return
    from tests.platform.test_hooks_documented import HOOKS

    never = sorted(set(HOOKS) - CALLED_HOOKS)
    if never:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line("")
        reporter.write_line("FAILED: hooks that no test calls through a plugin implementation "
                            "(write a test whose plugin implements the hook and that makes the host call it): "
                            + ", ".join(never), red=True)
        session.exitstatus = 1
