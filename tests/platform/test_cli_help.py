"""The ``coulisses`` command's help in the deployment's language (COULISSES_LOCALE): commands, groups,
options (with their ``[default: …]``), Flask's parts, the plugins' commands."""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from coulisses.cli_help import LazyHelpOption, option
from coulisses.i18n import _l, message_id, use_locale

HELPS = {
    # (arguments, the French text, its English, its Spanish)
    "main": ((), "le back-office de la billetterie", "the back-office of the box office",
             "el back-office de la taquilla"),
    "db": (("db",), "Créer et mettre à jour le schéma", "Create and upgrade the database schema",
           "Crear y actualizar el esquema"),
    "option": (("db", "upgrade"), "Migrer même si des workers", "Migrate even while workers",
               "Migrar aunque funcionen workers"),
    "default": (("worker",), "Secondes entre deux consultations de la file.  [par défaut : 2.0]",
                "Seconds between two looks at the queue.  [default: 2.0]",
                "Segundos entre dos consultas de la cola.  [por defecto: 2.0]"),
    "plugin": (("devices", "agent"), "Piloter les appareils de ce poste", "Drive this workstation's devices",
               "Controlar los dispositivos de este puesto"),
}


@pytest.mark.parametrize("case", sorted(HELPS))
@pytest.mark.parametrize("lang", ["fr", "en", "es"])
def test_help_follows_the_deployment_language(cli, case, lang):
    args, *texts = HELPS[case]
    result = cli(*args, "--help", env={"COULISSES_LOCALE": lang})
    assert result.exit_code == 0, result.output
    assert result.exception is None
    output = " ".join(result.output.split())  # click wraps the text
    expected = texts[["fr", "en", "es"].index(lang)]
    assert " ".join(expected.split()) in output
    for other in texts:
        if other != expected:
            assert " ".join(other.split()) not in output


def test_the_group_lists_translated_short_helps_and_flask_parts(cli):
    output = cli("--help", env={"COULISSES_LOCALE": "es"}).output
    assert "Mostrar la versión y salir." in output
    assert "Activar o no el modo de depuración." in output
    assert "Listar, activar y desactivar los plugins." in output
    assert "Set debug mode." not in output


def test_a_plugin_command_of_the_app_has_its_help_translated(cli):
    env = {"COULISSES_PLUGINS": "contacts"}
    assert cli("db", "upgrade", env=env).exit_code == 0
    result = cli("contacts", "import", "--help", env={**env, "COULISSES_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Import contacts from a CSV or XLSX FILE." in output
    assert "Validate every line, import nothing." in output
    assert "The encoding of a CSV file. [default: utf-8-sig]" in output


def test_an_option_help_is_translated_when_shown_not_when_declared():
    @click.command(help=_l("Créer l'opérateur LOGIN."))
    @option("--force", is_flag=True, help=_l("Remplacer les données que contient la base cible."))
    @option("--poll", default=2.0, show_default=True, help=_l("Secondes entre deux consultations de la file."))
    def command(force, poll):
        pass

    force = next(p for p in command.params if p.name == "force")
    assert isinstance(force, LazyHelpOption)
    assert message_id(force._lazy_help) == "Remplacer les données que contient la base cible."
    runner = CliRunner()
    with use_locale("en"):
        english = runner.invoke(command, ["--help"]).output
    with use_locale("es"):
        spanish = runner.invoke(command, ["--help"]).output
    with use_locale("fr"):
        french = runner.invoke(command, ["--help"]).output
    assert "Replace the data the target database holds." in english and "Create the operator LOGIN." in english
    assert "Seconds between two looks at the queue.  [default: 2.0]" in english
    assert "Reemplazar los datos que contiene la base de destino." in spanish
    assert "Remplacer les données que contient la base cible." in french


def test_every_command_and_option_of_the_host_has_a_translated_help():
    """A new command or option without ``help=_l(…)`` (or with an English one) fails here."""
    from coulisses.cli import main

    click_own = {"help", "version"}
    flask_run = {"host", "port", "cert", "key", "reload", "debugger", "with_threads", "extra_files",
                 "exclude_patterns", "sort", "all_methods"}
    missing = []

    def walk(command, path):
        helps = [(path, command.help)] + [(f"{path} {p.name}", getattr(p, "_lazy_help", p.help))
                                         for p in command.params if isinstance(p, click.Option)
                                         and p.name not in click_own | flask_run]
        for where, text in helps:
            if not text:
                missing.append(f"{where}: no help")
                continue
            with use_locale("en"):
                english = str(text)
            if english == message_id(text):
                missing.append(f"{where}: not translated ({message_id(text)[:40]!r})")
        for name, sub in getattr(command, "commands", {}).items():
            if hasattr(sub, "_entry_point"):  # a plugin's standalone group, loaded when called
                sub = sub._group()
            walk(sub, f"{path} {name}")

    walk(main, "coulisses")
    assert not missing, missing
