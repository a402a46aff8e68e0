"""``coulisses reports list`` and ``coulisses reports run CODE --param k=v --format pdf -o FILE``
(with a progress bar). They run inside the app context, as an operator when ``--as LOGIN`` is given."""
from __future__ import annotations

import contextlib
import sys

import click

from coulisses import CoulissesError
from coulisses.cli_help import CliError, option
from coulisses.i18n import _, _l, _n


def _session():
    from coulisses.web.extensions import db

    return db.session


@click.group("reports",
             help=_l("Rapports : les lister, en produire un dans un fichier."))
def reports_group():
    pass


@reports_group.command("list",
                       help=_l("Les rapports des plugins activés : code, plugin, titre, paramètres."))
def list_command():
    from plugins.reports.registry import get_registry

    registry = get_registry()
    for plugin, defs in registry.reports_by_plugin().items():
        for d in defs:
            params = ", ".join(f"{name}{'*' if field.required else ''}" for name, field in d.params().fields.items())
            click.echo(f"{d.code:32} {plugin:10} {d.title}  [{params}]")


def _parse_params(values) -> dict:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(_("k=v attendu, reçu %(value)s", value=repr(item)), param_hint="--param")
        params[key.strip()] = value
    return params


@reports_group.command("run",
                       help=_l("Produire le rapport CODE dans un fichier, avec une barre de progression."))
@click.argument("code")
@option("--param", "-p", "params", multiple=True, help=_l("Un paramètre, k=v (à répéter)."))
@option("--format", "fmt", type=click.Choice(["pdf", "csv", "xlsx"]), default="pdf", show_default=True,
              help=_l("Le format du fichier."))
@option("--separator", type=click.Choice([",", ";"]), default=",", help=_l("Séparateur CSV."))
@option("-o", "--output", type=click.Path(dir_okay=False, writable=True), required=True,
              help=_l("Le fichier à écrire."))
@option("--as", "login", default=None,
              help=_l("Produire en tant que cet opérateur (son nom figure sur le rapport)."))
@option("--locale", default=None, help=_l("fr, en ou es (par défaut : la langue du déploiement)."))
def run_command(code, params, fmt, separator, output, login, locale):
    from coulisses.db import Actor, acting_as
    from coulisses.i18n import use_locale
    from coulisses.security import Operator
    from sqlalchemy import select

    from plugins.reports.params import ParamsError
    from plugins.reports.services import engine

    session = _session()
    actor = Actor()
    if login:
        operator = session.scalar(select(Operator).where(Operator.login == login))
        if operator is None:
            raise CliError(_("opérateur inconnu : %(login)s", login=login))
        actor = Actor(operator.id, operator.login)
    with acting_as(actor), use_locale(locale) if locale else contextlib.nullcontext():
        try:
            definition, loaded = engine.check(session, code, _parse_params(params))
            total = engine.count_rows(session, definition, loaded)
        except ParamsError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise CliError(f"{exc} — {details}") from None
        except CoulissesError as exc:
            raise CliError(str(exc)) from None
        with open(output, "wb") as out, click.progressbar(length=max(total, 1), label=str(definition.title),
                                                          file=sys.stderr) as bar:
            seen = [0]

            def progress(n):
                bar.update(n - seen[0])
                seen[0] = n

            try:
                outcome = engine.render(session, definition, loaded, fmt, out, options={"separator": separator},
                                        progress=progress)
            except CoulissesError as exc:
                raise CliError(str(exc)) from None
            bar.update(max(total, 1) - seen[0])
        session.rollback()
    click.echo(_n("%(num)d ligne → %(path)s", "%(num)d lignes → %(path)s", outcome.rows, path=output))
