"""The "Échange - annulation" screen (menu Ventes), keyboard-first like the sell screen.

URLs (under ``/admin/refunds/basket``): ``/`` opens a new basket (or lists the held ones),
``/<id>/`` shows one; every block posts to its own action and comes back to the basket (the scan
field has the focus again): tickets (scan, typed list, range), SUPPRIMER, the contact and options
(who asked, cause, simple fees, fee override), exchange (AUTO-ÉCHANGE, the ÉVÉNEMENT tab and the
tabs of the registry), settle with the refund modes or the payment, METTRE EN ATTENTE, ABANDONNER
ORDRE. ``/take?order=`` ("REPRENDRE" from the order detail: the whole order or the checked tickets)
and ``/complete?order=`` (an interrupted refund) are posted from the order detail.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import CoulissesError, InvalidError
from coulisses.i18n import _, _l
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from wtforms import SelectField

from plugins.refunds.models import FEE_KIND_LABELS, REQUESTER_LABELS, RefundCause
from plugins.refunds.registry import get_registry
from plugins.refunds.services import amounts, baskets, batch, causes, exchange, settle as settling
from plugins.sales.admin_catalogue import SETTINGS, SalesModelView
from plugins.sales.admin_common import SALES, at_point_of_sale, current_point_of_sale, parse_amount, require
from plugins.sales.models import DELIVERY_MODE_LABELS, PointOfSale, Seat
from plugins.sales.registry import get_registry as sales_registry
from plugins.sales.services import catalogue, settings
from plugins.sales.services.orders import get_order
from plugins.sales.services.payments import PaymentInput


def _flash_result(result: baskets.AddResult) -> None:
    if result.added:
        flash(_("%(num)s billet(s) ajouté(s) au panier", num=len(result.added)), "success")
    for _typed, reason in result.refused:
        flash(reason, "warning")


class BasketView(CoulissesBaseView):
    """"Échange - annulation" (permission ``refunds.refund``; exchange ``refunds.exchange``)."""

    permission = "refunds.refund"

    def _pos_id(self, basket=None):
        if basket is not None:
            return basket.point_of_sale_id
        pos, _error = current_point_of_sale()
        return pos.id if pos else None

    def _render(self, basket, *, values=None, error=None, fields=None, status=200):
        view = amounts.preview(db.session, basket)
        values = {"delivery_email": basket.delivery_email, "delivery_address": basket.delivery_address,
                  "immediate_print": "1" if basket.immediate_print else "0", **(values or {})}
        registry = get_registry()
        performances = catalogue.performances_on_sale(db.session, starts_from=exchange_from(basket), limit=200)
        tariffs = []
        for p in performances[:200]:
            for r in catalogue.prices_for(db.session, p.id):
                tariffs.append({"performance": p.id, "category": r.category_id, "tariff": r.tariff_id,
                                "label": f"{r.category_label} {r.tariff_label}", "amount": r.amount})
        lines = [{"id": ln.id, "kind": ln.kind, "labels": registry.product_kind(ln.kind).describe(db.session, ln),
                  "quantity": ln.quantity, "performance": ln.performance_id, "category": ln.category_id, "tariff": ln.tariff_id,
                  "seats": ", ".join(str(db.session.get(Seat, s)) for s in ln.seats or [])}
                 for ln in basket.exchange_lines]
        body = self.render(
            "refunds/basket.html", basket=basket, v=view, values=values, error=error, fields=fields or {},
            causes=causes.causes(db.session), requesters=REQUESTER_LABELS, fee_kinds=FEE_KIND_LABELS,
            delivery_modes=DELIVERY_MODE_LABELS, kinds=list(registry.product_kinds.values()),
            performances=performances, tariffs=tariffs, exchange_lines=lines,
            categories={c.id: c.label for c in _categories()}, contact=basket.contact,
            can_exchange=current_user.has_permission("refunds.exchange"),
            can_cash=current_user.has_permission("refunds.cash"),
            can_override=current_user.has_permission("refunds.fee.override"),
            pay_modes=settings.payment_modes(db.session), live_location=self._live_location(basket),
            till_location=self._pos_code(basket),
            device_refunds=settling.pending_refunds(db.session, basket) if basket.state == "settled" else [])
        return (body, status) if status != 200 else body

    @staticmethod
    def _pos_code(basket) -> str | None:
        """The basket's point of sale (its devices: the till's jobs, the workstation's scans)."""
        pos = db.session.get(PointOfSale, basket.point_of_sale_id) if basket.point_of_sale_id else None
        return pos.code if pos is not None else None

    def _live_location(self, basket) -> str | None:
        """The point of sale whose workstation scans feed this basket while it is open (shown live)."""
        return self._pos_code(basket) if basket.state == "open" else None

    def _back(self, basket):
        return redirect(url_for(".basket", basket_id=basket.id) + "#scan")

    def _do(self, basket_id, work):
        """Run ``work(basket)`` at the basket's point of sale; commit and come back, or show the
        error with what was typed (422)."""
        basket = baskets.get_basket(db.session, basket_id)
        try:
            with at_point_of_sale(basket.point_of_sale_id):
                message = work(basket)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            basket = baskets.get_basket(db.session, basket_id)
            status = 422 if isinstance(exc, InvalidError) else 409
            return self._render(basket, values=request.form.to_dict(), error=str(exc),
                                fields=getattr(exc, "fields", None) or {}, status=status)
        if message:
            flash(message, "success")
        return self._back(basket)

    # ------------------------------------------------------------------ pages

    @expose("/")
    def index(self):
        return self.render("refunds/index.html", held=baskets.held_baskets(db.session, limit=50))

    @expose("/new", methods=["POST"])
    def new(self):
        with at_point_of_sale(self._pos_id()):
            basket = baskets.open_basket(db.session)
        db.session.commit()
        return self._back(basket)

    @expose("/<int:basket_id>/")
    def basket(self, basket_id):
        return self._render(baskets.get_basket(db.session, basket_id))

    @expose("/take", methods=["POST"])
    def take(self):
        """"REPRENDRE" from the order detail: the checked tickets, else the whole order."""
        order = get_order(db.session, int(request.args.get("order") or request.form.get("order") or 0))
        tickets = request.form.getlist("tickets") or None
        with at_point_of_sale(self._pos_id()):
            basket = baskets.open_basket(db.session)
            _flash_result(baskets.add_order(db.session, basket, order, tickets))
        db.session.commit()
        return self._back(basket)

    @expose("/complete", methods=["POST"])
    def complete(self):
        order = get_order(db.session, int(request.args.get("order") or 0))
        with at_point_of_sale(self._pos_id()):
            done = settling.complete_payouts(db.session, order=order)
        db.session.commit()
        flash(_("Remboursement terminé : %(num)s versement(s)", num=len(done)), "success")
        return redirect(url_for("sales_orders.detail", number=order.number))

    # ------------------------------------------------------------------ tickets

    @expose("/<int:basket_id>/tickets", methods=["POST"])
    def tickets(self, basket_id):
        form = request.form

        def work(basket):
            result = baskets.AddResult()
            if form.get("scan", "").strip():
                for code in form["scan"].split():  # "Plage" on: the first, then the last of a range
                    result.merge(baskets.add_scanned(db.session, basket, code))
            if form.get("numbers", "").strip():
                result.merge(baskets.add_numbers(db.session, basket, form["numbers"]))
            if form.get("first", "").strip() or form.get("last", "").strip():
                result.merge(baskets.add_range(db.session, basket, form.get("first", ""), form.get("last", "")))
            if form.get("order", "").strip():
                result.merge(baskets.add_order(db.session, basket, form["order"].strip()))
            pending = basket.scan_range_first and _("Premier billet de la plage : %(barcode)s. Scannez le dernier.",
                                                    barcode=basket.scan_range_first)
            if not result.added and not result.refused and not pending:
                raise InvalidError(_("Aucun billet demandé"), {"scan": _("Scannez ou tapez un numéro")})
            _flash_result(result)
            return pending

        return self._do(basket_id, work)

    @expose("/<int:basket_id>/scan-range", methods=["POST"])
    def scan_range(self, basket_id):
        """"Plage": the scans come in pairs (the first and the last ticket of a range), or one by one."""
        on = request.form.get("on") == "1"
        return self._do(basket_id, lambda b: baskets.set_scan_range(db.session, b, on) or (
            _("Plage : scannez le premier puis le dernier billet de chaque plage.") if on
            else _("Plage terminée : un billet par scan.")))

    @expose("/<int:basket_id>/remove", methods=["POST"])
    def remove(self, basket_id):
        return self._do(basket_id, lambda b: _("%(num)s billet(s) retiré(s)", num=baskets.remove_tickets(
            db.session, b, request.form.getlist("tickets"))))

    @expose("/<int:basket_id>/options", methods=["POST"])
    def options(self, basket_id):
        form = request.form

        def work(basket):
            changes = {"requested_by": form.get("requested_by") or None, "cause": form.get("cause") or None,
                       "refund_fees": form.get("refund_fees") == "1",
                       "delivery_mode": form.get("delivery_mode") or None, "note": form.get("note", basket.note)}
            for key in ("delivery_email", "delivery_address"):  # the sell screen's block (_sell_delivery.html)
                if key in form:
                    changes[key] = form[key]
            if "immediate_print" in form:
                changes["immediate_print"] = form["immediate_print"] != "0"
            if form.get("contact", "").strip():
                from plugins.contacts.services.contacts import get_contact

                changes["contact"] = get_contact(db.session, int(form["contact"])).id
            if current_user.has_permission("refunds.fee.override") and "fee_override" in form:
                changes["fee_override"] = parse_amount(form.get("fee_override"), "fee_override")
            baskets.set_options(db.session, basket, **changes)

        return self._do(basket_id, work)

    # ------------------------------------------------------------------ exchange

    @expose("/<int:basket_id>/exchange", methods=["POST"])
    def exchange(self, basket_id):
        require("refunds.exchange")
        form = request.form

        def work(basket):
            if form.get("self_exchange"):
                exchange.self_exchange(db.session, basket, request.form.getlist("tickets") or None)
                return _("AUTO-ÉCHANGE : les billets sont repris pour échange")
            try:
                price = [int(x) for x in (form.get("price") or "").split(":")]
                quantity = int(form.get("quantity") or 0)
            except ValueError:
                raise InvalidError(_("Produit d'échange invalide"), {"price": _("Choisissez la séance et le tarif")})
            if len(price) != 3:
                raise InvalidError(_("Produit d'échange invalide"), {"price": _("Choisissez la séance et le tarif")})
            seats = [int(s) for s in (form.get("seats") or "").replace(",", " ").split() if s.isdigit()]
            exchange.add_performance(db.session, basket, price[0], price[1], price[2], quantity, seats)
            return None

        return self._do(basket_id, work)

    @expose("/<int:basket_id>/exchange/<int:line_id>", methods=["POST"])
    def exchange_line(self, basket_id, line_id):
        require("refunds.exchange")
        form = request.form

        def work(basket):
            if form.get("remove"):
                exchange.remove_line(db.session, basket, line_id)
                return None
            exchange.change_line(db.session, basket, line_id, tariff=form.get("tariff") or None,
                                 category=form.get("category") or None)
            return None

        return self._do(basket_id, work)

    # ------------------------------------------------------------------ settle, hold, abandon

    @expose("/<int:basket_id>/settle", methods=["POST"])
    def settle(self, basket_id):
        form = request.form

        def work(basket):
            refunds, payments = [], []
            for key, raw in form.items():
                if key.startswith("refund-") and raw.strip():
                    refunds.append(settling.RefundInput(key[len("refund-"):], parse_amount(raw, key)))
            if form.get("pay_mode") and form.get("pay_amount", "").strip():
                payments.append(PaymentInput(form["pay_mode"], parse_amount(form["pay_amount"], "pay_amount")))
            from plugins.refunds.api import check_refund_modes

            try:
                check_refund_modes(refunds, current_user.has_permission)
            except Exception:
                raise InvalidError(_("Rembourser en espèces demande la permission « refunds.cash »"),
                                   {"refund-CASH": _("Permission requise")}) from None
            if basket.exchange_lines and not current_user.has_permission("refunds.exchange"):
                raise InvalidError(_("Échanger demande la permission « refunds.exchange »"), {})
            result = settling.settle(db.session, basket, refunds=refunds, payments=payments,
                                     allow_over_limit=current_user.has_permission("refunds.mode_limit.override"))
            message = _("Ordre %(number)s réglé : remboursé %(refunded)s", number=basket.number,
                        refunded=amounts_format(result.refunded - result.transferred))
            if result.exchange_order is not None:
                message += " — " + _("échange : dossier %(number)s", number=result.exchange_order.number)
            waiting = [r for r in result.refunds if r.get("pending")]
            if waiting:
                message += " — " + _("%(amount)s envoyé au terminal de paiement : suivez son issue ci-dessous.",
                                     amount=amounts_format(sum(r["amount"] for r in waiting)))
            return message

        return self._do(basket_id, work)

    @expose("/<int:basket_id>/hold", methods=["POST"])
    def hold(self, basket_id):
        response = self._do(basket_id, lambda b: baskets.hold(db.session, b) and _("Panier mis en attente"))
        return response if request.form.get("stay") else redirect(url_for(".index"))

    @expose("/<int:basket_id>/resume", methods=["POST"])
    def resume(self, basket_id):
        return self._do(basket_id, lambda b: baskets.resume(db.session, b) and None)

    @expose("/<int:basket_id>/abandon", methods=["POST"])
    def abandon(self, basket_id):
        self._do(basket_id, lambda b: baskets.abandon(db.session, b) and _("Ordre abandonné"))
        return redirect(url_for(".index"))


def exchange_from(basket):
    """What the exchange tab offers: performances on sale from the season of the tickets taken back
    (an exchange usually moves within it), else from today."""
    from datetime import timedelta

    from coulisses.db import utcnow

    starts = [bt.ticket.performance.starts_at for bt in basket.tickets]
    now = utcnow()
    return min([now, *[s - timedelta(days=120) for s in starts]])


def amounts_format(value) -> str:
    from coulisses.i18n import format_money

    return format_money(value)


def _categories():
    from sqlalchemy import select

    from plugins.sales.models import SeatCategory

    return db.session.scalars(select(SeatCategory).order_by(SeatCategory.position)).all()


def ui_blueprint() -> Blueprint:
    return Blueprint("refunds_ui", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/refunds-static")


class CancelledPerformanceView(CoulissesBaseView):
    """"Séance annulée": choose a performance, see the simulation, start the batch refund (a job with
    its progress), read the report (permission ``refunds.performance.cancel``)."""

    permission = "refunds.performance.cancel"

    @expose("/")
    def index(self):
        performances = catalogue.performances_on_sale(db.session, starts_from=None, limit=300)
        return self.render("refunds/performances.html", performances=performances)

    @expose("/<int:performance_id>/")
    def detail(self, performance_id):
        from sqlalchemy import select

        from coulisses.outbox import Job
        from plugins.refunds.models import PerformanceCancellation

        sim = batch.simulate(db.session, performance_id, fallback_mode=request.args.get("fallback") or None)
        pc = db.session.scalar(select(PerformanceCancellation).where(
            PerformanceCancellation.performance_id == performance_id))
        job = db.session.get(Job, pc.job_id) if pc is not None and pc.job_id else None
        types = sales_registry().payment_mode_types  # a batch refunds nobody at the desk (not cash, not a terminal)
        modes = [m for m in settings.payment_modes(db.session, for_refund=True)
                 if not types[m.type_code].refund_in_person]
        return self.render("refunds/performance.html", sim=sim, pc=pc, job=job, performance_id=performance_id,
                           modes=modes, fallback=settling.credit_mode(db.session))

    @expose("/<int:performance_id>/start", methods=["POST"])
    def start(self, performance_id):
        pos, _error = current_point_of_sale()
        try:
            with at_point_of_sale(pos.id if pos else None):
                batch.start(db.session, performance_id, fallback_mode=request.form.get("fallback") or None)
            db.session.commit()
            flash(_("Remboursement de la séance lancé"), "success")
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".detail", performance_id=performance_id))


class CauseView(SalesModelView):
    """Causes d'annulation: the list the basket offers, and their cancellation fees. Never deleted
    (baskets refer to them): deactivated."""

    permission = "refunds.refund"
    permission_edit = "refunds.settings.manage"
    column_list = ("position", "code", "label", "fee_kind", "fee_value", "exchange", "active")
    labels = {"fee_kind": _l("Frais d'annulation"), "fee_value": _l("Valeur (montant ou %)"),
              "exchange": _l("Cause d'échange")}
    form_columns = ("code", "label", "fee_kind", "fee_value", "exchange", "position", "active")
    form_overrides = {"fee_kind": SelectField}
    form_args = {"fee_kind": {"choices": [(k, v) for k, v in FEE_KIND_LABELS.items()]}}
    column_default_sort = "position"
    can_delete = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"fee_kind": lambda v, c, m, n: str(FEE_KIND_LABELS.get(m.fee_kind, m.fee_kind)),
                                  "label": lambda v, c, m, n: m.display_label}
        # the details page too (Flask-Admin copied the class's formatters before these were set)
        self.column_formatters_detail = self.column_formatters


def admin_views() -> list:
    return [BasketView(name=_l("Échange - annulation"), endpoint="refunds_basket", url="/admin/refunds/basket",
                       category=SALES),
            CancelledPerformanceView(name=_l("Séances annulées"), endpoint="refunds_performances",
                                     url="/admin/refunds/performances", category=SALES),
            CauseView(RefundCause, name=_l("Causes d'annulation"), endpoint="refunds_cause",
                      category=SETTINGS)]
