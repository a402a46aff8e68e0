"""The plugin's REST endpoints under /api/v1, with their marshmallow schemas."""
from __future__ import annotations

from marshmallow import Schema, fields

from coulisses.web.extensions import db

from coulisses_patrons import MANAGE, VIEW
from coulisses_patrons import services


class PledgeSchema(Schema):
    id = fields.Integer(dump_only=True)
    donor_name = fields.String(required=True)
    # No ``places``: marshmallow would round "1.005" silently; the service refuses it instead. Amounts
    # read from a Money column already have the currency's decimals, so they dump as "2420.00".
    amount = fields.Decimal(required=True, as_string=True,
                            metadata={"description": "In the deployment's currency, as a string: \"2420.00\""})
    pledged_on = fields.Date(load_default=None)
    note = fields.String(load_default="")
    contact_number = fields.Integer(load_default=None, allow_none=True,
                                    metadata={"description": "The donor's contact (of type patron), if any"})


class TotalQuerySchema(Schema):
    year = fields.Integer(load_default=None)


class TotalSchema(Schema):
    total = fields.Decimal(as_string=True)
    year = fields.Integer(allow_none=True)


def declare_routes(api):
    @api.route("/patrons/pledges", permission=VIEW, response=PledgeSchema, many=True,
               summary="The pledges, newest first")
    def list_pledges():
        return services.list_pledges(db.session)

    @api.route("/patrons/pledges", methods=["POST"], permission=MANAGE, body=PledgeSchema,
               response=PledgeSchema, status=201, idempotent=True, summary="Record a pledge")
    def create_pledge(body):
        return services.add_pledge(db.session, body["donor_name"], body["amount"], body["pledged_on"],
                                   body["note"], body["contact_number"])

    @api.route("/patrons/total", permission=VIEW, query=TotalQuerySchema, response=TotalSchema,
               summary="The total pledged (of one year with ?year=)")
    def pledged_total(args):
        return {"total": services.total_pledged(db.session, args["year"]), "year": args["year"]}
