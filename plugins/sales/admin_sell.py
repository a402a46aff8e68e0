""""Vente - réservation": the box-office sales screen.

One form: the buyer (the contacts quick-search autocomplete, or a quick creation in a dialog), the
basket (lines performance × category × tariff × quantity, or seats), the delivery mode, the payments
(one amount per payment mode), then RÉSERVER or PAYER. The lines being typed are kept in the form
(hidden fields, drawn again by the server): a refused sale comes back with them, what was typed and
the reason.

The work is one basket (``services.baskets``): one numbered operation ("Ordre 1271") opened at the
first write and named by the hidden field ``basket``. RÉSERVER / PAYER write the lines (a new order
for the buyer, or added to an order taken up), pay what the basket's orders owe and settle it; METTRE
EN ATTENTE reserves the lines and holds the basket (the "Paniers" list resumes it); ABANDONNER ORDRE
releases what it reserved. "Reprise de dossier": REPRENDRE on an order detail brings the order into a
basket, where its reserved tickets can be removed or change tariff; "Paniers" is ``admin_baskets.py``.
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask import abort, flash, jsonify, make_response, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.i18n import _, currency, format_datetime, format_money
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db
from sqlalchemy import select

from plugins.contacts.services.contacts import get_contact
from plugins.contacts.services.links import relay_contact
from plugins.contacts.services.search import hits_for
from plugins.contacts.admin_common import civility_choices, contact_types, countries
from plugins.sales.admin_common import (
    at_point_of_sale, basket_block, current_point_of_sale, form_fields, js_strings, load_basket, mode_rows,
    payment_panels, posted_payments, refusal_status, require, script_json,
)
from plugins.sales.models import DELIVERY_MODE_LABELS, PointOfSale, Seat
from plugins.sales.services import baskets, catalogue, delivery, orders, payments, settings
from plugins.sales.services.common import ZERO

LINE_FIELD = re.compile(r"^line-(\d+)-(performance|category|tariff|quantity|seats)$")
PERFORMANCE_LIMIT = 200


def posted_lines(form) -> list[dict]:
    """The basket as posted: ``line-<i>-performance|category|tariff|quantity|seats``, in index order."""
    found: dict[int, dict] = {}
    for key, value in form.items():
        m = LINE_FIELD.match(key)
        if m:
            found.setdefault(int(m.group(1)), {})[m.group(2)] = value.strip()
    out = []
    for _i, raw in sorted(found.items()):
        try:
            line = {"performance": int(raw["performance"]), "category": int(raw["category"]),
                    "tariff": int(raw["tariff"]), "quantity": int(raw.get("quantity") or 0),
                    "seats": [int(s) for s in (raw.get("seats") or "").split(",") if s.strip()]}
        except (KeyError, ValueError):
            continue  # a damaged line is dropped, not guessed
        if line["seats"]:
            line["quantity"] = len(line["seats"])
        out.append(line)
    return out


def basket_rows(lines: list[dict], channel_id: int | None) -> list[dict]:
    """The basket as shown: labels, unit price and fees (as the channel sells them), amounts."""
    rows, cache = [], {}
    for line in lines:
        pid = line["performance"]
        if pid not in cache:
            try:
                perf = catalogue.get_performance(db.session, pid)
                cache[pid] = (perf, {(p.category_id, p.tariff_id): p
                                     for p in catalogue.prices_for(db.session, perf, channel=channel_id)})
            except NotFoundError:
                cache[pid] = (None, {})
        perf, prices = cache[pid]
        price = prices.get((line["category"], line["tariff"]))
        if perf is None or price is None:
            continue
        seats = [db.session.get(Seat, s) for s in line["seats"]]
        unit = price.amount + price.fees
        rows.append({**line, "performance_label": catalogue.performance_label(perf), "venue": perf.venue.name,
                     "category_label": price.category_label, "tariff_label": price.tariff_label,
                     "price": price.amount, "fees": price.fees, "amount": unit * line["quantity"],
                     "seat_labels": ", ".join(str(s) for s in seats if s is not None)})
    return rows


def _cents(amount: Decimal) -> str:
    return f"{amount:.2f}"


class SellView(CoulissesBaseView):
    """"Vente - réservation" (permission ``sales.sell``; paying also needs ``sales.pay``)."""

    permission = "sales.sell"

    # ------------------------------------------------------------------ page

    def _screen_data(self, pos: PointOfSale | None) -> dict:
        """What the screen's script needs: performances on sale with availability and prices, the
        payment modes. Amounts as strings (the script counts in cents)."""
        channel_id = pos.channel_id if pos else None
        performances = []
        for p in catalogue.performances_on_sale(db.session, limit=PERFORMANCE_LIMIT):
            prices = catalogue.prices_for(db.session, p.id, channel=channel_id)
            performances.append({
                "id": p.id, "label": p.label, "event": p.event_title, "date": format_datetime(p.starts_at, weekday=True),
                "venue": p.venue_name, "seated": p.seated, "available": p.available,
                "categories": [{"id": c.category_id, "label": c.label, "available": c.available,
                                "capacity": c.capacity} for c in p.categories],
                "prices": [{"category": r.category_id, "tariff": r.tariff_id, "label": r.tariff_label,
                            "amount": _cents(r.amount), "fees": _cents(r.fees)} for r in prices],
            })
        modes = mode_rows(settings.payment_modes(db.session))  # with the fields the operator fills
        return {"performances": performances, "modes": modes, "currency": currency()}

    def _render(self, values: dict, basket: list[dict], *, error: str | None = None, fields=None, status=200,
                work=None):
        pos, pos_error = current_point_of_sale()
        if work is None:
            work = load_basket(values.get("basket"))
        if work is not None and work.state != "open":
            work = None  # settled, abandoned or held meanwhile: the screen starts a new basket
            values = {k: v for k, v in values.items() if k != "basket"}
        block = basket_block(work) if work is not None else None
        if block is not None:
            values = {**values, "basket": str(block["number"])}
        chosen = values.get("point_of_sale")
        if chosen and chosen.isdigit():
            pos = db.session.get(PointOfSale, int(chosen)) or pos
        data = self._screen_data(pos)
        buyer_label = values.get("buyer_label", "")
        if values.get("buyer") and not buyer_label:
            buyer_label = buyer_label_of(values["buyer"])
        total = sum((r["amount"] for r in basket), ZERO)
        points = settings_points_of_sale()
        structure = buyer_structure_of(values.get("buyer"))
        payer_label = values.get("payer_label", "")
        if (values.get("payer") or "").isdigit() and not payer_label:
            payer_label = buyer_label_of(values["payer"])
        return self.render(
            "sales/sell.html", values=values, basket=basket, total=total, data=data, data_json=script_json(data),
            pos=pos, pos_error=pos_error, points_of_sale=points, buyer_label=buyer_label, error=error,
            buyer_structure=structure, payer_label=payer_label,
            fields=fields or {}, delivery_modes=DELIVERY_MODE_LABELS, modes=data["modes"],
            panels=payment_panels("sell", data["modes"], values, fields or {}),
            can_pay=current_user.has_permission("sales.pay"),
            can_create_contact=current_user.has_permission("contacts.edit"), js=js_strings(),
            nc_civilities=civility_choices(), nc_countries=countries(), work=block, nc_types=contact_types(),
        ), status

    @expose("/", methods=["GET"])
    def index(self):
        values = {"delivery_mode": "handed"}
        if (request.args.get("buyer") or "").isdigit():
            values["buyer"] = request.args["buyer"]
        work = load_basket(request.args.get("basket"))
        if work is not None:
            if work.state != "open":
                flash(_("L'ordre %(number)s est %(state)s.", number=work.number, state=work.state_label), "warning")
                return redirect(url_for(".index"))
            if work.contact_id and "buyer" not in values:
                values["buyer"] = str(work.contact.number)
            values["basket"] = str(work.number)
        return self._render(values, [], work=work)

    @expose("/buyer-structure", methods=["GET"])
    def buyer_structure(self):
        """The structure the chosen buyer is a relay (or member) of: ``{"structure": {"number", "name"}}``
        or ``{"structure": null}`` — the script offers "Acheter pour la structure …" with it."""
        return jsonify({"structure": buyer_structure_of(request.args.get("buyer"))})

    @expose("/point-of-sale", methods=["POST"])
    def point_of_sale(self):
        """The operator changes the point of sale they sell from (remembered for the next times)."""
        code = request.form.get("point_of_sale", "")
        try:
            pos = settings.get_point_of_sale(db.session, int(code) if code.isdigit() else code)
            if not pos.active:
                raise ConflictError(_("Le point de vente %(label)s est fermé", label=pos.label))
            settings.set_operator_point_of_sale(db.session, current_user.id, pos)
            db.session.commit()
            flash(_("Vous vendez désormais sur le point de vente %(label)s.", label=pos.label), "success")
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".index"))

    # ------------------------------------------------------------------ submission

    @expose("/", methods=["POST"])
    def submit(self):
        """RÉSERVER or PAYER: the lines into the basket, then the payments, then the basket settled."""
        form = request.form
        action = form.get("action", "")
        if action not in ("reserve", "pay"):
            return self._refused(InvalidError(_("Choisissez RÉSERVER ou PAYER"), {"action": _("Action inconnue")}))

        def work(pos, inputs):
            basket = self._basket(form, pos)
            if inputs and not (form.get("target") or "").strip():
                self._structure_and_payer(form, self._buyer(form.get("buyer", "")))  # said first
            if not inputs and not baskets.basket_orders(db.session, basket):
                raise InvalidError(_("Le panier est vide : ajoutez une séance, une catégorie et un tarif"),
                                   {"lines": _("Panier vide")})
            pays = self._payments(form)
            if action == "pay":
                require("sales.pay")
                if not pays:
                    raise InvalidError(_("Saisissez le montant d'au moins un règlement (ou RÉSERVER)"),
                                       {"payments": _("Aucun règlement")})
            elif pays:
                require("sales.pay")
            order = self._write_lines(form, pos, basket, inputs, sell=action == "pay")
            change = ZERO
            if pays:
                change = sum((r.change for r in baskets.pay_due(db.session, basket, pays, partial=True)), ZERO)
            orders_done = baskets.basket_orders(db.session, basket)
            order = order or orders_done[0]
            due = sum((o.total - o.paid for o in orders_done), ZERO)
            baskets.settle(db.session, basket)
            return order.number, order.state_label, due, change, basket.number

        done, result = self._in_basket(work)
        if not done:
            return result
        number, state_label, due, change, basket_number = result
        message = _("Dossier %(number)s enregistré (%(state)s).", number=number, state=state_label)
        message += " " + _("Ordre %(number)s terminé.", number=basket_number)
        if due > 0 and action == "pay":
            message += " " + _("Reste dû : %(amount)s.", amount=format_money(due))
        flash(message, "success")
        if change > 0:
            flash(_("Monnaie à rendre : %(amount)s", amount=format_money(change)), "warning")
        return redirect(url_for("sales_orders.detail", number=number))

    @expose("/hold", methods=["POST"])
    def hold(self):
        """METTRE EN ATTENTE: the lines typed are reserved in the basket, the basket waits."""
        form = request.form

        def work(pos, inputs):
            basket = self._basket(form, pos)
            self._write_lines(form, pos, basket, inputs, sell=False)
            if not inputs and not baskets.basket_orders(db.session, basket):
                raise InvalidError(_("Rien à mettre en attente : le panier est vide"), {"lines": _("Panier vide")})
            baskets.hold(db.session, basket, note=(form.get("basket_note") or "").strip())
            return basket.number

        done, result = self._in_basket(work)
        if not done:
            return result
        flash(_("Ordre %(number)s mis en attente : reprenez-le depuis « Paniers ».", number=result), "success")
        return redirect(url_for("sales_baskets.index"))

    @expose("/abandon", methods=["POST"])
    def abandon(self):
        """ABANDONNER ORDRE: what the basket reserved is released; a new basket starts."""
        work = load_basket(request.form.get("basket"))
        if work is None:
            return redirect(url_for(".index"))
        pos, _error = current_point_of_sale()
        try:
            with at_point_of_sale(pos.id if pos else None):
                baskets.abandon(db.session, work)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            back = request.form.get("back")
            return redirect(url_for("sales_baskets.index") if back == "baskets" else url_for(".index", basket=work.number))
        flash(_("Ordre %(number)s abandonné : les places réservées sont libérées.", number=work.number), "success")
        return redirect(url_for("sales_baskets.index") if request.form.get("back") == "baskets" else url_for(".index"))

    @expose("/resume", methods=["POST"])
    def resume(self):
        """REPRENDRE a held basket (from "Paniers")."""
        work = load_basket(request.form.get("basket"))
        if work is None:
            abort(404)
        pos, _error = current_point_of_sale()
        try:
            with at_point_of_sale(pos.id if pos else None):
                baskets.resume(db.session, work)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("sales_baskets.index"))
        flash(_("Ordre %(number)s repris.", number=work.number), "success")
        return redirect(url_for(".index", basket=work.number))

    @expose("/take-up", methods=["POST"])
    def take_up(self):
        """REPRENDRE an order (from its detail): into the operator's basket (a new one if none)."""
        number = request.form.get("order", "")
        pos, pos_error = current_point_of_sale()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            with at_point_of_sale(pos.id):
                order = orders.get_order(db.session, int(number) if number.isdigit() else 0)
                work = load_basket(request.form.get("basket"))
                if work is None:
                    work = baskets.open_basket(db.session, point_of_sale=pos, contact=order.buyer_id)
                baskets.take_up(db.session, work, order)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            if number.isdigit():
                return redirect(url_for("sales_orders.detail", number=int(number)))
            return redirect(url_for(".index"))
        flash(_("Dossier %(number)s repris dans l'ordre %(basket)s.", number=order.number, basket=work.number), "success")
        return redirect(url_for(".index", basket=work.number))

    @expose("/scan", methods=["POST"])
    def scan(self):
        """A barcode scanned (a keyboard-wedge scanner types it and Enter) or typed in "Code-barres":
        the ticket's order is taken up into the basket (a new basket if none), as REPRENDRE from the
        order detail; the screen comes back with the lines being typed. Refused: the reason beside
        the field, nothing lost."""
        form, values, pos, pos_error, lines, work = self._posted()
        try:
            if pos is None:
                raise InvalidError(pos_error or _("Aucun point de vente"), {"point_of_sale": _("Point de vente requis")})
            with at_point_of_sale(pos.id):
                if work is None:
                    work = baskets.open_basket(db.session, point_of_sale=pos)
                order, ticket = baskets.take_up_scanned(db.session, work, form.get("scan", ""))
                number = work.number
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            fields = getattr(exc, "fields", None) or {}
            if isinstance(exc, (NotFoundError, ConflictError)) or "barcode" in fields:
                fields = {**fields, "scan": str(exc)}
            return self._render(values, lines, error=str(exc), fields=fields, status=refusal_status(exc),
                                work=load_basket(form.get("basket")))
        flash(_("Billet %(barcode)s : dossier %(number)s repris dans l'ordre %(basket)s.", barcode=ticket.barcode,
                number=order.number, basket=number), "success")
        if ticket.state == "cancelled":
            flash(_("Le billet %(barcode)s est annulé.", barcode=ticket.barcode), "warning")
        values = {k: v for k, v in values.items() if k != "scan"}
        values["basket"] = str(number)
        if not values.get("buyer") and work.contact is not None:
            values["buyer"] = str(work.contact.number)
        return self._render(values, lines, work=load_basket(str(number)))

    @expose("/basket-change", methods=["POST"])
    def basket_change(self):
        """On an order of the basket: RETIRER a reserved ticket, or change its tariff; the screen comes
        back with the lines being typed."""
        form, values, pos, _error, lines, work = self._posted()
        try:
            if work is None:
                raise InvalidError(_("Aucun ordre en cours"), {"basket": _("Ordre requis")})
            require("sales.cancel" if form.get("remove") else "sales.sell")
            with at_point_of_sale(pos.id if pos else None):
                if form.get("remove", "").isdigit():
                    ticket = db.session.get(orders.Ticket, int(form["remove"]))
                    if ticket is None:
                        raise NotFoundError(_("Billet introuvable"))
                    baskets.remove_tickets(db.session, work, ticket.order.number, [ticket])
                    message = _("Billet %(barcode)s retiré du dossier %(number)s.", barcode=ticket.barcode,
                                number=ticket.order.number)
                elif form.get("retariff", "").isdigit():
                    ticket = db.session.get(orders.Ticket, int(form["retariff"]))
                    tariff = form.get(f"tariff-{form['retariff']}", "")
                    if ticket is None or not tariff.isdigit():
                        raise InvalidError(_("Choisissez le nouveau tarif"), {"tariff": _("Tarif requis")})
                    new = baskets.change_tariff(db.session, work, ticket.order.number, ticket, int(tariff))
                    message = _("Billet %(barcode)s : tarif %(tariff)s.", barcode=new.barcode, tariff=new.tariff.full_label)
                else:
                    raise InvalidError(_("Choisissez un billet"), {"ticket": _("Billet requis")})
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            return self._render(values, lines, error=str(exc), fields=getattr(exc, "fields", None) or {},
                                status=refusal_status(exc), work=load_basket(form.get("basket")))
        flash(message, "success")
        return self._render(values, lines, work=work)

    # ------------------------------------------------------------------ the basket's work

    def _posted(self):
        """What an action that comes back to the screen (scan, basket change) starts from: the posted
        form, what was typed, the operator's point of sale (and why there is none), the lines being
        typed (drawn again) and the basket named by the form."""
        form = request.form
        pos, pos_error = current_point_of_sale()
        lines = basket_rows(posted_lines(form), pos.channel_id if pos else None)
        return form, form.to_dict(), pos, pos_error, lines, load_basket(form.get("basket"))

    def _in_basket(self, work):
        """Run ``work(pos, line inputs)`` at the chosen point of sale and commit: ``(True, its result)``;
        a refusal: ``(False, the screen again)`` with the lines and what was typed (the basket as it was)."""
        form = request.form
        values = form.to_dict()
        pos, _error = current_point_of_sale()
        chosen = form.get("point_of_sale", "")
        if chosen.isdigit():
            pos = db.session.get(PointOfSale, int(chosen)) or pos
        rows = basket_rows(posted_lines(form), pos.channel_id if pos else None)
        try:
            if pos is None:
                raise InvalidError(_("Aucun point de vente : demandez à un superviseur d'en définir un"),
                                   {"point_of_sale": _("Point de vente requis")})
            inputs = [orders.LineInput(r["performance"], r["category"], r["tariff"], r["quantity"], seats=r["seats"])
                      for r in rows]
            with at_point_of_sale(pos.id):
                result = work(pos, inputs)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            return False, self._refused(exc, values, rows)
        return True, result

    def _refused(self, exc, values=None, rows=None):
        values = values if values is not None else request.form.to_dict()
        fields = getattr(exc, "fields", None) or {}
        try:  # a payment's field errors (payments.0.details.bank) shown beside its input (pay-CHEQUE-bank)
            fields = form_fields(fields, posted_payments(request.form, settings.payment_modes(db.session)))
        except CoulissesError:
            pass
        status = refusal_status(exc)
        # a Response, not a (body, status) tuple: the callers tell a refusal from their work's tuple
        return make_response(*self._render(values, rows or [], error=str(exc), fields=fields, status=status))

    def _basket(self, form, pos):
        """The basket named by the form (must be open), else a new one at ``pos``."""
        work = load_basket(form.get("basket"))
        if work is None:
            return baskets.open_basket(db.session, point_of_sale=pos)
        return baskets.lock_basket(db.session, work)

    def _write_lines(self, form, pos, basket, inputs, *, sell: bool):
        """The lines typed: added to the order chosen in "Ajouter au dossier" (one of the basket's),
        else a new order for the buyer. Returns that order (None when there were no lines)."""
        if not inputs:
            return None
        target = (form.get("target") or "").strip()
        if target.isdigit():
            order = orders.get_order(db.session, int(target))
            baskets.add_lines(db.session, basket, order, inputs, sell=False)
            return order
        buyer = self._buyer(form.get("buyer", ""))
        structure, payer = self._structure_and_payer(form, buyer)
        if basket.contact_id is None:
            basket.contact_id = buyer.id
        common = dict(point_of_sale=pos, delivery_mode=form.get("delivery_mode") or "handed", structure=structure,
                      payer=payer, operation=basket.operation)
        order = (orders.sell if sell else orders.reserve)(db.session, buyer, inputs, **common)
        delivery.apply_posted_delivery(db.session, order, form)  # "Livraison billets" (services.delivery)
        return order

    def _buyer(self, number: str):
        if not number.strip().isdigit():
            raise InvalidError(_("Choisissez le contact acheteur (recherche rapide, puis Entrée)"),
                               {"buyer": _("Acheteur requis")})
        try:
            return get_contact(db.session, int(number))
        except NotFoundError:
            raise InvalidError(_("Contact introuvable"),
                               {"buyer": _("Aucun contact n° %(number)s", number=number)}) from None

    def _structure_and_payer(self, form, buyer):
        """"Acheter pour la structure …" (``for_structure``: the number of the structure the buyer is a
        relay or member of) makes the structure the order's structure and, unless another payer is
        chosen, its payer (as the seed's order 959); ``payer``: another contact who pays."""
        structure = None
        wanted = (form.get("for_structure") or "").strip()
        if wanted:
            linked = relay_contact(db.session, buyer) if buyer.kind == "individual" else None
            if linked is None or str(linked.number) != wanted:
                raise InvalidError(_("L'acheteur n'est pas relais ou membre de cette structure"),
                                   {"for_structure": _("Structure de l'acheteur requise")})
            structure = linked
        payer = None
        number = (form.get("payer") or "").strip()
        typed = (form.get("payer_label") or "").strip()
        if not number and typed.isdigit():
            number = typed
        if number:
            if not number.isdigit():
                raise InvalidError(_("Payeur invalide"), {"payer": _("Choisissez le payeur dans la liste")})
            try:
                payer = get_contact(db.session, int(number))
            except NotFoundError:
                raise InvalidError(_("Payeur introuvable"),
                                   {"payer": _("Aucun contact n° %(number)s", number=number)}) from None
            if not payer.valid:
                raise InvalidError(_("Payeur invalide"), {"payer": _("Contact invalide ou fusionné")})
        elif typed:
            raise InvalidError(_("Choisissez le payeur dans la liste (recherche rapide, puis Entrée)"),
                               {"payer": _("Payeur à choisir dans la liste")})
        if payer is None and structure is not None:
            payer = structure
        return structure, payer

    def _payments(self, form) -> list[payments.PaymentInput]:
        """The amounts typed per mode and the mode's fields (cheque number, bank…)."""
        return posted_payments(form, settings.payment_modes(db.session))


def settings_points_of_sale() -> list[PointOfSale]:
    return list(db.session.scalars(select(PointOfSale).where(PointOfSale.active.is_(True)).order_by(PointOfSale.label)))


def buyer_label_of(number) -> str:
    """The seeds' one-line label of a contact by number ("DUPONT, Chantal | FR-75012 [7611]")."""
    try:
        contact = get_contact(db.session, int(number))
    except (NotFoundError, ValueError):
        return ""
    hits = hits_for(db.session, [contact.id])
    return hits[0].label if hits else str(number)


def buyer_structure_of(number) -> dict | None:
    """The structure a buyer (by number) is a relay or member of, as ``{"number", "name"}``; else None."""
    if not str(number or "").strip().isdigit():
        return None
    try:
        contact = get_contact(db.session, int(number))
    except NotFoundError:
        return None
    if contact.kind != "individual":
        return None
    structure = relay_contact(db.session, contact)
    if structure is None:
        return None
    return {"number": structure.number, "name": structure.display_name}
