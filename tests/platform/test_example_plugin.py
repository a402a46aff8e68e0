"""The example third-party plugin (examples/coulisses-patrons), installed the way an integrator would.

pip builds its wheel from a copy of its source and installs it into a target directory, with no
network and no access to this repository's source of it (the copied package is deleted after the
install). The host then finds it through its entry point only when that directory is on the path.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import plugins.contacts
from coulisses import db as cdb

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "coulisses-patrons"
BIN = Path(sys.executable).parent


@dataclass
class Installed:
    target: Path  # where pip installed the package and its .dist-info
    tests: Path  # a copy of the example's own tests


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("patrons")
    src = root / "src"
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns(
        "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", "instance"))
    target = root / "site-packages"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"pip could not install the example:\n{result.stdout}\n{result.stderr}"
    for shipped in ("migrations/patrons_0001_patronage.py", "migrations/patrons_0002_patronage_contact.py",
                    "templates/patrons/sheet_pledges.html", "translations/en/LC_MESSAGES/messages.mo",
                    "translations/es/LC_MESSAGES/messages.po"):
        assert (target / "coulisses_patrons" / shipped).is_file(), shipped
    shutil.rmtree(src / "coulisses_patrons")  # from here on, only the installed copy exists
    return Installed(target=target, tests=src / "tests")


def spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def environment(extra_path: Path | None, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COULISSES_") or k == "COULISSES_TEST_DATABASE_URL"}
    env.pop("PYTHONPATH", None)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    env.update(values)
    return env


@pytest.fixture
def coulisses_command(database_url, tmp_path):
    """``coulisses_command(*args, path=...)``: the real ``coulisses`` command, run from outside the repository."""
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    def run(*args: str, path: Path | None) -> subprocess.CompletedProcess:
        env = environment(path, COULISSES_DATABASE_URL=database_url, COULISSES_ENV="production",
                          COULISSES_SECRET_KEY="a-production-secret-for-the-test",
                          COULISSES_INSTANCE_PATH=str(tmp_path / "instance"), COULISSES_PLUGINS="")
        return subprocess.run([str(BIN / "coulisses"), *args], cwd=workdir, env=env, capture_output=True,
                              text=True, timeout=120)

    return run


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return spaces(result.stdout)


@pytest.mark.slow
def test_the_installed_example_is_discovered_enabled_migrated_and_runs_its_command(installed_example,
                                                                                     coulisses_command):
    target = installed_example.target
    # Not installed (not on the path): unknown to the host.
    names = [row["name"] for row in json.loads(ok(coulisses_command("plugins", "list", "--json", path=None)))]
    assert "patrons" not in names

    rows = {row["name"]: row for row in json.loads(ok(coulisses_command("plugins", "list", "--json", path=target)))}
    assert rows["patrons"]["version"] == "0.2.0"
    assert rows["patrons"]["state"] == "disabled"
    # in the deployment's language (French by default), from the example's own catalogue
    assert rows["patrons"]["description"] == ("Promesses de mécénat : qui a promis combien, et quand ; "
                                              "le type de contact mécène.")
    assert rows["contacts"]["state"] == "disabled"

    ok(coulisses_command("db", "upgrade", path=target))
    # Enabling the example pulls in the contacts plugin it depends on (contacts first).
    assert "Activés : contacts, patrons." in ok(coulisses_command("plugins", "enable", "patrons", path=target))
    rows = {row["name"]: row for row in json.loads(ok(coulisses_command("plugins", "list", "--json", path=target)))}
    assert rows["patrons"]["state"] == "enabled" and rows["contacts"]["state"] == "enabled"
    current = ok(coulisses_command("db", "current", path=target))
    assert re.search(r"^patrons\s+patrons_0002\s+à jour$", current, re.MULTILINE), current
    # contacts at its newest revision, whichever it is
    head = _head_of(Path(plugins.contacts.__file__).parent / "migrations")
    assert re.search(rf"^contacts\s+{head}\s+à jour$", current, re.MULTILINE), current
    # contacts cannot be disabled under the example's feet
    refused = coulisses_command("plugins", "disable", "contacts", path=target)
    assert refused.returncode != 0 and "« patrons » en dépend(ent)" in refused.stderr

    assert "1 500,50 €" in ok(coulisses_command("patrons", "add", "Fondation Lumière", "1500,50", path=target))
    ok(coulisses_command("patrons", "add", "Mme Duparc", "920", path=target))
    assert ok(coulisses_command("patrons", "total", path=target)).strip() == "Total pledged: 2 420,50 €"

    # Disabled: its command is gone; enabled again: its data is still there.
    ok(coulisses_command("plugins", "disable", "patrons", path=target))
    gone = coulisses_command("patrons", "total", path=target)
    assert gone.returncode != 0 and "Commande inconnue 'patrons'" in gone.stderr
    ok(coulisses_command("plugins", "enable", "patrons", path=target))
    assert ok(coulisses_command("patrons", "total", path=target)).strip() == "Total pledged: 2 420,50 €"


@pytest.fixture
def example_on_path(installed_example, monkeypatch):
    """The installed example importable in this process; forgotten afterwards (modules and table)."""
    monkeypatch.syspath_prepend(str(installed_example.target))
    yield installed_example
    for name in [m for m in sys.modules if m == "coulisses_patrons" or m.startswith("coulisses_patrons.")]:
        del sys.modules[name]
    table = cdb.metadata.tables.get("patrons_patronage")
    if table is not None:
        cdb.metadata.remove(table)


@pytest.fixture
def app(example_on_path, make_app):
    """Here the app has the example plugin enabled (``make_operator`` and ``client_for`` use it)."""
    return make_app(["patrons"])


def test_the_example_screen_needs_its_permission(app, make_operator, client_for):
    assert app.extensions["coulisses"].order == ["contacts", "patrons"]  # contacts comes with it
    assert "patron" in app.extensions["contacts"].types  # the example's contact type
    assert app.extensions["coulisses"].infos["patrons"].distribution == "coulisses-patrons"
    make_operator("mecene", roles=[], permissions=["patrons.view"])
    make_operator("guichet", roles=[], permissions=["core.api.docs"])

    anonymous = app.test_client().get("/admin/patrons_patronage/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    viewer = client_for("mecene")
    page = viewer.get("/admin/patrons_patronage/")
    assert page.status_code == 200
    assert "Promesses de mécénat" in page.get_data(as_text=True)
    assert "/admin/patrons_patronage/" in viewer.get("/admin/").get_data(as_text=True)  # in the menu
    assert viewer.get("/admin/patrons_patronage/new/").status_code == 403  # patrons.manage needed

    other = client_for("guichet")
    assert other.get("/admin/patrons_patronage/").status_code == 403
    assert "/admin/patrons_patronage/" not in other.get("/admin/").get_data(as_text=True)


@pytest.mark.slow
def test_the_example_s_own_tests_pass_against_the_installed_copy(installed_example):
    """examples/coulisses-patrons/tests, run as its author runs them (on PostgreSQL too when configured)."""
    src = installed_example.tests.parent
    result = subprocess.run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "tests"], cwd=src,
        env=environment(installed_example.target), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary) and "skipped" not in summary and "error" not in summary, summary


def _head_of(folder: Path) -> str:
    """The one revision of a plugin's migration folder that no other revision revises."""
    revisions, revised = set(), set()
    for path in folder.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = re.search(r"^revision = ['\"]([^'\"]+)", text, re.MULTILINE)
        if found:
            revisions.add(found.group(1))
            below = re.search(r"^down_revision = ['\"]([^'\"]+)", text, re.MULTILINE)
            if below:
                revised.add(below.group(1))
    heads = revisions - revised
    assert len(heads) == 1, heads
    return heads.pop()
