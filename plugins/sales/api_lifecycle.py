"""The order's life in the REST API (``/api/v1``): performances' availability, a reservation's
expiry, an order's delivery and documents, the tills. Opening and closing a till are idempotent
(``Idempotency-Key``): they record money."""
from __future__ import annotations

from flask_login import current_user

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _
from coulisses.web.extensions import db
from coulisses.web.rest import ApiError

from plugins.sales.api_lifecycle_schemas import (
    AvailabilityQuerySchema, AvailabilitySchema, DeliveryInSchema, DeliverySchema, DocumentInSchema, OptionResultSchema,
    OptionSchema, TillCloseSchema, TillOpenSchema, TillQuerySchema, TillSchema,
)
from plugins.sales.models import TillSession
from plugins.sales.services import availability, delivery, orders, reservations, till
from plugins.sales.services.settings import resolve_point_of_sale

TAG = ["sales"]


def delivery_dict(order) -> dict:
    return {"number": order.number, **delivery.delivery_view(db.session, order),
            "documents": [vars(d) for d in delivery.documents(db.session, order)]}


def _till(till_id: int) -> TillSession:
    session = till.get_till(db.session, till_id)
    if session.operator_id != current_user.id and not current_user.has_permission("sales.till.manage"):
        raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission="sales.till.manage"))
    return session


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    # ---------------------------------------------------------------- availability

    @api.route("/sales/availability", permission="sales.view", query=AvailabilityQuerySchema,
               response=AvailabilitySchema, many=True, summary="Availability of the upcoming performances", tags=TAG)
    def list_availability(args):
        """Per performance and per category: capacity, sold, reserved, held (taken by a basket, no
        ticket yet), available."""
        return [f.as_dict() for f in availability.figures(db.session, starts_from=args["starts_from"],
                                                           limit=args["limit"])]

    @api.route("/sales/performances/<int:performance_id>/availability", permission="sales.view",
               response=AvailabilitySchema, summary="Availability of a performance per category", tags=TAG)
    def get_availability(performance_id):
        return availability.performance_figures(db.session, performance_id).as_dict()

    # ---------------------------------------------------------------- reservation expiry

    @api.route("/orders/<int:number>/option", methods=["PUT"], permission="sales.sell", body=OptionSchema,
               response=OptionResultSchema, summary="Change when a reservation expires", tags=TAG)
    def set_option(number, body):
        """``expires_at`` in the future (422 otherwise), or null: the reservation holds until cancelled.
        409 when the order has no reserved ticket."""
        order = orders.get_order(db.session, number)
        reservations.set_expiry(db.session, order, body["expires_at"], point_of_sale=body["point_of_sale"])
        return {"number": order.number, "state": order.state, "option_expires_at": order.option_expires_at}

    # ---------------------------------------------------------------- delivery and documents

    @api.route("/orders/<int:number>/delivery", permission="sales.view", response=DeliverySchema,
               summary="An order's delivery and the documents it will produce", tags=TAG)
    def get_delivery(number):
        return delivery_dict(orders.get_order(db.session, number))

    @api.route("/orders/<int:number>/delivery", methods=["PUT"], permission="sales.sell", body=DeliveryInSchema,
               response=DeliverySchema, summary="Change an order's delivery (mode, contact, address, e-mail, print)",
               tags=TAG)
    def put_delivery(number, body):
        order = orders.get_order(db.session, number)
        changes = {"mode": body["delivery_mode"], "address": body["address"], "email": body["email"],
                   "immediate_print": body["immediate_print"], "point_of_sale": body["point_of_sale"]}
        if body["contact"] is not None:
            changes["contact"] = body["contact"]
        delivery.set_delivery(db.session, order, **changes)
        return delivery_dict(order)

    @api.route("/orders/<int:number>/documents", methods=["POST"], permission="sales.sell", body=DocumentInSchema,
               response=DeliverySchema, status=201, summary="Add a document the order will produce", tags=TAG)
    def add_document(number, body):
        order = orders.get_order(db.session, number)
        delivery.add_document(db.session, order, body["type"], body["send"], body["quantity"])
        return delivery_dict(order)

    @api.route("/orders/<int:number>/documents/<int:document_id>", methods=["DELETE"], permission="sales.sell",
               status=204, summary="Remove a planned document", tags=TAG)
    def remove_document(number, document_id):
        delivery.remove_document(db.session, orders.get_order(db.session, number), document_id)

    @api.route("/orders/<int:number>/documents/reset", methods=["POST"], permission="sales.sell",
               response=DeliverySchema, summary="Back to the delivery mode's documents", tags=TAG)
    def reset_documents(number):
        order = orders.get_order(db.session, number)
        delivery.reset_documents(db.session, order)
        return delivery_dict(order)

    @api.route("/orders/<int:number>/documents/produce", methods=["POST"], permission="sales.print",
               response=DeliverySchema, summary="Produce the planned documents of a settled order now", tags=TAG)
    def produce_documents(number):
        """Generated by the reports plugin; e-mailed ones leave after commit. 409 when the order is not
        settled or the reports plugin is disabled."""
        order = orders.get_order(db.session, number)
        delivery.produce_documents(db.session, order)
        return delivery_dict(order)

    # ---------------------------------------------------------------- tills

    @api.route("/sales/tills", permission="sales.till", query=TillQuerySchema, response=TillSchema, many=True,
               summary="Tills (cash desk sessions), newest first", tags=TAG)
    def list_tills(args):
        """The caller's own; every operator's with ``sales.till.manage``."""
        operator = None if current_user.has_permission("sales.till.manage") else current_user.id
        try:  # an unknown point of sale in a filter is the query's fault (422), not a missing resource (404)
            found = till.tills(db.session, point_of_sale=args["point_of_sale"], operator_id=operator,
                               limit=args["limit"])
        except NotFoundError as exc:
            raise InvalidError(str(exc), {"point_of_sale": str(exc)}) from None
        if args["state"]:
            found = [t for t in found if t.state == args["state"]]
        return [till.journal(db.session, t) for t in found]

    @api.route("/sales/tills", methods=["POST"], permission="sales.till", body=TillOpenSchema, response=TillSchema,
               status=201, idempotent=True, summary="Open my till with a float", tags=TAG)
    def open_till(body):
        """409 when the caller's till is already open at that point of sale."""
        pos = resolve_point_of_sale(db.session, body["point_of_sale"])
        return till.journal(db.session, till.open_till(db.session, body["opening_float"], point_of_sale=pos))

    @api.route("/sales/tills/<int:till_id>", permission="sales.till", response=TillSchema,
               summary="A till's journal: operations, payments and refunds by mode, expected cash", tags=TAG)
    def get_till(till_id):
        return till.journal(db.session, _till(till_id))

    @api.route("/sales/tills/<int:till_id>/close", methods=["POST"], permission="sales.till", body=TillCloseSchema,
               response=TillSchema, idempotent=True, summary="Close a till with the amounts counted per mode", tags=TAG)
    def close_till(till_id, body):
        """Every mode of the session needs its count (422 naming ``count-<CODE>``); a difference needs a
        ``reason`` (422); a closed till: 409."""
        session = till.close_till(db.session, _till(till_id), body["counts"], body["reason"])
        return till.journal(db.session, session)
