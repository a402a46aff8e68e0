"""Help texts of the ``coulisses`` command in the deployment's language (``COULISSES_LOCALE``).

Commands and groups take a lazy string as they are: ``@group.command("list", help=_l("…"))`` is
translated each time the help is shown. Options need ``option`` below instead of ``click.option``:
click turns an option's help into plain text when the option is declared (``inspect.cleandoc``),
which would fix its language when the module is imported::

    from coulisses.cli_help import option
    from coulisses.i18n import _l

    @option("--force", is_flag=True, help=_l("Remplacer les données que contient la base cible."))

The ``coulisses`` group runs in the deployment's language (``deployment_language``), so ``--help``
is translated before any configuration is loaded; Flask's options and its ``run``, ``shell`` and
``routes`` commands get translated copies (``translate_flask_parts``). Messages and errors go through
``_()`` too; a command's error is a ``CliError`` ("Erreur : …" in the deployment's language), its
``click.UsageError`` and ``click.BadParameter`` texts are translated. Click's own words (``Usage:``,
``Options:``, "Show this message and exit.", its "Error:" before a usage error, "No such command"…) come
from the stdlib ``gettext`` (click calls ``gettext.gettext``, the global domain): ``click_language`` binds
the host's small catalogue of click's messages (``translations/click/<lang>/LC_MESSAGES/click.po``, fr
and es; English is click's own) for the time the command runs.
"""
from __future__ import annotations

import contextlib
import copy
import gettext
import inspect
import os
from pathlib import Path
from typing import Any

import click

from coulisses.i18n import _, _l


class CliError(click.ClickException):
    """An error of a command, shown as one line in the deployment's language ("Erreur : …", "Error: …");
    exit code 1. Plugins' commands raise it too."""

    def show(self, file=None):
        click.echo(_("Erreur : %(error)s", error=self.format_message()), file=file, err=file is None)


class LazyHelpOption(click.Option):
    """A ``click.Option`` whose help is kept as given (a lazy string) and read in the current
    language each time click shows it."""

    def __init__(self, *args: Any, help: Any = None, **kwargs: Any) -> None:  # noqa: A002 - click's name
        super().__init__(*args, **kwargs)
        self._lazy_help = help

    @property
    def help(self) -> str | None:  # type: ignore[override]
        value = getattr(self, "_lazy_help", None)
        return inspect.cleandoc(str(value)) if value else value

    @help.setter
    def help(self, value: Any) -> None:
        self._lazy_help = value


def option(*param_decls: str, **attrs: Any):
    """``click.option`` with a help translated when it is shown (``help=_l("…")``)."""
    attrs.setdefault("cls", LazyHelpOption)
    return click.option(*param_decls, **attrs)


def deployment_language() -> str | None:
    """``COULISSES_LOCALE`` from the environment or the configuration file, before any configuration
    is loaded (``coulisses --help`` loads none); None when unset or unreadable (then French)."""
    from coulisses.config import settings_environment
    from coulisses.i18n import normalize_language

    try:
        return normalize_language(settings_environment().get("COULISSES_LOCALE"))
    except Exception:  # noqa: BLE001 - a broken configuration file is reported by the command itself
        return None


CLICK_DOMAIN = "click"
CLICK_TRANSLATIONS = Path(__file__).resolve().parent / "translations" / "click"


@contextlib.contextmanager
def click_language(language: str | None):
    """Within the block, click's own messages are in ``language`` (``fr``, ``es``; ``en`` and None: click's
    English). Click translates through the stdlib's global ``gettext`` functions, which read the language
    from the environment (``LANGUAGE``) and the catalogue of the current text domain: both are set for
    the block and put back after it."""
    saved_domain, saved_language = gettext.textdomain(), os.environ.get("LANGUAGE")
    gettext.bindtextdomain(CLICK_DOMAIN, str(CLICK_TRANSLATIONS))
    gettext.textdomain(CLICK_DOMAIN)
    os.environ["LANGUAGE"] = language or "en"
    try:
        yield
    finally:
        gettext.textdomain(saved_domain)
        if saved_language is None:
            os.environ.pop("LANGUAGE", None)
        else:
            os.environ["LANGUAGE"] = saved_language


# What Flask adds to the group (its options and its run, shell and routes commands), in the deployment's
# language too. Flask's objects are shared: the group gets copies.
_FLASK_OPTIONS = {
    "env_file": _l("Charger les variables d'environnement de ce fichier ; elles l'emportent sur celles de "
                   "« .env » et « .flaskenv », celles de l'environnement l'emportent sur tout. Demande "
                   "python-dotenv."),
    "app": _l("L'application Flask ou la fonction qui la crée, sous la forme « module:nom » (sans effet : "
              "Coulisses construit sa propre application)."),
    "debug": _l("Activer ou non le mode débogage."),
}
_FLASK_COMMANDS = {
    "run": (_l("Lancer un serveur de développement."),
            _l("Lancer un serveur local de développement.\n\nCe serveur ne sert qu'au développement : il n'a "
               "ni la stabilité, ni la sécurité, ni les performances d'un serveur WSGI de production. Le "
               "rechargement automatique et le débogueur sont activés avec l'option « --debug ».")),
    "shell": (_l("Lancer un shell dans le contexte de l'application."),
              _l("Lancer un shell Python interactif dans le contexte de l'application, pour exécuter de "
                 "petits extraits de code d'administration.")),
    "routes": (_l("Afficher les routes de l'application."),
               _l("Afficher toutes les routes enregistrées, avec leurs points d'entrée et leurs méthodes.")),
}


def translate_flask_parts(group: click.Group) -> None:
    """Give ``group`` (a FlaskGroup) translated copies of Flask's options and commands."""

    copies = {}  # id(Flask's option) → its translated copy (`run` shares --debug with the group)
    for index, param in enumerate(group.params):
        if param.name in _FLASK_OPTIONS and isinstance(param, click.Option):
            translated = copy.copy(param)
            translated.__class__ = LazyHelpOption
            translated.help = _FLASK_OPTIONS[param.name]
            group.params[index] = copies[id(param)] = translated
    for name, (short_help, help_text) in _FLASK_COMMANDS.items():
        command = group.commands.get(name)
        if command is not None:
            translated = copy.copy(command)
            translated.short_help, translated.help = short_help, help_text
            translated.params = [copies.get(id(param), param) for param in command.params]
            group.add_command(translated, name)
