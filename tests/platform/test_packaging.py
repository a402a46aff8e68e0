"""Packaging: `platform` stays the standard library's, and the built-in plugins are found through
their entry points by any process, wherever it runs (not only from the repository)."""
from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def builtin_plugin_names() -> list[str]:
    dist = importlib.metadata.distribution("coulisses")
    return sorted(ep.name for ep in dist.entry_points if ep.group == "coulisses.plugins")


def test_import_platform_is_the_standard_library():
    import platform

    assert callable(platform.python_version)
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(platform.__file__).resolve().parent == stdlib


def test_import_platform_is_the_standard_library_from_the_repository_root():
    # Run from the repository root, where a `platform/` folder exists next to the code.
    out = subprocess.run(
        [sys.executable, "-c", "import platform, json; print(json.dumps([platform.__file__, platform.python_version()]))"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    path, version = json.loads(out.stdout)
    assert Path(path).resolve().parent == Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert version == ".".join(map(str, sys.version_info[:3]))


def test_the_distribution_declares_builtin_plugins():
    names = builtin_plugin_names()
    assert names, "the 'coulisses' distribution declares no entry point in group coulisses.plugins"
    for name in names:
        assert (REPO / "plugins" / name / "__init__.py").is_file(), f"entry point {name} has no plugins/{name}/"
    # every plugin folder in the repository is declared
    folders = sorted(p.parent.name for p in (REPO / "plugins").glob("*/__init__.py"))
    assert folders == names


SCRIPT = r"""
import json, sys
from coulisses import plugins
infos = plugins.discover()
print(json.dumps({n: {"error": i.error, "source": i.source, "distribution": i.distribution,
                      "manifest": i.manifest.name if i.manifest else None,
                      "file": getattr(i.module, "__file__", None)} for n, i in infos.items()}))
"""


@pytest.mark.parametrize("name", builtin_plugin_names())
def test_builtin_plugin_is_found_from_outside_the_repository(name, tmp_path):
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    infos = json.loads(out.stdout.strip().splitlines()[-1])
    assert name in infos
    info = infos[name]
    assert info["error"] is None, info["error"]
    assert info["source"] == "entry point"
    assert info["distribution"] == "coulisses"
    assert info["manifest"] == name
    assert Path(info["file"]).resolve().is_relative_to((REPO / "plugins" / name).resolve())


def test_coulisses_command_is_installed(tmp_path):
    exe = Path(sys.executable).parent / "coulisses"
    out = subprocess.run([str(exe), "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    import coulisses

    assert coulisses.__version__ in out.stdout
