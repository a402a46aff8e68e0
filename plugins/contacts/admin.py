"""The contacts screens (Flask-Admin): search, quick creation, the reference lists.

The contact sheet lives in ``admin_sheet.py``. Labels are written in French (the operators' language
and the seeds' vocabulary), like the labels the services produce.

URLs (all under ``/admin``):
- ``/admin/contacts/`` — quick search box with autocomplete, advanced search, result list, actions;
- ``/admin/contacts/new/`` — "Création d'un contact" (quick creation);
- ``/admin/contacts/sheet/<number>/`` — the contact sheet (``admin_sheet.py``);
- ``/admin/contacts_criterion/`` — criteria lists (generated CRUD); ``/admin/contacts/types/`` — the
  registered contact types (read-only: types are registered in code).
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_admin import expose
from sqlalchemy import select

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.i18n import _, _l, _n
from coulisses.web.admin import CoulissesBaseView, ModelView
from coulisses.web.extensions import db

from plugins.contacts.admin_common import (
    CATEGORY,
    NATURE_LABELS,
    civility_choices,
    contact_or_404,
    countries,
    link_kind_choices,
    phone_countries,
    phone_value,
    require,
)
from plugins.contacts.admin_sheet import ContactSheetView
from plugins.contacts.data import fr_subdivisions as fr
from plugins.contacts.models import Contact, Criterion
from plugins.contacts.registry import get_registry
from plugins.contacts.services import accounts, search
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.exporting import stream_csv
from plugins.contacts.services.search import advanced_condition

PAGE_SIZE = 50

# Advanced search fields: (name, label); the checkboxes are handled apart.
TEXT_CRITERIA = ("name", "number", "relay", "phone", "email", "postal_code", "city", "administrative_number",
                 "reference_code", "connection_with")
SELECT_CRITERIA = ("nature", "type_code", "country", "criterion", "iban", "connection_type")
CHECK_CRITERIA = {"with_invalid": False, "with_prospects": True, "with_relays": True, "ambassadors_only": False}
QUICK_FIELDS = ("civility", "last_name", "first_name", "mobile_phone", "email", "create_internet_account",
                "structure_number", "new_structure_name", "use_structure_address", "link_kind", "country",
                "postal_code", "city", "line1", "line2", "line3", "department", "region")


# --------------------------------------------------------------------------- blueprint


def ui_blueprint() -> Blueprint:
    """Templates (``contacts/*.html``), static files (``/contacts-static/contacts/...``)."""
    return Blueprint("contacts_ui", __name__, template_folder="templates", static_folder="static",
                     static_url_path="/contacts-static")


# --------------------------------------------------------------------------- search screen


class ContactSearchView(CoulissesBaseView):
    """"Contacts": the quick search box, the advanced search, the result list and its actions."""

    permission = "contacts.view"

    def _criteria(self, args) -> tuple[dict, bool]:
        """The advanced search criteria of the query string, and whether a search was asked."""
        criteria: dict = {}
        q = (args.get("q") or "").strip()
        if q:
            criteria["q"] = q
        for key in TEXT_CRITERIA + SELECT_CRITERIA:
            value = (args.get(key) or "").strip()
            if value:
                criteria[key] = value
        registry = get_registry()
        for t in registry.types.values():
            for f in t.fields:
                if f.searchable and (args.get(f"extra.{f.name}") or "").strip():
                    criteria[f"extra.{f.name}"] = args.get(f"extra.{f.name}").strip()
        submitted = args.get("searched") == "1"
        for key, default in CHECK_CRITERIA.items():
            if submitted:
                criteria[key] = args.get(key) == "1"
        asked = submitted or bool(q)
        return criteria, asked

    @expose("/")
    def index(self):
        criteria, asked = self._criteria(request.args)
        page, errors, offset = None, {}, 0
        try:
            offset = max(0, int(request.args.get("offset") or 0))
        except ValueError:
            offset = 0
        if asked:
            try:
                page = search.advanced_search(db.session, criteria, limit=PAGE_SIZE, offset=offset, count_cap=int(
                    current_app.config.get("CONTACTS_SEARCH_COUNT_CAP", search.COUNT_CAP)))
            except InvalidError as exc:
                errors = exc.fields
                flash(str(exc), "error")
        values = request.args.to_dict()
        if "searched" not in values:
            for key, default in CHECK_CRITERIA.items():
                if default:
                    values[key] = "1"
        advanced_open = (any(values.get(k) for k in TEXT_CRITERIA + SELECT_CRITERIA) or values.get("adv") == "1"
                         or any(k.startswith("extra.") and val for k, val in values.items()))
        registry = get_registry()
        query_args = {k: val for k, val in request.args.items() if k != "offset"}
        return self.render(
            "contacts/search.html", values=values, errors=errors, page=page, offset=offset, page_size=PAGE_SIZE,
            advanced_open=advanced_open, query_args=query_args,
            countries=countries(), phone_countries=phone_countries(),
            types=list(registry.types.values()),
            searchable_fields=[(t, f) for t in registry.types.values() for f in t.fields if f.searchable],
            criteria=db.session.scalars(select(Criterion).where(Criterion.active.is_(True))
                                        .order_by(Criterion.group, Criterion.position, Criterion.label)).all(),
            link_kinds=link_kind_choices(),
        )

    @expose("/export.csv")
    def export_csv(self):
        """"Exporter CSV": the current result, every page."""
        require("contacts.export")
        criteria, _asked = self._criteria(request.args)
        try:
            rows = export_rows(criteria)
        except InvalidError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index", **request.args))
        return Response(rows, mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; filename=contacts.csv"})

    def _selected(self) -> list[int]:
        numbers = []
        for raw in request.form.getlist("numbers"):
            try:
                numbers.append(int(raw))
            except ValueError:
                continue
        return numbers

    def _back(self):
        return redirect(request.form.get("back") or url_for(".index"))

    @expose("/delete", methods=["POST"])
    def delete(self):
        """"− SUPPRIMER": a confirmation page first, then the deletion, contact by contact."""
        require("contacts.delete")
        numbers = self._selected()
        if not numbers:
            flash(_("Cochez d'abord les contacts à supprimer."), "warning")
            return self._back()
        selected = db.session.scalars(select(Contact).where(Contact.number.in_(numbers))
                                      .order_by(Contact.sort_last, Contact.sort_first, Contact.number)).all()
        if request.form.get("confirmed") != "1":
            return self.render("contacts/delete_confirm.html", contacts=selected, back=request.form.get("back") or "")
        deleted = []
        for contact in selected:
            label = f"{contact.number} {contact.display_name}"
            try:
                svc.delete_contact(db.session, contact)
                db.session.commit()
                deleted.append(label)
            except (ConflictError, InvalidError) as exc:
                db.session.rollback()
                flash(_("Suppression refusée pour %(contact)s : %(reason)s", contact=label, reason=exc), "error")
        if deleted:
            flash(_n("Contact supprimé : %(contacts)s", "Contacts supprimés : %(contacts)s", len(deleted),
                     contacts=", ".join(deleted)), "success")
        return self._back()

    @expose("/new-relay", methods=["POST"])
    def new_relay(self):
        """"+ NOUVEAU RELAIS": the quick creation, linked as relay of the one selected structure."""
        require("contacts.edit")
        numbers = self._selected()
        contact = None
        if len(numbers) == 1:
            contact = db.session.scalar(select(Contact).where(Contact.number == numbers[0]))
        if contact is None or contact.kind != "structure":
            flash(_("Cochez une seule structure pour lui créer un relais."), "warning")
            return self._back()
        return redirect(url_for("contacts_new.index", structure_number=contact.number, link_kind="relay_of"))

    @expose("/password", methods=["POST"])
    def password(self):
        """"✎ CHANGER MOT DE PASSE": a new internet-account password, shown once."""
        require("contacts.edit")
        numbers = self._selected()
        if len(numbers) != 1:
            flash(_("Cochez un seul contact pour changer son mot de passe."), "warning")
            return self._back()
        contact = contact_or_404(numbers[0])
        try:
            new_password = accounts.generate_password(db.session, contact)
            db.session.commit()
        except ConflictError as exc:
            db.session.rollback()
            flash(_("%(reason)s. Ouvrez sa fiche pour lui créer un compte internet.", reason=exc), "error")
            return self._back()
        account = accounts.account_of(db.session, contact)
        return self.render("contacts/password.html", contact=contact, login=account.login if account else "",
                           password=new_password, back=request.form.get("back") or url_for(".index"))


def export_rows(criteria: dict):
    """The CSV of a search result, streamed (``services.exporting.stream_csv``). A wrong search raises
    ``InvalidError`` here, before the download starts."""
    advanced_condition(criteria)
    return stream_csv(db.session.get_bind(), criteria)


# --------------------------------------------------------------------------- quick creation


class QuickCreateView(CoulissesBaseView):
    """"Création d'un contact": the seeds' quick creation form and its three exits."""

    permission = "contacts.edit"

    def _render(self, values, errors=None, duplicates=None, status=200):
        structure_label = ""
        number = values.get("structure_number")
        if number:
            try:
                structure = svc.get_contact(db.session, int(number))
                structure_label = svc.contact_label(structure)
            except (NotFoundError, ValueError):
                structure_label = str(number)
        registry = get_registry()
        chosen = registry.types.get(values.get("type_code") or "individual") or registry.types.get("individual")
        return self.render("contacts/quick_create.html", values=values, errors=errors or {},
                           contact_types=list(registry.types.values()), chosen_type=chosen,
                           duplicates=duplicates or [], civilities=civility_choices(), countries=countries(),
                           phone_countries=phone_countries(), structure_label=structure_label,
                           department_choices=fr.department_choices(), region_choices=fr.region_choices()), status

    @expose("/", methods=["GET"])
    def index(self):
        # "Créer un compte internet" is ticked, as in the seed's mock-up; the form then asks for the Mél
        # (the account's login) and the operator unticks it for a contact without e-mail.
        values = {"country": "FR", "mobile_phone_country": "FR", "link_kind": "member_of",
                  "create_internet_account": "1"}
        for key in ("last_name", "first_name", "structure_number", "link_kind", "email", "type_code"):
            if request.args.get(key):
                values[key] = request.args[key]
        name = (request.args.get("name") or "").strip()
        if name:  # what was typed in the quick search box: "Dupont, marc" or "dupont"
            last, _, first = name.partition(",")
            values["last_name"] = last.strip().replace("*", "").upper()
            if first.strip():
                values["first_name"] = first.strip()
        return self._render(values)

    def _data(self, form) -> dict:
        data = {key: (form.get(key) or "").strip() for key in QUICK_FIELDS}
        for key in ("create_internet_account", "use_structure_address"):
            data[key] = form.get(key) == "1"
        data["mobile_phone"] = phone_value(form.get("mobile_phone"), form.get("mobile_phone_country"))
        if data["new_structure_name"]:
            data["structure_number"] = ""
        data["link_kind"] = data["link_kind"] or "member_of"
        # the contact type chosen up front, its name (a structure type) and its own fields
        data["type_code"] = (form.get("type_code") or "individual").strip()
        data["structure_name"] = (form.get("structure_name") or "").strip()
        ctype = get_registry().types.get(data["type_code"])
        if ctype is not None and ctype.fields:
            data["extra"] = {f.name: (form.get(f"extra.{f.name}") == "1" if f.type == "bool"
                                      else (form.get(f"extra.{f.name}") or "").strip() or None) for f in ctype.fields}
        return data

    @expose("/", methods=["POST"])
    def create(self):
        form = request.form
        values = form.to_dict()
        exit_to = form.get("exit", "validate")
        data = self._data(form)
        if form.get("force") != "1":
            duplicates = search.likely_duplicates(db.session, data)
            if duplicates:
                return self._render(values, duplicates=duplicates)
        try:
            contact = svc.create_quick(db.session, data)
            password = getattr(contact, "generated_password", None)
            number, name = contact.number, contact.display_name
            db.session.commit()
        except InvalidError as exc:
            db.session.rollback()
            return self._render(values, exc.fields, status=422)
        except ConflictError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return self._render(values, status=409)
        sheet_url = url_for("contacts_sheet.sheet", number=number)
        if password:
            return self.render("contacts/created.html", number=number, name=name, password=password,
                               sheet_url=sheet_url, list_url=url_for("contacts_search.index", q=str(number)))
        flash(_("Contact %(number)s %(name)s créé.", number=number, name=name), "success")
        if exit_to == "sheet":
            return redirect(sheet_url)
        return redirect(url_for("contacts_search.index", q=str(number)))


# --------------------------------------------------------------------------- reference lists


class CriterionView(ModelView):
    """The criteria lists the organisation defines (different lists for individuals and structures)."""

    column_list = ("group", "code", "label", "applies_to", "active", "position")
    column_labels = {"group": _l("Liste"), "code": _l("Code"), "label": _l("Libellé"),
                     "applies_to": _l("S'applique aux"), "active": _l("Actif"), "position": _l("Ordre")}
    column_searchable_list = ("code", "label", "group")
    column_filters = ("group", "applies_to", "active")
    column_default_sort = [("group", False), ("position", False), ("label", False)]
    form_columns = ("group", "code", "label", "applies_to", "active", "position")
    form_choices = {"applies_to": [("both", _l("Individuels et structures")), ("individual", _l("Individuels")),
                                   ("structure", _l("Structures"))]}
    column_choices = form_choices
    can_delete = True


class ContactTypesView(CoulissesBaseView):
    """The contact types registered by the plugins (read-only: a type is code)."""

    permission = "contacts.view"

    @expose("/")
    def index(self):
        registry = get_registry()
        infos = current_app.extensions["coulisses"].infos
        plugin_labels = {name: _(info.label) for name, info in infos.items()}  # the owner's label, not its code
        return self.render("contacts/types.html", types=list(registry.types.values()), owners=registry.owners,
                           kind_labels=NATURE_LABELS, plugin_labels=plugin_labels)


def admin_views() -> list:
    return [
        ContactSearchView(name=_l("Rechercher un contact"), endpoint="contacts_search", url="/admin/contacts",
                          category=CATEGORY),
        QuickCreateView(name=_l("Création d'un contact"), endpoint="contacts_new", url="/admin/contacts/new",
                        category=CATEGORY),
        ContactSheetView(name=_l("Fiche contact"), endpoint="contacts_sheet", url="/admin/contacts/sheet",
                         category=CATEGORY),
        CriterionView(Criterion, permission="contacts.view", permission_edit="contacts.edit", name=_l("Critères"),
                      endpoint="contacts_criterion", category=CATEGORY),
        ContactTypesView(name=_l("Types de contact"), endpoint="contacts_types", url="/admin/contacts/types",
                         category=CATEGORY),
    ]
