"""What the sales work screens share (``admin_sell.py``, ``admin_orders.py``, ``admin_baskets.py``): the
point of sale the operator sells from, the permission check, amounts typed by a person, JSON for a
page's script, the basket named by a form and the block the sell screen draws for it, the strings the
screens' JavaScript shows (translated here, read with ``Coulisses.t``), the payment rows with the
fields of each mode's type, and a mode's settings as a form.

It imports no other screen module: ``admin.py`` imports the screens, the screens import this module
(no import cycle).
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from decimal import Decimal

from flask import render_template
from flask_admin.helpers import get_form_data
from markupsafe import Markup
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField

from sqlalchemy import select

from coulisses import ConflictError, CoulissesError, InvalidError, NotFoundError
from coulisses.db import Actor, acting_as, parse_money
from coulisses.i18n import _, _l
from coulisses.web.auth import require  # noqa: F401 - the host's permission check, for the screens
from coulisses.web.extensions import db

from plugins.sales.models import TICKET_STATE_LABELS, Basket, Ticket
from plugins.sales.payment_types import field_specs
from plugins.sales.registry import get_registry
from plugins.sales.services import baskets, catalogue, payments
from plugins.sales.services.common import ZERO
from plugins.sales.services.settings import resolve_point_of_sale

SALES = _l("Ventes")
SETTING = "setting__"


@contextmanager
def at_point_of_sale(pos_id: int | None):
    """The services record the logged-in operator *and* the point of sale chosen on the screen."""
    with acting_as(Actor(current_user.id, current_user.login, {"point_of_sale_id": pos_id})):
        yield


def current_point_of_sale():
    """The operator's point of sale (theirs, else the default one), or None with the reason."""
    try:
        with acting_as(Actor(current_user.id, current_user.login)):
            return resolve_point_of_sale(db.session), None
    except CoulissesError as exc:
        return None, str(exc)


def parse_amount(raw: str | None, field: str) -> Decimal | None:
    """"1 500,50" or "1500.50" → Decimal (the host's ``parse_money``); empty → None; not an amount, or
    more decimals than the currency has: ``InvalidError`` naming the field."""
    try:
        return parse_money(raw)
    except (TypeError, ValueError, ArithmeticError):
        text = (raw or "").strip()
        raise InvalidError(_("Montant invalide"), {field: _("Montant invalide : %(amount)s", amount=text)}) from None


def script_json(data) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def js_strings() -> dict:
    """The strings the sales screens' JavaScript (``sales.js``) shows, in the operator's language."""
    return {
        "sales.restDue": _("Reste dû"),
        "sales.change": _("Monnaie à rendre"),
        "sales.overpaid": _("Trop perçu (refusé)"),
        "sales.credit": _("Solde avoir : %(amount)s"),
        "sales.createFailed": _("La création a échoué."),
        "sales.createAndChoose": _("CRÉER ET CHOISIR"),
        "sales.createAnyway": _("CRÉER QUAND MÊME"),
        "sales.places": _("%(num)s places"),
        "sales.place": _("%(num)s place"),
        "sales.full": _("complet"),
        "sales.fees": _("%(amount)s frais"),
        "sales.row": _("%(area)s — rang %(row)s"),
        "sales.inBasket": _("dans le panier"),
        "sales.otherCategory": _("autre catégorie"),
        "sales.sold": _("vendue"),
        "sales.free": _("libre"),
        "sales.seatMap": _("Plan de salle : flèches pour aller de place en place, Espace pour cocher"),
        "sales.seatsChosen": _("%(num)s place(s) cochée(s)"),
        "sales.choosePerformance": _("Choisissez d'abord une séance."),
        "sales.chooseCategory": _("Choisissez une catégorie et un tarif."),
        "sales.badQuantity": _("La quantité est un nombre entier positif."),
        "sales.onlyLeft": _("Plus que %(num)s place(s) en %(category)s pour cette séance."),
        "sales.notEnoughSeats": _("Pas assez de places libres dans cette catégorie."),
        "sales.lineAdded": _("Ajouté au panier : %(line)s. Total %(total)s."),
        "sales.lineRemoved": _("Retiré du panier : %(line)s. Total %(total)s."),
        "sales.remove": _("Retirer du panier : %(line)s"),
        "sales.buyerChosen": _("Acheteur choisi : %(label)s"),
        "sales.amountInvalid": _("Montant invalide"),
        "sales.performancesShown": _("%(num)s séance(s) affichée(s)"),
    }


def load_basket(ref) -> Basket | None:
    """The basket named by a form or query value (its "Ordre" number), or None."""
    ref = (ref or "").strip() if isinstance(ref, str) else ref
    if not ref or not str(ref).isdigit():
        return None
    try:
        return baskets.get_basket(db.session, int(ref))
    except NotFoundError:
        return None


def basket_block(work: Basket) -> dict:
    """What the sell screen shows of a basket: ``number``, ``state``, ``orders`` (each with its live
    tickets and, for reserved ones, the other tariffs of their category), ``due``."""
    rows = []
    for order in baskets.basket_orders(db.session, work):
        tickets = list(db.session.scalars(select(Ticket).where(Ticket.order_id == order.id, Ticket.state != "cancelled")
                                          .order_by(Ticket.id)))
        prices: dict[int, list] = {}
        out = []
        for t in tickets:
            if t.state == "reserved" and t.performance_id not in prices:
                prices[t.performance_id] = catalogue.prices_for(db.session, t.performance_id,
                                                                channel=order.channel_id)
            tariffs = [(p.tariff_id, p.tariff_label, p.amount) for p in prices.get(t.performance_id, [])
                       if p.category_id == t.category_id] if t.state == "reserved" else []
            out.append({"id": t.id, "barcode": t.barcode, "performance": catalogue.performance_label(t.performance),
                        "category": t.category.label, "tariff": t.tariff.full_label, "tariff_id": t.tariff_id,
                        "seat": str(t.seat) if t.seat_id else "", "amount": t.price + t.fees, "state": t.state,
                        "state_label": str(TICKET_STATE_LABELS[t.state]), "tariffs": tariffs})
        rows.append({"number": order.number, "state_label": order.state_label, "total": order.total,
                     "paid": order.paid, "balance": order.total - order.paid, "tickets": out})
    return {"number": work.number, "state": work.state, "state_label": work.state_label, "orders": rows,
            "due": sum((r["balance"] for r in rows), ZERO), "note": work.note}


# --------------------------------------------------------------------------- payment rows (sell, order)


def mode_rows(modes) -> list[dict]:
    """The payment modes as the payment rows draw them: code, label, flags and the operator's fields."""
    registry = get_registry()
    out = []
    for m in modes:
        t = registry.payment_mode_type(m.type_code)
        out.append({"code": m.code, "label": m.label, "type": m.type_code, "gives_change": t.gives_change,
                    "needs_contact": t.needs_contact, "completes_later": t.completes_later,
                    "fields": [f.as_dict() for f in field_specs(t.fields_schema)]})
    return out


def payment_panels(screen: str, modes: list[dict], values: dict, fields: dict, order: dict | None = None) -> list:
    """The panels other plugins draw under the payment rows (``sales_payment_panels``), rendered, by
    position; those whose permission the operator lacks are left out."""
    panels = [p for items in get_registry().hook("sales_payment_panels") for p in (items or [])
              if not p.permission or current_user.has_permission(p.permission)]
    panels.sort(key=lambda p: (p.position, p.code))
    return [Markup(render_template(p.template, modes=modes, values=values, fields=fields, screen=screen, order=order))
            for p in panels]


def refusal_status(exc: Exception) -> int:
    """The status of a screen shown again after a refusal: 409 a conflict, 404 not found, else 422."""
    return 409 if isinstance(exc, ConflictError) else 404 if isinstance(exc, NotFoundError) else 422


def posted_payments(form, modes) -> list[payments.PaymentInput]:
    """The payments typed in the rows: ``pay-<CODE>`` (amount) and ``pay-<CODE>-<field>`` (the mode's
    fields). A negative amount is refused naming the field."""
    out = []
    for row in mode_rows(modes):
        code = row["code"]
        amount = parse_amount(form.get(f"pay-{code}"), f"pay-{code}")
        if amount is None or amount == 0:
            continue
        if amount < 0:
            raise InvalidError(_("Un règlement est positif"), {f"pay-{code}": _("Montant positif requis")})
        details = {f["name"]: (form.get(f"pay-{code}-{f['name']}") or "").strip() for f in row["fields"]}
        out.append(payments.PaymentInput(code, amount, details={k: v for k, v in details.items() if v}))
    return out


_PAYMENT_FIELD = re.compile(r"^payments\.(\d+)\.(?:details\.([\w.]+)|(amount|mode))$")


def form_fields(fields: dict, inputs: list[payments.PaymentInput]) -> dict:
    """A service's field errors (``payments.0.details.bank``) as the names of the screen's inputs
    (``pay-CHEQUE-bank``), so the message shows beside what the operator typed."""
    out = {}
    for key, message in (fields or {}).items():
        m = _PAYMENT_FIELD.match(key)
        if m and int(m.group(1)) < len(inputs):
            code = inputs[int(m.group(1))].mode
            out[f"pay-{code}-{m.group(2)}" if m.group(2) else f"pay-{code}"] = message
        else:
            out[key] = message
    return out


# --------------------------------------------------------------------------- the mode's settings as a form


def _wtf_field(spec):
    kw = {"label": spec.label, "description": spec.description}
    if spec.kind == "boolean":
        return BooleanField(**kw)
    if spec.kind == "choice":
        return SelectField(choices=[("", "—")] + list(spec.choices), **kw)
    render = {"inputmode": "decimal"} if spec.kind == "amount" else {"inputmode": "numeric"} if spec.kind == "integer" else {}
    return StringField(render_kw=render, **kw)


def settings_form(base_class, mode, formdata):
    """The Flask-Admin form of ``mode`` with one field per setting of its type (``setting__<name>``),
    filled from the mode's settings (or from what was posted)."""
    mtype = get_registry().payment_mode_types.get(mode.type_code) if mode is not None else None
    specs = field_specs(mtype.settings_schema) if mtype is not None else []
    attrs = {SETTING + s.name: _wtf_field(s) for s in specs}
    cls = type("PaymentModeSettingsForm", (base_class,), attrs)
    values = {}
    if mtype is not None:
        current = mtype.load_settings(mtype.settings_of(mode))
        for s in specs:
            value = current.get(s.name)
            values[SETTING + s.name] = "" if value is None and s.kind != "boolean" else value
    return cls(formdata, obj=mode, **values), specs


def apply_settings(form, model, specs) -> None:
    """Validate the posted settings with the type's schema; errors go on their fields (the form comes
    back with what was typed) and refuse the save."""
    mtype = get_registry().payment_mode_type(model.type_code)
    raw = {}
    for s in specs:
        data = form[SETTING + s.name].data
        raw[s.name] = bool(data) if s.kind == "boolean" else (data if data not in ("", None) else None)
    try:
        model.settings = mtype.load_settings(raw)
    except InvalidError as exc:
        for key, message in exc.fields.items():
            name = SETTING + key.split(".", 1)[-1]
            if name in form:
                form[name].errors = list(form[name].errors or []) + [message]
        raise ValueError("; ".join(f"{form[SETTING + k.split('.', 1)[-1]].label.text} : {v}"
                                   for k, v in exc.fields.items() if SETTING + k.split(".", 1)[-1] in form)
                         or str(exc)) from None


def settings_summary(mode) -> str:
    """"Montant maximum d'un règlement : 1000.00 · Banque obligatoire : oui" (the list's column)."""
    mtype = get_registry().payment_mode_types.get(mode.type_code)
    if mtype is None:
        return ""
    current = mtype.load_settings(mtype.settings_of(mode))
    parts = []
    for s in field_specs(mtype.settings_schema):
        value = current.get(s.name)
        if value in (None, "", False):
            continue
        shown = _("oui") if value is True else str(value)
        parts.append(f"{s.label} : {shown}")
    return " · ".join(parts)


class PaymentModeSettingsMixin:
    """For ``PaymentModeView``: the type is chosen when the mode is created (its settings then take
    their defaults), fixed afterwards (payments refer to it); the type's settings are a form."""

    def edit_form(self, obj=None):
        form, self._setting_specs = settings_form(self._edit_form_class, obj, get_form_data())
        if "type_code" in form:
            del form.type_code  # payments refer to the mode: its type does not change
        mtype = get_registry().payment_mode_types.get(obj.type_code) if obj is not None else None
        form.label.description = _("Type : %(type)s", type=mtype.label if mtype else obj.type_code if obj else "")
        return form

    def on_model_change(self, form, model, is_created):
        if is_created:
            model.settings = get_registry().payment_mode_type(model.type_code).load_settings({})
            return
        apply_settings(form, model, getattr(self, "_setting_specs", []))
