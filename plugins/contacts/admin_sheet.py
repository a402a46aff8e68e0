"""The contact sheet ("fiche contact"): horizontal tabs of the Information menu, side menus, histories.

``/admin/contacts/sheet/<number>/?tab=summary|general|marketing|management|notes|administration``,
``/admin/contacts/sheet/<number>/<menu>`` for the side menus (addresses, indicators, seats, criteria,
links) and ``/admin/contacts/sheet/<number>/history/<kind>`` for the four histories. Every change is a
POST (CSRF-checked by the host) that needs ``contacts.edit``; a refused form comes back with what was
typed and each message beside its field.
"""
from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.i18n import _, _l, format_date
from coulisses.web.admin import CoulissesBaseView
from coulisses.web.extensions import db

from plugins.contacts.admin_common import (
    USAGE_LABELS,
    civility_choices,
    contact_or_404,
    countries,
    language_choices,
    language_label,
    phone_countries,
    phone_value,
    require,
)
from plugins.contacts.data import fr_subdivisions as fr
from plugins.contacts.models import ADDRESS_USAGES, CONSENT_CHANNELS, LINK_KINDS, Contact
from plugins.contacts.registry import HISTORY_KINDS, get_registry
from plugins.contacts.services import accounts, addresses, details, links, sheet
from plugins.contacts.services import contacts as svc
from plugins.contacts.services import validation as v
from plugins.contacts.services.indicators import recompute_indicators
from plugins.contacts.services.links import LINK_LABELS

TABS = [("summary", _l("Résumé")), ("general", _l("Général")), ("marketing", _l("Marketing")),
        ("management", _l("Gestion")), ("notes", _l("Notes")), ("administration", _l("Administration"))]
SIDE_MENUS = [("addresses", _l("Adresses"), "fa-map-marker"), ("indicators", _l("Indicateurs"), "fa-tachometer"),
              ("seats", _l("Places préférées"), "fa-ticket"), ("criteria", _l("Critères"), "fa-tags"),
              ("links", _l("Liens"), "fa-link")]
HISTORY_MENUS = [("sends", _l("Envois billetterie"), "fa-envelope-o"),
                 ("purchases", _l("Historique d'achat"), "fa-shopping-cart"),
                 ("cultural", _l("Historique culturel"), "fa-music"),
                 ("financial", _l("Historique financier"), "fa-eur")]
INDICATOR_ICONS = {
    "none": "fa-circle-o text-muted", "person": "fa-user", "person-plus": "fa-user-plus", "people": "fa-users",
    "check": "fa-check-circle text-success", "trophy-bronze": "fa-trophy ind-bronze",
    "trophy-silver": "fa-trophy ind-silver", "trophy-gold": "fa-trophy ind-gold", "document": "fa-file-text-o",
    "documents": "fa-files-o", "archive": "fa-archive", "bicycle": "fa-bicycle", "bicycles": "fa-bicycle",
}
HISTORY_EMPTY = {
    "sends": _l("Aucun envoi billetterie (e-mail, SMS, campagne) pour ce contact."),
    "purchases": _l("Aucune commande pour ce contact."),
    "cultural": _l("Aucune séance assistée ou à venir pour ce contact."),
    "financial": _l("Aucun règlement pour ce contact."),
}
GENERAL_INDIVIDUAL = ("civility", "last_name", "first_name", "birth_date", "function", "language", "email",
                      "mobile_phone", "phone", "fax", "type_code", "reference_code", "iban", "ambassador")
GENERAL_STRUCTURE = ("structure_name", "administrative_number", "language", "email", "phone", "fax", "type_code",
                     "reference_code", "iban", "ambassador")
PHONES = ("mobile_phone", "phone", "fax")


def general_values(contact: Contact) -> dict:
    """The Général form filled from the contact."""
    values = {
        "civility": contact.civility or "", "last_name": contact.last_name, "first_name": contact.first_name,
        "structure_name": contact.structure_name,
        "birth_date": format_date(contact.birth_date) if contact.birth_date else "",
        "function": contact.function or "", "language": contact.language or "fr", "email": contact.email or "",
        "type_code": contact.type_code, "reference_code": contact.reference_code or "",
        "iban": v.format_iban(contact.iban), "administrative_number": contact.administrative_number or "",
        "ambassador": "1" if contact.ambassador else "",
    }
    for key in PHONES:
        e164 = getattr(contact, key)
        values[key] = v.format_phone(e164) if e164 else ""
        values[f"{key}_country"] = v.phone_region(e164) or "FR" if e164 else "FR"
    for name, value in (contact.extra or {}).items():
        values[f"extra.{name}"] = "1" if value is True else ("" if value in (None, False) else str(value))
    return values


class ContactSheetView(CoulissesBaseView):
    """The contact sheet. Not in the menu: opened from the search, the autocomplete, a link."""

    permission = "contacts.view"

    def is_visible(self) -> bool:
        return False

    # ------------------------------------------------------------------ rendering

    def _render(self, contact: Contact, menu: str = "information", tab: str = "summary", *, values=None,
                errors=None, status: int = 200, **extra):
        registry = get_registry()
        data = sheet.get_sheet(db.session, contact, can=current_user.has_permission, registry=registry)
        ctype = registry.types.get(values.get("type_code") if values else contact.type_code) \
            or registry.types.get(contact.type_code)
        form_values = values if values is not None else general_values(contact)
        context = dict(
            function_options=function_options(contact, form_values),
            contact=contact, sheet=data, menu=menu, tab=tab, tabs=TABS, side_menus=SIDE_MENUS,
            history_menus=HISTORY_MENUS, values=form_values,
            errors=errors or {}, ctype=ctype, same_kind_types=registry.types_of_kind(contact.kind),
            civilities=civility_choices(), languages=language_choices(), language_label=language_label,
            phone_countries=phone_countries(),
            countries=countries(), usage_labels=USAGE_LABELS, usages=ADDRESS_USAGES,
            indicator_icons=INDICATOR_ICONS, consent_channels=CONSENT_CHANNELS,
            department_choices=fr.department_choices(), region_choices=fr.region_choices(),
            can_edit=current_user.has_permission("contacts.edit"),
            sections=[s for s in data["sections"] if s["tab"] == (tab if menu == "information" else "side")],
        )
        context.update(extra)
        return self.render("contacts/sheet.html", **context), status

    @expose("/")
    def index(self):
        q = request.args.get("number", "").strip()
        if q.isdigit():
            return redirect(url_for(".sheet", number=int(q)))
        return redirect(url_for("contacts_search.index"))

    @expose("/<int:number>/")
    def sheet(self, number: int):
        contact = contact_or_404(number)
        tab = request.args.get("tab", "summary")
        if tab not in dict(TABS):
            abort(404)
        return self._render(contact, "information", tab, indicator_detail=self._indicator_detail(contact))

    def _indicator_detail(self, contact: Contact) -> dict | None:
        """"Valeur des indicateurs — Sélectionner…" (``?indicator=<code>``): the chosen indicator's value,
        level and definition (when it is computed, its thresholds)."""
        from flask import current_app

        from plugins.contacts.services.indicators import COMPUTED_WHEN, indicator_scale, indicators_of

        code = request.args.get("indicator") or ""
        registry = get_registry()
        definition = registry.indicators.get(code)
        if definition is None:
            return None
        view = next((iv for iv in indicators_of(db.session, contact, registry) if iv.code == code), None)
        return {"view": view, "computed_when": COMPUTED_WHEN,
                "scale": indicator_scale(code, definition, current_app.config)}

    @expose("/<int:number>/<menu>")
    def side(self, number: int, menu: str):
        contact = contact_or_404(number)
        if menu not in {m for m, _l, _i in SIDE_MENUS}:
            abort(404)
        extra = {}
        if menu == "criteria":
            current = {c.code for c in details.criteria_of(db.session, contact)}
            extra["available_criteria"] = [c for c in details.criteria_for(db.session, contact.kind)
                                           if c.code not in current]
        if menu == "links":
            extra["link_options"] = link_options(contact.kind)
        if menu == "addresses":
            extra["edit_id"] = request.args.get("edit", type=int)
        return self._render(contact, menu, **extra)

    @expose("/<int:number>/history/<kind>")
    def history(self, number: int, kind: str):
        contact = contact_or_404(number)
        if kind not in HISTORY_KINDS:
            abort(404)
        rows = sheet.history(db.session, contact, kind)
        from flask import current_app

        sales_enabled = current_app.extensions["coulisses"].is_enabled("sales")
        return self._render(contact, f"history:{kind}", history_kind=kind, history_rows=rows,
                            history_label=dict((k, lbl) for k, lbl, _i in HISTORY_MENUS)[kind],
                            history_empty=HISTORY_EMPTY[kind], sales_enabled=sales_enabled)

    # ------------------------------------------------------------------ changes

    def _change(self, number: int, action, *, menu="information", tab="summary", done=None,
                on_error=None):
        """Run ``action(contact)`` in a transaction; back to the sheet, or the form with its errors."""
        require("contacts.edit")
        contact = contact_or_404(number)
        try:
            result = action(contact)
            db.session.commit()
        except InvalidError as exc:
            db.session.rollback()
            contact = contact_or_404(number)
            if on_error is not None:
                return on_error(contact, exc)
            flash(_message(exc), "error")
        except (ConflictError, NotFoundError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            if isinstance(result, str):
                done = result
            if done is None:
                done = _("Modification enregistrée.")
            if done:
                flash(done, "success")
        if menu == "information":
            return redirect(url_for(".sheet", number=number, tab=tab))
        return redirect(url_for(".side", number=number, menu=menu))

    @expose("/<int:number>/general", methods=["POST"])
    def save_general(self, number: int):
        form = request.form

        def action(contact):
            svc.update_contact(db.session, contact, general_data(contact, form))

        def on_error(contact, exc):
            flash(str(exc), "error")
            return self._render(contact, "information", "general", values=form.to_dict(), errors=exc.fields,
                                status=422)

        return self._change(number, action, tab="general", on_error=on_error)

    @expose("/<int:number>/consents", methods=["POST"])
    def save_consents(self, number: int):
        def action(contact):
            current = details.consents_of(db.session, contact)
            for channel in CONSENT_CHANNELS:
                wanted = request.form.get(f"consent_{channel}", "")
                if wanted in ("yes", "no") and current.get(channel) != (wanted == "yes"):
                    details.set_consent(db.session, contact, channel, wanted == "yes", source="guichet")

        return self._change(number, action, tab="marketing", done=_("Consentements enregistrés."))

    @expose("/<int:number>/alerts", methods=["POST"])
    def add_alert(self, number: int):
        form = request.form

        def action(contact):
            details.add_marketing_alert(db.session, contact, {k: form.get(k, "") for k in
                                                              ("type", "offer", "internal_info", "recipients",
                                                               "availability", "valid_from", "valid_until")})

        def on_error(contact, exc):
            return self._render(contact, "information", "marketing", alert_values=form.to_dict(),
                                alert_errors=exc.fields, status=422)

        return self._change(number, action, tab="marketing", done=_("Avantage ajouté."), on_error=on_error)

    @expose("/<int:number>/alerts/<int:alert_id>/delete", methods=["POST"])
    def delete_alert(self, number: int, alert_id: int):
        return self._change(number, lambda c: details.remove_marketing_alert(db.session, c, alert_id),
                            tab="marketing", done=_("Avantage retiré."))

    @expose("/<int:number>/notes", methods=["POST"])
    def add_note(self, number: int):
        def on_error(contact, exc):
            return self._render(contact, "information", "notes", note_text=request.form.get("text", ""),
                                note_errors=exc.fields, status=422)

        return self._change(number, lambda c: details.add_note(db.session, c, request.form.get("text", "")),
                            tab="notes", done=_("Note ajoutée."), on_error=on_error)

    @expose("/<int:number>/notes/<int:note_id>/delete", methods=["POST"])
    def delete_note(self, number: int, note_id: int):
        return self._change(number, lambda c: details.delete_note(db.session, c, note_id), tab="notes",
                            done=_("Note supprimée."))

    @expose("/<int:number>/validity", methods=["POST"])
    def validity(self, number: int):
        valid = request.form.get("valid") == "1"
        return self._change(number, lambda c: svc.set_validity(db.session, c, valid, request.form.get("reason")),
                            tab="administration",
                            done=_("Contact de nouveau valide.") if valid else _("Contact marqué non valide."))

    @expose("/<int:number>/account", methods=["POST"])
    def open_account(self, number: int):
        require("contacts.edit")
        contact = contact_or_404(number)
        try:
            account, password = accounts.create_internet_account(db.session, contact,
                                                                 request.form.get("login") or None)
            login = account.login
            db.session.commit()
        except (InvalidError, ConflictError) as exc:
            db.session.rollback()
            flash(_message(exc), "error")
            return redirect(url_for(".sheet", number=number))
        return self._render(contact_or_404(number), new_password=password, new_password_login=login)

    @expose("/<int:number>/password", methods=["POST"])
    def new_password(self, number: int):
        """"GÉNÉRER MOT DE PASSE": shown once, on this page only (never stored in clear, never flashed)."""
        require("contacts.edit")
        contact = contact_or_404(number)
        try:
            password = accounts.generate_password(db.session, contact)
            db.session.commit()
        except ConflictError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".sheet", number=number))
        contact = contact_or_404(number)
        return self._render(contact, new_password=password,
                            new_password_login=accounts.account_of(db.session, contact).login)

    # addresses

    def _address_data(self, form) -> dict:
        return {k: (form.get(k) or "").strip() for k in ("usage", "line1", "line2", "line3", "postal_code", "city",
                                                         "country", "department", "region")}

    @expose("/<int:number>/addresses", methods=["POST"])
    def add_address(self, number: int):
        form = request.form

        def on_error(contact, exc):
            return self._render(contact, "addresses", address_values=form.to_dict(), address_errors=exc.fields,
                                status=422)

        return self._change(number, lambda c: addresses.add_address(db.session, c, self._address_data(form)),
                            menu="addresses", done=_("Adresse ajoutée."), on_error=on_error)

    @expose("/<int:number>/addresses/<int:address_id>", methods=["POST"])
    def edit_address(self, number: int, address_id: int):
        form = request.form

        def action(contact):
            address = addresses.get_address(db.session, contact, address_id)
            addresses.update_address(db.session, address, self._address_data(form))

        def on_error(contact, exc):
            return self._render(contact, "addresses", edit_id=address_id, edit_values=form.to_dict(),
                                edit_errors=exc.fields, status=422)

        return self._change(number, action, menu="addresses", done=_("Adresse modifiée."), on_error=on_error)

    @expose("/<int:number>/addresses/<int:address_id>/main", methods=["POST"])
    def main_address(self, number: int, address_id: int):
        return self._change(number, lambda c: addresses.set_main_address(
            db.session, addresses.get_address(db.session, c, address_id)), menu="addresses",
            done=_("Adresse principale changée."))

    @expose("/<int:number>/addresses/<int:address_id>/delete", methods=["POST"])
    def delete_address(self, number: int, address_id: int):
        return self._change(number, lambda c: addresses.remove_address(
            db.session, addresses.get_address(db.session, c, address_id)), menu="addresses",
            done=_("Adresse supprimée."))

    # indicators, seats, criteria

    @expose("/<int:number>/indicators/recompute", methods=["POST"])
    def recompute(self, number: int):
        return self._change(number, lambda c: recompute_indicators(db.session, c), menu="indicators",
                            done=_("Indicateurs recalculés."))

    @expose("/<int:number>/seats", methods=["POST"])
    def add_seat(self, number: int):
        form = request.form

        def on_error(contact, exc):
            return self._render(contact, "seats", seat_values=form.to_dict(), seat_errors=exc.fields, status=422)

        return self._change(number, lambda c: details.add_preferred_seat(db.session, c, {
            k: form.get(k, "") for k in ("venue", "area", "row", "seat", "comment")}), menu="seats",
            done=_("Place préférée ajoutée."), on_error=on_error)

    @expose("/<int:number>/seats/<int:seat_id>/delete", methods=["POST"])
    def delete_seat(self, number: int, seat_id: int):
        return self._change(number, lambda c: details.remove_preferred_seat(db.session, c, seat_id), menu="seats",
                            done=_("Place préférée retirée."))

    @expose("/<int:number>/criteria", methods=["POST"])
    def add_criterion(self, number: int):
        return self._change(number, lambda c: details.add_criterion(db.session, c, request.form.get("code", "")),
                            menu="criteria", done=_("Critère ajouté."))

    @expose("/<int:number>/criteria/<code>/delete", methods=["POST"])
    def delete_criterion(self, number: int, code: str):
        return self._change(number, lambda c: details.remove_criterion(db.session, c, code), menu="criteria",
                            done=_("Critère retiré."))

    # links

    @expose("/<int:number>/links", methods=["POST"])
    def add_link(self, number: int):
        form = request.form

        def action(contact):
            direction, _, kind = (form.get("kind") or "").partition(":")
            errors = {}
            if kind not in LINK_KINDS or direction not in ("out", "in"):
                errors["kind"] = _("Choisissez le type de lien")
            other = None
            try:
                other = svc.get_contact(db.session, int(form.get("other_number") or 0))
            except (ValueError, NotFoundError):
                errors["other_number"] = _("Choisissez le contact lié")
            start = _date(form.get("start_date"), "start_date", errors)
            end = _date(form.get("end_date"), "end_date", errors)
            if errors:
                raise InvalidError(_("Le lien n'est pas valide"), errors)
            src, dst = (contact, other) if direction == "out" else (other, contact)
            links.add_link(db.session, src, kind, dst, start_date=start, end_date=end,
                           comment=(form.get("comment") or "").strip() or None)
            links.refresh_role(db.session, src)
            links.refresh_role(db.session, dst)

        def on_error(contact, exc):
            return self._render(contact, "links", link_options=link_options(contact.kind),
                                link_values=form.to_dict(), link_errors=exc.fields, status=422)

        return self._change(number, action, menu="links", done=_("Lien ajouté."), on_error=on_error)

    @expose("/<int:number>/links/<int:link_id>/delete", methods=["POST"])
    def delete_link(self, number: int, link_id: int):
        def action(contact):
            link = links.get_link(db.session, link_id)
            if contact.id not in (link.from_contact_id, link.to_contact_id):
                raise NotFoundError(_("Aucun lien %(link)s pour le contact %(number)s", link=link_id, number=number))
            ends = [link.from_contact, link.to_contact]
            links.remove_link(db.session, link)
            for c in ends:
                links.refresh_role(db.session, c)

        return self._change(number, action, menu="links", done=_("Lien supprimé."))


# --------------------------------------------------------------------------- helpers


def _message(exc: InvalidError) -> str:
    fields = getattr(exc, "fields", None) or {}
    if fields:
        return _("%(reason)s : %(details)s", reason=exc, details=" ; ".join(str(m) for m in fields.values()))
    return str(exc)


def _date(raw, key, errors) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[key] = _("Date non valide")
        return None


def function_options(contact: Contact, values: dict) -> list[tuple[str, str]]:
    """The organisation's functions, plus the contact's current one (and the one typed back after an
    error) when the list does not have it any more: nothing is lost by opening and saving the sheet."""
    choices = v.function_choices()
    options = [(f, f) for f in choices]
    for extra in (contact.function, values.get("function")):
        label = _("%(value)s (hors liste)", value=extra) if extra else ""
        if extra and extra not in choices and (extra, label) not in options:
            options.append((extra, label))
    return options


def link_options(kind: str) -> list[tuple[str, str]]:
    """The links a contact of ``kind`` may have, from its own side: ("out:relay_of", "Relais de")…"""
    out = [(f"out:{k}", LINK_LABELS[k][0]) for k, (src, _dst) in LINK_KINDS.items() if src == kind]
    inn = [(f"in:{k}", LINK_LABELS[k][1]) for k, (_src, dst) in LINK_KINDS.items() if dst == kind]
    return out + inn


def general_data(contact: Contact, form) -> dict:
    """The Général form as a PATCH for ``update_contact`` (phones with their country selector)."""
    keys = GENERAL_STRUCTURE if contact.kind == "structure" else GENERAL_INDIVIDUAL
    data = {}
    for key in keys:
        if key in PHONES:
            data[key] = phone_value(form.get(key), form.get(f"{key}_country"))
        elif key == "ambassador":
            data[key] = form.get(key) == "1"
        else:
            data[key] = (form.get(key) or "").strip()
    registry = get_registry()
    ctype = registry.types.get(data.get("type_code") or contact.type_code)
    if ctype is not None and ctype.fields:
        extra = {}
        for f in ctype.fields:
            raw = form.get(f"extra.{f.name}")
            if f.type == "bool":
                extra[f.name] = raw == "1"
            else:
                extra[f.name] = (raw or "").strip() or None
        data["extra"] = extra
    return data
