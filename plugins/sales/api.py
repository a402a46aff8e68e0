"""The sales REST API (``/api/v1``): catalogue reads, orders (reserve, sell, pay, cancel, print),
tickets by barcode, a contact's credit balance. Every POST that moves money is idempotent
(``Idempotency-Key``). Amounts are strings ("2420.00")."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from coulisses import InvalidError, NotFoundError
from coulisses.i18n import _, _l
from coulisses.web.extensions import db

from plugins.sales.api_schemas import (
    CancelSchema, CreditAdjustSchema, CreditSchema, EventQuerySchema, EventSchema, OrderCreateSchema, OrderSchema,
    PaymentModeSchema, PaySchema, PayResultSchema, PerformanceQuerySchema, PerformanceSchema, PriceSchema,
    PrintSchema, SeasonSchema, SeatStateSchema, TariffSchema, TicketRangeQuerySchema, TicketSchema,
)
from plugins.sales.models import Event, Season, Tariff, Ticket
from plugins.sales.services import catalogue, credit, orders, payments, settings
from plugins.sales.services.catalogue import performance_label
from plugins.sales.services.detail import order_detail

TAG = ["sales"]


def _contact_id(number, field: str) -> int | None:
    from plugins.contacts.services.contacts import get_contact

    if number is None:
        return None
    try:
        return get_contact(db.session, number).id
    except NotFoundError:
        raise InvalidError(_("Contact introuvable"), {field: _("Aucun contact n° %(number)s", number=number)}) from None


def _detail(order) -> dict:
    return order_detail(db.session, order, can=current_user.has_permission)


def _payment_inputs(items, field="payments") -> list[payments.PaymentInput]:
    return [payments.PaymentInput(p["mode"], p["amount"], _contact_id(p["contact"], f"{field}.{i}.contact"),
                                  p["reference"], p.get("details") or {}) for i, p in enumerate(items)]


def _tickets_by_barcode(order, barcodes_: list[str] | None):
    if barcodes_ is None:
        return None
    found = {t.barcode: t for t in db.session.scalars(select(Ticket).where(Ticket.barcode.in_(barcodes_)))}
    missing = [b for b in barcodes_ if b not in found or found[b].order_id != order.id]
    if missing:
        raise InvalidError(_("Billets étrangers au dossier"), {"tickets": _(
            "Pas dans le dossier %(number)s : %(barcodes)s", number=order.number, barcodes=", ".join(missing))})
    return [found[b] for b in barcodes_]


def ticket_dict(t: Ticket) -> dict:
    from plugins.contacts.models import Contact

    attendee = db.session.get(Contact, t.attendee_id) if t.attendee_id else None
    buyer = db.session.get(Contact, t.order.buyer_id)
    return {"barcode": t.barcode, "order": t.order.number, "performance_id": t.performance_id,
            "performance": performance_label(t.performance), "starts_at": t.performance.starts_at,
            "venue": t.performance.venue.name, "category": t.category.label, "tariff": t.tariff.full_label,
            "area": t.area.name if t.area else "", "seat": t.seat.label if t.seat else "",
            "row": t.seat.row if t.seat else "", "state": t.state, "print_state": t.print_state,
            "delivery_mode": t.delivery_mode, "price": t.price, "fees": t.fees,
            "attendee_number": attendee.number if attendee else None, "buyer_number": buyer.number}


def register_routes(api) -> None:  # noqa: C901 - one declaration per endpoint
    # ---------------------------------------------------------------- catalogue

    @api.route("/sales/seasons", permission="sales.view", response=SeasonSchema, many=True,
               summary="Seasons", tags=TAG)
    def list_seasons():
        return db.session.scalars(select(Season).order_by(Season.start_date)).all()

    @api.route("/sales/events", permission="sales.view", query=EventQuerySchema, response=EventSchema, many=True,
               summary="Events", tags=TAG)
    def list_events(args):
        stmt = select(Event).order_by(Event.title)
        if args["season"] is not None:
            stmt = stmt.where(Event.season_id == args["season"])
        return db.session.scalars(stmt).all()

    @api.route("/sales/performances", permission="sales.view", query=PerformanceQuerySchema,
               response=PerformanceSchema, many=True, summary="Performances on sale, with availability", tags=TAG)
    def list_performances(args):
        """Upcoming performances on sale (from now unless ``starts_from``), by date, with the places
        left per seat category."""
        for name, model, message in (("event", Event, _l("Événement introuvable")),
                                     ("season", Season, _l("Saison introuvable"))):
            if args[name] is not None and db.session.get(model, args[name]) is None:
                raise InvalidError(str(message), {name: _("%(what)s : %(ref)s", what=str(message), ref=args[name])})
        return catalogue.performances_on_sale(db.session, event=args["event"], season=args["season"],
                                              starts_from=args["starts_from"], starts_until=args["starts_until"],
                                              q=args["q"], limit=args["limit"])

    @api.route("/sales/performances/<int:performance_id>", permission="sales.view", response=PerformanceSchema,
               summary="A performance with its availability and prices", tags=TAG)
    def get_performance(performance_id):
        data = vars(catalogue.availability(db.session, performance_id))
        return {**data, "prices": catalogue.prices_for(db.session, performance_id)}

    @api.route("/sales/performances/<int:performance_id>/prices", permission="sales.view", response=PriceSchema,
               many=True, summary="Prices of a performance per category and tariff", tags=TAG)
    def list_prices(performance_id):
        return catalogue.prices_for(db.session, performance_id)

    @api.route("/sales/performances/<int:performance_id>/seats", permission="sales.view", response=SeatStateSchema,
               many=True, summary="Seat map of a performance (seated venues)", tags=TAG)
    def list_seats(performance_id):
        return catalogue.seat_map(db.session, performance_id)

    @api.route("/sales/tariffs", permission="sales.view", response=TariffSchema, many=True,
               summary="Active tariffs", tags=TAG)
    def list_tariffs():
        return db.session.scalars(select(Tariff).where(Tariff.active.is_(True)).order_by(Tariff.position, Tariff.id)).all()

    @api.route("/sales/payment-modes", permission="sales.view", response=PaymentModeSchema, many=True,
               summary="Payment modes that can pay", tags=TAG)
    def list_payment_modes():
        """With each mode, the fields the operator fills (``operator_fields``): send them as a payment's
        ``details``."""
        from plugins.sales.api_payments import payment_mode_dict

        return [payment_mode_dict(mode) for mode in settings.payment_modes(db.session)]

    # ---------------------------------------------------------------- orders

    @api.route("/orders", methods=["POST"], permission="sales.sell", body=OrderCreateSchema, response=OrderSchema,
               status=201, idempotent=True, summary="Reserve or sell (an order with its lines and payments)", tags=TAG)
    def create_order(body):
        """``action``: ``sell`` (default; ``payments`` are recorded at once) or ``reserve`` (places held,
        nothing due until confirmed). 409 when a category or a seat is no longer available."""
        lines = []
        for i, ln in enumerate(body["lines"]):
            quantity = ln["quantity"] or (len(ln["seats"]) if ln["seats"] else 1)
            attendees = [_contact_id(n, f"lines.{i}.attendees") for n in ln["attendees"]]
            lines.append(orders.LineInput(ln["performance"], ln["category"], ln["tariff"], quantity,
                                          seats=ln["seats"], attendees=attendees, area=ln["area"]))
        common = dict(payer=_contact_id(body["payer"], "payer"), structure=_contact_id(body["structure"], "structure"),
                      point_of_sale=body["point_of_sale"], delivery_mode=body["delivery_mode"], note=body["note"])
        buyer = _contact_id(body["buyer"], "buyer")
        if body["action"] == "reserve":
            order = orders.reserve(db.session, buyer, lines, **common)
            if body["payments"]:
                payments.pay(db.session, order, _payment_inputs(body["payments"]), point_of_sale=body["point_of_sale"])
        else:
            order = orders.sell(db.session, buyer, lines, payments=_payment_inputs(body["payments"]), **common)
        return _detail(order)

    @api.route("/orders/<int:number>", permission="sales.view", response=OrderSchema,
               summary="An order with its tickets, payments, operations and balance", tags=TAG)
    def get_order(number):
        return _detail(orders.get_order(db.session, number))

    @api.route("/orders/<int:number>/payments", methods=["POST"], permission="sales.pay", body=PaySchema,
               response=PayResultSchema, status=201, idempotent=True, summary="Pay an order (one or several payments)",
               tags=TAG)
    def pay_order(number, body):
        """Payments beyond the balance are refused (409), except cash: the change is returned in
        ``change``."""
        order = orders.get_order(db.session, number)
        from plugins.sales.api_payments import pending_dict

        result = payments.pay(db.session, order, _payment_inputs(body["payments"]), point_of_sale=body["point_of_sale"])
        return {"order": _detail(result.order), "change": result.change,
                "pending": [pending_dict(p) for p in result.pending]}

    @api.route("/orders/<int:number>/cancel", methods=["POST"], permission="sales.cancel", body=CancelSchema,
               response=OrderSchema, idempotent=True, summary="Cancel reserved tickets of an order", tags=TAG)
    def cancel_order(number, body):
        """Reserved tickets only (all of them by default); paid tickets are refunded through the refunds
        plugin (409 here)."""
        order = orders.get_order(db.session, number)
        orders.cancel_reservation(db.session, order, _tickets_by_barcode(order, body["tickets"]),
                                  point_of_sale=body["point_of_sale"])
        return _detail(order)

    @api.route("/orders/<int:number>/confirm", methods=["POST"], permission="sales.sell", response=OrderSchema,
               idempotent=True, summary="Turn a reservation into a sale", tags=TAG)
    def confirm_order(number):
        order = orders.get_order(db.session, number)
        return _detail(orders.confirm(db.session, order))

    @api.route("/orders/<int:number>/print", methods=["POST"], permission="sales.print", body=PrintSchema,
               response=OrderSchema, summary="Mark tickets printed", tags=TAG)
    def print_order(number, body):
        order = orders.get_order(db.session, number)
        tickets = _tickets_by_barcode(order, body["tickets"])
        if tickets is None:
            tickets = [t for t in order.tickets if t.state in ("paid", "printed")
                       and (body["reprint"] or t.print_state != "printed")]
        orders.mark_printed(db.session, tickets, reprint=body["reprint"], point_of_sale=body["point_of_sale"])
        return _detail(order)

    # ---------------------------------------------------------------- tickets

    @api.route("/tickets/<barcode>", permission="sales.view", response=TicketSchema,
               summary="A ticket by its barcode", tags=TAG)
    def get_ticket(barcode):
        return ticket_dict(orders.find_ticket(db.session, barcode))

    @api.route("/tickets", permission="sales.view", query=TicketRangeQuerySchema, response=TicketSchema, many=True,
               summary="Tickets by barcode range (first..last)", tags=TAG)
    def list_tickets(args):
        return [ticket_dict(t) for t in orders.find_tickets_range(db.session, args["first"], args["last"])]

    # ---------------------------------------------------------------- credit balances

    def _credit(contact) -> dict:
        return {"contact": contact.number, "balance": credit.credit_balance(db.session, contact),
                "movements": [{"at": m.at, "amount": m.amount, "balance_after": m.balance_after, "reason": m.reason,
                               "order": m.order.number if m.order_id else None,
                               "operation": m.operation.number if m.operation_id else None}
                              for m in credit.credit_movements(db.session, contact)]}

    @api.route("/contacts/<int:number>/credit", permission="sales.view", response=CreditSchema,
               summary="A contact's credit balance and its movements", tags=TAG)
    def get_credit(number):
        from plugins.contacts.services.contacts import get_contact

        return _credit(get_contact(db.session, number))

    @api.route("/contacts/<int:number>/credit", methods=["POST"], permission="sales.credit.manage",
               body=CreditAdjustSchema, response=CreditSchema, status=201, idempotent=True,
               summary="Credit or debit a contact's credit balance by hand", tags=TAG)
    def adjust_credit(number, body):
        from plugins.contacts.services.contacts import get_contact

        contact = get_contact(db.session, number)
        credit.adjust_credit(db.session, contact, body["amount"], body["reason"], point_of_sale=body["point_of_sale"])
        return _credit(contact)
