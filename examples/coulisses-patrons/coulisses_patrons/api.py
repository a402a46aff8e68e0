"""The plugin's REST endpoints under /api/v1, with their marshmallow schemas."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses.web.extensions import db
from coulisses.web.schemas import Amount, Int, Money, Number, SafeString

from coulisses_patrons import MANAGE, VIEW
from coulisses_patrons import services


class PledgeInSchema(Schema):
    """A pledge as a client sends it: every field bounded (the host's ``coulisses.web.schemas``)."""

    donor_name = SafeString(200, required=True)
    # A decimal string ("2420.00"): "1e3", a JSON number or more decimals than the currency has are
    # refused (422), never rounded.
    amount = Amount(required=True, minimum="0.01")
    pledged_on = fields.Date(load_default=None)
    note = SafeString(2000, multiline=True, load_default="")
    contact_number = Number(load_default=None, allow_none=True,
                            metadata={"description": "The donor's contact (of type patron), if any"})


class PledgeSchema(Schema):
    """A pledge as the API answers it."""

    id = fields.Integer()
    donor_name = fields.String()
    amount = Money(metadata={"description": "In the deployment's currency, as a string: \"2420.00\""})
    pledged_on = fields.Date(allow_none=True)
    note = fields.String()
    contact_number = fields.Integer(allow_none=True)


class TotalQuerySchema(Schema):
    year = Int(1900, 9999, load_default=None)


class TotalSchema(Schema):
    total = Money()
    year = fields.Integer(allow_none=True)


def declare_routes(api):
    @api.route("/patrons/pledges", permission=VIEW, response=PledgeSchema, many=True,
               summary="The pledges, newest first")
    def list_pledges():
        return services.list_pledges(db.session)

    # A path parameter is passed to the view by its name; the host checks it first (a path integer
    # named ``id`` or ``…_id`` is a row id, 0…2^31−1, else 422) and documents it (and the 404).
    @api.route("/patrons/pledges/<int:pledge_id>", permission=VIEW, response=PledgeSchema,
               summary="One pledge")
    def get_pledge(pledge_id):
        return services.get_pledge(db.session, pledge_id)  # NotFoundError → 404

    @api.route("/patrons/pledges", methods=["POST"], permission=MANAGE, body=PledgeInSchema,
               response=PledgeSchema, status=201, idempotent=True, summary="Record a pledge")
    def create_pledge(body):
        return services.add_pledge(db.session, body["donor_name"], body["amount"], body["pledged_on"],
                                   body["note"], body["contact_number"])

    @api.route("/patrons/total", permission=VIEW, query=TotalQuerySchema, response=TotalSchema,
               summary="The total pledged (of one year with ?year=)")
    def pledged_total(args):
        return {"total": services.total_pledged(db.session, args["year"]), "year": args["year"]}
