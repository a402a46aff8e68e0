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
from coulisses.i18n import _, _n

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
            click.echo(f"Error: {self.format_message()}", err=True)

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


def _in_app_context(command: click.Command) -> click.Command:
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

    def list_commands(self, ctx):
        return _quietly(lambda: super(_Main, self).list_commands(ctx), default=sorted(self.commands))

    def get_command(self, ctx, name):
        from flask.cli import NoAppException, ScriptInfo

        if click.Group.get_command(self, ctx, name) is None and not ctx.resilient_parsing:
            # a command of the app (routes, shell, a plugin's): the app must start; if not, one line, exit 1
            try:
                ctx.ensure_object(ScriptInfo).load_app()
            except NoAppException as exc:
                raise click.ClickException(exc.format_message()) from None
        return _quietly(lambda: super(_Main, self).get_command(ctx, name), default=self.commands.get(name))


def _quietly(call, default):
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - shown as one line
        _print_traceback(exc)
        click.secho(f"Error: {exc}", err=True, fg="red")
        return default


@click.group(cls=_Main, create_app=_create_app, add_version_option=False, load_dotenv=False,
             set_debug_flag=False)
@click.version_option(coulisses.__version__, prog_name="coulisses")
@click.option("--traceback", is_flag=True, is_eager=True, expose_value=False, callback=_set_traceback,
              help="Show the full traceback of an error (also COULISSES_DEBUG=1).")
def main():
    """Coulisses: the back-office of the box office."""


# --------------------------------------------------------------------------- helpers


class Context:
    def __init__(self):
        from coulisses.web.app import load_config

        try:
            # The CLI signs nothing: it does not need the secret key the web app needs.
            self.config = load_config({"SECRET_KEY": os.environ.get("COULISSES_SECRET_KEY") or "unused-by-the-cli"},
                                      check_secret=False)
        except CoulissesError as exc:
            raise click.ClickException(str(exc)) from None
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
    if isinstance(exc, CoulissesError) and "failed to import" in message and not _debug():
        message += " " + _("(--traceback pour la trace complète)")
    raise click.ClickException(message)


pass_ctx = click.make_pass_decorator(Context, ensure=True)


# --------------------------------------------------------------------------- db


@main.group(cls=click.Group)
def db():
    """Create and upgrade the database schema."""


@db.command("upgrade")
@click.option("--force", is_flag=True,
              help="Migrate even while workers of another version run, or over a newer version's database.")
@pass_ctx
def db_upgrade(ctx: Context, force):
    """Upgrade the host and every enabled plugin to the newest schema.

    Refused while a worker of another Coulisses version runs (stop them first), when the database was
    migrated by a newer version (a downgrade: restore the backup instead)."""
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
            raise click.ClickException(_("Mise à jour de la base refusée : rien n'a été modifié."))
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


@db.command("current")
@pass_ctx
def db_current(ctx: Context):
    """Show the schema revision of the host and each plugin."""
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
        state = "up to date" if head in applied else "behind or not installed"
        click.echo(f"{branch:20} {head:14} {state}")


@db.command("revision")
@click.argument("plugin")
@click.option("-m", "--message", required=True, help="What the revision does (its file is named after it).")
@click.option("--empty", is_flag=True, help="An empty revision to fill by hand (a data migration).")
@pass_ctx
def db_revision(ctx: Context, plugin, message, empty):
    """(Plugin authors) autogenerate a migration for PLUGIN (core: the host) from its models.

    The models are compared with a scratch database migrated to the heads of the host, of PLUGIN's
    dependencies and of PLUGIN: neither the state of your database nor the other installed plugins
    matter.
    """
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


@db.command("check")
@pass_ctx
def db_check(ctx: Context):
    """Compare each enabled plugin's models with the migrated schema; exit 1 naming what is missing."""
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


@main.group(cls=click.Group)
def plugins():
    """List, enable and disable plugins."""


def _plugin_rows(ctx: Context):
    from coulisses import plugin_admin

    with ctx.session() as session:
        return plugin_admin.plugin_rows(session, ctx.infos, ctx.seed(), ctx.config)


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--hooks", "show_hooks", is_flag=True, help="Also list the hooks each plugin implements.")
@pass_ctx
def plugins_list(ctx: Context, as_json, show_hooks):
    """The installed plugins: name, version, state (and why one cannot load), dependencies, description."""
    rows = _plugin_rows(ctx)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    headers = ("NAME", "VERSION", "STATE", "DEPENDS", "DESCRIPTION")
    table = [(r["name"], r["version"], r["state"], ",".join(r["depends"]) or "-",
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


@plugins.command("enable")
@click.argument("name")
@click.option("--no-upgrade", is_flag=True, help="Do not upgrade the database schema now.")
@pass_ctx
def plugins_enable(ctx: Context, name, no_upgrade):
    """Enable NAME and what it depends on, and create their tables."""
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
        click.echo(f"Enabled: {', '.join(changed)}. Restart the server to use it.")
    else:
        click.echo(f"{name} is already enabled.")


@plugins.command("disable")
@click.argument("name")
@pass_ctx
def plugins_disable(ctx: Context, name):
    """Disable NAME (refused while an enabled plugin depends on it). Its data is kept."""
    from coulisses import plugin_admin

    try:
        with ctx.session() as session:
            plugin_admin.disable(session, ctx.infos, name, ctx.seed(), _by())
            session.commit()
    except CoulissesError as exc:
        _fail(exc)
    click.echo(f"Disabled: {name} (its data is kept; enable it again to find it back). Restart the server.")


@plugins.command("uninstall")
@click.argument("name")
@click.option("--drop-data", is_flag=True, help="Drop the plugin's tables and its schema revision (required).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_ctx
def plugins_uninstall(ctx: Context, name, drop_data, yes):
    """Drop the tables of NAME, a disabled plugin no enabled plugin depends on, and its schema
    revision, after showing what will be dropped. `plugins disable` keeps the data; this does not."""
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


@plugins.command("check")
@pass_ctx
def plugins_check(ctx: Context):
    """Load the enabled plugins as the start would (hooks, permissions, registries, migrations) and
    change nothing; exit 1 with the start's message when they cannot be loaded."""
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


@plugins.command("new")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Where to write the distribution coulisses-NAME.")
@click.option("--label", default=None, help="The plugin's label, shown to operators (French).")
def plugins_new(name, directory, label):
    """(Plugin authors) write a plugin distribution, coulisses-NAME, that installs, enables, migrates
    and passes its own tests as generated: package, MANIFEST, entry point, hooks, a model and its first
    migration, an admin view, permissions, REST routes, translations, tests."""
    from coulisses import scaffold

    try:
        root = scaffold.create(name, Path(directory).resolve(), label)
    except CoulissesError as exc:
        _fail(exc)
    click.echo(_("Plugin %(name)s créé dans %(path)s. Ensuite : `pip install -e %(path)s`, "
                 "`coulisses plugins enable %(name)s`, puis `pytest` dans ce dossier.", name=name, path=str(root)))


# --------------------------------------------------------------------------- operators


@main.group(cls=click.Group)
def operators():
    """Create operators, set passwords, issue API tokens."""


def _password_option(f):
    return click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                        help="Prompted for when not given.")(f)


@operators.command("create")
@click.argument("login")
@click.option("--full-name", default="")
@click.option("--role", "roles", multiple=True, default=["operator"], show_default=True,
              help="administrator, supervisor, operator, readonly (repeatable)")
@_password_option
@pass_ctx
def operators_create(ctx: Context, login, full_name, roles, password):
    """Create the operator LOGIN."""
    try:
        with ctx.session() as session, _as_cli():
            op = security.create_operator(session, login, password, full_name, list(roles))
            session.commit()
            click.echo(f"Operator {op.login} created with role(s) {', '.join(roles)}.")
    except CoulissesError as exc:
        _fail(exc)


@operators.command("set-password")
@click.argument("login")
@_password_option
@pass_ctx
def operators_set_password(ctx: Context, login, password):
    """Set the password of LOGIN."""
    try:
        with ctx.session() as session, _as_cli():
            security.set_password(session, login, password)
            session.commit()
    except CoulissesError as exc:
        _fail(exc)
    click.echo(f"Password of {login} changed.")


@operators.command("token")
@click.argument("login")
@click.option("--label", default="", help="What the token is for.")
@pass_ctx
def operators_token(ctx: Context, login, label):
    """Issue an API token for LOGIN (shown once)."""
    with ctx.session() as session, _as_cli():
        op = security.get_operator(session, login)
        if op is None:
            _fail(CoulissesError(f"no operator with login '{login}'"))
        token = security.issue_token(session, op, label)
        session.commit()
    click.echo(token)


@operators.command("unlock")
@click.argument("login")
@pass_ctx
def operators_unlock(ctx: Context, login):
    """Lift the waits and the lock that failed logins put on LOGIN."""
    from coulisses import throttle

    with ctx.session() as session:
        removed = throttle.unlock(session, login)
        session.commit()
    click.echo(f"{login}: unlocked." if removed else f"{login} was not locked.")


@operators.command("list")
@pass_ctx
def operators_list(ctx: Context):
    """The operators and their roles."""
    from sqlalchemy import select

    with ctx.session() as session:
        for op in session.scalars(select(security.Operator).order_by(security.Operator.login)):
            state = "active" if op.active else "inactive"
            click.echo(f"{op.login:20} {state:8} {','.join(r.code for r in op.roles):30} {op.full_name}")


# --------------------------------------------------------------------------- demo


@main.group(cls=click.Group)
def demo():
    """Demo data and the demo administrator."""


@demo.command("load")
@click.option("--size", type=click.Choice(["small", "normal", "large"]), default="normal", show_default=True)
@click.option("--force", is_flag=True, help="Load it even on a production instance (never over real data).")
@pass_ctx
def demo_load(ctx: Context, size, force):
    """Load the demo data of the enabled plugins that have not loaded theirs yet."""
    from coulisses.demo import load_demo, real_data_tables
    from coulisses.i18n import gettext as _

    if ctx.config["ENV"] == "production" and not force:
        raise click.ClickException(_(
            "Instance de production (COULISSES_ENV=production) : les données de démonstration ne sont pas "
            "chargées. Ajoutez --force si c'est bien voulu."))
    with ctx.session() as session:
        real = real_data_tables(session)
        if real:
            raise click.ClickException(_(
                "Cette base contient des données réelles (%(tables)s) : les données de démonstration n'y sont "
                "jamais chargées. Utilisez une base vide.", tables=", ".join(real)))
        try:
            pm = ctx.manager(ctx.enabled(session))
        except CoulissesError as exc:
            _fail(exc)
        done = load_demo(session, pm, size, echo=click.echo)
    click.echo(_("Données de démonstration chargées : %(plugins)s.", plugins=", ".join(done)) if done
               else _("Données de démonstration : rien de nouveau à charger."))


@demo.command("admin")
@pass_ctx
def demo_admin(ctx: Context):
    """Create the demo administrator (once) and print its login and password."""
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


@main.group("tasks", cls=click.Group)
def tasks_group():
    """Periodic tasks of the plugins (run `coulisses tasks run --due` from cron, hourly)."""


def _tasks(ctx: Context, session):
    try:
        pm = ctx.manager(ctx.enabled(session))
        return ctasks.tasks_of(pm)
    except CoulissesError as exc:
        _fail(exc)


@tasks_group.command("list")
@pass_ctx
def tasks_list(ctx: Context):
    """The periodic tasks, their schedule, last run and how it ended."""
    with ctx.session() as session:
        found = _tasks(ctx, session)
        ends = ctasks.states(session) if found else {}
        for name, task in sorted(found.items()):
            last = ctasks.last_run(session, task)
            state = ends.get(name)
            status = state.last_status if state and state.last_status else ""
            click.echo(f"{name:40} {task.schedule:8} {last.isoformat() if last else 'never':34} {status}".rstrip())


@tasks_group.command("run")
@click.argument("names", nargs=-1)
@click.option("--due", is_flag=True, help="Run every task whose schedule says it is due.")
@pass_ctx
def tasks_run(ctx: Context, names, due):
    """Run the named tasks (or the due ones). Exits with 1 when a task failed; the others still run."""
    failed = False
    with ctx.session() as session:
        found = _tasks(ctx, session)
        unknown = set(names) - set(found)
        if unknown:
            _fail(CoulissesError("unknown task(s): " + ", ".join(sorted(unknown))))
        selected = [found[n] for n in names] or ([t for t in found.values() if ctasks.is_due(session, t)] if due else [])
        if not selected:
            click.echo("Nothing to run.")
        for task in selected:
            outcome = ctasks.run(session, task, runner=_by())
            if outcome.status == "ok":
                click.echo(f"{task.name}: {outcome.result if outcome.result is not None else 'done'}")
            elif outcome.status == "skipped":
                click.echo(f"{task.name}: skipped, {outcome.error}")
            else:
                failed = True
                click.echo(f"{task.name}: FAILED, {outcome.error}", err=True)
    if failed:
        raise SystemExit(1)


# --------------------------------------------------------------------------- the worker


@main.command("worker")
@click.option("--once", is_flag=True, help="Run the due jobs, then stop (cron, tests).")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between two looks at the queue.")
@pass_ctx
def worker(ctx: Context, once, poll):
    """Run the jobs of the outbox (printing, e-mail, bank files, long reports) as they come due.

    Run one or more in production (systemd: docs/operator-guide.md); stop with SIGTERM (a running job
    finishes first).
    """
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
        click.echo(f"Worker {outbox.worker_name()} started (Ctrl-C to stop).")
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
                click.echo(f"{ran} job(s) run.")
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
        click.echo("Worker stopped.")


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


@main.group("i18n", cls=click.Group)
def i18n_group():
    """Message catalogues: French source strings, English and Spanish translations."""


def _i18n_packages(names, everything):
    from coulisses import i18n_tools

    found = i18n_tools.packages()
    if everything:
        return found
    if not names:
        raise click.UsageError("name the plugins (core for the host), or give --all")
    unknown = [n for n in names if n not in found]
    if unknown:
        raise click.UsageError(f"unknown plugin(s): {', '.join(unknown)} (installed: {', '.join(found)})")
    return {n: found[n] for n in names}


@i18n_group.command("update")
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="The host and every installed plugin.")
def i18n_update(names, everything):
    """Extract the messages of NAMES (plugins, or core), update their en and es catalogues, compile them.

    Then translate the empty msgstr lines of translations/<lang>/LC_MESSAGES/messages.po and run it again.
    """
    from coulisses import i18n_tools

    for name, folder in _i18n_packages(names, everything).items():
        report = i18n_tools.update(folder)
        missing = {lang: len(ids) for lang, ids in report.missing.items() if ids}
        state = ", ".join(f"{n} untranslated in {lang}" for lang, n in missing.items()) or "complete"
        click.echo(f"{name}: {report.messages} message(s), {state} ({folder / 'translations'})")


@i18n_group.command("check")
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="The host and every installed plugin.")
def i18n_check(names, everything):
    """Fail when a message of NAMES has no English or Spanish translation or a .mo is stale."""
    from coulisses import i18n_tools

    folders = _i18n_packages(names, everything)
    failed = False
    for name, folder in folders.items():
        report = i18n_tools.check(folder)
        for lang, ids in report.missing.items():
            for msgid in ids:
                click.echo(f"{name}: untranslated in {lang}: {msgid!r}")
        for lang in report.stale_mo:
            click.echo(f"{name}: translations/{lang}/LC_MESSAGES/messages.mo is stale: run coulisses i18n update {name}")
        failed = failed or not report.ok
    for clash in i18n_tools.conflicts(folders.values()):
        click.echo(f"conflict: {clash}")
        failed = True
    if failed:
        raise SystemExit(1)
    click.echo("Every message is translated.")


# --------------------------------------------------------------------------- config


@main.group(cls=click.Group)
def config():
    """The settings: configuration file (COULISSES_CONFIG) and environment."""


@config.command("check")
def config_check():
    """Print the effective settings and their source (secrets masked); exit 1 with the reasons when
    one is refused."""
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
