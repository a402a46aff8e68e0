"""The refunds REST API (``/api/v1/refunds``): the cancellation basket (create, add tickets by
barcode, range, typed list or order, exchange items, preview, settle, hold, resume, abandon), causes,
completing an interrupted refund, cancelled performances. POSTs that move money are idempotent
(``Idempotency-Key``)."""
from __future__ import annotations

from flask_login import current_user

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _
from coulisses.web.extensions import db
from coulisses.web.rest import ApiError

from plugins.refunds.api_schemas import (
    AddResultSchema, AddTicketsSchema, BasketChangeSchema, BasketCreateSchema, CancellationBasketSchema, CancellationSchema,
    CancellationStateSchema, CauseSchema, ExchangeLineChangeSchema, ExchangeSchema, PayoutSchema, CancellationRemoveTicketsSchema,
    SelfExchangeSchema, SettleResultSchema, BasketSettleSchema, SimulationSchema,
)
from plugins.refunds.services import amounts, baskets, batch, causes, exchange, settle as settling
from plugins.sales.services.orders import get_order
from plugins.sales.services.payments import PaymentInput

TAG = ["refunds"]


def _contact_id(number, field: str):
    from plugins.contacts.services.contacts import get_contact

    if number is None:
        return None
    try:
        return get_contact(db.session, number).id
    except NotFoundError:
        raise InvalidError(_("Contact introuvable"), {field: _("Aucun contact n° %(number)s", number=number)}) from None


def _basket(basket_id: int):
    return baskets.get_basket(db.session, basket_id)


def _view(basket) -> dict:
    return amounts.preview(db.session, basket)


def _require(permission: str) -> None:
    if not current_user.has_permission(permission):
        raise ApiError(403, "forbidden", _("La permission « %(permission)s » est requise", permission=permission))


def check_refund_modes(refunds: list, can) -> None:
    """Cash refunds need ``refunds.cash`` (the screen and the API apply the same rule)."""
    from plugins.sales.services.settings import get_payment_mode

    for item in refunds:
        mode = get_payment_mode(db.session, item.mode)
        if mode.type_code == "cash" and not can("refunds.cash"):
            raise ApiError(403, "forbidden", _("Rembourser en espèces demande la permission « refunds.cash »"))


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    @api.route("/refunds/causes", permission="refunds.refund", response=CauseSchema, many=True,
               summary="Causes of cancellation and their fees", tags=TAG)
    def list_causes():
        return causes.causes(db.session)

    @api.route("/refunds/baskets", methods=["POST"], permission="refunds.refund", body=BasketCreateSchema,
               response=CancellationBasketSchema, status=201, summary="Open a cancellation basket (one operation)", tags=TAG)
    def create_basket(body):
        basket = baskets.open_basket(db.session, contact=_contact_id(body["contact"], "contact"),
                                     point_of_sale=body["point_of_sale"])
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>", permission="refunds.refund", response=CancellationBasketSchema,
               summary="A basket: lines grouped, totals (preview), refund modes", tags=TAG)
    def get_basket(basket_id):
        return _view(_basket(basket_id))

    @api.route("/refunds/baskets/<int:basket_id>", methods=["PATCH"], permission="refunds.refund",
               body=BasketChangeSchema, response=CancellationBasketSchema, summary="Contact, who asked, cause, fees", tags=TAG)
    def change_basket(basket_id, body):
        basket = _basket(basket_id)
        changes = dict(body)
        if "fee_override" in changes:
            _require("refunds.fee.override")
        if "contact" in changes:
            changes["contact"] = _contact_id(changes["contact"], "contact")
        baskets.set_options(db.session, basket, **changes)
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/tickets", methods=["POST"], permission="refunds.refund",
               body=AddTicketsSchema, response=AddResultSchema,
               summary="Add tickets: barcodes, a range (first, last), typed numbers, an order", tags=TAG)
    def add_tickets(basket_id, body):
        """Tickets that cannot be cancelled (unknown, not paid, already cancelled) are listed in
        ``refused`` with the reason; the others are added."""
        basket = _basket(basket_id)
        result = baskets.AddResult()
        given = False
        if body["barcodes"]:
            given = True
            result.merge(baskets.add_barcodes(db.session, basket, body["barcodes"]))
        if body["first"] or body["last"]:
            given = True
            result.merge(baskets.add_range(db.session, basket, body["first"], body["last"]))
        if body["numbers"]:
            given = True
            result.merge(baskets.add_numbers(db.session, basket, body["numbers"]))
        if body["order"] is not None:
            given = True
            result.merge(baskets.add_order(db.session, basket, body["order"], body["tickets"]))
        if not given:
            raise InvalidError(_("Aucun billet demandé"), {"barcodes": _("barcodes, first/last, numbers ou order")})
        return {"added": result.added, "refused": [{"input": i, "reason": r} for i, r in result.refused],
                "basket": _view(basket)}

    @api.route("/refunds/baskets/<int:basket_id>/tickets/remove", methods=["POST"], permission="refunds.refund",
               body=CancellationRemoveTicketsSchema, response=CancellationBasketSchema, summary="Take tickets out of the basket", tags=TAG)
    def remove_tickets(basket_id, body):
        basket = _basket(basket_id)
        baskets.remove_tickets(db.session, basket, body["tickets"])
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/exchange", methods=["POST"], permission="refunds.exchange",
               body=ExchangeSchema, response=CancellationBasketSchema, status=201,
               summary="Add an item to sell in exchange (a product kind of the registry)", tags=TAG)
    def add_exchange(basket_id, body):
        basket = _basket(basket_id)
        exchange.add_product(db.session, basket, body.pop("kind"), **body)
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/self-exchange", methods=["POST"], permission="refunds.exchange",
               body=SelfExchangeSchema, response=CancellationBasketSchema, status=201,
               summary="AUTO-ÉCHANGE: the basket's tickets sold again (change tariff or category)", tags=TAG)
    def self_exchange(basket_id, body):
        basket = _basket(basket_id)
        exchange.self_exchange(db.session, basket, body["tickets"])
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/exchange/<int:line_id>", methods=["PATCH"],
               permission="refunds.exchange", body=ExchangeLineChangeSchema, response=CancellationBasketSchema,
               summary="Change an exchange line's category, tariff or quantity", tags=TAG)
    def change_exchange(basket_id, line_id, body):
        basket = _basket(basket_id)
        exchange.change_line(db.session, basket, line_id, **body)
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/exchange/<int:line_id>/remove", methods=["POST"],
               permission="refunds.exchange", response=CancellationBasketSchema, summary="Remove an exchange line", tags=TAG)
    def remove_exchange(basket_id, line_id):
        basket = _basket(basket_id)
        exchange.remove_line(db.session, basket, line_id)
        return _view(basket)

    @api.route("/refunds/baskets/<int:basket_id>/settle", methods=["POST"], permission="refunds.refund",
               body=BasketSettleSchema, response=SettleResultSchema, idempotent=True,
               summary="Settle: cancel, sell the exchange, refund or collect the balance", tags=TAG)
    def settle_basket(basket_id, body):
        """``refunds`` must add up to the amount to refund (negative total); ``payments`` pay a positive
        one. Each mode refunds at most what it paid on these orders (409) unless the operator has
        ``refunds.mode_limit.override``; cash needs ``refunds.cash``."""
        basket = _basket(basket_id)
        refunds = [settling.RefundInput(r["mode"], r["amount"]) for r in body["refunds"]]
        check_refund_modes(refunds, current_user.has_permission)
        if basket.exchange_lines:
            _require("refunds.exchange")
        payments = [PaymentInput(p["mode"], p["amount"], _contact_id(p["contact"], f"payments.{i}.contact"),
                                 p["reference"]) for i, p in enumerate(body["payments"])]
        result = settling.settle(db.session, basket, refunds=refunds, payments=payments,
                                 allow_over_limit=current_user.has_permission("refunds.mode_limit.override"))
        return {"basket": _view(basket), "refunded": result.refunded, "kept": result.kept, "sold": result.sold,
                "transferred": result.transferred, "change": result.change, "refunds": result.refunds,
                "exchange_order": result.exchange_order.number if result.exchange_order else None}

    for action, summary in (("hold", "METTRE EN ATTENTE"), ("resume", "Resume a held basket"),
                            ("abandon", "ABANDONNER ORDRE")):
        def make(action=action):
            def view(basket_id):
                return _view(getattr(baskets, action)(db.session, _basket(basket_id)))

            view.__name__ = f"{action}_basket"
            return view

        api.route(f"/refunds/baskets/<int:basket_id>/{action}", methods=["POST"], permission="refunds.refund",
                  response=CancellationBasketSchema, summary=summary, tags=TAG)(make())

    @api.route("/refunds/orders/<int:number>/complete", methods=["POST"], permission="refunds.refund",
               response=PayoutSchema, many=True, idempotent=True,
               summary="Pay out an interrupted refund of an order (never twice)", tags=TAG)
    def complete(number):
        order = get_order(db.session, number)
        done = settling.complete_payouts(db.session, order=order)
        return [{"order": number, "mode": p.payment_mode.code, "amount": p.amount, "state": p.state} for p in done]

    @api.route("/refunds/performances/<int:performance_id>/simulation", permission="refunds.performance.cancel",
               query=CancellationSchema, response=SimulationSchema,
               summary="Cancelled performance: what the batch refund would do", tags=TAG)
    def simulate(performance_id, args):
        return batch.simulate(db.session, performance_id, fallback_mode=args["fallback_mode"])

    @api.route("/refunds/performances/<int:performance_id>/cancel", methods=["POST"],
               permission="refunds.performance.cancel", body=CancellationSchema, response=CancellationStateSchema,
               status=202, idempotent=True, summary="Cancel a performance and refund it in one batch (a job)", tags=TAG)
    def cancel_performance(performance_id, body):
        pc = batch.start(db.session, performance_id, cause=body["cause"], fallback_mode=body["fallback_mode"])
        return {"performance_id": pc.performance_id, "state": pc.state, "job": pc.job_id, "report": pc.report}
