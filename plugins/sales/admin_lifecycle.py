"""The order's life on screen: "Disponibilité des séances" (and the JSON the sales screen's panel
polls), "Caisse" (open, close with the counts per mode, the journal and its PDF), and the order
detail's blocks "Option", "Livraison billets" and "Envoi documents" (``_order_lifecycle.html``,
included by ``order.html``; their forms post to ``OrderLifecycleView``, not in the menu).

Thin: parse, call ``services.reservations`` / ``availability`` / ``delivery`` / ``till``, render.
"""
from __future__ import annotations

import io
from datetime import datetime

from flask import Blueprint, abort, flash, jsonify, redirect, request, send_file, session, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.i18n import _, _l, deployment_timezone, format_money, local_time
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.reports.services import engine
from plugins.sales.admin_common import at_point_of_sale, current_point_of_sale, parse_amount, refusal_status, require
from plugins.sales.models import DELIVERY_MODE_LABELS, DOCUMENT_SEND_LABELS, DOCUMENT_TYPE_LABELS, Order
from plugins.sales.services import availability, delivery, orders, reservations, till


# --------------------------------------------------------------------------- availability


class AvailabilityView(CoulissesBaseView):
    """"Disponibilité des séances": the upcoming performances, and per category of the chosen one."""

    permission = "sales.view"

    @expose("/")
    def index(self):
        chosen = request.args.get("performance", "")
        rows = availability.figures(db.session, limit=200)
        detail = None
        if chosen.isdigit():
            try:
                detail = availability.performance_figures(db.session, int(chosen))
            except NotFoundError:
                abort(404)
        return self.render("sales/availability.html", rows=rows, detail=detail)

    @expose("/<int:performance_id>.json")
    def figures_json(self, performance_id: int):
        """The figures of one performance (the sales screen's panel polls it)."""
        try:
            return jsonify(availability.performance_figures(db.session, performance_id).as_dict(iso=True))
        except NotFoundError:
            abort(404)


# --------------------------------------------------------------------------- till


class TillView(CoulissesBaseView):
    """"Caisse": the operator's till at their point of sale — open it with a float, close it with the
    amount counted per mode (a difference needs a reason) —, the sessions, a session's journal."""

    permission = "sales.till"

    def _render(self, *, error=None, fields=None, values=None, status=200):
        pos, pos_error = current_point_of_sale()
        current = till.current_till(db.session, pos, current_user.id) if pos else None
        manage = current_user.has_permission("sales.till.manage")
        sessions = till.tills(db.session, operator_id=None if manage else current_user.id, limit=30)
        return self.render("sales/till.html", pos=pos, pos_error=pos_error, current=current,
                           journal=till.journal(db.session, current) if current else None, sessions=sessions,
                           error=error, fields=fields or {}, values=values or {}), status

    @expose("/")
    def index(self):
        return self._render()

    @expose("/open", methods=["POST"])
    def open(self):
        pos, pos_error = current_point_of_sale()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            amount = parse_amount(request.form.get("opening_float"), "opening_float")
            with at_point_of_sale(pos.id):
                opened = till.open_till(db.session, amount if amount is not None else 0, point_of_sale=pos)
            number = opened.number
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            return self._render(error=str(exc), fields=getattr(exc, "fields", None), values=request.form.to_dict(),
                                status=refusal_status(exc))
        flash(_("Caisse n° %(number)s ouverte.", number=number), "success")
        return redirect(url_for(".index"))

    def _till_or_404(self, till_id: int):
        try:
            found = till.get_till(db.session, till_id)
        except NotFoundError:
            abort(404)
        if found.operator_id != current_user.id and not current_user.has_permission("sales.till.manage"):
            abort(403)
        return found

    @expose("/<int:till_id>/close", methods=["POST"])
    def close(self, till_id: int):
        found = self._till_or_404(till_id)
        counts = {key[len("count-"):]: value for key, value in request.form.items() if key.startswith("count-")}
        try:
            closed = till.close_till(db.session, found, counts, request.form.get("reason", ""))
            number, difference = closed.number, closed.difference
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            if isinstance(exc, ConflictError):
                flash(str(exc), "error")
                return redirect(url_for(".journal", till_id=till_id))
            return self._render(error=str(exc), fields=getattr(exc, "fields", None), values=request.form.to_dict(),
                                status=refusal_status(exc))
        flash(_("Caisse n° %(number)s fermée (écart : %(difference)s).", number=number,
                difference=format_money(difference)), "success")
        return redirect(url_for(".journal", till_id=till_id))

    @expose("/<int:till_id>/")
    def journal(self, till_id: int):
        found = self._till_or_404(till_id)
        return self.render("sales/till_journal.html", till=found, journal=till.journal(db.session, found),
                           reports=delivery.reports_enabled())

    @expose("/<int:till_id>/journal.pdf")
    def journal_pdf(self, till_id: int):
        self._till_or_404(till_id)
        if not delivery.reports_enabled():
            abort(404)
        data, name, content_type = engine.render_bytes(db.session, "sales.till_journal", {"till": str(till_id)}, "pdf",
                                                       can=current_user.has_permission)
        db.session.rollback()
        return send_file(io.BytesIO(data), mimetype=content_type, as_attachment=False, download_name=name)


# --------------------------------------------------------------------------- the order detail's blocks


FORM_KEY = "sales_order_life_form"


def lifecycle_panel(order: Order) -> dict:
    """What ``_order_lifecycle.html`` shows for ``order`` (with a refused form's values, fields and
    message, once, when it was this order's)."""
    refused = session.pop(FORM_KEY, None) if session.get(FORM_KEY, {}).get("number") == order.number else None
    has_reserved = reservations.has_reserved_tickets(db.session, order)
    expires = order.option_expires_at if has_reserved else None
    return {"option_expires_at": expires, "has_reserved": has_reserved,
            "option_local": local_time(expires).strftime("%Y-%m-%dT%H:%M") if expires else "",
            "delivery": delivery.delivery_view(db.session, order), "documents": delivery.documents(db.session, order),
            "modes": DELIVERY_MODE_LABELS, "document_types": DOCUMENT_TYPE_LABELS, "sends": DOCUMENT_SEND_LABELS,
            "reports": delivery.reports_enabled(), "settled": order.state == "settled",
            "error": (refused or {}).get("error"), "values": (refused or {}).get("values") or {},
            "fields": (refused or {}).get("fields") or {}}


def default_documents() -> list[tuple[str, str]]:
    """Per delivery mode, the documents a settled order produces by default (the sales screen says so)."""
    return [(str(DELIVERY_MODE_LABELS[mode]), ", ".join(f"{DOCUMENT_TYPE_LABELS[t]} ({DOCUMENT_SEND_LABELS[send]})"
                                                        for t, send in docs))
            for mode, docs in delivery.DEFAULT_DOCUMENTS.items()]


def parse_local_datetime(raw: str | None, field: str) -> datetime | None:
    """"2026-12-24T18:00" (a datetime-local field), in the deployment's time zone → aware; empty → None."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidError(_("Date et heure invalides"), {field: _("Date et heure invalides : %(value)s", value=text)}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=deployment_timezone())


class OrderLifecycleView(CoulissesBaseView):
    """The order detail's forms for the option, the delivery and the documents (not in the menu)."""

    permission = "sales.view"

    def is_visible(self) -> bool:
        return False

    @expose("/")
    def index(self):
        """Nothing to show here: the blocks live on the order detail."""
        return redirect(url_for("sales_orders.index"))

    def _act(self, number: int, permission: str, action):
        require(permission)
        try:
            order = orders.get_order(db.session, number)
        except NotFoundError:
            abort(404)
        pos, _pos_error = current_point_of_sale()
        try:
            with at_point_of_sale(pos.id if pos else None):
                message = action(order, pos)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            # back to the order detail with what was typed and the reasons (Post/Redirect/Get)
            session[FORM_KEY] = {"number": number, "error": str(exc), "fields": dict(getattr(exc, "fields", None) or {}),
                                 "values": {k: v for k, v in request.form.items() if k != "csrf_token"}}
            return redirect(url_for("sales_orders.detail", number=number) + "#order-lifecycle")
        flash(message, "success")
        return redirect(url_for("sales_orders.detail", number=number) + "#order-lifecycle")

    @expose("/<int:number>/option", methods=["POST"])
    def option(self, number: int):
        def action(order, pos):
            when = None if request.form.get("no_expiry") == "1" else parse_local_datetime(
                request.form.get("option_expires_at"), "option_expires_at")
            if when is None and request.form.get("no_expiry") != "1":
                raise InvalidError(_("Indiquez l'échéance de l'option"), {"option_expires_at": _("Date et heure requises")})
            reservations.set_expiry(db.session, order, when, point_of_sale=pos)
            return _("Option du dossier %(number)s modifiée.", number=order.number)

        return self._act(number, "sales.sell", action)

    @expose("/<int:number>/delivery", methods=["POST"])
    def delivery(self, number: int):
        def action(order, pos):
            form = request.form
            contact = (form.get("delivery_contact") or "").strip()
            if contact and not contact.isdigit():
                raise InvalidError(_("Contact de livraison : son numéro"), {"delivery_contact": _("Numéro de contact attendu")})
            delivery.set_delivery(db.session, order, mode=form.get("delivery_mode") or None,
                                  contact=int(contact) if contact else None, address=form.get("delivery_address"),
                                  email=form.get("delivery_email"), immediate_print=form.get("immediate_print") == "1",
                                  point_of_sale=pos)
            return _("Livraison du dossier %(number)s modifiée.", number=order.number)

        return self._act(number, "sales.sell", action)

    @expose("/<int:number>/documents", methods=["POST"])
    def add_document(self, number: int):
        def action(order, pos):
            delivery.add_document(db.session, order, request.form.get("type_code", ""), request.form.get("send", ""),
                                  request.form.get("quantity", "1"))
            return _("Document ajouté.")

        return self._act(number, "sales.sell", action)

    @expose("/<int:number>/documents/<int:document_id>/remove", methods=["POST"])
    def remove_document(self, number: int, document_id: int):
        def action(order, pos):
            delivery.remove_document(db.session, order, document_id)
            return _("Document retiré.")

        return self._act(number, "sales.sell", action)

    @expose("/<int:number>/documents/reset", methods=["POST"])
    def reset_documents(self, number: int):
        def action(order, pos):
            delivery.reset_documents(db.session, order)
            return _("Documents réinitialisés selon le mode de livraison.")

        return self._act(number, "sales.sell", action)

    @expose("/<int:number>/documents/produce", methods=["POST"])
    def produce_documents(self, number: int):
        def action(order, pos):
            rows = delivery.produce_documents(db.session, order)
            failed = [r for r in rows if r.state == "failed"]
            if failed:
                flash(_("Document non produit : %(reason)s", reason=failed[0].error), "error")
            return _("Documents produits.")

        return self._act(number, "sales.print", action)


def lifecycle_blueprint() -> Blueprint:
    """Gives the templates ``sales_lifecycle(order)`` (the order detail's blocks)."""
    bp = Blueprint("sales_lifecycle_ui", __name__)

    @bp.app_context_processor
    def _context():
        return {"sales_lifecycle": lifecycle_panel, "sales_default_documents": default_documents}

    return bp


def lifecycle_views(category) -> list:
    return [
        AvailabilityView(name=_l("Disponibilité des séances"), endpoint="sales_availability",
                         url="/admin/sales/availability", category=category),
        TillView(name=_l("Caisse"), endpoint="sales_till", url="/admin/sales/till", category=category),
        OrderLifecycleView(name=_l("Dossier : option et livraison"), endpoint="sales_order_life",
                           url="/admin/sales/order-life", category=category),
    ]
