"""The B2B portal (``/portal/``): customers with an internet account (the contacts plugin's e-mail
and password) sign in, browse the performances on sale, buy on account, see their orders, tickets
(print-at-home PDF), instalments and invoices, and pay an instalment online.

Separate from the back-office: its own login (throttled, scope ``portal``), its own session key
(``waiting_account_portal``: the contact's id — never Flask-Login's operator), its own templates
(``waiting_account/portal/``). An operator's session does not open the portal, a customer's session
does not open any admin route (Flask-Login knows no customer).
"""
from __future__ import annotations

import functools
import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, session, url_for

from coulisses import CoulissesError, NotFoundError
from coulisses.db import Actor, acting_as, utcnow
from coulisses.i18n import _
from coulisses.web.extensions import db

SESSION_KEY = "waiting_account_portal"


def _contact():
    from plugins.contacts.models import Contact

    contact_id = session.get(SESSION_KEY)
    return db.session.get(Contact, contact_id) if contact_id else None


def customer_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        contact = _contact()
        if contact is None:
            return redirect(url_for("waiting_account_portal.login", next=request.path))
        g.portal_contact = contact
        with acting_as(Actor(None, f"portal:{contact.number}")):
            return view(*args, **kwargs)

    return wrapper


def portal_blueprint() -> Blueprint:
    bp = Blueprint("waiting_account_portal", __name__, url_prefix="/portal", template_folder="templates")

    @bp.route("/login", methods=("GET", "POST"))
    def login():
        from coulisses import throttle
        from plugins.contacts.services.accounts import check_internet_password

        error, email = None, request.form.get("email", "")
        if request.method == "POST":
            address = request.remote_addr or ""
            refusal = throttle.before_attempt(db.session, "portal", login=email, address=address)
            contact = None
            if refusal is None:
                contact = check_internet_password(db.session, email, request.form.get("password", ""))
                if contact is None:
                    refusal = throttle.failed(db.session, "portal", login=email, address=address)
                else:
                    throttle.succeeded(db.session, "portal", login=email)
            db.session.commit()
            if contact is not None:
                session.pop(SESSION_KEY, None)
                session[SESSION_KEY] = contact.id
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/portal/") else url_for(".home"))
            error = (_("Trop de tentatives : réessayez dans %(minutes)s minute(s).", minutes=refusal.minutes)
                     if refusal is not None and getattr(refusal, "minutes", 0) else
                     _("E-mail ou mot de passe incorrect."))
        return render_template("waiting_account/portal/login.html", error=error, email=email), (401 if error else 200)

    @bp.route("/logout", methods=("POST",))
    def logout():
        session.pop(SESSION_KEY, None)
        return redirect(url_for(".login"))

    @bp.route("/")
    @customer_required
    def home():
        from plugins.waiting_account.services.portal import portal_view

        return render_template("waiting_account/portal/home.html", data=portal_view(db.session, g.portal_contact),
                               providers=_providers())

    @bp.route("/performances")
    @customer_required
    def performances():
        from plugins.sales.services.catalogue import performances_on_sale, prices_for
        from plugins.waiting_account.services.portal import account_holder

        rows = [(p, prices_for(db.session, p.id)) for p in performances_on_sale(db.session, limit=50)]
        return render_template("waiting_account/portal/performances.html", rows=rows,
                               holder=account_holder(db.session, g.portal_contact))

    @bp.route("/buy", methods=("POST",))
    @customer_required
    def buy():
        from plugins.waiting_account.services.portal import buy_on_account

        form = request.form
        price = form.get("price", "").split(":")
        try:
            if len(price) != 3:
                raise CoulissesError(_("Choisissez une séance, une catégorie et un tarif."))
            order = buy_on_account(db.session, g.portal_contact, price[0], price[1], price[2], form.get("quantity", ""))
        except CoulissesError as exc:
            db.session.rollback()
            flash(" ".join([str(exc), *[str(v) for v in (getattr(exc, "fields", None) or {}).values()]]), "error")
            return redirect(url_for(".performances"))
        db.session.commit()
        flash(_("Dossier %(number)s acheté par compte d'attente.", number=order.number), "success")
        return redirect(url_for(".home"))

    @bp.route("/orders/<int:number>/tickets.pdf")
    @customer_required
    def tickets(number):
        from plugins.reports.services.documents import generate, reprint
        from plugins.waiting_account.services.portal import visible_order

        try:
            order = visible_order(db.session, g.portal_contact, number)
        except NotFoundError:
            abort(404)
        document = generate(db.session, "sales.ticket", str(order.number))
        db.session.commit()
        return send_file(io.BytesIO(reprint(db.session, document)), mimetype="application/pdf",
                         download_name=f"billets-{order.number}.pdf")

    @bp.route("/invoices/<number>.pdf")
    @customer_required
    def invoice(number):
        from plugins.reports.services.documents import generate, reprint
        from plugins.waiting_account.services.portal import visible_invoice

        try:
            found = visible_invoice(db.session, g.portal_contact, number)
        except NotFoundError:
            abort(404)
        document = generate(db.session, "waiting_account.invoice", found.number)
        db.session.commit()
        return send_file(io.BytesIO(reprint(db.session, document)), mimetype="application/pdf",
                         download_name=f"facture-{found.number}.pdf")

    @bp.route("/instalments/<int:instalment_id>/pay", methods=("POST",))
    @customer_required
    def pay(instalment_id):
        from plugins.waiting_account.services.portal import pay_instalment_online

        try:
            receipt = pay_instalment_online(db.session, g.portal_contact, instalment_id,
                                            request.form.get("provider", ""), request.form.get("card_number", ""))
        except NotFoundError:
            db.session.rollback()
            abort(404)
        except CoulissesError as exc:
            db.session.rollback()
            flash(" ".join([str(exc), *[str(v) for v in (getattr(exc, "fields", None) or {}).values()]]), "error")
            return redirect(url_for(".home"))
        db.session.commit()
        flash(_("Échéance payée : reçu n° %(number)s.", number=receipt.number), "success")
        return redirect(url_for(".home"))

    @bp.context_processor
    def _portal_context():
        return {"portal_contact": getattr(g, "portal_contact", None), "portal_year": utcnow().year}

    return bp


def _providers():
    from plugins.waiting_account.registry import get_registry

    return list(get_registry().providers.values())
