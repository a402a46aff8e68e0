"""The ``coulisses`` command.

``db``, ``plugins``, ``operators``, ``demo`` and ``tasks`` work on the database without building the
web app, so that a broken plugin can still be listed and disabled. ``run``, ``shell``, ``routes`` and
the plugins' own commands (``coulisses_cli_commands``) build the app.
"""
from __future__ import annotations

import getpass
import logging
import os
import json
import secrets
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.orm import Session

import coulisses
from coulisses import CoulissesError, migrations, schema_check
from coulisses import db as cdb
from coulisses import plugins as cplugins
from coulisses import security, tasks as ctasks
from coulisses.cli_help import CliError, LazyHelpOption, option, translate_flask_parts
from coulisses.i18n import _, _l, _n

DEMO_ADMIN = "admin"


def _by() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001
        return "cli"


def _app_refused(message: str):
    """Flask's ``NoAppException`` (shown as one line, also under --help), ending the command with 1."""
    from flask.cli import NoAppException

    class AppRefused(NoAppException):
        exit_code = 1

        def show(self, file=None):
            click.echo(_("Erreur : %(error)s", error=self.format_message()), err=True)

    return AppRefused(message)


def _create_app():
    from coulisses.web.app import create_app

    # Flask shows a NoAppException as one line (and a traceback for anything else), also under --help.
    try:
        app = create_app()
        plugin_commands = cplugins.call_each_safely(app.extensions["coulisses"].pm, "coulisses_cli_commands")
    except CoulissesError as exc:
        _print_traceback(exc)
        raise _app_refused(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the database unreachable, a plugin's bug…
        _print_traceback(exc)
        error = "{}: {}".format(type(exc).__name__, exc)
        raise _app_refused(_("l'application ne démarre pas : %(error)s (--traceback pour le détail)",
                             error=error)) from None
    for _plugin, commands in plugin_commands:
        for command in commands:
            app.cli.add_command(_in_app_context(command))
    return app


def _forget_help_options(command: click.Command) -> None:
    """Click keeps each command's ``--help`` option (its help text in the language of the first run): made
    again in this run's language (a process that runs the command several times, the tests)."""
    command._help_option = None
    for sub in getattr(command, "commands", {}).values():
        _forget_help_options(sub)


def _in_app_context(command: click.Command) -> click.Command:
    _forget_help_options(command)
    if isinstance(command, click.Group):
        for name, sub in list(command.commands.items()):
            command.commands[name] = _in_app_context(sub)
    elif command.callback is not None and not getattr(command.callback, "_coulisses_ctx", False):
        command.callback = with_appcontext(command.callback)
        command.callback._coulisses_ctx = True
    return command


def _debug() -> bool:
    """``--traceback`` given, or ``COULISSES_DEBUG=1``: errors come with their full traceback."""
    return _TRACEBACK[0] or os.environ.get("COULISSES_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


_TRACEBACK = [False]


def _set_traceback(ctx, param, value):
    _TRACEBACK[0] = bool(value)
    return value


class _Main(FlaskGroup):
    """The ``coulisses`` group: a plugin that cannot be loaded gives one line, never a traceback
    (``--traceback`` or ``COULISSES_DEBUG=1`` add it), also under ``coulisses --help``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        translate_flask_parts(self)

    def main(self, *args, **kwargs):
        # help texts and messages in the deployment's language (COULISSES_LOCALE), also under --help,
        # before any command has loaded the configuration
        from coulisses.cli_help import click_language, deployment_language
        from coulisses.i18n import use_locale

        with use_locale(deployment_language()) as language, click_language(language):
            _forget_help_options(self)
            return super().main(*args, **kwargs)

    def list_commands(self, ctx):
        from flask.cli import NoAppException, ScriptInfo

        try:  # the app's commands: Flask would print its own (English) "Error:" when the app cannot start
            ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as exc:
            click.secho(_("Erreur : %(error)s", error=exc.format_message()) + "\n", err=True, fg="red")
            return sorted(click.Group.list_commands(self, ctx))
        except Exception:  # noqa: BLE001 - shown by Flask's own listing below, as one line
            pass
        return _quietly(lambda: super(_Main, self).list_commands(ctx), default=sorted(self.commands))

    def get_command(self, ctx, name):
        from flask.cli import NoAppException, ScriptInfo

        if click.Group.get_command(self, ctx, name) is None and not ctx.resilient_parsing:
            # a command of the app (routes, shell, a plugin's): the app must start; if not, one line, exit 1
            try:
                ctx.ensure_object(ScriptInfo).load_app()
            except NoAppException as exc:
                raise CliError(exc.format_message()) from None
        return _quietly(lambda: super(_Main, self).get_command(ctx, name), default=self.commands.get(name))


def _quietly(call, default):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - shown as one line
        _print_traceback(exc)
        click.secho(_("Erreur : %(error)s", error=exc), err=True, fg="red")
        return default


@click.group(cls=_Main, create_app=_create_app, add_version_option=False, load_dotenv=False,
             set_debug_flag=False,
             help=_l("Coulisses : le back-office de la billetterie."))
@click.version_option(coulisses.__version__, prog_name="coulisses", cls=LazyHelpOption,
                       help=_l("Afficher la version et quitter."))
@option("--traceback", is_flag=True, is_eager=True, expose_value=False, callback=_set_traceback,
              help=_l("Afficher la trace complète d'une erreur (aussi COULISSES_DEBUG=1)."))
def main():
    pass


# --------------------------------------------------------------------------- helpers


class Context:
    def __init__(self):
        from coulisses.web.app import load_config

        try:
            # The CLI signs nothing: it does not need the secret key the web app needs.
            self.config = load_config({"SECRET_KEY": os.environ.get("COULISSES_SECRET_KEY") or "unused-by-the-cli"},
                                      check_secret=False)
        except CoulissesError as exc:
            raise CliError(str(exc)) from None
        url = self.config["DATABASE_URL"]
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = cdb.make_engine(url, lock_timeout=self.config["LOCK_TIMEOUT"])
        cdb.CURRENCY = self.config["CURRENCY"]
        self.infos = cplugins.discover()

    def seed(self):
        return cplugins.parse_plugin_list(self.config["PLUGINS"])

    @contextmanager
    def session(self):
        with Session(self.engine) as session:
            yield session

    def enabled(self, session) -> list[str]:
        requested = cplugins.requested_plugins(session, self.infos, self.seed())
        return cplugins.resolve(self.infos, requested)

    def check(self, order) -> list[str]:
        """Load ``order`` as the start would (hooks, permissions, every registry), without an app;
        raises the start's ``PluginError``. Returns the warnings (functions named like a hook without
        ``@hookimpl``)."""
        from coulisses.web.app import CoreHooks

        self.manager(order)  # the configuration defaults of the set become current, as at the start
        pm = cplugins.check_set(self.infos, order, CoreHooks())
        known = cplugins.all_hook_names(pm)
        return [w for name in order for w in cplugins.unmarked_hooks(self.infos[name], known)]

    def manager(self, order):
        """The plugin manager of ``order``; the plugins' configuration defaults become current."""
        from coulisses.config import apply_plugin_defaults, install_config
        from coulisses.web.app import CoreHooks

        from coulisses.registry import install_manager

        pm = cplugins.build_manager(self.infos, order, CoreHooks(), warn=False)  # `plugins check` shows them
        config = dict(self.config)
        apply_plugin_defaults(config, pm)
        try:  # the settings saved on the plugins screen, as the app reads them
            from coulisses import plugin_settings

            with self.session() as session:
                plugin_settings.install(config, session, pm)
        except CoulissesError:
            raise
        except Exception:  # noqa: BLE001 - no database yet (db upgrade creates it): the defaults
            pass
        install_config(config)
        install_manager(pm)  # the plugins' registries, in this command, are those of the enabled set
        return pm


def _as_cli():
    """The security journal names the system user who ran the command (``cli:marie``)."""
    return cdb.acting_as(cdb.Actor(None, _by()))


def _print_traceback(exc: BaseException) -> None:
    """With ``--traceback`` / ``COULISSES_DEBUG=1``: the error's traceback, and the one of what caused
    it (a plugin's import error), on stderr."""
    if not _debug():
        return
    import traceback

    shown = exc
    while isinstance(shown, CoulissesError) and shown.__cause__ is not None:
        shown = shown.__cause__
    click.echo("".join(traceback.format_exception(type(shown), shown, shown.__traceback__)), err=True)


def _fail(exc: Exception):
    _print_traceback(exc)
    message = str(exc)
    if getattr(exc, "import_failed", False) and not _debug():
        message += " " + _("(--traceback pour la trace complète)")
    raise CliError(message)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


# --------------------------------------------------------------------------- db


@main.group(cls=click.Group,
            help=_l("Créer et mettre à jour le schéma de la base de données."))
def db():
    pass


@db.command("upgrade",
            help=_l("Mettre à jour le cœur et chaque plugin activé vers le schéma le plus récent.\n\nRefusé "
                    "tant qu'un worker d'une autre version de Coulisses tourne (arrêtez-les d'abord), ou "
                    "quand la base a été migrée par une version plus récente (un retour en arrière : "
                    "restaurez plutôt la sauvegarde)."))
@option("--force", is_flag=True,
              help=_l("Migrer même si des workers d'une autre version tournent, ou sur la base d'une version "
                      "plus récente."))
@pass_ctx
def db_upgrade(ctx: Context, force):
    from coulisses import upgrade as cupgrade

    try:
        with ctx.session() as session:
            order = ctx.enabled(session)
            preflight = cupgrade.check(session, ctx.infos, order)
        for warning in preflight.warnings:
            click.echo(_("Attention : %(warning)s", warning=warning), err=True)
        blocking = preflight.blocking(force)
        if blocking:
            for reason in blocking:
                click.echo(f"- {reason}", err=True)
            raise CliError(_("Mise à jour de la base refusée : rien n'a été modifié."))
        with ctx.engine.begin() as conn:
            migrations.upgrade(conn, ctx.infos, order)
        with ctx.session() as session:
            if not cplugins.stored_states(session):
                cplugins.record_enabled(session, ctx.infos, order, _by())
            pm = ctx.manager(order)
            declared = security.collect_permissions(cplugins.call_each_safely(pm, "coulisses_permissions"))
            new = security.sync_roles_and_permissions(session, declared)
            installed = cplugins.install_defaults(session, pm)
            cupgrade.record_version(session)
            session.commit()
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Base de données à jour : core, %(plugins)s", plugins=", ".join(order) or _("(aucun plugin)"))
               + (_n("; %(num)s nouvelle permission", "; %(num)s nouvelles permissions", len(new)) if new else "")
               + (_("; réglages par défaut installés pour %(plugins)s", plugins=", ".join(installed))
                  if installed else ""))


@db.command("current",
            help=_l("Afficher la révision du schéma du cœur et de chaque plugin."))
@pass_ctx
def db_current(ctx: Context):
    from sqlalchemy import inspect as sqlalchemy_inspect

    from coulisses.upgrade import unknown_revisions

    with ctx.engine.connect() as conn:
        has_versions = migrations.VERSION_TABLE in sqlalchemy_inspect(conn).get_table_names()
        unknown = unknown_revisions(conn, ctx.infos) if has_versions else []
        if unknown:  # migrated by a newer version: say so instead of a traceback
            _fail(CoulissesError(_("révisions inconnues de cette version : %(revisions)s (base migrée par une "
                                   "version plus récente ?)", revisions=", ".join(unknown))))
        applied = migrations.applied_revisions(conn, ctx.infos)
        heads = migrations.branch_heads(conn, ctx.infos)
    for branch, head in sorted(heads.items()):
        state = _("à jour") if head in applied else _("en retard ou non installé")
        click.echo(f"{branch:20} {head:14} {state}")


@db.command("revision",
            help=_l("(Auteurs de plugins) générer une migration de PLUGIN (core : le cœur) d'après ses "
                    "modèles.\n\nLes modèles sont comparés à une base temporaire migrée jusqu'aux têtes du "
                    "cœur, des dépendances de PLUGIN et de PLUGIN : ni l'état de votre base ni les autres "
                    "plugins installés n'entrent en jeu."))
@click.argument("plugin")
@option("-m", "--message", required=True, help=_l("Ce que fait la révision (son fichier en prend le nom)."))
@option("--empty", is_flag=True, help=_l("Une révision vide à remplir à la main (une migration de données)."))
@pass_ctx
def db_revision(ctx: Context, plugin, message, empty):
    import tempfile

    from alembic.util import CommandError

    if plugin != "core" and plugin not in ctx.infos:
        _fail(CoulissesError(_("aucun plugin installé ne s'appelle « %(name)s » (installés : %(names)s)",
                               name=plugin, names=", ".join(ctx.infos) or "-")))
    with tempfile.TemporaryDirectory(prefix="coulisses-revision-") as scratch:
        try:
            script = migrations.revision(ctx.infos, plugin, message, scratch_url=f"sqlite:///{scratch}/scratch.db",
                                         empty=empty)
        except CoulissesError as exc:
            _fail(exc)
        except CommandError as exc:
            _fail(CoulissesError(_("Alembic refuse de créer la révision de %(plugin)s : %(error)s",
                                   plugin=plugin, error=exc)))
    if script is None:
        click.echo(_("Rien à migrer : le schéma des migrations de %(plugin)s est déjà celui de ses modèles "
                     "(--empty pour une révision vide).", plugin=plugin))
        return
    click.echo(_("Révision %(revision)s créée : %(path)s. Relisez-la, puis lancez `coulisses db upgrade`.",
                 revision=script.revision, path=script.path))


@db.command("check",
            help=_l("Comparer les modèles de chaque plugin activé au schéma migré ; code de sortie 1 en "
                    "nommant ce qui manque."))
@pass_ctx
def db_check(ctx: Context):
    try:
        with ctx.session() as session:
            order = ctx.enabled(session)
    except CoulissesError as exc:
        _fail(exc)
    with ctx.engine.connect() as conn:
        problems = schema_check.schema_report(conn, ctx.infos, order)
    for plugin, items in problems.items():
        for item in items:
            click.echo(f"{plugin}: {item}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(_("Le schéma de la base est celui des modèles : %(plugins)s.", plugins=", ".join(["core", *order])))


# --------------------------------------------------------------------------- plugins


@main.group(cls=click.Group,
            help=_l("Lister, activer et désactiver les plugins."))
def plugins():
    pass


def _plugin_rows(ctx: Context):
    from coulisses import plugin_admin

    with ctx.session() as session:
        return plugin_admin.plugin_rows(session, ctx.infos, ctx.seed(), ctx.config)


@plugins.command("list",
                 help=_l("Les plugins installés : nom, version, état (et pourquoi l'un ne se charge pas), "
                         "dépendances, description."))
@option("--json", "as_json", is_flag=True, help=_l("Afficher du JSON au lieu d'un tableau."))
@option("--hooks", "show_hooks", is_flag=True, help=_l("Lister aussi les hooks que chaque plugin implémente."))
@pass_ctx
def plugins_list(ctx: Context, as_json, show_hooks):
    rows = _plugin_rows(ctx)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    headers = (_("NOM"), _("VERSION"), _("ÉTAT"), _("DÉPEND DE"), _("DESCRIPTION"))
    from coulisses.plugin_admin import state_label

    table = [(r["name"], r["version"], state_label(r["state"]), ",".join(r["depends"]) or "-",
              r["error"] if r["error"] else r["description"]) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *table)]
    widths[-1] = min(widths[-1], 70)
    for line, row in zip((headers, *table), (None, *rows)):
        cells = [str(v)[:w].ljust(w) for v, w in zip(line, widths)]
        if row is not None and row["error"]:  # a cause is never cut
            cells[-1] = row["error"] + (" " + _("(activé)") if row["enabled"] else "")
        click.echo("  ".join(cells).rstrip())
        if row is not None and show_hooks:
            click.echo("    " + _("hooks : %(hooks)s", hooks=", ".join(row["hooks"]) or "-"))
    for row in rows:
        for warning in row["warnings"]:
            click.echo(_("Attention : %(warning)s", warning=warning), err=True)


@plugins.command("enable",
                 help=_l("Activer NAME et ce dont il dépend, et créer leurs tables."))
@click.argument("name")
@option("--no-upgrade", is_flag=True, help=_l("Ne pas mettre à jour le schéma de la base maintenant."))
@pass_ctx
def plugins_enable(ctx: Context, name, no_upgrade):
    from coulisses import plugin_admin

    try:
        with ctx.session() as session:
            # refused now, with the start's message, rather than at the next start (the plugins screen
            # does the same checks)
            changed, order, warnings = plugin_admin.enable(session, ctx.infos, name, ctx.seed(), _by(), ctx.config,
                                                           check_migrations=not no_upgrade)
            session.commit()
        if not no_upgrade:
            plugin_admin.install_enabled(ctx.engine, ctx.infos, order, ctx.config)
    except CoulissesError as exc:
        _fail(exc)
    for warning in warnings:
        click.echo(_("Attention : %(warning)s", warning=warning), err=True)
    if changed:
        click.echo(_n("Activé : %(plugins)s. Redémarrez le serveur pour l'utiliser.",
                      "Activés : %(plugins)s. Redémarrez le serveur pour les utiliser.",
                      len(changed), plugins=", ".join(changed)))
    else:
        click.echo(_("%(name)s est déjà activé.", name=name))


@plugins.command("disable",
                 help=_l("Désactiver NAME (refusé tant qu'un plugin activé en dépend). Ses données sont "
                         "conservées."))
@click.argument("name")
@pass_ctx
def plugins_disable(ctx: Context, name):
    from coulisses import plugin_admin

    try:
        with ctx.session() as session:
            plugin_admin.disable(session, ctx.infos, name, ctx.seed(), _by())
            session.commit()
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Désactivé : %(name)s (ses données sont conservées ; réactivez-le pour les retrouver). "
                 "Redémarrez le serveur.", name=name))


@plugins.command("uninstall",
                 help=_l("Supprimer les tables de NAME, un plugin désactivé dont aucun plugin activé ne dépend, et "
                         "sa révision du schéma, après avoir montré ce qui sera supprimé. `plugins disable` garde "
                         "les données ; ceci non."))
@click.argument("name")
@option("--drop-data", is_flag=True,
              help=_l("Supprimer les tables du plugin et sa révision du schéma (obligatoire)."))
@option("--yes", is_flag=True, help=_l("Ne pas demander de confirmation."))
@pass_ctx
def plugins_uninstall(ctx: Context, name, drop_data, yes):
    from coulisses import plugin_admin

    if not drop_data:
        _fail(CoulissesError(_("La désinstallation supprime les données du plugin : relancez avec --drop-data "
                               "pour confirmer (ou `coulisses plugins disable %(name)s` pour les garder).",
                               name=name)))
    try:
        with ctx.engine.connect() as conn:
            plan = plugin_admin.uninstall_plan(conn, ctx.infos, name)
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Désinstallation de %(name)s : ceci sera supprimé définitivement.", name=name))
    if plan["tables"]:
        for table_name in plan["tables"]:
            click.echo("  " + _n("table %(table)s (%(num)d ligne)", "table %(table)s (%(num)d lignes)",
                                 plan["rows"][table_name], table=table_name))
    else:
        click.echo("  " + _("aucune table"))
    if plan["versions"]:
        click.echo("  " + _("révision du schéma : %(versions)s", versions=", ".join(plan["versions"])))
    else:
        click.echo("  " + _("aucune révision du schéma enregistrée"))
    if not yes and not click.confirm(_("Supprimer ces données ?"), default=False):
        click.echo(_("Rien n'a été supprimé."))
        raise SystemExit(1)
    try:
        with _as_cli(), ctx.engine.begin() as conn:
            plan = plugin_admin.uninstall_plan(conn, ctx.infos, name)  # again, in the transaction
            plugin_admin.uninstall(conn, ctx.infos, name, plan, _by())
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Désinstallé : %(name)s (%(tables)s). Vous pouvez retirer sa distribution.",
                 name=name, tables=", ".join(plan["tables"]) or "-"))


@plugins.command("check",
                 help=_l("Charger les plugins activés comme le ferait le démarrage (hooks, permissions, registres, "
                         "migrations) sans rien modifier ; code de sortie 1 avec le message du démarrage s'ils ne "
                         "se chargent pas."))
@pass_ctx
def plugins_check(ctx: Context):
    try:
        with ctx.session() as session:
            order = ctx.enabled(session)
        warnings = ctx.check(order)
        migrations.check(ctx.infos, order)
    except CoulissesError as exc:
        _fail(exc)
    for warning in warnings:
        click.echo(_("Attention : %(warning)s", warning=warning), err=True)
    click.echo(_("Les plugins activés se chargent : %(plugins)s.", plugins=", ".join(order) or "-"))


@plugins.command("new",
                 help=_l("(Auteurs de plugins) écrire une distribution de plugin, coulisses-NAME, qui s'installe, "
                         "s'active, se migre et passe ses propres tests telle que générée : paquet, MANIFEST, "
                         "point d'entrée, hooks, un modèle et sa première migration, un écran d'administration, "
                         "des permissions, des routes REST, des traductions, des tests."))
@click.argument("name")
@option("--directory", "-d", type=click.Path(file_okay=False), default=".", show_default=True,
              help=_l("Où écrire la distribution coulisses-NAME."))
@option("--label", default=None, help=_l("Le libellé du plugin, montré aux opérateurs (en français)."))
def plugins_new(name, directory, label):
    from coulisses import scaffold

    try:
        root = scaffold.create(name, Path(directory).resolve(), label)
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Plugin %(name)s créé dans %(path)s. Ensuite : `pip install -e %(path)s`, "
                 "`coulisses plugins enable %(name)s`, puis `pytest` dans ce dossier.", name=name, path=str(root)))


# --------------------------------------------------------------------------- operators


@main.group(cls=click.Group,
            help=_l("Créer des opérateurs, définir leurs mots de passe, délivrer des jetons d'API."))
def operators():
    pass


def _password_option(f):
    return option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        help=_l("Demandé s'il n'est pas donné."))(f)


@operators.command("create",
                   help=_l("Créer l'opérateur LOGIN."))
@click.argument("login")
@option("--full-name", default="", help=_l("Le nom complet de l'opérateur."))
@option("--role", "roles", multiple=True, default=["operator"], show_default=True,
              help=_l("administrator, supervisor, operator, readonly (répétable)"))
@_password_option
@pass_ctx
def operators_create(ctx: Context, login, full_name, roles, password):
    try:
        with ctx.session() as session, _as_cli():
            op = security.create_operator(session, login, password, full_name, list(roles))
            session.commit()
            click.echo(_n("Opérateur %(login)s créé avec le rôle %(roles)s.",
                          "Opérateur %(login)s créé avec les rôles %(roles)s.",
                          len(roles), login=op.login, roles=", ".join(roles)))
    except CoulissesError as exc:
        _fail(exc)


@operators.command("set-password",
                   help=_l("Définir le mot de passe de LOGIN."))
@click.argument("login")
@_password_option
@pass_ctx
def operators_set_password(ctx: Context, login, password):
    try:
        with ctx.session() as session, _as_cli():
            security.set_password(session, login, password)
            session.commit()
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Mot de passe de %(login)s modifié.", login=login))


@operators.command("token",
                   help=_l("Délivrer un jeton d'API à LOGIN (affiché une seule fois)."))
@click.argument("login")
@option("--label", default="", help=_l("À quoi sert le jeton."))
@pass_ctx
def operators_token(ctx: Context, login, label):
    with ctx.session() as session, _as_cli():
        op = security.get_operator(session, login)
        if op is None:
            _fail(CoulissesError(_("aucun opérateur n'a l'identifiant « %(login)s »", login=login)))
        token = security.issue_token(session, op, label)
        session.commit()
    click.echo(token)


@operators.command("unlock",
                   help=_l("Lever les attentes et le verrouillage que des connexions échouées ont mis sur LOGIN."))
@click.argument("login")
@pass_ctx
def operators_unlock(ctx: Context, login):
    from coulisses import throttle

    with ctx.session() as session:
        removed = throttle.unlock(session, login)
        session.commit()
    click.echo(_("%(login)s : déverrouillé.", login=login) if removed
               else _("%(login)s n'était pas verrouillé.", login=login))


@operators.command("list",
                   help=_l("Les opérateurs et leurs rôles."))
@pass_ctx
def operators_list(ctx: Context):
    from sqlalchemy import select

    with ctx.session() as session:
        for op in session.scalars(select(security.Operator).order_by(security.Operator.login)):
            state = _("actif") if op.active else _("inactif")
            click.echo(f"{op.login:20} {state:8} {','.join(r.code for r in op.roles):30} {op.full_name}")


# --------------------------------------------------------------------------- demo


@main.group(cls=click.Group,
            help=_l("Les données de démonstration et l'administrateur de démonstration."))
def demo():
    pass


@demo.command("load",
              help=_l("Charger les données de démonstration des plugins activés qui n'ont pas encore chargé les "
                      "leurs."))
@option("--size", type=click.Choice(["small", "normal", "large"]), default="normal", show_default=True,
              help=_l("La quantité de données de démonstration."))
@option("--force", is_flag=True,
              help=_l("Les charger même sur une instance de production (jamais sur des données réelles)."))
@pass_ctx
def demo_load(ctx: Context, size, force):
    from coulisses.demo import load_demo, real_data_tables
    from coulisses.i18n import gettext as _

    if ctx.config["ENV"] == "production" and not force:
        raise CliError(_(
            "Instance de production (COULISSES_ENV=production) : les données de démonstration ne sont pas "
            "chargées. Ajoutez --force si c'est bien voulu."))
    with ctx.session() as session:
        real = real_data_tables(session)
        if real:
            raise CliError(_(
                "Cette base contient des données réelles (%(tables)s) : les données de démonstration n'y sont "
                "jamais chargées. Utilisez une base vide.", tables=", ".join(real)))
        try:
            pm = ctx.manager(ctx.enabled(session))
        except CoulissesError as exc:
            _fail(exc)
        done = load_demo(session, pm, size, echo=click.echo)
    click.echo(_("Données de démonstration chargées : %(plugins)s.", plugins=", ".join(done)) if done
               else _("Données de démonstration : rien de nouveau à charger."))


@demo.command("admin",
              help=_l("Créer l'administrateur de démonstration (une fois) et afficher son identifiant et son "
                      "mot de passe."))
@pass_ctx
def demo_admin(ctx: Context):
    path = Path(ctx.config["INSTANCE_PATH"]) / "demo-admin-password"
    with ctx.session() as session:
        op = security.get_operator(session, DEMO_ADMIN)
        if op is None:
            password = secrets.token_urlsafe(9)
            security.create_operator(session, DEMO_ADMIN, password, "Administrateur de démonstration",
                                     [security.ADMINISTRATOR])
            session.commit()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password)
            path.chmod(0o600)
        elif path.exists():
            password = path.read_text().strip()
        else:
            password = _("(modifié : définissez-le avec `coulisses operators set-password admin`)")
    click.echo(_("Administrateur de démonstration — identifiant : %(login)s  mot de passe : %(password)s",
                 login=DEMO_ADMIN, password=password))


# --------------------------------------------------------------------------- tasks


def _task_status(status: str) -> str:
    """A task run's recorded issue (``ok``, ``failed``, ``skipped``), in the deployment's language."""
    return {"ok": _("réussie"), "failed": _("échouée"), "skipped": _("non exécutée")}.get(status, status)


@main.group("tasks", cls=click.Group,
            help=_l("Les tâches périodiques des plugins (lancez `coulisses tasks run --due` depuis cron, "
                    "toutes les heures)."))
def tasks_group():
    pass


def _tasks(ctx: Context, session):
    try:
        pm = ctx.manager(ctx.enabled(session))
        return ctasks.tasks_of(pm)
    except CoulissesError as exc:
        _fail(exc)


@tasks_group.command("list",
                     help=_l("Les tâches périodiques, leur fréquence, leur dernière exécution et son issue."))
@pass_ctx
def tasks_list(ctx: Context):
    with ctx.session() as session:
        found = _tasks(ctx, session)
        ends = ctasks.states(session) if found else {}
        for name, task in sorted(found.items()):
            last = ctasks.last_run(session, task)
            state = ends.get(name)
            status = state.last_status if state and state.last_status else ""
            when = last.isoformat() if last else _("jamais")
            click.echo(f"{name:40} {task.schedule:8} {when:34} {_task_status(status)}".rstrip())


@tasks_group.command("run",
                     help=_l("Exécuter les tâches nommées (ou celles qui sont dues). Code de sortie 1 si une tâche a "
                             "échoué ; les autres s'exécutent quand même."))
@click.argument("names", nargs=-1)
@option("--due", is_flag=True, help=_l("Exécuter chaque tâche dont la fréquence dit qu'elle est due."))
@pass_ctx
def tasks_run(ctx: Context, names, due):
    failed = False
    with ctx.session() as session:
        found = _tasks(ctx, session)
        unknown = set(names) - set(found)
        if unknown:
            _fail(CoulissesError(_n("tâche inconnue : %(names)s", "tâches inconnues : %(names)s", len(unknown),
                                    names=", ".join(sorted(unknown)))))
        selected = [found[n] for n in names] or ([t for t in found.values() if ctasks.is_due(session, t)] if due else [])
        if not selected:
            click.echo(_("Rien à exécuter."))
        for task in selected:
            outcome = ctasks.run(session, task, runner=_by())
            if outcome.status == "ok":
                click.echo(_("%(task)s : %(result)s", task=task.name,
                             result=outcome.result if outcome.result is not None else _("fait")))
            elif outcome.status == "skipped":
                click.echo(_("%(task)s : non exécutée, %(reason)s", task=task.name, reason=outcome.error))
            else:
                failed = True
                click.echo(_("%(task)s : ÉCHEC, %(error)s", task=task.name, error=outcome.error), err=True)
    if failed:
        raise SystemExit(1)


# --------------------------------------------------------------------------- the worker


@main.command("worker",
              help=_l("Exécuter les travaux de la file d'envoi (impression, e-mails, fichiers bancaires, longs "
                      "rapports) à leur échéance.\n\nEn production, lancez-en un ou plusieurs (systemd : "
                      "docs/operator-guide.md) ; arrêtez avec SIGTERM (un travail en cours se termine d'abord)."))
@option("--once", is_flag=True, help=_l("Exécuter les travaux échus, puis s'arrêter (cron, tests)."))
@option("--poll", default=2.0, show_default=True, help=_l("Secondes entre deux consultations de la file."))
@pass_ctx
def worker(ctx: Context, once, poll):
    import signal
    import threading
    import time

    from coulisses import outbox, processes

    cdb.PROCESS_KIND[0] = "worker"
    try:
        with ctx.session() as session:
            ctx.manager(ctx.enabled(session))
            outbox.job_types()  # a clash between plugins refuses the start
    except CoulissesError as exc:
        _fail(exc)
    stop = threading.Event()
    if not once:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(_("Worker %(name)s démarré (Ctrl-C pour l'arrêter).", name=outbox.worker_name()))
    name, last_beat = processes.process_name("worker"), 0.0

    def heartbeat():  # metrics, doctor and `db upgrade` see this worker and its version
        nonlocal last_beat
        if time.monotonic() - last_beat < processes.HEARTBEAT_SECONDS:
            return
        try:
            with ctx.session() as session:
                processes.beat(session, name)
            last_beat = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - a busy database must not stop the worker
            logging.getLogger("coulisses.worker").warning("heartbeat not recorded: %s", exc)

    from coulisses import plugin_settings
    from coulisses.config import current_config
    from coulisses.registry import current_manager

    try:
        while True:
            heartbeat()
            with ctx.session() as session:  # a setting changed on the plugins screen since the start
                plugin_settings.refresh(current_config(), session, current_manager())
            ran = outbox.run_pending(ctx.engine)
            if ran:
                click.echo(_n("%(num)d travail exécuté.", "%(num)d travaux exécutés.", ran))
            if once:
                break
            if stop.wait(poll):
                break
    finally:
        if not once:
            try:
                with ctx.session() as session:
                    processes.forget(session, name)
            except Exception:  # noqa: BLE001 - its heartbeat simply grows old
                pass
    if not once:
        click.echo(_("Worker arrêté."))


# --------------------------------------------------------------------------- plugins' standalone commands


class _EntryPointGroup(click.Group):
    """A command group an installed plugin declares in the entry point group ``coulisses.commands``
    (``devices = plugins.devices.cli:devices``): it runs without building the app, so without a
    database or a secret key when it needs none (a workstation's device agent). Its module is
    imported only when the group is called; its commands that need the database use ``Context``."""

    def __init__(self, entry_point):
        super().__init__(entry_point.name)
        self._entry_point = entry_point
        self._loaded = None
        self._error: str | None = None

    def parse_args(self, ctx, args):
        self._group()
        if self._error:
            _fail(CoulissesError(self._error))
        return super().parse_args(ctx, args)

    def _group(self) -> click.Group:
        if self._loaded is None:
            try:
                self._loaded = self._entry_point.load()
            except Exception as exc:  # noqa: BLE001 - one line, in --help too (traceback with --traceback)
                from coulisses.plugins import where

                _print_traceback(exc)
                error = "{}: {}{}".format(type(exc).__name__, exc, where(exc))
                message = _("la commande « %(name)s » (%(target)s) ne se charge pas : %(error)s",
                            name=self._entry_point.name, target=self._entry_point.value, error=error)
                self._error = message
                self._loaded = click.Group(self.name, help=message)
            self.help = self._loaded.help
        return self._loaded

    def get_short_help_str(self, limit: int = 45) -> str:
        return self._group().get_short_help_str(limit)

    def format_help_text(self, ctx, formatter) -> None:
        self._group().format_help_text(ctx, formatter)

    def list_commands(self, ctx):
        return self._group().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._group().get_command(ctx, name)


def _add_standalone_commands() -> None:
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="coulisses.commands"):
        if entry_point.name not in main.commands:
            main.add_command(_EntryPointGroup(entry_point))


_add_standalone_commands()


# --------------------------------------------------------------------------- translations


@main.group("i18n", cls=click.Group,
            help=_l("Catalogues de messages : textes source en français, traductions anglaise et espagnole."))
def i18n_group():
    pass


def _i18n_packages(names, everything):
    from coulisses import i18n_tools

    found = i18n_tools.packages()
    if everything:
        return found
    if not names:
        raise click.UsageError(_("nommez les plugins (core pour le cœur), ou donnez --all"))
    unknown = [n for n in names if n not in found]
    if unknown:
        raise click.UsageError(_n("plugin inconnu : %(names)s (installés : %(installed)s)",
                                  "plugins inconnus : %(names)s (installés : %(installed)s)", len(unknown),
                                  names=", ".join(unknown), installed=", ".join(found)))
    return {n: found[n] for n in names}


@i18n_group.command("update",
                    help=_l("Extraire les messages de NAMES (des plugins, ou core), mettre à jour leurs catalogues en "
                            "et es, les compiler.\n\nTraduisez ensuite les lignes msgstr vides de "
                            "translations/<lang>/LC_MESSAGES/messages.po et relancez la commande."))
@click.argument("names", nargs=-1)
@option("--all", "everything", is_flag=True, help=_l("Le cœur et chaque plugin installé."))
def i18n_update(names, everything):
    from coulisses import i18n_tools

    for name, folder in _i18n_packages(names, everything).items():
        report = i18n_tools.update(folder)
        missing = {lang: len(ids) for lang, ids in report.missing.items() if ids}
        state = ", ".join(_n("%(num)d non traduit en %(lang)s", "%(num)d non traduits en %(lang)s", n, lang=lang)
                          for lang, n in missing.items()) or _("tout est traduit")
        click.echo(_n("%(name)s : %(num)d message, %(state)s (%(folder)s)",
                      "%(name)s : %(num)d messages, %(state)s (%(folder)s)", report.messages,
                      name=name, state=state, folder=str(folder / "translations")))


@i18n_group.command("check",
                    help=_l("Échouer quand un message de NAMES n'a pas de traduction anglaise ou espagnole ou qu'un "
                            ".mo est périmé."))
@click.argument("names", nargs=-1)
@option("--all", "everything", is_flag=True, help=_l("Le cœur et chaque plugin installé."))
def i18n_check(names, everything):
    from coulisses import i18n_tools

    folders = _i18n_packages(names, everything)
    failed = False
    for name, folder in folders.items():
        report = i18n_tools.check(folder)
        for lang, ids in report.missing.items():
            for msgid in ids:
                click.echo(_("%(name)s : non traduit en %(lang)s : %(msgid)s", name=name, lang=lang, msgid=repr(msgid)))
        for lang in report.stale_mo:
            click.echo(_("%(name)s : translations/%(lang)s/LC_MESSAGES/messages.mo est périmé : lancez "
                         "coulisses i18n update %(name)s", name=name, lang=lang))
        failed = failed or not report.ok
    for clash in i18n_tools.conflicts(folders.values()):
        click.echo(_("conflit : %(clash)s", clash=clash))
        failed = True
    if failed:
        raise SystemExit(1)
    click.echo(_("Chaque message est traduit."))


# --------------------------------------------------------------------------- config


@main.group(cls=click.Group,
            help=_l("Les réglages : fichier de configuration (COULISSES_CONFIG) et environnement."))
def config():
    pass


@config.command("check",
                help=_l("Afficher les réglages en vigueur et leur origine (secrets masqués) ; code de sortie 1 "
                        "avec les raisons si l'un est refusé."))
def config_check():
    from coulisses.config import check_configuration, config_file_path
    from coulisses.i18n import gettext as _

    rows, problems = check_configuration()
    try:
        path = config_file_path()
    except CoulissesError:
        path = None
    click.echo(_("Fichier de configuration : %(path)s", path=str(path) if path else _("aucun")))
    width = max((len(key) for key, _value, _source in rows), default=0)
    for key, value, source in rows:
        click.echo(f"{key:{width}} = {value}  [{source}]")
    if problems:
        click.echo(_("Configuration refusée :"), err=True)
        for problem in problems:
            click.echo(f"- {problem}", err=True)
        raise SystemExit(1)
    click.echo(_("Configuration correcte."))


from coulisses import cli_ops  # noqa: E402,F401 - backup, restore, doctor (registered on `main`)


def run() -> None:  # pragma: no cover - console entry point alias
    main(prog_name="coulisses")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
