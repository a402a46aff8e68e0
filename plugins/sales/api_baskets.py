"""The baskets' REST API (``/api/v1/baskets``): open a basket (one numbered operation, "Ordre
1271"), add lines, take an order up, remove reserved tickets, change a tariff, pay what is due, hold,
resume, abandon, settle. Every POST that creates or moves something is idempotent
(``Idempotency-Key``); amounts are strings."""
from __future__ import annotations

from sqlalchemy import select

from coulisses import InvalidError
from coulisses.i18n import _
from coulisses.security import Operator
from coulisses.web.extensions import db

from plugins.sales.api import _contact_id, _detail, _payment_inputs, _tickets_by_barcode
from plugins.sales.api_basket_schemas import (
    BasketLinesSchema, BasketOpenSchema, BasketPayResultSchema, BasketPaySchema, BasketQuerySchema, BasketSchema,
    ChangeTariffSchema, HoldSchema, RemoveTicketsSchema, ResumeSchema, TakeUpSchema,
)
from plugins.sales.models import Basket
from plugins.sales.registry import get_registry
from plugins.sales.services import baskets, orders
from plugins.sales.services.common import ZERO
from plugins.sales.services.journal import entries_of

TAG = ["sales"]


def basket_dict(basket: Basket) -> dict:
    kinds = get_registry().operation_kinds
    found = baskets.basket_orders(db.session, basket)
    numbers = {o.id: o.number for o in found}
    logins = {o.id: o.login for o in db.session.scalars(select(Operator).where(
        Operator.id.in_({basket.operator_id, basket.held_by_id} - {None})))}
    return {
        "number": basket.number, "state": basket.state, "state_label": basket.state_label,
        "point_of_sale": basket.point_of_sale.code, "contact": basket.contact.number if basket.contact_id else None,
        "operator": logins.get(basket.operator_id, ""), "created_at": basket.created_at, "held_at": basket.held_at,
        "held_by": logins.get(basket.held_by_id, ""), "closed_at": basket.closed_at, "note": basket.note,
        "due": baskets.amount_due(db.session, basket),
        "orders": [{"number": o.number, "state": o.state, "state_label": o.state_label, "total": o.total,
                    "paid": o.paid, "balance": o.total - o.paid} for o in found],
        "entries": [{"kind": e.kind, "kind_label": str(kinds[e.kind].label) if e.kind in kinds else e.kind,
                     "order": numbers.get(e.order_id), "amount": e.amount, "at": e.at, "operator": e.operator_login}
                    for e in entries_of(db.session, operation=basket.operation)],
    }


def _order_of(basket: Basket, number: int):
    order = orders.get_order(db.session, number)
    if order not in baskets.basket_orders(db.session, basket):
        raise InvalidError(_("Le dossier %(number)s n'est pas dans l'ordre %(basket)s : reprenez-le d'abord",
                             number=number, basket=basket.number), {"order": _("Pas dans le panier")})
    return order


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    @api.route("/baskets", methods=["POST"], permission="sales.sell", body=BasketOpenSchema, response=BasketSchema,
               status=201, idempotent=True, summary="Open a basket (takes the next operation number)", tags=TAG)
    def open_basket(body):
        basket = baskets.open_basket(db.session, point_of_sale=body["point_of_sale"],
                                     contact=_contact_id(body["contact"], "contact"), note=body["note"])
        return basket_dict(basket)

    @api.route("/baskets", permission="sales.sell", query=BasketQuerySchema, response=BasketSchema, many=True,
               summary="Baskets of a point of sale by state (default: those on hold)", tags=TAG)
    def list_baskets(args):
        from plugins.sales.services.settings import resolve_point_of_sale

        pos = resolve_point_of_sale(db.session, args["point_of_sale"])
        found = db.session.scalars(select(Basket).where(Basket.point_of_sale_id == pos.id, Basket.state == args["state"])
                                   .order_by(Basket.id).limit(500))
        return [basket_dict(b) for b in found]

    @api.route("/baskets/<int:number>", permission="sales.sell", response=BasketSchema,
               summary="A basket: its orders, what they owe, its entries", tags=TAG)
    def get_basket(number):
        return basket_dict(baskets.get_basket(db.session, number))

    @api.route("/baskets/<int:number>/lines", methods=["POST"], permission="sales.sell", body=BasketLinesSchema,
               response=BasketSchema, status=201, idempotent=True,
               summary="Reserve or sell lines in the basket (a new order, or added to one of its orders)", tags=TAG)
    def add_lines(number, body):
        """409 when a category or a seat is no longer available, or the basket is not open."""
        basket = baskets.lock_basket(db.session, baskets.get_basket(db.session, number))
        lines = []
        for i, ln in enumerate(body["lines"]):
            quantity = ln["quantity"] or (len(ln["seats"]) if ln["seats"] else 1)
            attendees = [_contact_id(n, f"lines.{i}.attendees") for n in ln["attendees"]]
            lines.append(orders.LineInput(ln["performance"], ln["category"], ln["tariff"], quantity,
                                          seats=ln["seats"], attendees=attendees, area=ln["area"]))
        if body["order"] is not None:
            baskets.add_lines(db.session, basket, _order_of(basket, body["order"]), lines, sell=body["action"] == "sell")
        else:
            if body["buyer"] is None:
                raise InvalidError(_("Acheteur requis pour un nouveau dossier"), {"buyer": _("Acheteur requis")})
            buyer = _contact_id(body["buyer"], "buyer")
            common = dict(payer=_contact_id(body["payer"], "payer"), structure=_contact_id(body["structure"], "structure"),
                          delivery_mode=body["delivery_mode"], note=body["note"], operation=basket.operation)
            if basket.contact_id is None:
                basket.contact_id = buyer
            (orders.sell if body["action"] == "sell" else orders.reserve)(db.session, buyer, lines, **common)
        return basket_dict(basket)

    @api.route("/baskets/<int:number>/take-up", methods=["POST"], permission="sales.sell", body=TakeUpSchema,
               response=BasketSchema, idempotent=True, summary="Take an existing order up into the basket", tags=TAG)
    def take_up(number, body):
        basket = baskets.get_basket(db.session, number)
        baskets.take_up(db.session, basket, orders.get_order(db.session, body["order"]))
        return basket_dict(basket)

    @api.route("/baskets/<int:number>/remove", methods=["POST"], permission="sales.cancel", body=RemoveTicketsSchema,
               response=BasketSchema, idempotent=True, summary="Remove reserved tickets of an order of the basket",
               tags=TAG)
    def remove_tickets(number, body):
        basket = baskets.get_basket(db.session, number)
        order = _order_of(basket, body["order"])
        baskets.remove_tickets(db.session, basket, order, _tickets_by_barcode(order, body["tickets"]))
        return basket_dict(basket)

    @api.route("/baskets/<int:number>/change-tariff", methods=["POST"], permission="sales.sell",
               body=ChangeTariffSchema, response=BasketSchema, idempotent=True,
               summary="Change a reserved ticket's tariff (a new ticket at the new price)", tags=TAG)
    def change_tariff(number, body):
        basket = baskets.get_basket(db.session, number)
        order = _order_of(basket, body["order"])
        (ticket,) = _tickets_by_barcode(order, [body["ticket"]])
        baskets.change_tariff(db.session, basket, order, ticket, body["tariff"])
        return basket_dict(basket)

    @api.route("/baskets/<int:number>/payments", methods=["POST"], permission="sales.pay", body=BasketPaySchema,
               response=BasketPayResultSchema, status=201, idempotent=True,
               summary="Pay what the basket's orders owe", tags=TAG)
    def pay(number, body):
        """Filled order after order; payments short of what is due are refused (409) unless
        ``partial``; beyond it only cash, whose change is returned in ``change``."""
        basket = baskets.get_basket(db.session, number)
        results = baskets.pay_due(db.session, basket, _payment_inputs(body["payments"]), partial=body["partial"])
        return {"basket": basket_dict(basket), "change": sum((r.change for r in results), ZERO),
                "orders": [_detail(r.order) for r in results]}

    @api.route("/baskets/<int:number>/hold", methods=["POST"], permission="sales.sell", body=HoldSchema,
               response=BasketSchema, summary="Put the basket on hold (METTRE EN ATTENTE)", tags=TAG)
    def hold(number, body):
        return basket_dict(baskets.hold(db.session, number, note=body["note"]))

    @api.route("/baskets/<int:number>/resume", methods=["POST"], permission="sales.sell", body=ResumeSchema,
               response=BasketSchema, summary="Resume a basket on hold (an operator of its point of sale)", tags=TAG)
    def resume(number, body):
        return basket_dict(baskets.resume(db.session, number, point_of_sale=body["point_of_sale"]))

    @api.route("/baskets/<int:number>/abandon", methods=["POST"], permission="sales.sell", response=BasketSchema,
               summary="Abandon the basket (ABANDONNER ORDRE): what it reserved is released", tags=TAG)
    def abandon(number):
        return basket_dict(baskets.abandon(db.session, number))

    @api.route("/baskets/<int:number>/settle", methods=["POST"], permission="sales.sell", response=BasketSchema,
               summary="Close the basket: its work is done", tags=TAG)
    def settle(number):
        return basket_dict(baskets.settle(db.session, number))
