"""The payment screens: "Règlements en attente" (an operator resolves payments whose outcome is
unknown) and "Changer le payeur" of an order's payments. (The settings of a mode's type as a form
in "Modes de règlement" and the operator's fields in the payment rows are in ``admin_common``:
the catalogue, sales and order screens share them.)

URLs (under ``/admin``): ``/admin/sales_payment_mode/`` (settings menu), ``/admin/sales/pending-payments/``,
``/admin/sales/payer/<number>/``.
"""
from __future__ import annotations

import re

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import CoulissesError, InvalidError, NotFoundError
from coulisses.i18n import _
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.contacts.models import Contact
from plugins.contacts.services.contacts import get_contact
from plugins.sales.admin_common import at_point_of_sale, current_point_of_sale, refusal_status, require
from plugins.sales.models import PENDING_STATE_LABELS
from plugins.sales.services import orders, payer_change, pending
from plugins.sales.services.detail import order_detail


# --------------------------------------------------------------------------- pending payments


class PendingPaymentsView(CoulissesBaseView):
    """"Règlements en attente": payments by a terminal or online whose outcome is pending or unknown.
    Reading needs ``sales.view``; deciding the outcome ``sales.payments.resolve`` (never automatic)."""

    permission = "sales.view"

    def _render(self, *, error=None, fields=None, values=None, status=200):
        rows = pending.open_pending(db.session)
        return self.render("sales/pending_payments.html", rows=rows, labels=PENDING_STATE_LABELS, error=error,
                           fields=fields or {}, values=values or {},
                           can_resolve=current_user.has_permission("sales.payments.resolve")), status

    @expose("/")
    def index(self):
        return self._render()

    @expose("/<int:pending_id>/resolve", methods=["POST"])
    def resolve(self, pending_id: int):
        require("sales.payments.resolve")
        form = request.form
        pos, pos_error = current_point_of_sale()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            with at_point_of_sale(pos.id):
                row = pending.get_pending(db.session, pending_id)
                number = row.order.number
                pending.resolve_pending(db.session, row, form.get("outcome", ""), note=form.get("note", ""),
                                        reference=(form.get("reference") or "").strip(), point_of_sale=pos)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            status = refusal_status(exc)
            return self._render(error=str(exc), fields={f"{pending_id}-{k}": v for k, v in
                                                        (getattr(exc, "fields", None) or {}).items()},
                                values={**form.to_dict(), "id": str(pending_id)}, status=status)
        flash(_("Règlement en attente du dossier %(number)s résolu.", number=number), "success")
        return redirect(url_for(".index"))


# --------------------------------------------------------------------------- changing the payer


class PayerChangeView(CoulissesBaseView):
    """"Changer le payeur" (Détails > Règlements): choose the payments and the new paying contact;
    recorded as correction entries (permission ``sales.payer.change``)."""

    permission = "sales.payer.change"

    def is_visible(self) -> bool:  # reached from the order detail, not from the menu
        return False

    def _render(self, number: int, *, error=None, fields=None, values=None, status=200):
        order = orders.get_order(db.session, number)
        detail = order_detail(db.session, order, can=current_user.has_permission)
        standing = payer_change.current_payments(db.session, order)
        names = {c.id: c for c in db.session.query(Contact).filter(
            Contact.id.in_({p.contact_id for p in standing if p.contact_id}))}
        rows = [{"id": p.id, "at": p.at, "mode": p.payment_mode.label, "amount": p.amount, "reference": p.reference,
                 "contact": names.get(p.contact_id)} for p in standing]
        return self.render("sales/payer_change.html", d=detail, order=order, rows=rows, error=error,
                           fields=fields or {}, values=values or {}), status

    @expose("/")
    def index(self):
        """Without an order: the orders list (the change starts from an order's detail)."""
        return redirect(url_for("sales_orders.index"))

    @expose("/<int:number>/")
    def form(self, number: int):
        try:
            return self._render(number)
        except NotFoundError:
            abort(404)

    @expose("/<int:number>/", methods=["POST"])
    def submit(self, number: int):
        form = request.form
        pos, pos_error = current_point_of_sale()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            raw = (form.get("payer") or form.get("payer_label") or "").strip()
            if not raw.isdigit():
                raise InvalidError(_("Choisissez le nouveau payeur (recherche rapide, puis Entrée, ou son numéro)"),
                                   {"payer": _("Payeur à choisir dans la liste")})
            try:
                payer = get_contact(db.session, int(raw))
            except NotFoundError:
                raise InvalidError(_("Payeur introuvable"), {"payer": _("Aucun contact n° %(number)s", number=raw)}) from None
            chosen = [int(i) for i in form.getlist("payments") if i.isdigit()]
            if not chosen:
                raise InvalidError(_("Cochez les règlements à transférer"), {"payments": _("Aucun règlement coché")})
            with at_point_of_sale(pos.id):
                order = orders.get_order(db.session, number)
                payer_change.change_payer(db.session, order, payer, payments=chosen, reason=form.get("reason", ""),
                                          point_of_sale=pos)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            status = refusal_status(exc)
            values = form.to_dict()
            values["payments"] = form.getlist("payments")
            return self._render(number, error=str(exc), fields=getattr(exc, "fields", None), values=values,
                                status=status)
        flash(_("Règlements transférés à %(name)s [%(number)s] (écritures de correction).",
                name=payer.display_name, number=payer.number), "success")
        return redirect(url_for("sales_orders.detail", number=number))
