"""The sales screens' modules import one way (issue 7 §3): ``admin.py`` imports the screens, the screens
share ``admin_common.py``, which imports none of them; no import is hidden inside a function."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import plugins.sales

SALES = Path(plugins.sales.__file__).parent
SCREENS = sorted(SALES.glob("admin*.py"))


def _imports(tree, *, nested: bool) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and nested:
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.append(inner.module)
                elif isinstance(inner, ast.Import):
                    found += [a.name for a in inner.names]
    if not nested:
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                found.append(node.module)
    return found


def test_no_import_is_hidden_in_a_function_of_the_screens():
    assert len(SCREENS) >= 5
    for path in SCREENS:
        assert _imports(ast.parse(path.read_text()), nested=True) == [], path.name


def test_the_screens_import_one_way():
    graph = {p.stem: {m.rsplit(".", 1)[-1] for m in _imports(ast.parse(p.read_text()), nested=False)
                      if m.startswith("plugins.sales.admin")} for p in SCREENS}
    assert graph["admin_common"] == set()
    for name, imported in graph.items():
        if name != "admin":
            assert "admin" not in imported, name  # nothing imports the module that lists the screens
            assert imported <= {"admin_common"}, (name, imported)


def test_each_screen_module_imports_on_its_own():
    for path in SCREENS:
        module = f"plugins.sales.{path.stem}"
        done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
        assert done.returncode == 0, (module, done.stderr[-2000:])
