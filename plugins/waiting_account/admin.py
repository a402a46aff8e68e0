"""The waiting account's screens (thin: parse, call a service, render).

- "Compte d'attente" (Ventes menu, ``/admin/waiting_account/``): find an account by contact (name or
  number) or invoice number; its state, schedule, movements and invoices; settle all or part with a
  physical payment mode; the authorisation and ceiling (supervisors); invoicing of one or several
  orders; cancellation of an invoice; failed direct debits presented again.
- "Prélèvements SEPA" (``/admin/waiting_account_debits/``): the pain.008 file of a collection date,
  the files made, collected.
- "Paramètres du compte d'attente" (``/admin/waiting_account_settings/``): the organisation's
  defaults, the SEPA creditor identifier, the invoice ranges.
"""
from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select

from coulisses import CoulissesError, InvalidError, NotFoundError
from coulisses import files as cfiles
from coulisses.db import Actor, acting_as, parse_money
from coulisses.i18n import _, _l
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.waiting_account.models import Account, DebitBatch, InvoiceRange
from plugins.waiting_account.services import accounts, invoices, sepa, settlement, views

SALES = _l("Ventes")


def _amount(raw: str | None, field: str):
    try:
        value = parse_money(raw)
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidError(_("Montant invalide"), {field: _("Montant invalide : %(amount)s", amount=(raw or "").strip())}) from None
    if value is None:
        raise InvalidError(_("Montant requis"), {field: _("Montant requis")})
    return value


def _day(raw: str | None, field: str) -> date:
    text = (raw or "").strip()
    for parse in (date.fromisoformat, lambda t: date(int(t[6:10]), int(t[3:5]), int(t[0:2]))):
        try:
            return parse(text)
        except (ValueError, IndexError):
            continue
    raise InvalidError(_("Date invalide"), {field: _("Date invalide : %(value)s", value=text)})


def _acting():
    return acting_as(Actor(current_user.id, current_user.login))


class AccountView(CoulissesBaseView):
    permission = "waiting_account.view"

    def _account_from_args(self):
        try:
            if request.args.get("account", "").isdigit():
                return accounts.get_account(db.session, int(request.args["account"]))
            if request.args.get("contact", "").isdigit():
                return settlement.find_account(db.session, contact=int(request.args["contact"]))
            if request.args.get("invoice"):
                return settlement.find_account(db.session, invoice_number=request.args["invoice"])
        except NotFoundError as exc:
            flash(str(exc), "error")
        return None

    def _page(self, account, *, values=None, errors=None, status=200, hits=None):
        data = views.account_view(db.session, account) if account is not None else None
        return self.render("waiting_account/account.html", data=data, hits=hits or [], q=request.args.get("q", ""),
                           modes=settlement.settlement_modes(db.session), values=values or {}, errors=errors or {},
                           can_settle=current_user.has_permission("waiting_account.settle"),
                           can_manage=current_user.has_permission("waiting_account.manage"),
                           can_invoice=current_user.has_permission("waiting_account.invoice"),
                           can_debit=current_user.has_permission("waiting_account.debit")), status

    @expose("/")
    def index(self):
        account = self._account_from_args()
        hits = []
        q = request.args.get("q", "").strip()
        if account is None and q:
            from plugins.contacts.services.search import quick_search

            found = None
            if q[:1].isalpha() and any(c.isdigit() for c in q):  # "FA12": an invoice number?
                try:
                    found = invoices.get_invoice(db.session, q)
                except NotFoundError:
                    found = None
            if found is None:
                hits = quick_search(db.session, q, limit=20)
            else:
                account = db.session.get(Account, found.account_id)
        return self._page(account, hits=hits)[0]

    def _post_account(self, account_id: int) -> Account:
        try:
            return accounts.get_account(db.session, account_id)
        except NotFoundError:
            abort(404)

    @expose("/<int:account_id>/settle", methods=("POST",))
    def settle(self, account_id):
        if not current_user.has_permission("waiting_account.settle"):
            abort(403)
        account = self._post_account(account_id)
        values = request.form.to_dict()
        details = {k: values.get(k, "") for k in ("cheque_number", "bank", "transfer_reference", "reference")}
        try:
            with _acting():
                amount = _amount(values.get("amount"), "amount")
                receipt = settlement.settle(db.session, account, values.get("mode", ""), amount, details=details)
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self._page(self._post_account(account_id), values=values, errors=getattr(exc, "fields", {}) or {},
                              status=422)
        db.session.commit()
        flash(_("Règlement enregistré : reçu n° %(number)s.", number=receipt.number), "success")
        return redirect(url_for("reports_documents.object", type="waiting_account.receipt", ref=receipt.number))

    @expose("/<int:account_id>/authorisation", methods=("POST",))
    def authorisation(self, account_id):
        if not current_user.has_permission("waiting_account.manage"):
            abort(403)
        account = self._post_account(account_id)
        values = request.form.to_dict()
        try:
            with _acting():
                accounts.set_authorisation(db.session, account.contact_id, authorised=values.get("authorised") == "1",
                                           ceiling=_amount(values.get("ceiling"), "ceiling"), note=values.get("note", ""))
        except CoulissesError as exc:
            db.session.rollback()
            return self._page(self._post_account(account_id), values=values, errors=getattr(exc, "fields", {}) or {},
                              status=422)
        db.session.commit()
        flash(_("Autorisation enregistrée."), "success")
        return redirect(url_for(".index", account=account_id))

    @expose("/open", methods=("POST",))
    def open_account(self):
        """A contact without an account: create it (not authorised), then authorise it here."""
        if not current_user.has_permission("waiting_account.manage"):
            abort(403)
        contact_id = request.form.get("contact", "")
        if not contact_id.isdigit():
            abort(400)
        with _acting():
            account = accounts.lock_account(db.session, int(contact_id))
        db.session.commit()
        return redirect(url_for(".index", account=account.id))

    @expose("/invoice", methods=("GET", "POST"))
    def invoice(self):
        if not current_user.has_permission("waiting_account.invoice"):
            abort(403)
        account = self._account_from_args() or (self._post_account(int(request.form["account"]))
                                                if request.form.get("account", "").isdigit() else None)
        if account is None:
            abort(404)
        if request.method == "POST":
            chosen = [int(n) for n in request.form.getlist("orders") if n.isdigit()]
            try:
                with _acting():
                    invoice = invoices.invoice_orders(db.session, account.contact_id, chosen)
            except CoulissesError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for(".invoice", account=account.id))
            db.session.commit()
            flash(_("Facture %(number)s émise.", number=invoice.number), "success")
            return redirect(url_for("reports_documents.object", type="waiting_account.invoice", ref=invoice.number))
        preselected = request.args.get("order", "")
        return self.render("waiting_account/invoice.html", data=views.account_view(db.session, account),
                           preselected=preselected)

    @expose("/invoices/<number>/cancel", methods=("POST",))
    def cancel_invoice(self, number):
        if not current_user.has_permission("waiting_account.invoice"):
            abort(403)
        try:
            with _acting():
                new_contact = request.form.get("contact", "").strip()
                if new_contact:
                    from plugins.contacts.services.contacts import get_contact

                    cancellation, _new = invoices.change_billing_contact(db.session, number,
                                                                         get_contact(db.session, int(new_contact)))
                else:
                    cancellation = invoices.cancel_invoice(db.session, number)
        except (CoulissesError, ValueError) as exc:
            db.session.rollback()
            flash(str(exc) or _("Contact invalide"), "error")
            return redirect(url_for(".index", invoice=number))
        db.session.commit()
        flash(_("Facture d'annulation %(number)s émise.", number=cancellation.number), "success")
        return redirect(url_for(".index", invoice=number))

    @expose("/instalments/<int:instalment_id>/<action>", methods=("POST",))
    def instalment(self, instalment_id, action):
        if not current_user.has_permission("waiting_account.debit"):
            abort(403)
        try:
            if action == "failed":
                instalment = sepa.record_failed(db.session, instalment_id, request.form.get("reason", ""))
            elif action == "present":
                instalment = sepa.present_again(db.session, instalment_id)
            else:
                abort(404)
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(request.referrer or url_for(".index"))
        db.session.commit()
        flash(_("Échéance mise à jour."), "success")
        return redirect(url_for(".index", account=instalment.account_id))


class DebitView(CoulissesBaseView):
    permission = "waiting_account.debit"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        errors, status, values = {}, 200, request.form.to_dict()
        if request.method == "POST":
            try:
                with _acting():
                    batch = sepa.prepare_debit(db.session, _day(values.get("collection_date"), "collection_date"))
            except CoulissesError as exc:
                db.session.rollback()
                errors, status = getattr(exc, "fields", {}) or {"collection_date": str(exc)}, 422
            else:
                db.session.commit()
                flash(sepa.describe_batch(batch), "success")
                return redirect(url_for(".index"))
        batches = list(db.session.scalars(select(DebitBatch).order_by(DebitBatch.id.desc()).limit(50)))
        return self.render("waiting_account/debits.html", batches=batches, errors=errors, values=values), status

    @expose("/<int:batch_id>/file")
    def file(self, batch_id):
        batch = db.session.get(DebitBatch, batch_id) or abort(404)
        stored = cfiles.get(db.session, batch.file_id)
        return send_file(io.BytesIO(cfiles.read(db.session, stored)), mimetype="application/xml", as_attachment=True,
                         download_name=stored.name)

    @expose("/<int:batch_id>/collected", methods=("POST",))
    def collected(self, batch_id):
        with _acting():
            count = sepa.record_collected(db.session, batch_id)
        db.session.commit()
        flash(_("%(count)s échéance(s) encaissée(s).", count=count), "success")
        return redirect(url_for(".index"))


class SettingsView(CoulissesBaseView):
    permission = "waiting_account.manage"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        from coulisses.db import get_setting

        errors, status, values = {}, 200, request.form.to_dict()
        if request.method == "POST":
            try:
                with _acting():
                    if values.get("form") == "range":
                        invoices.create_range(db.session, values.get("prefix", ""), _int(values, "first_number"),
                                              _int(values, "last_number"), _day(values.get("valid_from"), "valid_from"),
                                              _day(values.get("valid_until"), "valid_until"))
                    else:
                        accounts.update_organisation_settings(
                            db.session, structures_authorised=values.get("structures_authorised") == "1",
                            default_ceiling=_amount(values.get("default_ceiling"), "default_ceiling"),
                            vat_rate=values.get("vat_rate", ""), payment_days=values.get("payment_days", ""))
                        if values.get("creditor_id", "").strip():
                            sepa.set_creditor_id(db.session, values["creditor_id"])
            except CoulissesError as exc:
                db.session.rollback()
                errors, status = getattr(exc, "fields", {}) or {}, 422
                flash(str(exc), "error")
            else:
                db.session.commit()
                flash(_("Paramètres enregistrés."), "success")
                return redirect(url_for(".index"))
        settings = accounts.organisation_settings(db.session)
        ranges = list(db.session.scalars(select(InvoiceRange).order_by(InvoiceRange.id)))
        return self.render("waiting_account/settings.html", settings=settings, ranges=ranges, errors=errors,
                           values=values, creditor_id=get_setting(db.session, sepa.SETTING_CREDITOR_ID, "")), status


def _int(values: dict, field: str) -> int:
    try:
        return int(values.get(field, ""))
    except ValueError:
        raise InvalidError(_("Nombre entier requis"), {field: _("Nombre entier requis")}) from None


def ui_blueprint() -> Blueprint:
    """The templates (``waiting_account/*.html``, also the contact sheet's section and the payment
    panel of the sales screens) and the panel's script (``static/waiting_account/``)."""
    return Blueprint("waiting_account_ui", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/waiting-account-static")


def admin_views() -> list:
    return [
        AccountView(name=_l("Compte d'attente"), endpoint="waiting_account_accounts", url="/admin/waiting_account",
                    category=SALES),
        DebitView(name=_l("Prélèvements SEPA"), endpoint="waiting_account_debits", url="/admin/waiting_account_debits",
                  category=SALES),
        SettingsView(name=_l("Paramètres du compte d'attente"), endpoint="waiting_account_settings",
                     url="/admin/waiting_account_settings", category=SALES),
    ]
