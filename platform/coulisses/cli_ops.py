"""The operations commands of ``coulisses``: ``backup``, ``restore``, ``doctor``
(docs/operator-guide.md, "Backing up and restoring", "Observing")."""
from __future__ import annotations

from pathlib import Path

import click

from coulisses import CoulissesError
from coulisses.cli import Context, _fail, main, pass_ctx
from coulisses.cli_help import CliError
from coulisses.cli_help import option
from coulisses.i18n import _l, gettext as _


@main.command("backup", with_appcontext=False,
              help=_l("Sauvegarder la base de données et les fichiers stockés dans une archive, pendant que "
                      "Coulisses tourne.\n\nSQLite par son API de sauvegarde en ligne, PostgreSQL par pg_dump ; "
                      "l'archive enregistre aussi le nombre de lignes de chaque table, les totaux des montants "
                      "et les empreintes des fichiers, que `coulisses restore` vérifie."))
@option("-o", "--output", type=click.Path(dir_okay=True, path_type=Path), default=None,
              help=_l("L'archive à écrire (un dossier : un nom daté dedans). Par défaut : un nom daté ici."))
@pass_ctx
def backup_command(ctx: Context, output):
    from coulisses import backup

    target = output or Path.cwd()
    if target.is_dir():
        target = target / backup.default_name()
    try:
        manifest = backup.backup(ctx.engine, ctx.infos, target)
    except CoulissesError as exc:
        _fail(exc)
    content = manifest["summary"]
    click.echo(_("Sauvegarde écrite : %(path)s (%(size)s Ko) — %(tables)s tables, %(rows)s lignes, "
                 "%(files)s fichiers stockés.", path=str(target), size=target.stat().st_size >> 10,
                 tables=len(content["tables"]), rows=sum(content["tables"].values()),
                 files=content["files"]["count"]))


@main.command("restore", with_appcontext=False,
              help=_l("Restaurer ARCHIVE (faite par `coulisses backup`) dans la base configurée, puis vérifier "
                      "que chaque nombre, montant et fichier stocké est revenu. Refuse une base qui contient "
                      "des données, sauf avec --force ; les données remplacées sont alors d'abord sauvegardées "
                      "dans <instance>/backups/.\n\nArrêtez d'abord les workers web, le worker et le minuteur "
                      "(docs/operator-guide.md)."))
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@option("--force", is_flag=True, help=_l("Remplacer les données que contient la base cible."))
@option("--no-safety-backup", is_flag=True,
              help=_l("Avec --force, ne pas sauvegarder d'abord les données remplacées."))
@pass_ctx
def restore_command(ctx: Context, archive, force, no_safety_backup):
    from coulisses import backup

    try:
        # what restore refuses is refused before anything is saved or replaced
        backup.check_archive(ctx.engine, ctx.infos, archive, force=force)
        with ctx.engine.connect() as conn:
            replaced = backup.holds_data(conn)
        if force and replaced and not no_safety_backup:
            folder = Path(ctx.config["INSTANCE_PATH"]) / "backups"
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            safety = folder / ("before-restore-" + backup.default_name())
            number = 1
            while safety.exists():
                number += 1
                safety = folder / f"before-restore-{number}-{backup.default_name()}"
            backup.backup(ctx.engine, ctx.infos, safety)
            click.echo(_("Les données remplacées sont sauvegardées d'abord : %(path)s", path=str(safety)))
        outcome = backup.restore(ctx.engine, ctx.infos, archive, force=force)
    except CoulissesError as exc:
        _fail(exc)
    manifest = outcome["manifest"]
    problems = outcome["differences"] + [_("fichier stocké %(id)s : ne correspond pas à son empreinte SHA-256",
                                           id=file_id) for file_id in outcome["bad_files"]]
    if problems:
        for problem in problems:
            click.echo(f"- {problem}", err=True)
        raise CliError(_("La base restaurée ne correspond pas à la sauvegarde."))
    content = manifest["summary"]
    click.echo(_("Sauvegarde du %(when)s (Coulisses %(version)s) restaurée et vérifiée : %(rows)s lignes, "
                 "%(amounts)s totaux de montants, %(files)s fichiers stockés identiques.",
                 when=manifest["created_at"][:19].replace("T", " "), version=manifest["coulisses"],
                 rows=sum(content["tables"].values()), amounts=len(content["amounts"]),
                 files=content["files"]["count"]))
    click.echo(_("Ensuite : `coulisses db upgrade` (si la sauvegarde vient d'une version antérieure), puis "
                 "redémarrez les services."))


@main.command("doctor", with_appcontext=False,
              help=_l("Vérifier le déploiement : configuration et clé secrète, base de données et migrations, "
                      "plugins, worker et tâches périodiques récemment exécutées, espace disque, fuseau horaire "
                      "et langue. Code de sortie 1 en cas d'erreur."))
@pass_ctx
def doctor_command(ctx: Context):
    from coulisses import doctor
    from coulisses import tasks as ctasks

    def load(order):
        ctx.check(order)
        return ctasks.tasks_of(ctx.manager(order))

    checks = doctor.run(ctx.config, ctx.engine, ctx.infos, ctx.enabled, load)
    marks = {doctor.OK: "ok", doctor.WARNING: "!!", doctor.ERROR: "XX"}
    width = max(len(c.name) for c in checks)
    for check in checks:
        click.echo(f"[{marks[check.status]}] {check.name:{width}}  {check.message}",
                   err=check.status == doctor.ERROR)
    errors = sum(1 for c in checks if c.status == doctor.ERROR)
    warnings = sum(1 for c in checks if c.status == doctor.WARNING)
    click.echo(_("%(errors)s erreur(s), %(warnings)s avertissement(s).", errors=errors, warnings=warnings))
    if errors:
        raise SystemExit(1)
