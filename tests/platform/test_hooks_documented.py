"""Every hook is documented in docs/hooks.md and exercised by a test (as datasette does).

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


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_tested(hook):
    pattern = re.compile(rf"\b{re.escape(hook)}\b")
    here = Path(__file__).resolve()
    for path in (REPO / "tests").rglob("*.py"):
        if path.resolve() != here and pattern.search(path.read_text(encoding="utf-8")):
            return
    pytest.fail(f"no test under tests/ mentions the hook {hook}")


def test_every_documented_hook_exists():
    assert PROBLEM is None, PROBLEM
    stale = sorted(documented() - set(HOOKS))
    assert not stale, f"docs/hooks.md documents hooks that do not exist (any more): {stale}"
