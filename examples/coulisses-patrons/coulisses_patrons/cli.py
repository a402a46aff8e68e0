"""``coulisses patrons …``: the plugin's commands (run inside the app context)."""
from __future__ import annotations

from datetime import date

import click

from coulisses import CoulissesError
from coulisses.web.app import format_money
from coulisses.web.extensions import db

from coulisses_patrons import services


@click.group()
def patrons():
    """Sponsorship pledges."""


@patrons.command("total")
@click.option("--year", type=int, help="Only the pledges of this calendar year.")
def total(year):
    """Print the total pledged."""
    amount = services.total_pledged(db.session, year)
    click.echo(f"Total pledged{f' in {year}' if year else ''}: {format_money(amount)}")


@patrons.command("add")
@click.argument("donor")
@click.argument("amount")
@click.option("--on", "pledged_on", type=click.DateTime(["%Y-%m-%d"]), help="Date of the pledge (today).")
@click.option("--note", default="")
@click.option("--contact", "contact_number", type=int, help="The donor's contact number (a contact of type patron).")
def add(donor, amount, pledged_on, note, contact_number):
    """Record a pledge of AMOUNT by DONOR.

    AMOUNT is written 1500.00 or 1500,00; never more decimals than the currency has.
    """
    try:
        pledge = services.add_pledge(db.session, donor, amount.replace(",", "."),
                                     pledged_on.date() if pledged_on else date.today(), note, contact_number)
        db.session.commit()
    except CoulissesError as exc:
        fields = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "fields", {}).items())
        raise click.ClickException(f"{exc}{' (' + fields + ')' if fields else ''}") from None
    click.echo(f"Pledge #{pledge.id} recorded: {pledge.donor_name}, {format_money(pledge.amount)}")
