""""Dossiers" (search and the order detail with its actions) and "Billets" (find a ticket by barcode
or a range of barcodes). Reading needs ``sales.view``; each action its own permission."""
from __future__ import annotations

import logging

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from coulisses import ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.web.admin import CoulissesBaseView
from coulisses.i18n import _, _n, currency, format_money, parse_date
from coulisses.web.extensions import db
from werkzeug.routing import BuildError

from plugins.contacts.models import Contact
from plugins.contacts.services.contacts import get_contact
from plugins.sales.admin_common import (
    at_point_of_sale, current_point_of_sale, form_fields, js_strings, mode_rows, payment_panels, posted_payments, refusal_status,
    require, script_json,
)
from plugins.sales.models import (
    DELIVERY_MODE_LABELS, ORDER_STATE_LABELS, PRINT_STATE_LABELS, TICKET_STATE_LABELS, Performance, PointOfSale, Ticket,
)
from plugins.sales.services.catalogue import performance_label
from plugins.sales.services import orders, payments, settings
from plugins.sales.services.detail import order_detail
from plugins.sales.services.order_search import find_orders as search_orders_page


class OrderView(CoulissesBaseView):
    """"Dossiers": find an order; "Dossier 959": its detail and actions."""

    permission = "sales.view"

    PAGE_SIZE = 50

    @expose("/")
    def index(self):
        """The orders, newest first, 50 a page; filters: number (goes straight to the order),
        contact, state, creation dates, performance, point of sale."""
        args = request.args
        number = (args.get("number") or "").strip()
        q = (args.get("q") or "").strip()
        state = args.get("state") or None
        if state not in ORDER_STATE_LABELS:
            state = None
        if number:
            if number.isdigit() and db.session.scalar(select(orders.Order.id).where(orders.Order.number == int(number))):
                return redirect(url_for(".detail", number=int(number)))
            flash(_("Aucun dossier n° %(number)s.", number=number), "warning")
        values = {k: (args.get(k) or "").strip() for k in ("date_from", "date_to", "performance", "pos")}
        fields, dates = {}, {}
        for key in ("date_from", "date_to"):
            if values[key]:
                try:
                    dates[key] = parse_date(values[key])
                except ValueError as exc:
                    fields[key] = str(exc)
        performance_id = int(values["performance"]) if values["performance"].isdigit() else None
        pos_id = int(values["pos"]) if values["pos"].isdigit() else None
        page = max(1, int(args["page"])) if (args.get("page") or "").isdigit() else 1
        searched = bool(q or state or dates or performance_id or pos_id)
        result = search_orders_page(db.session, q, state=state, date_from=dates.get("date_from"),
                                    date_to=dates.get("date_to"), performance_id=performance_id,
                                    point_of_sale_id=pos_id, offset=(page - 1) * self.PAGE_SIZE, limit=self.PAGE_SIZE)
        performances = list(db.session.scalars(select(Performance).options(joinedload(Performance.event))
                                               .order_by(Performance.starts_at.desc()).limit(500)))
        poses = list(db.session.scalars(select(PointOfSale).order_by(PointOfSale.label)))
        query = {k: v for k, v in {"q": q, "state": state or "", **values}.items() if v}

        def page_url(n: int) -> str:
            return url_for(".index", **query, page=n)

        return self.render("sales/orders.html", rows=result.rows, result=result, page=page, page_url=page_url,
                           q=q, number=number, state=state or "", states=ORDER_STATE_LABELS, searched=searched,
                           values=values, fields=fields,
                           performances=[(p.id, performance_label(p)) for p in performances],
                           poses=[(p.id, p.label) for p in poses]), (422 if fields else 200)

    # ------------------------------------------------------------------ detail

    def _order(self, number: int):
        try:
            return orders.get_order(db.session, number)
        except NotFoundError:
            abort(404)

    def _render_detail(self, order, *, error=None, fields=None, values=None, status=200):
        detail = order_detail(db.session, order, can=current_user.has_permission)
        can = current_user.has_permission
        states = {t["state"] for t in detail["tickets"]}
        pay_modes = settings.payment_modes(db.session)
        flags = {
            "pay": can("sales.pay") and detail["balance"] > 0 and order.state != "cancelled",
            "cancel": can("sales.cancel") and "reserved" in states,
            "confirm": can("sales.sell") and "reserved" in states,
            "print": can("sales.print") and any(t["state"] in ("paid", "printed") for t in detail["tickets"]),
            "attendee": can("sales.sell") and any(t["state"] != "cancelled" for t in detail["tickets"]),
            # REPRENDRE: into the sell basket (add, remove reserved, change tariff, pay what is due)
            "take_up": can("sales.sell") and order.state != "cancelled",
            # ÉDITER DOSSIER: the order summary document (reports plugin), printed or sent again
            "edit_document": next((a["href"] for a in plugin_actions(detail) if a["code"] == "reports_summary"), None),
        }
        pos, _error = current_point_of_sale()
        modes = mode_rows(pay_modes)
        panels = payment_panels("order", modes, values or {}, fields or {}, order=detail) if flags["pay"] else []
        return self.render("sales/order.html", d=detail, order=order, flags=flags, actions=plugin_actions(detail), error=error, fields=fields or {},
                           values=values or {}, modes=modes, panels=panels,
                           pos=pos, data_json=script_json({"currency": currency()}), js=js_strings()), status

    @expose("/<int:number>/")
    def detail(self, number: int):
        return self._render_detail(self._order(number))

    def _selected(self, order) -> list[Ticket] | None:
        ids = {int(i) for i in request.form.getlist("tickets") if i.isdigit()}
        if not ids:
            return None
        return [t for t in order.tickets if t.id in ids]

    def _act(self, number: int, permission: str, action, done: str):
        """Run ``action(order, pos)`` at the operator's point of sale, commit, come back to the detail;
        a refusal comes back with its message."""
        require(permission)
        order = self._order(number)
        pos, pos_error = current_point_of_sale()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            with at_point_of_sale(pos.id):
                message = action(order, pos) or done
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            order = self._order(number)
            return self._render_detail(order, error=str(exc), fields=getattr(exc, "fields", None),
                                       values=request.form.to_dict(), status=refusal_status(exc))
        flash(message, "success")
        return redirect(url_for(".detail", number=number))

    @expose("/<int:number>/pay", methods=["POST"])
    def pay(self, number: int):
        def action(order, pos):
            inputs = posted_payments(request.form, settings.payment_modes(db.session))
            if not inputs:
                raise InvalidError(_("Saisissez le montant d'au moins un règlement"), {"payments": _("Aucun règlement")})
            try:
                result = payments.pay(db.session, order, inputs, point_of_sale=pos)
            except InvalidError as exc:  # the fields named as the screen's inputs (pay-CHEQUE-bank)
                raise InvalidError(str(exc), form_fields(exc.fields, inputs)) from None
            message = _("Règlement enregistré. Dossier %(number)s : %(state)s.", number=order.number, state=order.state_label)
            if result.change > 0:
                flash(_("Monnaie à rendre : %(amount)s", amount=format_money(result.change)), "warning")
            return message

        return self._act(number, "sales.pay", action, "")

    @expose("/<int:number>/cancel", methods=["POST"])
    def cancel(self, number: int):
        def action(order, pos):
            cancelled = orders.cancel_reservation(db.session, order, self._selected(order))
            return _n("%(num)d billet réservé annulé.", "%(num)d billets réservés annulés.", len(cancelled))

        return self._act(number, "sales.cancel", action, "")

    @expose("/<int:number>/confirm", methods=["POST"])
    def confirm(self, number: int):
        def action(order, pos):
            orders.confirm(db.session, order, point_of_sale=pos)
            return _("Réservation confirmée : dossier %(number)s vendu (%(state)s).", number=order.number, state=order.state_label)

        return self._act(number, "sales.sell", action, "")

    @expose("/<int:number>/print", methods=["POST"])
    def print_tickets(self, number: int):
        def action(order, pos):
            selected = self._selected(order)
            reprint = request.form.get("reprint") == "1"
            if selected is None:
                selected = [t for t in order.tickets if t.state == "paid" and t.print_state != "printed"]
                if not selected:
                    raise ConflictError(_("Aucun billet payé à imprimer (les billets réservés s'impriment une fois payés)"))
            printed = orders.mark_printed(db.session, selected, reprint=reprint, point_of_sale=pos)
            return _n("%(num)d billet marqué imprimé.", "%(num)d billets marqués imprimés.", len(printed))

        return self._act(number, "sales.print", action, "")


    @expose("/<int:number>/attendee", methods=["POST"])
    def attendee(self, number: int):
        """"Affecter un participant": the contact (``attendee``: a number, chosen with the contacts
        autocomplete or typed) attends with each ticked ticket (``orders.set_attendee``); empty
        ``attendee`` with ``clear_attendee=1`` removes the named attendee."""
        def action(order, pos):
            selected = self._selected(order)
            if not selected:
                raise InvalidError(_("Cochez les billets du participant"), {"tickets": _("Aucun billet coché")})
            raw = (request.form.get("attendee") or request.form.get("attendee_label") or "").strip()
            contact = None
            if raw:
                if not raw.isdigit():
                    raise InvalidError(_("Choisissez le participant dans la liste (ou son numéro)"),
                                       {"attendee": _("Numéro de contact attendu")})
                try:
                    contact = get_contact(db.session, int(raw))
                except NotFoundError:
                    raise InvalidError(_("Participant introuvable"),
                                       {"attendee": _("Aucun contact n° %(number)s", number=raw)}) from None
            elif request.form.get("clear_attendee") != "1":
                raise InvalidError(_("Choisissez le participant (recherche rapide ou numéro)"),
                                   {"attendee": _("Participant requis")})
            for ticket in sorted(selected, key=lambda t: t.barcode):
                orders.set_attendee(db.session, ticket, contact)
            if contact is None:
                return _n("Participant retiré de %(num)d billet.", "Participant retiré de %(num)d billets.", len(selected))
            return _n("%(name)s [%(number)s] participant pour %(num)d billet.", "%(name)s [%(number)s] participant pour %(num)d billets.",
                      len(selected), name=contact.display_name, number=contact.number)

        return self._act(number, "sales.sell", action, "")


class TicketSearchView(CoulissesBaseView):
    """"Billets": a ticket by its barcode (scanned: the scanner types it and presses Enter), or the
    tickets between a first and a last barcode."""

    permission = "sales.view"

    @expose("/")
    def index(self):
        barcode = (request.args.get("barcode") or "").strip()
        first = (request.args.get("first") or "").strip()
        last = (request.args.get("last") or "").strip()
        tickets, error, fields = None, None, {}
        try:
            if barcode:
                tickets = [orders.find_ticket(db.session, barcode)]
            elif first or last:
                tickets = orders.find_tickets_range(db.session, first, last or first)
        except (InvalidError, NotFoundError) as exc:
            error, fields = str(exc), getattr(exc, "fields", None) or {}
            tickets = []
        rows = [ticket_row(t) for t in tickets] if tickets else []
        status = 404 if error and not fields else 422 if error else 200
        return self.render("sales/tickets.html", rows=rows, barcode=barcode, first=first, last=last, error=error,
                           fields=fields, searched=tickets is not None), status


def ticket_row(t: Ticket) -> dict:
    buyer = db.session.get(Contact, t.order.buyer_id)
    return {"barcode": t.barcode, "order": t.order.number, "performance": performance_label(t.performance),
            "venue": t.performance.venue.name, "category": t.category.label, "tariff": t.tariff.full_label,
            "area": t.area.name if t.area else "", "seat": t.seat.label if t.seat else "",
            "state": t.state, "state_label": TICKET_STATE_LABELS[t.state],
            "print_state_label": PRINT_STATE_LABELS[t.print_state],
            "delivery_mode_label": DELIVERY_MODE_LABELS[t.delivery_mode], "price": t.price + t.fees,
            "buyer": f"{buyer.display_name} [{buyer.number}]", "buyer_number": buyer.number}


def plugin_actions(detail: dict) -> list[dict]:
    """The actions other plugins offer (``sales_order_actions``), with their URL; an endpoint that
    does not exist is left out (and logged) rather than breaking the screen."""
    out = []
    for action in detail["actions"]:
        url = action.get("url")
        if not url and action.get("endpoint"):
            try:
                url = url_for(action["endpoint"], number=detail["number"])
            except BuildError:
                logging.getLogger(__name__).warning("sales_order_actions: no endpoint %s", action["endpoint"])
                continue
        if url:
            out.append({**action, "href": url, "method": (action.get("method") or "GET").upper()})
    return out
