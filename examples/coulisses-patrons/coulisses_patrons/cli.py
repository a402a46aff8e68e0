"""``coulisses patrons …``: the plugin's commands (run inside the app context)."""
from __future__ import annotations

from datetime import date

import click

from coulisses import CoulissesError
from coulisses.cli_help import option
from coulisses.i18n import _l
from coulisses.web.app import format_money
from coulisses.web.extensions import db

from coulisses_patrons import services


@click.group(help=_l("Promesses de mécénat."))
def patrons():
    pass


@patrons.command("total", help=_l("Afficher le total promis."))
@option("--year", type=int, help=_l("Seulement les promesses de cette année civile."))
def total(year):
    amount = services.total_pledged(db.session, year)
    click.echo(f"Total pledged{f' in {year}' if year else ''}: {format_money(amount)}")


@patrons.command("add", help=_l("Enregistrer une promesse de AMOUNT par DONOR.\n\nAMOUNT s'écrit 1500.00 ou "
                                 "1500,00 ; jamais plus de décimales que n'en a la devise."))
@click.argument("donor")
@click.argument("amount")
@option("--on", "pledged_on", type=click.DateTime(["%Y-%m-%d"]),
        help=_l("Date de la promesse (aujourd'hui par défaut)."))
@option("--note", default="", help=_l("Une note sur la promesse."))
@option("--contact", "contact_number", type=int,
        help=_l("Le numéro de contact du donateur (un contact de type mécène)."))
def add(donor, amount, pledged_on, note, contact_number):
    try:
        pledge = services.add_pledge(db.session, donor, amount.replace(",", "."),
                                     pledged_on.date() if pledged_on else date.today(), note, contact_number)
        db.session.commit()
    except CoulissesError as exc:
        fields = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "fields", {}).items())
        raise click.ClickException(f"{exc}{' (' + fields + ')' if fields else ''}") from None
    click.echo(f"Pledge #{pledge.id} recorded: {pledge.donor_name}, {format_money(pledge.amount)}")
