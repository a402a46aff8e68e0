"""The ``coulisses contacts`` commands: duplicates detection, personal-data purge, import, export.

They run inside the app context (the host wraps them), on ``coulisses.web.extensions.db.session``.
"""
from __future__ import annotations

import sys
from decimal import Decimal

import click

from coulisses import CoulissesError, InvalidError
from coulisses.cli_help import CliError, option
from coulisses.i18n import _, _l, _n, format_date, format_number


def _session():
    from coulisses.web.extensions import db

    return db.session


def _fail(exc: Exception):
    fields = getattr(exc, "fields", None) or {}
    details = "".join(f"\n  {k}: {v}" for k, v in fields.items())
    raise CliError(f"{exc}{details}")


@click.group("contacts",
             help=_l("Contacts : doublons, données personnelles, import et export."))
def contacts_group():
    pass


@contacts_group.group("duplicates",
                      help=_l("Doublons probables."))
def duplicates_group():
    pass


@duplicates_group.command("detect",
                          help=_l("Proposer les paires de doublons probables (rôle + nom phonétique + rue + code "
                                  "postal + pays, ou e-mail sans adresse). Les paires connues (faux positifs "
                                  "compris) ne sont pas reproposées."))
def duplicates_detect():
    from plugins.contacts.services.duplicates import detect

    session = _session()
    result = detect(session)
    session.commit()
    click.echo(_("Contacts examinés : %(count)s", count=result.examined))
    click.echo(_("Groupes de doublons probables : %(count)s", count=result.groups))
    click.echo(_("Nouvelles paires : %(count)s", count=result.new_pairs))
    click.echo(_("Paires déjà connues (non reproposées) : %(count)s", count=result.known_pairs))
    click.echo(_("Paires ouvertes à traiter : %(count)s", count=result.open_pairs))


@contacts_group.command("purge",
                        help=_l("Supprimer les prospects inactifs et anonymiser les clients inactifs."))
@option("--months", type=int, default=None,
              help=_l("Inactivité en mois (par défaut : CONTACTS_INACTIVITY_MONTHS, 36)."))
@option("--simulate", is_flag=True, help=_l("Seulement indiquer ce qui serait fait."))
def purge_command(months, simulate):
    from plugins.contacts.services.personal_data import purge

    session = _session()
    try:
        report = purge(session, months, simulate=simulate)
    except (CoulissesError, ValueError) as exc:
        session.rollback()
        _fail(exc)
    if simulate:
        session.rollback()
    else:
        session.commit()
    click.echo(_("Inactifs depuis %(months)s mois (avant le %(date)s) : %(count)s", months=report.months,
                 date=format_date(report.cutoff), count=report.examined))
    if simulate:
        click.echo(_("Prospects qui seraient supprimés : %(count)s", count=len(report.deleted)))
        click.echo(_("Contacts qui seraient anonymisés : %(count)s (dont %(referenced)s prospects référencés par "
                     "d'autres modules)", count=len(report.anonymised), referenced=len(report.kept_referenced)))
        click.echo(_("Simulation : rien n'a été modifié."))
    else:
        click.echo(_("Prospects qui ont été supprimés : %(count)s", count=len(report.deleted)))
        click.echo(_("Contacts qui ont été anonymisés : %(count)s (dont %(referenced)s prospects référencés par "
                     "d'autres modules)", count=len(report.anonymised), referenced=len(report.kept_referenced)))


@contacts_group.command("import",
                        help=_l("Importer des contacts depuis un fichier CSV ou XLSX FILE."))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@option("--mapping", default=None,
              help=_l("Correspondance des colonnes : « En-tête=champ,Autre=champ » ou un objet JSON ; « "
                      "En-tête= » ignore une colonne."))
@option("--dry-run", is_flag=True, help=_l("Valider chaque ligne, ne rien importer."))
@option("--delimiter", default=None, help=_l("Séparateur CSV (déduit de la ligne d'en-tête par défaut)."))
@option("--encoding", default="utf-8-sig", show_default=True, help=_l("L'encodage d'un fichier CSV."))
@option("--rejects", "rejects_path", type=click.Path(dir_okay=False), default=None,
              help=_l("Écrire ici les lignes rejetées (CSV avec une colonne « erreur »). Par défaut : "
                      "FILE.rejets.csv"))
def import_command(file, mapping, dry_run, delimiter, encoding, rejects_path):
    import os

    from plugins.contacts.services.importing import import_file, parse_mapping_option, read_rows

    session = _session()
    try:
        parsed = parse_mapping_option(mapping)
    except (InvalidError, ValueError) as exc:
        _fail(exc)
    rejects_path = rejects_path or f"{os.path.splitext(file)[0]}.rejets.csv"
    total = _count_lines(file)
    with open(rejects_path, "w", encoding="utf-8", newline="") as rejects_out, \
            click.progressbar(length=total, label=_("Import") if not dry_run else _("Vérification"),
                              file=sys.stderr) as bar:
        try:
            report = import_file(session, file, mapping=parsed, dry_run=dry_run, delimiter=delimiter,
                                 encoding=encoding, commit=not dry_run, rejects_out=rejects_out,
                                 progress=bar.update)
        except CoulissesError as exc:
            session.rollback()
            _fail(exc)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    click.echo(_("Colonnes : %(columns)s", columns=", ".join(f"{h} → {f}" for h, f in report.mapping.items() if f)))
    if report.unmapped:
        click.echo(_("Colonnes ignorées : %(columns)s", columns=", ".join(report.unmapped)))
    click.echo(_("Lignes lues : %(count)s", count=report.total))
    if dry_run:
        click.echo(_("Lignes valides (rien importé : essai) : %(count)s", count=report.imported))
    elif report.first_number:
        click.echo(_("Contacts importés : %(count)s (numéros %(first)s à %(last)s)", count=report.imported,
                     first=report.first_number, last=report.last_number))
    else:
        click.echo(_("Contacts importés : %(count)s", count=report.imported))
    click.echo(_("Lignes rejetées : %(count)s", count=report.rejected))
    for r in report.rejects[:20]:
        click.echo("  " + _("ligne %(line)s : %(reason)s", line=r.line, reason=r.reason))
    if report.rejected > 20:
        click.echo("  " + _n("… et %(num)d autre", "… et %(num)d autres", report.rejected - 20))
    if report.duplicates:
        click.echo(_("Doublons probables (importés, à fusionner) : %(count)s", count=len(report.duplicates)))
        for d in report.duplicates[:20]:
            click.echo("  " + _("ligne %(line)s : %(reason)s", line=d.line, reason=d.reason))
        if len(report.duplicates) > 20:
            click.echo("  " + _n("… et %(num)d autre", "… et %(num)d autres", len(report.duplicates) - 20))
    if report.rejected:
        click.echo(_("Lignes rejetées écrites dans %(path)s", path=rejects_path))
    else:
        os.unlink(rejects_path)
    click.echo(_("Durée : %(seconds)s s (%(rate)s lignes/s)", seconds=format_number(Decimal(f"{report.seconds:.1f}")),
                 rate=format_number(int(report.rows_per_s))))


def _count_lines(path: str) -> int:
    """Rows to expect (the progress bar's length): lines of a CSV minus the header, rows of a sheet."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        rows = max(0, (wb.worksheets[0].max_row or 1) - 1)
        wb.close()
        return rows
    with open(path, "rb") as f:
        return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1)


@contacts_group.command("export",
                        help=_l("Exporter en CSV les contacts que trouve une recherche avancée."))
@option("-o", "--output", type=click.File("w", encoding="utf-8-sig"), default="-",
              help=_l("Le fichier CSV à écrire (par défaut : la sortie standard)."))
@option("-c", "--criterion", "criteria", multiple=True, help=_l("Critère de recherche avancée clé=valeur."))
def export_command(output, criteria):
    from plugins.contacts.services.exporting import export_csv

    values = {}
    for item in criteria:
        key, _sep, value = item.partition("=")
        values[key.strip()] = value.strip()
    try:
        for line in export_csv(_session(), values):
            output.write(line)
    except InvalidError as exc:
        _fail(exc)
