"""The catalogue REST API, continued (``/api/v1/sales/…``): audiences and fees (list, create, change,
deactivate) and the deactivation / reactivation of seasons, venues, seat categories, events, tariffs
and fees. The rules are the services' (``plugins/sales/services/catalogue_rules.py``), the same the
screens apply: a taken code is a 409, a negative amount a 422 naming the field.

A deactivated row is no longer offered when selling (performances of a deactivated season, venue or
event, a deactivated category, tariff or audience); the orders and tickets that refer to it keep it.
Reads need ``sales.view``, changes ``sales.catalogue.manage``."""
from __future__ import annotations

from marshmallow import Schema, fields
from sqlalchemy import select

from coulisses.i18n import _l
from coulisses.web.extensions import db
from coulisses.web.schemas import Amount, Id, Int, Limit, Money, Offset

from plugins.sales.api_catalogue import (
    POSITION_MAX, CategoryOutSchema, TariffOutSchema, VenueOutSchema, _code, _label, _refs, _venue,
)
from plugins.sales.api_schemas import EventSchema, SeasonSchema
from plugins.sales.models import Audience, Event, Fee, SalesChannel, Season, SeatCategory, Tariff, Venue
from plugins.sales.services import catalogue_rules

TAG = ["sales"]
VIEW = "sales.view"
MANAGE = "sales.catalogue.manage"


class ActiveListQuerySchema(Schema):
    limit = Limit(100, 1000)
    offset = Offset()
    inactive = fields.Boolean(load_default=False, metadata={"description": "Also the deactivated rows"})


# --------------------------------------------------------------------------- audiences


class AudienceInSchema(Schema):
    code = _code(required=True)
    label = _label(120, required=True)
    position = Int(0, POSITION_MAX, load_default=0)


class AudiencePatchSchema(Schema):
    code = _code()
    label = _label(120)
    position = Int(0, POSITION_MAX)
    active = fields.Boolean()


class AudienceOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    position = fields.Integer()
    active = fields.Boolean()


# --------------------------------------------------------------------------- fees


class FeeInSchema(Schema):
    code = _code(required=True)
    label = _label(120, required=True)
    amount = Amount(required=True, metadata={"description": "Per ticket, not negative (\"1.50\")"})
    refundable = fields.Boolean(load_default=True, metadata={"description": "A refund may give it back"})
    event = Id(load_default=None, metadata={"description": "Event id; null: every event"})
    channel = Id(load_default=None, metadata={"description": "Sales channel id; null: every channel"})


class FeePatchSchema(Schema):
    code = _code()
    label = _label(120)
    amount = Amount()
    refundable = fields.Boolean()
    event = Id(allow_none=True, metadata={"description": "Event id; null: every event"})
    channel = Id(allow_none=True, metadata={"description": "Sales channel id; null: every channel"})
    active = fields.Boolean()


class FeeOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    amount = Money()
    refundable = fields.Boolean()
    event_id = fields.Integer(allow_none=True)
    channel_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


def _fee_refs(body: dict) -> None:
    _refs(body, [("event", Event, _l("Événement introuvable")), ("channel", SalesChannel, _l("Filière introuvable"))])


def _list(model, args, *order):
    stmt = select(model).order_by(*order, model.id)
    if not args["inactive"]:
        stmt = stmt.where(model.active.is_(True))
    return db.session.scalars(stmt.limit(args["limit"]).offset(args["offset"])).all()


# --------------------------------------------------------------------------- deactivation

# (path segment, path parameter, model, output schema, output builder, name in summaries)
DEACTIVATABLE = [
    ("seasons", "season_id", Season, SeasonSchema, None, "season"),
    ("venues", "venue_id", Venue, VenueOutSchema, _venue, "venue"),
    ("categories", "category_id", SeatCategory, CategoryOutSchema, None, "seat category"),
    ("events", "event_id", Event, EventSchema, None, "event"),
    ("audiences", "audience_id", Audience, AudienceOutSchema, None, "audience"),
    ("tariffs", "tariff_id", Tariff, TariffOutSchema, None, "tariff"),
    ("fees", "fee_id", Fee, FeeOutSchema, None, "fee"),
]


def _register_activation(api, segment, param, model, schema, build, name) -> None:
    def view(active: bool):
        def run(**kwargs):
            obj = catalogue_rules.set_active(db.session, model, next(iter(kwargs.values())), active)
            return build(obj) if build else obj
        return run

    if segment not in ("events", "tariffs"):  # api_catalogue declares those two deactivations already
        deactivate = view(False)
        deactivate.__name__ = f"deactivate_{segment}"
        api.route(f"/sales/{segment}/<int:{param}>/deactivate", methods=["POST"], permission=MANAGE,
                  response=schema, tags=TAG,
                  summary=f"Deactivate a {name} (no longer offered when selling; past orders keep it)")(deactivate)
    activate = view(True)
    activate.__name__ = f"activate_{segment}"
    api.route(f"/sales/{segment}/<int:{param}>/activate", methods=["POST"], permission=MANAGE,
              response=schema, tags=TAG, summary=f"Reactivate a {name}")(activate)


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    # ---------------------------------------------------------------- audiences

    @api.route("/sales/audiences", permission=VIEW, query=ActiveListQuerySchema, response=AudienceOutSchema,
               many=True, summary="Audiences (the deactivated ones on request)", tags=TAG)
    def list_audiences(args):
        return _list(Audience, args, Audience.position)

    @api.route("/sales/audiences", methods=["POST"], permission=MANAGE, body=AudienceInSchema,
               response=AudienceOutSchema, status=201, summary="Create an audience", tags=TAG)
    def create_audience(body):
        return catalogue_rules.create_audience(db.session, body["code"], body["label"], body["position"])

    @api.route("/sales/audiences/<int:audience_id>", methods=["PATCH"], permission=MANAGE, body=AudiencePatchSchema,
               response=AudienceOutSchema, summary="Change an audience", tags=TAG)
    def update_audience(audience_id, body):
        return catalogue_rules.update_audience(db.session, audience_id, **body)

    # ---------------------------------------------------------------- fees

    @api.route("/sales/fees", permission=VIEW, query=ActiveListQuerySchema, response=FeeOutSchema, many=True,
               summary="Simple fees per ticket (the deactivated ones on request)", tags=TAG)
    def list_fees(args):
        return _list(Fee, args, Fee.code)

    @api.route("/sales/fees", methods=["POST"], permission=MANAGE, body=FeeInSchema, response=FeeOutSchema,
               status=201, summary="Create a fee", tags=TAG)
    def create_fee(body):
        _fee_refs(body)
        return catalogue_rules.create_fee(db.session, body["code"], body["label"], body["amount"],
                                          refundable=body["refundable"], event=body["event"],
                                          channel=body["channel"])

    @api.route("/sales/fees/<int:fee_id>", methods=["PATCH"], permission=MANAGE, body=FeePatchSchema,
               response=FeeOutSchema, summary="Change a fee (tickets already sold keep theirs)", tags=TAG)
    def update_fee(fee_id, body):
        _fee_refs(body)
        return catalogue_rules.update_fee(db.session, fee_id, **body)

    # ---------------------------------------------------------------- deactivate / reactivate

    for entry in DEACTIVATABLE:
        _register_activation(api, *entry)

