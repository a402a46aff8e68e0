"""Help texts of the ``coulisses`` command in the deployment's language (``COULISSES_LOCALE``).

Commands and groups take a lazy string as they are: ``@group.command("list", help=_l("…"))`` is
translated each time the help is shown. Options need ``option`` below instead of ``click.option``:
click turns an option's help into plain text when the option is declared (``inspect.cleandoc``),
which would fix its language when the module is imported::

    from coulisses.cli_help import option
    from coulisses.i18n import _l

    @option("--force", is_flag=True, help=_l("Remplacer les données que contient la base cible."))
"""
from __future__ import annotations

import inspect
from typing import Any

import click


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
