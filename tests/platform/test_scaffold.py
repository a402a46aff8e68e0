"""`coulisses plugins new NAME`: the generated distribution installs (pip, from outside this repository),
is found through its entry point, enables, migrates, passes `db check` and `plugins check`, and passes
its own tests as generated."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
NAME = "tp_gen"


def environment(extra_path: Path | None = None, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COULISSES_") or k == "COULISSES_TEST_DATABASE_URL"}
    env.pop("PYTHONPATH", None)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    env.update(values)
    return env


def run(args, cwd, env, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The scaffold written by the real command (in a subprocess: nothing of it is imported here), then
    pip-installed into a target directory."""
    root = tmp_path_factory.mktemp("scaffold")
    result = run([str(BIN / "coulisses"), "plugins", "new", NAME, "--label", "Classes", "-d", str(root)],
                 cwd=root, env=environment(COULISSES_ENV="development"))
    assert result.returncode == 0, result.stdout + result.stderr
    dist = root / f"coulisses-{NAME}"
    assert f"Plugin {NAME} créé dans {dist}." in result.stdout
    target = root / "site-packages"
    installed = run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                     "--disable-pip-version-check", "--quiet", "--target", str(target), str(dist)], cwd=root,
                    env=environment())
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return dist, target


def test_the_scaffold_has_every_piece(generated):
    dist, target = generated
    package = dist / f"coulisses_{NAME}"
    for relative in ("setup.cfg", "pyproject.toml", "README.md", "tests/conftest.py", f"tests/test_{NAME}.py"):
        assert (dist / relative).is_file(), relative
    for relative in ("__init__.py", "models.py", "services.py", "admin.py", "api.py", "migrations/__init__.py",
                     f"migrations/{NAME}_0001_first_tables.py"):
        assert (package / relative).is_file(), relative
    migration = (package / "migrations" / f"{NAME}_0001_first_tables.py").read_text()
    assert f"branch_labels = ('{NAME}',)" in migration and "depends_on = 'core_0001'" in migration
    assert f"{NAME} = coulisses_{NAME}" in (dist / "setup.cfg").read_text()  # the entry point
    for lang in ("en", "es"):  # shipped: catalogues and their compiled form
        for ext in ("po", "mo"):
            assert (target / f"coulisses_{NAME}" / "translations" / lang / "LC_MESSAGES" / f"messages.{ext}").is_file()
    assert 'msgstr "Items"' in (package / "translations" / "en" / "LC_MESSAGES" / "messages.po").read_text()
    assert 'msgstr "Elementos"' in (package / "translations" / "es" / "LC_MESSAGES" / "messages.po").read_text()


def test_the_installed_scaffold_enables_migrates_and_checks(generated, database_url, tmp_path):
    dist, target = generated

    def coulisses(*args):
        return run([str(BIN / "coulisses"), *args], cwd=tmp_path, env=environment(
            target, COULISSES_DATABASE_URL=database_url, COULISSES_ENV="development", COULISSES_PLUGINS="",
            COULISSES_INSTANCE_PATH=str(tmp_path / "instance")))

    rows = {r["name"]: r for r in json.loads(coulisses("plugins", "list", "--json").stdout)}
    assert rows[NAME]["state"] == "disabled" and rows[NAME]["error"] is None and rows[NAME]["warnings"] == []
    assert rows[NAME]["hooks"] == ["coulisses_admin_views", "coulisses_api_routes", "coulisses_permissions"]
    assert coulisses("db", "upgrade").returncode == 0
    enabled = coulisses("plugins", "enable", NAME)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    assert enabled.stdout.startswith(f"Activé : {NAME}.")
    checked = coulisses("db", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert coulisses("plugins", "check").returncode == 0
    assert re.search(rf"^{NAME}\s+{NAME}_0001\s+à jour$", coulisses("db", "current").stdout, re.MULTILINE)


@pytest.mark.slow
def test_the_scaffold_passes_its_own_tests(generated):
    dist, target = generated
    result = run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "tests"], cwd=dist,
                 env=environment(target), timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert re.search(r"\b6 passed", summary) and "skipped" not in summary and "error" not in summary, summary


@pytest.mark.parametrize("name, message", [
    ("Bad-Name", "« Bad-Name » ne convient pas comme nom de plugin"),
    ("contacts", "un plugin « contacts » est déjà installé"),
])
def test_a_bad_or_taken_name_is_refused_in_one_line(cli, tmp_path, name, message):
    result = cli("plugins", "new", name, "-d", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.startswith(f"Erreur : {message}") and len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == [] or not any(p.name.startswith("coulisses-") for p in tmp_path.iterdir())


def test_an_existing_folder_is_not_overwritten(cli, tmp_path):
    (tmp_path / f"coulisses-{NAME}").mkdir()
    result = cli("plugins", "new", NAME, "-d", str(tmp_path))
    assert result.exit_code == 1
    assert result.output.strip() == f"Erreur : le dossier {tmp_path / f'coulisses-{NAME}'} existe déjà"
