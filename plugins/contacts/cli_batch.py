"""The ``coulisses contacts`` commands: duplicates detection, personal-data purge, import, export.

They run inside the app context (the host wraps them), on ``coulisses.web.extensions.db.session``.
"""
from __future__ import annotations

import sys

import click

from coulisses import CoulissesError, InvalidError


def _session():
    from coulisses.web.extensions import db

    return db.session


def _fail(exc: Exception):
    fields = getattr(exc, "fields", None) or {}
    details = "".join(f"\n  {k}: {v}" for k, v in fields.items())
    raise click.ClickException(f"{exc}{details}")


@click.group("contacts")
def contacts_group():
    """Contacts: duplicates, personal data, import and export."""


@contacts_group.group("duplicates")
def duplicates_group():
    """Likely duplicates."""


@duplicates_group.command("detect")
def duplicates_detect():
    """Propose the likely-duplicate pairs (role + phonetic name + street + postal code + country,
    or e-mail without address). Known pairs (false positives included) are not proposed again."""
    from plugins.contacts.services.duplicates import detect

    session = _session()
    result = detect(session)
    session.commit()
    click.echo(f"Contacts examinés : {result.examined}")
    click.echo(f"Groupes de doublons probables : {result.groups}")
    click.echo(f"Nouvelles paires : {result.new_pairs}")
    click.echo(f"Paires déjà connues (non reproposées) : {result.known_pairs}")
    click.echo(f"Paires ouvertes à traiter : {result.open_pairs}")


@contacts_group.command("purge")
@click.option("--months", type=int, default=None,
              help="Inactivity in months (default: CONTACTS_INACTIVITY_MONTHS, 36).")
@click.option("--simulate", is_flag=True, help="Only report what would be done.")
def purge_command(months, simulate):
    """Delete inactive prospects and anonymise inactive customers."""
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
    verb = "seraient" if simulate else "ont été"
    click.echo(f"Inactifs depuis {report.months} mois (avant le {report.cutoff:%d.%m.%Y}) : {report.examined}")
    click.echo(f"Prospects qui {verb} supprimés : {len(report.deleted)}")
    click.echo(f"Contacts qui {verb} anonymisés : {len(report.anonymised)}"
               f" (dont {len(report.kept_referenced)} prospects référencés par d'autres modules)")
    if simulate:
        click.echo("Simulation : rien n'a été modifié.")


@contacts_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--mapping", default=None,
              help='Column mapping: "Header=field,Other=field" or a JSON object; "Header=" ignores a column.')
@click.option("--dry-run", is_flag=True, help="Validate every line, import nothing.")
@click.option("--delimiter", default=None, help="CSV separator (guessed from the header line by default).")
@click.option("--encoding", default="utf-8-sig", show_default=True)
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False), default=None,
              help="Write the rejected lines here (CSV with an 'erreur' column). Default: FILE.rejets.csv")
def import_command(file, mapping, dry_run, delimiter, encoding, rejects_path):
    """Import contacts from a CSV or XLSX FILE."""
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
            click.progressbar(length=total, label="Import" if not dry_run else "Vérification",
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
    click.echo(f"Colonnes : " + ", ".join(f"{h} → {f}" for h, f in report.mapping.items() if f))
    if report.unmapped:
        click.echo("Colonnes ignorées : " + ", ".join(report.unmapped))
    click.echo(f"Lignes lues : {report.total}")
    click.echo(f"{'Lignes valides (rien importé : essai)' if dry_run else 'Contacts importés'} : {report.imported}"
               + (f" (numéros {report.first_number} à {report.last_number})" if report.first_number else ""))
    click.echo(f"Lignes rejetées : {report.rejected}")
    for r in report.rejects[:20]:
        click.echo(f"  ligne {r.line} : {r.reason}")
    if report.rejected > 20:
        click.echo(f"  … et {report.rejected - 20} autres")
    if report.rejected:
        click.echo(f"Lignes rejetées écrites dans {rejects_path}")
    else:
        os.unlink(rejects_path)
    click.echo(f"Durée : {report.seconds:.1f} s ({report.rows_per_s:.0f} lignes/s)")


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


@contacts_group.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8-sig"), default="-")
@click.option("-c", "--criterion", "criteria", multiple=True, help="key=value advanced-search criterion.")
def export_command(output, criteria):
    """Export the contacts an advanced search finds, as CSV."""
    from plugins.contacts.services.exporting import export_csv

    values = {}
    for item in criteria:
        key, _, value = item.partition("=")
        values[key.strip()] = value.strip()
    try:
        for line in export_csv(_session(), values):
            output.write(line)
    except InvalidError as exc:
        _fail(exc)
