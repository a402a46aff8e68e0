"""The sales catalogue REST API (``/api/v1/sales/…``): create, change, list and deactivate seasons,
venues (with their areas and seats), events, performances, seat categories, quotas, tariffs and prices,
so that an integrator can import a season without Python. The rules are the catalogue services'
(``plugins/sales/services/catalogue.py``), the same the screens apply: a taken code is a 409, a season
ending before it starts or a negative price a 422 naming the field, a capacity below what is sold a 409.

Reads need ``sales.view``, changes ``sales.catalogue.manage``. "Deactivate" takes a performance (or
every performance of an event) off sale and a tariff out of use: the sales refuse them, the tickets
already sold stay valid."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from coulisses import InvalidError
from coulisses.i18n import _, _l
from coulisses.web.extensions import db
from coulisses.web.schemas import Amount, Id, Int, Limit, Money, Offset, SafeString

from plugins.sales.api_schemas import EventSchema, PerformanceSchema, SeasonSchema, TariffSchema
from plugins.sales.models import (
    Area, Audience, Event, Performance, PerformanceQuota, Season, Seat, SeatCategory, Tariff, Venue,
)
from plugins.sales.services import catalogue
from plugins.sales.services.common import get

TAG = ["sales"]
VIEW = "sales.view"
MANAGE = "sales.catalogue.manage"
MAX_AREAS = 100
MAX_ROWS = 500
MAX_SEATS_PER_ROW = 500
MAX_QUOTAS = 100
CAPACITY_MAX = 1_000_000
POSITION_MAX = 100_000


def _code(**kw):
    return SafeString(40, min_length=1, metadata={"description": "A unique code (\"JOYAUX\")"}, **kw)


def _label(max_length: int, **kw):
    return SafeString(max_length, min_length=1, **kw)


def _position(**kw):
    return Int(0, POSITION_MAX, **kw)


class ListQuerySchema(Schema):
    limit = Limit(100, 1000)
    offset = Offset()


# --------------------------------------------------------------------------- schemas: seasons


class SeasonInSchema(Schema):
    code = _code(required=True)
    label = _label(120, required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class SeasonPatchSchema(Schema):
    code = _code()
    label = _label(120)
    start_date = fields.Date()
    end_date = fields.Date()


# --------------------------------------------------------------------------- schemas: venues


class SeatRowInSchema(Schema):
    row = SafeString(10, load_default="", metadata={"description": "The row (\"A\"); empty when none"})
    numbers = fields.List(SafeString(10, min_length=1), required=True,
                          validate=validate.Length(min=1, max=MAX_SEATS_PER_ROW),
                          metadata={"description": "The seat numbers of the row, in order (\"1\", \"2\", \"51S\")"})
    category = Id(load_default=None, metadata={"description": "The seat category id of these seats"})


class SeatsInSchema(Schema):
    rows = fields.List(fields.Nested(SeatRowInSchema), required=True, validate=validate.Length(min=1, max=MAX_ROWS))


class AreaInSchema(Schema):
    code = _code(required=True)
    name = _label(120, required=True)
    position = _position(load_default=0)
    rows = fields.List(fields.Nested(SeatRowInSchema), load_default=list, validate=validate.Length(max=MAX_ROWS),
                       metadata={"description": "Seats of the area (seated venues)"})


class VenueInSchema(Schema):
    code = _code(required=True)
    name = _label(200, required=True)
    seated = fields.Boolean(load_default=False, metadata={"description": "Numbered seats"})
    address = SafeString(300, load_default="")
    areas = fields.List(fields.Nested(AreaInSchema), load_default=list, validate=validate.Length(max=MAX_AREAS))


class VenuePatchSchema(Schema):
    code = _code()
    name = _label(200)
    seated = fields.Boolean()
    address = SafeString(300)


class SeatOutSchema(Schema):
    id = fields.Integer()
    row = fields.String()
    number = fields.String()
    label = fields.String()
    category_id = fields.Integer(allow_none=True)
    position = fields.Integer()


class AreaOutSchema(Schema):
    id = fields.Integer()
    venue_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    position = fields.Integer()
    seat_count = fields.Integer()


class VenueOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    seated = fields.Boolean()
    address = fields.String()
    active = fields.Boolean()
    areas = fields.List(fields.Nested(AreaOutSchema))


# --------------------------------------------------------------------------- schemas: events


class EventInSchema(Schema):
    code = _code(required=True)
    title = _label(200, required=True)
    season = Id(load_default=None, metadata={"description": "Season id"})
    description = SafeString(5000, multiline=True, load_default="")
    for_children = fields.Boolean(load_default=False)


class EventPatchSchema(Schema):
    code = _code()
    title = _label(200)
    season = Id(allow_none=True, metadata={"description": "Season id; null: none"})
    description = SafeString(5000, multiline=True)
    for_children = fields.Boolean()


# --------------------------------------------------------------------------- schemas: performances


class QuotaInSchema(Schema):
    category = Id(required=True, metadata={"description": "Seat category id"})
    capacity = Int(0, CAPACITY_MAX, required=True)


class PerformanceInSchema(Schema):
    event = Id(required=True, metadata={"description": "Event id"})
    venue = Id(required=True, metadata={"description": "Venue id"})
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "With its time zone"})
    season = Id(load_default=None, metadata={"description": "Season id; default: the event's"})
    capacity = Int(0, CAPACITY_MAX, load_default=None,
                   metadata={"description": "Overall capacity; default: the sum of the quotas"})
    on_sale = fields.Boolean(load_default=True)
    quotas = fields.List(fields.Nested(QuotaInSchema), required=True, validate=validate.Length(min=1, max=MAX_QUOTAS))


class PerformancePatchSchema(Schema):
    event = Id()
    venue = Id()
    starts_at = fields.AwareDateTime()
    season = Id(allow_none=True)
    capacity = Int(0, CAPACITY_MAX)
    on_sale = fields.Boolean()


class PerformanceListQuerySchema(ListQuerySchema):
    event = Id(load_default=None)
    season = Id(load_default=None)


class PerformanceRowSchema(Schema):
    id = fields.Integer()
    event_id = fields.Integer()
    venue_id = fields.Integer()
    season_id = fields.Integer(allow_none=True)
    starts_at = fields.DateTime()
    capacity = fields.Integer()
    taken = fields.Integer()
    on_sale = fields.Boolean()


# --------------------------------------------------------------------------- schemas: categories, quotas


class CategoryInSchema(Schema):
    code = _code(required=True)
    label = _label(120, required=True)
    position = _position(load_default=0)


class CategoryPatchSchema(Schema):
    code = _code()
    label = _label(120)
    position = _position()


class CategoryOutSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    label = fields.String()
    position = fields.Integer()
    active = fields.Boolean()


class QuotaSetSchema(Schema):
    capacity = Int(0, CAPACITY_MAX, required=True)


class QuotaOutSchema(Schema):
    performance_id = fields.Integer()
    category_id = fields.Integer()
    capacity = fields.Integer()
    taken = fields.Integer()


# --------------------------------------------------------------------------- schemas: tariffs, prices


class TariffInSchema(Schema):
    code = _code(required=True)
    label = _label(120, required=True)
    audience = Id(load_default=None, metadata={"description": "Audience id"})
    position = _position(load_default=0)


class TariffPatchSchema(Schema):
    code = _code()
    label = _label(120)
    audience = Id(allow_none=True)
    position = _position()
    active = fields.Boolean()


class TariffOutSchema(TariffSchema):
    position = fields.Integer()
    active = fields.Boolean()


class TariffListQuerySchema(ListQuerySchema):
    inactive = fields.Boolean(load_default=False, metadata={"description": "Also the deactivated tariffs"})


class PriceSetSchema(Schema):
    amount = Amount(required=True, minimum="0")


class PriceOutSchema(Schema):
    performance_id = fields.Integer()
    category_id = fields.Integer()
    tariff_id = fields.Integer()
    amount = Money()


# --------------------------------------------------------------------------- helpers


def _venue(venue: Venue) -> dict:
    counts = dict(db.session.execute(select(Seat.area_id, func.count(Seat.id)).where(Seat.venue_id == venue.id)
                                     .group_by(Seat.area_id)).all())
    areas = db.session.scalars(select(Area).where(Area.venue_id == venue.id).order_by(Area.position, Area.id)).all()
    return {"id": venue.id, "code": venue.code, "name": venue.name, "seated": venue.seated, "address": venue.address,
            "active": venue.active, "areas": [_area(a, counts.get(a.id, 0)) for a in areas]}


def _area(area: Area, seat_count: int) -> dict:
    return {"id": area.id, "venue_id": area.venue_id, "code": area.code, "name": area.name,
            "position": area.position, "seat_count": seat_count}


def _add_rows(area: Area, rows: list[dict]) -> list[Seat]:
    seats = []
    for row in rows:
        seats += catalogue.add_seats(db.session, area, [(row["row"], n) for n in row["numbers"]],
                                     category=row["category"])
    return seats


def _performance(performance_id: int) -> dict:
    data = vars(catalogue.availability(db.session, performance_id))
    return {**data, "prices": catalogue.prices_for(db.session, performance_id)}


def _refs(body: dict, checks) -> None:
    """A row named in the body that does not exist is the input's fault: 422 naming the field (a 404
    is for the address)."""
    for field, model, message in checks:
        value = body
        for part in field.split("."):
            value = value[int(part)] if isinstance(value, list) else value.get(part)
            if value is None:
                break
        if value is not None and db.session.get(model, value) is None:
            raise InvalidError(str(message), {field: _("%(what)s : %(ref)s", what=str(message), ref=value)})


def _row_refs(rows: list[dict], prefix: str) -> list:
    return [(f"{prefix}{i}.category", SeatCategory, _l("Catégorie introuvable")) for i in range(len(rows))]


def _page(stmt, args):
    return db.session.scalars(stmt.limit(args["limit"]).offset(args["offset"])).all()


def _quota(performance_id: int, category_id: int) -> PerformanceQuota:
    return db.session.scalar(select(PerformanceQuota).where(PerformanceQuota.performance_id == performance_id,
                                                            PerformanceQuota.category_id == category_id))


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    # ---------------------------------------------------------------- seasons

    @api.route("/sales/seasons", methods=["POST"], permission=MANAGE, body=SeasonInSchema, response=SeasonSchema,
               status=201, summary="Create a season", tags=TAG)
    def create_season(body):
        return catalogue.create_season(db.session, **body)

    @api.route("/sales/seasons/<int:season_id>", methods=["PATCH"], permission=MANAGE, body=SeasonPatchSchema,
               response=SeasonSchema, summary="Change a season", tags=TAG)
    def update_season(season_id, body):
        return catalogue.update_season(db.session, season_id, **body)

    # ---------------------------------------------------------------- venues, areas, seats

    @api.route("/sales/venues", permission=VIEW, query=ListQuerySchema, response=VenueOutSchema, many=True,
               summary="Venues with their areas", tags=TAG)
    def list_venues(args):
        return [_venue(v) for v in _page(select(Venue).order_by(Venue.name, Venue.id), args)]

    @api.route("/sales/venues/<int:venue_id>", permission=VIEW, response=VenueOutSchema,
               summary="A venue with its areas", tags=TAG)
    def get_venue(venue_id):
        return _venue(get(db.session, Venue, venue_id, _l("Lieu introuvable")))

    @api.route("/sales/venues", methods=["POST"], permission=MANAGE, body=VenueInSchema, response=VenueOutSchema,
               status=201, summary="Create a venue (with its areas and seats)", tags=TAG)
    def create_venue(body):
        for i, area_in in enumerate(body["areas"]):
            _refs(body, _row_refs(area_in["rows"], f"areas.{i}.rows."))
        venue = catalogue.create_venue(db.session, body["code"], body["name"], seated=body["seated"],
                                       address=body["address"])
        for area_in in body["areas"]:
            area = catalogue.add_area(db.session, venue, area_in["code"], area_in["name"], area_in["position"])
            _add_rows(area, area_in["rows"])
        return _venue(venue)

    @api.route("/sales/venues/<int:venue_id>", methods=["PATCH"], permission=MANAGE, body=VenuePatchSchema,
               response=VenueOutSchema, summary="Change a venue", tags=TAG)
    def update_venue(venue_id, body):
        return _venue(catalogue.update_venue(db.session, venue_id, **body))

    @api.route("/sales/venues/<int:venue_id>/areas", methods=["POST"], permission=MANAGE, body=AreaInSchema,
               response=AreaOutSchema, status=201, summary="Add an area (with its seats) to a venue", tags=TAG)
    def create_area(venue_id, body):
        venue = get(db.session, Venue, venue_id, _l("Lieu introuvable"))
        _refs(body, _row_refs(body["rows"], "rows."))
        area = catalogue.add_area(db.session, venue, body["code"], body["name"], body["position"])
        return _area(area, len(_add_rows(area, body["rows"])))

    @api.route("/sales/areas/<int:area_id>/seats", permission=VIEW, response=SeatOutSchema, many=True,
               summary="The seats of an area", tags=TAG)
    def list_area_seats(area_id):
        area = get(db.session, Area, area_id, _l("Zone introuvable"))
        return db.session.scalars(select(Seat).where(Seat.area_id == area.id).order_by(Seat.position, Seat.id)).all()

    @api.route("/sales/areas/<int:area_id>/seats", methods=["POST"], permission=MANAGE, body=SeatsInSchema,
               response=SeatOutSchema, many=True, status=201, summary="Add rows of seats to an area", tags=TAG)
    def create_seats(area_id, body):
        area = get(db.session, Area, area_id, _l("Zone introuvable"))
        _refs(body, _row_refs(body["rows"], "rows."))
        return _add_rows(area, body["rows"])

    # ---------------------------------------------------------------- events

    @api.route("/sales/events", methods=["POST"], permission=MANAGE, body=EventInSchema, response=EventSchema,
               status=201, summary="Create an event", tags=TAG)
    def create_event(body):
        _refs(body, [("season", Season, _l("Saison introuvable"))])
        return catalogue.create_event(db.session, body["code"], body["title"], season=body["season"],
                                      description=body["description"], for_children=body["for_children"])

    @api.route("/sales/events/<int:event_id>", methods=["PATCH"], permission=MANAGE, body=EventPatchSchema,
               response=EventSchema, summary="Change an event", tags=TAG)
    def update_event(event_id, body):
        _refs(body, [("season", Season, _l("Saison introuvable"))])
        return catalogue.update_event(db.session, event_id, **body)

    @api.route("/sales/events/<int:event_id>/deactivate", methods=["POST"], permission=MANAGE,
               response=EventSchema, summary="Take every performance of an event off sale", tags=TAG)
    def deactivate_event(event_id):
        return catalogue.deactivate_event(db.session, event_id)

    # ---------------------------------------------------------------- performances

    @api.route("/sales/catalogue/performances", permission=VIEW, query=PerformanceListQuerySchema,
               response=PerformanceRowSchema, many=True,
               summary="Every performance (on sale or not, past or to come)", tags=TAG)
    def list_all_performances(args):
        stmt = select(Performance).order_by(Performance.starts_at, Performance.id)
        if args["event"] is not None:
            stmt = stmt.where(Performance.event_id == args["event"])
        if args["season"] is not None:
            stmt = stmt.where(Performance.season_id == args["season"])
        return _page(stmt, args)

    @api.route("/sales/performances", methods=["POST"], permission=MANAGE, body=PerformanceInSchema,
               response=PerformanceSchema, status=201, summary="Create a performance with its quotas", tags=TAG)
    def create_performance(body):
        _refs(body, [("event", Event, _l("Événement introuvable")), ("venue", Venue, _l("Lieu introuvable")),
               ("season", Season, _l("Saison introuvable"))] + [(f"quotas.{i}.category", SeatCategory, _l("Catégorie introuvable"))
                                for i in range(len(body["quotas"]))])
        quotas: dict[int, int] = {}
        for i, q in enumerate(body["quotas"]):
            if q["category"] in quotas:
                raise InvalidError(_("Catégorie en double"),
                                             {f"quotas.{i}.category": _("Une seule jauge par catégorie")})
            quotas[q["category"]] = q["capacity"]
        performance = catalogue.create_performance(db.session, body["event"], body["venue"], body["starts_at"],
                                                   quotas=quotas, capacity=body["capacity"], season=body["season"],
                                                   on_sale=body["on_sale"])
        return _performance(performance.id)

    @api.route("/sales/performances/<int:performance_id>", methods=["PATCH"], permission=MANAGE,
               body=PerformancePatchSchema, response=PerformanceSchema, summary="Change a performance", tags=TAG)
    def update_performance(performance_id, body):
        _refs(body, [("event", Event, _l("Événement introuvable")), ("venue", Venue, _l("Lieu introuvable")),
               ("season", Season, _l("Saison introuvable"))])
        catalogue.update_performance(db.session, performance_id, **body)
        return _performance(performance_id)

    @api.route("/sales/performances/<int:performance_id>/deactivate", methods=["POST"], permission=MANAGE,
               response=PerformanceSchema, summary="Take a performance off sale", tags=TAG)
    def deactivate_performance(performance_id):
        catalogue.set_on_sale(db.session, performance_id, False)
        return _performance(performance_id)

    # ---------------------------------------------------------------- seat categories and quotas

    @api.route("/sales/categories", permission=VIEW, query=ListQuerySchema, response=CategoryOutSchema, many=True,
               summary="Seat categories", tags=TAG)
    def list_categories(args):
        return _page(select(SeatCategory).order_by(SeatCategory.position, SeatCategory.id), args)

    @api.route("/sales/categories", methods=["POST"], permission=MANAGE, body=CategoryInSchema,
               response=CategoryOutSchema, status=201, summary="Create a seat category", tags=TAG)
    def create_category(body):
        return catalogue.create_category(db.session, body["code"], body["label"], body["position"])

    @api.route("/sales/categories/<int:category_id>", methods=["PATCH"], permission=MANAGE, body=CategoryPatchSchema,
               response=CategoryOutSchema, summary="Change a seat category", tags=TAG)
    def update_category(category_id, body):
        return catalogue.update_category(db.session, category_id, **body)

    @api.route("/sales/performances/<int:performance_id>/quotas", permission=VIEW, response=QuotaOutSchema,
               many=True, summary="The quotas of a performance", tags=TAG)
    def list_quotas(performance_id):
        performance = catalogue.get_performance(db.session, performance_id)
        return db.session.scalars(select(PerformanceQuota).where(PerformanceQuota.performance_id == performance.id)
                                  .order_by(PerformanceQuota.category_id)).all()

    @api.route("/sales/performances/<int:performance_id>/quotas/<int:category_id>", methods=["PUT"],
               permission=MANAGE, body=QuotaSetSchema, response=QuotaOutSchema,
               summary="Set the quota of a category at a performance (never below what is taken)", tags=TAG)
    def set_quota(performance_id, category_id, body):
        return catalogue.set_quota(db.session, performance_id, category_id, body["capacity"])

    @api.route("/sales/performances/<int:performance_id>/quotas/<int:category_id>", methods=["DELETE"],
               permission=MANAGE, status=204, summary="Remove a quota nothing was sold in", tags=TAG)
    def delete_quota(performance_id, category_id):
        catalogue.delete_quota(db.session, performance_id, category_id)
        return "", 204

    # ---------------------------------------------------------------- tariffs

    @api.route("/sales/catalogue/tariffs", permission=VIEW, query=TariffListQuerySchema, response=TariffOutSchema,
               many=True, summary="Tariffs (the deactivated ones on request)", tags=TAG)
    def list_all_tariffs(args):
        stmt = select(Tariff).order_by(Tariff.position, Tariff.id)
        if not args["inactive"]:
            stmt = stmt.where(Tariff.active.is_(True))
        return _page(stmt, args)

    @api.route("/sales/tariffs", methods=["POST"], permission=MANAGE, body=TariffInSchema, response=TariffOutSchema,
               status=201, summary="Create a tariff", tags=TAG)
    def create_tariff(body):
        _refs(body, [("audience", Audience, _l("Public introuvable"))])
        return catalogue.create_tariff(db.session, body["code"], body["label"], body["audience"], body["position"])

    @api.route("/sales/tariffs/<int:tariff_id>", methods=["PATCH"], permission=MANAGE, body=TariffPatchSchema,
               response=TariffOutSchema, summary="Change a tariff", tags=TAG)
    def update_tariff(tariff_id, body):
        _refs(body, [("audience", Audience, _l("Public introuvable"))])
        return catalogue.update_tariff(db.session, tariff_id, **body)

    @api.route("/sales/tariffs/<int:tariff_id>/deactivate", methods=["POST"], permission=MANAGE,
               response=TariffOutSchema, summary="Deactivate a tariff (no longer sold)", tags=TAG)
    def deactivate_tariff(tariff_id):
        return catalogue.update_tariff(db.session, tariff_id, active=False)

    # ---------------------------------------------------------------- prices

    @api.route("/sales/performances/<int:performance_id>/prices/<int:category_id>/<int:tariff_id>", methods=["PUT"],
               permission=MANAGE, body=PriceSetSchema, response=PriceOutSchema,
               summary="Set the price of a category and tariff at a performance", tags=TAG)
    def set_price(performance_id, category_id, tariff_id, body):
        return catalogue.set_price(db.session, performance_id, category_id, tariff_id, body["amount"])

    @api.route("/sales/performances/<int:performance_id>/prices/<int:category_id>/<int:tariff_id>",
               methods=["DELETE"], permission=MANAGE, status=204, summary="Remove a price", tags=TAG)
    def delete_price(performance_id, category_id, tariff_id):
        catalogue.delete_price(db.session, performance_id, category_id, tariff_id)
        return "", 204
