"""Mistakes an integrator makes, caught by a command before any restart (issue 16): a clash between
two plugins' registries, a misspelled hook, a missing dependency, an import error, a function named
like a hook without ``@hookimpl``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import coulisses
from coulisses import PluginError
from tests.platform.conftest import make_plugin

BIN = Path(sys.executable).parent


def school_type(label):
    from plugins.contacts.registry import ContactType

    return ContactType(code="school", label=label, kind="structure")


@pytest.fixture
def clashing(register_plugin):
    """Two plugins that each define the contact type code ``school``, differently."""
    register_plugin(make_plugin("tp_school_a", depends=["contacts"],
                                hooks={"contacts_types": lambda: [school_type("École")]}))
    register_plugin(make_plugin("tp_school_b", depends=["contacts"],
                                hooks={"contacts_types": lambda: [school_type("Établissement scolaire")]}))


CLASH = "plugin « tp_school_b » : type de contact « school » : « tp_school_a » en donne déjà une définition"


def test_enable_refuses_a_plugin_whose_registry_clashes_with_the_start_s_message(cli, clashing):
    assert cli("db", "upgrade").exit_code == 0
    assert cli("plugins", "enable", "tp_school_a").exit_code == 0
    refused = cli("plugins", "enable", "tp_school_b")
    assert refused.exit_code == 1
    assert refused.output.strip() == f"Erreur : {CLASH}"
    rows = {r["name"]: r for r in json.loads(cli("plugins", "list", "--json").stdout)}
    assert rows["tp_school_a"]["state"] == "enabled"
    assert rows["tp_school_b"]["enabled"] is False  # nothing was recorded
    assert rows["tp_school_b"]["state"] == "error" and rows["tp_school_b"]["error"] == CLASH
    assert cli("plugins", "check").exit_code == 0  # the recorded set still starts


def test_plugins_check_refuses_the_current_set_and_changes_nothing(cli, clashing, make_app):
    assert cli("db", "upgrade").exit_code == 0
    with pytest.raises(PluginError) as start:  # the message the start gives
        make_app(["tp_school_a", "tp_school_b"])
    assert str(start.value) == CLASH
    seed = {"COULISSES_PLUGINS": "tp_school_a,tp_school_b"}
    result = cli("plugins", "check", env=seed)
    assert result.exit_code == 1
    assert result.output.strip() == f"Erreur : {CLASH}"
    ok = cli("plugins", "check", env={"COULISSES_PLUGINS": "tp_school_a"})
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "Les plugins activés se chargent : contacts, tp_school_a."
    assert json.loads(cli("plugins", "list", "--json").stdout)  # nothing recorded by check
    assert all(r["changed_at"] is None for r in json.loads(cli("plugins", "list", "--json").stdout))


def test_plugins_list_shows_the_cause_of_every_plugin_that_cannot_load_and_its_hooks(cli, register_plugin):
    register_plugin(make_plugin("tp_typo", hooks={"coulisses_permisions": lambda: []}))
    register_plugin(make_plugin("tp_orphan_dep", depends=["tp_absent"]))
    register_plugin(make_plugin("tp_fine", hooks={"coulisses_permissions": lambda: [],
                                                  "coulisses_blueprints": lambda: []}))
    assert cli("db", "upgrade").exit_code == 0
    result = cli("plugins", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["tp_typo"]["state"] == "error"
    assert rows["tp_typo"]["error"] == ("plugin « tp_typo » : l'implémentation de hook « coulisses_permisions » ne "
                                        "correspond à aucune spécification de hook (vouliez-vous dire « coulisses_permissions » ?)")
    assert rows["tp_orphan_dep"]["state"] == "error"
    assert rows["tp_orphan_dep"]["error"] == "plugin « tp_orphan_dep » : dépend de « tp_absent », qui n'est pas installé"
    assert rows["tp_fine"]["state"] == "disabled" and rows["tp_fine"]["error"] is None
    assert rows["tp_fine"]["hooks"] == ["coulisses_blueprints", "coulisses_permissions"]
    assert rows["tp_typo"]["hooks"] == ["coulisses_permisions"]
    assert "contacts_types" in rows["contacts"]["hooks"]
    # the table too, with the whole cause
    table = {line.split()[0]: line for line in cli("plugins", "list").stdout.splitlines()[1:]}
    assert table["tp_orphan_dep"].split()[2] == "erreur"  # the state in the deployment's language (--json: "error")
    assert table["tp_orphan_dep"].endswith("dépend de « tp_absent », qui n'est pas installé")
    hooks = cli("plugins", "list", "--hooks").stdout
    assert "    hooks : coulisses_blueprints, coulisses_permissions" in hooks


def test_an_enabled_plugin_that_stops_the_start_is_shown_in_error(cli, register_plugin):
    register_plugin(make_plugin("tp_typo", hooks={"coulisses_permisions": lambda: []}))
    rows = {r["name"]: r for r in json.loads(cli("plugins", "list", "--json",
                                                 env={"COULISSES_PLUGINS": "tp_typo"}).stdout)}
    assert rows["tp_typo"]["state"] == "error" and rows["tp_typo"]["enabled"] is True
    assert "vouliez-vous dire « coulisses_permissions »" in rows["tp_typo"]["error"]
    check = cli("plugins", "check", env={"COULISSES_PLUGINS": "tp_typo"})
    assert check.exit_code == 1 and "ne correspond à aucune spécification de hook" in check.output


class Unmarked:
    MANIFEST = coulisses.Manifest(name="tp_unmarked", version="1.0", label="Unmarked")

    @staticmethod
    def coulisses_permissions():  # forgot @hookimpl
        return []

    @staticmethod
    @coulisses.hookimpl
    def coulisses_blueprints():
        return []


def test_a_function_named_like_a_hook_without_hookimpl_is_warned_about(cli, register_plugin, caplog):
    register_plugin(Unmarked())
    expected = ("plugin 'tp_unmarked' : la fonction 'coulisses_permissions' (" + __file__ + ":")
    rows = {r["name"]: r for r in json.loads(cli("plugins", "list", "--json").stdout)}
    assert rows["tp_unmarked"]["state"] == "disabled"
    assert rows["tp_unmarked"]["hooks"] == ["coulisses_blueprints"]
    [warning] = rows["tp_unmarked"]["warnings"]
    assert warning.startswith(expected)
    assert warning.endswith("porte le nom d'un hook mais n'est pas décorée par @hookimpl : Coulisses ne l'appelle pas")
    check = cli("plugins", "check", env={"COULISSES_PLUGINS": "tp_unmarked"})
    assert check.exit_code == 0
    assert check.stderr.startswith("Attention : " + expected)
    assert check.stderr.count("la fonction 'coulisses_permissions'") == 1
    # and the start logs it
    from coulisses import plugins as cplugins

    infos = cplugins.discover()
    with caplog.at_level("WARNING", logger="coulisses.plugins"):
        cplugins.build_manager(infos, ["tp_unmarked"])
    assert any(r.getMessage().startswith(expected) for r in caplog.records)


def test_the_built_in_plugins_have_no_unmarked_hook():
    from coulisses import plugins as cplugins

    infos = cplugins.discover()
    known = cplugins.spec_names(infos)
    for name, info in infos.items():
        if info.source == "entry point" and info.distribution == "coulisses":
            assert cplugins.unmarked_hooks(info, known) == [], name


# --------------------------------------------------------------------------- import errors


BROKEN_INIT = '''\
import coulisses

MANIFEST = coulisses.Manifest(name="tp_broken", version="1.0", label="Broken")
RATE = 1 / 0
'''


@pytest.fixture
def broken_distribution(tmp_path, monkeypatch):
    """An installed distribution whose plugin fails to import (line 4 of its __init__.py)."""
    site = tmp_path / "broken-site"
    (site / "tp_broken").mkdir(parents=True)
    (site / "tp_broken" / "__init__.py").write_text(BROKEN_INIT)
    dist = site / "tp_broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[coulisses.plugins]\ntp_broken = tp_broken\n")
    monkeypatch.syspath_prepend(str(site))
    yield site
    sys.modules.pop("tp_broken", None)


def test_an_import_error_names_the_file_and_line_and_traceback_shows_it_all(cli, broken_distribution):
    where = f"at {broken_distribution / 'tp_broken' / '__init__.py'}:4"
    rows = {r["name"]: r for r in json.loads(cli("plugins", "list", "--json").stdout)}
    assert rows["tp_broken"]["state"] == "error"
    assert rows["tp_broken"]["error"] == f"plugin « tp_broken » : l'import a échoué (ZeroDivisionError: division by zero) {where}"

    env = {"COULISSES_PLUGINS": "tp_broken"}
    short = cli("plugins", "check", env=env)
    assert short.exit_code == 1
    assert "Traceback" not in short.output
    assert short.output.strip() == (f"Erreur : plugin « tp_broken » : l'import a échoué (ZeroDivisionError: division by "
                                    f"zero) {where} (--traceback pour la trace complète)")
    full = cli("--traceback", "plugins", "check", env=env)
    assert full.exit_code == 1
    assert "Traceback (most recent call last)" in full.stderr and "RATE = 1 / 0" in full.stderr
    debug = cli("plugins", "check", env={**env, "COULISSES_DEBUG": "1"})
    assert "Traceback (most recent call last)" in debug.stderr


def test_help_never_prints_a_traceback_with_a_broken_plugin_enabled(broken_distribution, database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COULISSES_") or k == "COULISSES_TEST_DATABASE_URL"}
    env.update(PYTHONPATH=str(broken_distribution), COULISSES_DATABASE_URL=database_url, COULISSES_ENV="development",
               COULISSES_PLUGINS="tp_broken", COULISSES_INSTANCE_PATH=str(tmp_path / "instance"))
    result = subprocess.run([str(BIN / "coulisses"), "--help"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "plugins" in result.stdout and "--traceback" in result.stdout
    # the one line under --help, in the deployment's language (not Flask's English "Error:")
    assert "Erreur : plugin « tp_broken » : l'import a échoué (ZeroDivisionError: division by zero) at " in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_standalone_command_that_fails_to_import_gives_one_line(tmp_path):
    """A plugin's command group of entry point group coulisses.commands (loaded without the app)."""
    site = tmp_path / "cmd-site"
    site.mkdir()
    (site / "tp_cmd_mod.py").write_text("import click\nraise ImportError('No module named serial_missing')\n")
    dist = site / "tp_cmd-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-cmd\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[coulisses.commands]\ntp_cmd = tp_cmd_mod:group\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COULISSES_")}
    env.update(PYTHONPATH=str(site), COULISSES_ENV="development", COULISSES_PLUGINS="",
               COULISSES_INSTANCE_PATH=str(tmp_path / "instance"),
               COULISSES_DATABASE_URL=f"sqlite:///{tmp_path}/c.db")
    helped = subprocess.run([str(BIN / "coulisses"), "--help"], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert helped.returncode == 0 and "Traceback" not in helped.stdout + helped.stderr
    assert "tp_cmd" in helped.stdout
    run = subprocess.run([str(BIN / "coulisses"), "tp_cmd", "anything"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (
        "Erreur : la commande « tp_cmd » (tp_cmd_mod:group) ne se charge pas : ImportError: No module named "
        f"serial_missing at {site / 'tp_cmd_mod.py'}:2")
