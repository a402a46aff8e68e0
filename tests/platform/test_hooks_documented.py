"""Every hook is documented in docs/hooks.md (as datasette does); that each is exercised through a
plugin implementation is checked when the whole suite ran (tests/conftest.py, end of session).

The hooks are those of the plugin manager the host builds with every built-in plugin enabled: the
host's (platform/coulisses/hookspecs.py) and each built-in plugin's ``hookspecs`` module, the plugins
being found through their entry points.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from coulisses import plugins as cplugins

REPO = Path(__file__).resolve().parents[2]
HOOKS_MD = REPO / "docs" / "hooks.md"
HEADING = re.compile(r"^##\s+`?([A-Za-z_][A-Za-z0-9_]*)`?\s*$", re.MULTILINE)


def all_hooks() -> list[str]:
    from coulisses.web.app import CoreHooks

    infos = cplugins.discover()
    builtin = [name for name, info in infos.items() if info.distribution == "coulisses"]
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, builtin), CoreHooks())
    return cplugins.all_hook_names(pm)


try:  # at collection time; a broken plugin fails one test below instead of the whole collection
    HOOKS, PROBLEM = all_hooks(), None
except Exception as exc:  # noqa: BLE001
    HOOKS, PROBLEM = [], f"{type(exc).__name__}: {exc}"


def documented() -> set[str]:
    return set(HEADING.findall(HOOKS_MD.read_text(encoding="utf-8")))


def test_the_hooks_are_found():
    assert PROBLEM is None, f"cannot list the hooks: {PROBLEM}"
    assert "coulisses_startup" in HOOKS and "coulisses_admin_views" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    assert hook in documented(), f"docs/hooks.md has no '## {hook}' section"


def test_every_documented_hook_exists():
    assert PROBLEM is None, PROBLEM
    stale = sorted(documented() - set(HOOKS))
    assert not stale, f"docs/hooks.md documents hooks that do not exist (any more): {stale}"


def test_a_hook_called_through_a_plugin_implementation_is_recorded(register_plugin, make_app):
    from tests.conftest import CALLED_HOOKS
    from tests.platform.conftest import make_plugin

    seen = []
    register_plugin(make_plugin("tp_rec", hooks={"coulisses_template_context": lambda: seen.append(1) or {}}))
    CALLED_HOOKS.discard("coulisses_template_context")
    app = make_app(["tp_rec"])
    assert "coulisses_template_context" not in CALLED_HOOKS  # declared, not yet called
    with app.test_request_context("/"):
        from flask import render_template_string

        render_template_string("{{ 1 }}")
    assert seen and "coulisses_template_context" in CALLED_HOOKS
