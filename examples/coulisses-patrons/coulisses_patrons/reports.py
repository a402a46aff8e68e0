"""The pledges report (when the reports plugin is enabled): a definition in a few lines, the
reports plugin does the rest — the form, the preview with its chart, PDF / CSV / XLSX, the API, the
CLI, favourites and scheduled e-mails."""
from marshmallow import Schema
from sqlalchemy import select

from coulisses.i18n import _l
from plugins.reports.params import LocalDate
from plugins.reports.registry import Chart, Column, ReportDefinition
from plugins.reports.services.engine import stream

from coulisses_patrons.models import Patronage


class Params(Schema):
    since = LocalDate(required=True, metadata={"label": _l("Depuis le")})


def rows(session, params):
    yield from stream(session, select(Patronage.pledged_on, Patronage.donor_name.label("donor"), Patronage.amount)
                      .where(Patronage.pledged_on >= params["since"]).order_by(Patronage.pledged_on, Patronage.id))


PLEDGES = ReportDefinition(
    code="patrons.pledges", title=_l("Promesses de mécénat"), permission="patrons.view", params=Params, rows=rows,
    columns=(Column("pledged_on", _l("Date"), "date"), Column("donor", _l("Mécène"), width=2),
             Column("amount", _l("Montant"), "money", total=True)),
    charts=(Chart("bar", _l("Montant par mécène"), label="donor", value="amount"),))
