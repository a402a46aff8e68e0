"""The generated CRUD screens of the sales plugin: the catalogue ("Catalogue" menu) and the sales
settings ("Paramètres de vente" menu). Labels are French source strings, translated (en, es).

Reading needs ``sales.view``; writing the catalogue ``sales.catalogue.manage``, the settings
``sales.settings.manage``. Moments (performances) are typed and shown in the deployment's time zone
(the host's ``LocalDateTimeField``), amounts with the host's ``MoneyField``.
"""
from __future__ import annotations

import re

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla.validators import Unique
from flask_admin.model import typefmt
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import NumberRange, Optional

from coulisses import CoulissesError, InvalidError
from coulisses.db import lock_rows
from coulisses.i18n import _, _l, _n, format_money, lazy_pgettext
from coulisses.web.admin import ModelView
from coulisses.web.extensions import db

from plugins.sales.models import (
    Area, Audience, Event, Fee, PaymentMode, Performance, PerformanceQuota, PointOfSale, Price, SalesChannel,
    Season, Seat, SeatCategory, Tariff, Venue,
)
from plugins.sales.admin_common import PaymentModeSettingsMixin, settings_summary
from plugins.sales.registry import get_registry
from plugins.sales.services import catalogue_rules
from plugins.sales.services.catalogue import add_seats, performance_label
from plugins.sales.services.reservations import MAX_OPTION_HOURS

CATALOGUE = _l("Catalogue")
SETTINGS = _l("Paramètres de vente")
VIEW = "sales.view"
MANAGE_CATALOGUE = "sales.catalogue.manage"
MANAGE_SETTINGS = "sales.settings.manage"

COMMON_LABELS = {
    "code": _l("Code"), "label": _l("Libellé"), "name": _l("Nom"), "title": _l("Titre"),
    "position": lazy_pgettext("position", "Ordre"), "active": _l("Actif"), "season": _l("Saison"),
    "venue": _l("Lieu"), "area": _l("Zone"), "category": _l("Catégorie"), "tariff": _l("Tarif"),
    "audience": lazy_pgettext("audience", "Public"), "event": _l("Événement"), "performance": _l("Séance"),
    "channel": _l("Filière de vente"), "amount": _l("Montant"), "capacity": _l("Jauge"),
    "taken": _l("Places prises"), "description": _l("Description"), "event.title": _l("Événement"),
    "venue.name": _l("Lieu"), "area.name": _l("Zone"), "category.label": _l("Catégorie"),
    "tariff.label": _l("Tarif"), "audience.label": lazy_pgettext("audience", "Public"),
    "season.label": _l("Saison"), "performance.event.title": _l("Événement"), "id": _l("N°"),
    "x": _l("Position X"), "y": _l("Position Y"), "start_date": _l("Début"), "end_date": _l("Fin"),
    "starts_at": _l("Date et heure"), "on_sale": _l("En vente"), "seated": _l("Placé (places numérotées)"),
    "address": _l("Adresse"), "row": _l("Rang"), "number": _l("Numéro"), "refundable": _l("Remboursable"),
    "is_default": _l("Par défaut"), "type_code": _l("Type"), "for_children": _l("Produit enfant"),
    "areas": _l("Zones"), "quotas": _l("Contingents par catégorie"), "seats": _l("Places"),
    "prices": _l("Prix"), "performances": _l("Séances"), "events": _l("Événements"), "tariffs": _l("Tarifs"),
    "points_of_sale": _l("Points de vente"), "fees": _l("Frais"), "created_at": _l("Créé le"),
    "updated_at": _l("Modifié le"), "created_by": _l("Créé par"), "updated_by": _l("Modifié par"),
}


def _perf_label(view, context, model, name):
    performance = getattr(model, name)
    return performance_label(performance) if performance is not None else ""


def _by(model, *order):
    return lambda: db.session.scalars(select(model).order_by(*order)).all()


def _performances():
    return db.session.scalars(select(Performance).order_by(Performance.starts_at.desc(), Performance.id)).all()


def yes_no(view, value, name=None):
    """A boolean as a person reads it: "Oui" with a tick, "Non" (never ``True``, ``false``)."""
    if value:
        return Markup('<span class="fa fa-check-circle" aria-hidden="true"></span> ') + escape(_("Oui"))
    return Markup('<span class="sales-muted">%s</span>') % _("Non")


def yes_no_text(view, value, name=None) -> str:
    return _("Oui") if value else _("Non")


class SalesModelView(ModelView):
    """The plugin's CRUD base: labels as French source strings (translated), booleans as "Oui" /
    "Non", readable refusals (a code already taken, a row still used by tickets or prices, a service
    rule) instead of the database's message."""

    permission = VIEW
    permission_edit = MANAGE_CATALOGUE
    labels: dict = {}
    list_template = "admin/model/list.html"
    column_type_formatters = {**ModelView.column_type_formatters, bool: yes_no}
    column_type_formatters_detail = {**ModelView.column_type_formatters_detail, bool: yes_no}
    column_type_formatters_export = {**typefmt.EXPORT_FORMATTERS, bool: yes_no_text}

    def __init__(self, model, **kwargs):
        self.column_labels = {**COMMON_LABELS, **self.labels}
        super().__init__(model, **kwargs)

    def handle_view_exception(self, exc: Exception) -> bool:
        if isinstance(exc, (IntegrityError, CoulissesError, ValueError)):
            db.session.rollback()  # before reading anything else (the operator's language) in this session
        if isinstance(exc, IntegrityError):
            text = str(exc.orig).lower()
            if "unique" in text or "duplicate" in text:
                message = _("Enregistrement refusé : ce code (ou cette combinaison) existe déjà.")
            elif "foreign key" in text:
                message = _("Refusé : cet élément est utilisé ailleurs (billets, prix, séances, règlements…). "
                            "Désactivez-le plutôt que de le supprimer.")
            elif "check" in text:
                message = _("Refusé : une valeur est hors des limites (montant négatif, jauge inférieure aux places prises…).")
            else:
                message = _("Enregistrement refusé par la base de données.")
            flash(message, "error")
            return True
        if isinstance(exc, (CoulissesError, ValueError)):
            flash(refusal_text(exc), "error")
            return True
        return super().handle_view_exception(exc)

    def on_model_change(self, form, model, is_created):
        """The services' rules (``catalogue_rules.check``), the same the REST API applies."""
        catalogue_rules.check(db.session, model)

    def scaffold_form(self):
        """Flask-Admin's own "already exists" check of a unique code is dropped for the catalogue's
        models: the service's rule refuses it, with the API's message ("Saison : le code « S1 »
        existe déjà")."""
        form_class = super().scaffold_form()
        if self.model in catalogue_rules.WHAT:
            for name in dir(form_class):
                field = getattr(form_class, name, None)
                if isinstance(field, UnboundField) and field.kwargs.get("validators"):
                    field.kwargs["validators"] = [v for v in field.kwargs["validators"] if not isinstance(v, Unique)]
        return form_class


def refusal_text(exc: Exception) -> str:
    """A refusal as the operator reads it: the service's message and its fields' messages (the
    API's ``message`` and ``fields``)."""
    details = [str(m) for m in getattr(exc, "fields", {}).values()] if isinstance(exc, InvalidError) else []
    return " : ".join([str(exc), *details]) if details else str(exc)


class DeactivatableMixin:
    """For the catalogue views of models with an ``active`` column (listed in
    ``catalogue_rules.WHAT``). Deleting a referenced row deactivates it and says so."""

    def delete_model(self, model) -> bool:
        try:
            outcome = catalogue_rules.remove(db.session, model)
            db.session.commit()
        except CoulissesError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return False
        if outcome == "deactivated":
            flash(catalogue_rules.removal_message(model, outcome), "warning")
            return False  # nothing was deleted: Flask-Admin must not say "deleted"
        return True

    def _set_active(self, ids, active: bool) -> None:
        rows = db.session.scalars(select(self.model).where(self.model.id.in_(self.coerce_ids(ids)))).all()
        for row in rows:
            catalogue_rules.set_active(db.session, self.model, row, active)
        db.session.commit()
        if active:
            flash(_n("%(num)d élément réactivé.", "%(num)d éléments réactivés.", len(rows)), "success")
        else:
            flash(_n("%(num)d élément désactivé : il n'est plus proposé à la vente, les dossiers passés le gardent.",
                     "%(num)d éléments désactivés : ils ne sont plus proposés à la vente, les dossiers passés les "
                     "gardent.", len(rows)), "success")

    @action("deactivate", _l("Désactiver"), _l("Désactiver les éléments sélectionnés ? Ils ne seront plus proposés "
                                              "à la vente ; les dossiers passés les gardent."))
    def action_deactivate(self, ids):
        self._set_active(ids, False)

    @action("activate", _l("Réactiver"), _l("Réactiver les éléments sélectionnés ?"))
    def action_activate(self, ids):
        self._set_active(ids, True)


# --------------------------------------------------------------------------- catalogue


class SeasonView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "label", "start_date", "end_date", "active")
    labels = {"start_date": _l("Début"), "end_date": _l("Fin")}
    form_columns = ("code", "label", "start_date", "end_date", "active")
    column_default_sort = ("start_date", True)
    column_searchable_list = ("code", "label")
    column_filters = ("active",)


class VenueView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "name", "seated", "address", "active")
    labels = {"seated": _l("Placé (places numérotées)"), "address": _l("Adresse"), "areas": _l("Zones")}
    form_columns = ("code", "name", "seated", "address", "active", "areas")
    column_searchable_list = ("code", "name")
    column_filters = ("active",)
    column_default_sort = "name"
    inline_models = [(Area, {"form_columns": ("id", "code", "name", "position"), "form_label": _l("Zones"),
                             "column_labels": {"code": _l("Code"), "name": _l("Nom de la zone"), "position": lazy_pgettext("position", "Ordre")}})]


class AreaView(SalesModelView):
    column_list = ("venue", "code", "name", "position")
    form_columns = ("venue", "code", "name", "position")
    column_filters = ("venue.name",)
    column_default_sort = [("venue_id", False), ("position", False)]
    form_args = {"venue": {"query_factory": _by(Venue, Venue.name)}}


ODD_WORDS = ("impairs", "odd", "impares")
EVEN_WORDS = ("pairs", "even", "pares")


def parse_numbers(text: str) -> list[str]:
    """"1-20", "1,3,5", "51S, 53S", "1-9 impairs"… → the seat numbers, in order."""
    out: list[str] = []
    odd = even = False
    text = (text or "").strip()
    words = text.rsplit(" ", 1)
    last = words[-1].lower() if len(words) == 2 else ""
    if last in ODD_WORDS or last in EVEN_WORDS:  # "1-39 impairs" (en: "odd", es: "impares")
        odd, even = last in ODD_WORDS, last in EVEN_WORDS
        text = words[0]
    for part in re.split(r"[,;\s]+", text):
        if not part:
            continue
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            step = 1 if a <= b else -1
            for n in range(a, b + step, step):
                if (odd and n % 2 == 0) or (even and n % 2 == 1):
                    continue
                out.append(str(n))
        else:
            out.append(part)
    return out


class SeatView(SalesModelView):
    column_list = ("area", "row", "number", "category", "position")
    labels = {"row": _l("Rang"), "number": _l("Numéro"), "area": _l("Lieu - zone")}
    column_formatters = {"area": lambda v, c, m, n: f"{m.area.venue.name} - {m.area.name}"}
    form_columns = ("area", "row", "number", "category", "position", "x", "y")
    column_filters = ("area.name", "row", "category.label")
    column_default_sort = [("area_id", False), ("position", False)]
    page_size = 100
    list_template = "sales/seat_list.html"
    form_args = {"area": {"query_factory": _by(Area, Area.venue_id, Area.position),
                          "get_label": lambda a: f"{a.venue.name} - {a.name}"},
                 "category": {"query_factory": _by(SeatCategory, SeatCategory.position), "blank_text": _l("(aucune)")}}

    def on_model_change(self, form, model, is_created):
        model.venue_id = model.area.venue_id
        super().on_model_change(form, model, is_created)

    @expose("/rows/", methods=["GET", "POST"])
    def rows(self):
        """"Ajouter une rangée": many seats at once (numbers "1-20", "1-39 impairs", "51S, 53S")."""
        if not self.can_write():
            abort(403)
        areas = db.session.scalars(select(Area).order_by(Area.venue_id, Area.position)).all()
        categories = db.session.scalars(select(SeatCategory).order_by(SeatCategory.position)).all()
        values, errors = dict(request.form), {}
        if request.method == "POST":
            numbers = parse_numbers(values.get("numbers", ""))
            area_id = int(values.get("area") or 0)
            if not numbers:
                errors["numbers"] = _("Numéros : par exemple 1-20, 1-39 impairs ou 51S, 53S")
            if not any(a.id == area_id for a in areas):
                errors["area"] = _("Choisissez une zone")
            if not errors:
                try:
                    seats = add_seats(db.session, area_id, [(values.get("row", "").strip(), n) for n in numbers],
                                      category=int(values["category"]) if values.get("category") else None)
                    db.session.commit()
                    flash(_n("%(num)d place ajoutée.", "%(num)d places ajoutées.", len(seats)), "success")
                    return redirect(url_for(".index_view"))
                except (IntegrityError, CoulissesError) as exc:
                    db.session.rollback()
                    self.handle_view_exception(exc)
        return self.render("sales/seat_rows.html", areas=areas, categories=categories, values=values, errors=errors)


class SeatCategoryView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "label", "position", "active")
    form_columns = ("code", "label", "position", "active")
    column_filters = ("active",)
    column_default_sort = "position"


class EventView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "title", "season", "for_children", "active")
    labels = {"for_children": _l("Produit enfant")}
    form_columns = ("code", "title", "season", "description", "for_children", "active")
    column_searchable_list = ("code", "title")
    column_filters = ("season.label", "for_children", "active")
    column_default_sort = "title"
    form_args = {"season": {"query_factory": _by(Season, Season.start_date.desc()), "blank_text": _l("(aucune)")}}


class PerformanceView(SalesModelView):
    """Séances: date and time in local time; quotas per category inline; the capacity defaults to
    the sum of the quotas; ``taken`` is kept by the sales (read-only)."""

    column_list = ("event", "starts_at", "venue", "season", "capacity", "taken", "on_sale")
    labels = {"starts_at": _l("Date et heure"), "on_sale": _l("En vente"), "quotas": _l("Contingents par catégorie")}
    form_columns = ("event", "venue", "starts_at", "season", "capacity", "on_sale", "quotas")
    column_filters = ("event.title", "venue.name", "on_sale")
    column_searchable_list = ("event.title",)
    column_default_sort = ("starts_at", False)
    form_args = {
        "event": {"query_factory": _by(Event, Event.title)},
        "venue": {"query_factory": _by(Venue, Venue.name)},
        "season": {"query_factory": _by(Season, Season.start_date.desc()), "blank_text": _l("(la saison de l'événement)")},
        "capacity": {"validators": [Optional(), NumberRange(min=0)],
                     "description": _l("0 ou vide : la somme des contingents (une jauge plus basse est un plafond global).")},
        "starts_at": {"description": _l("Heure locale (Europe/Paris), ex. 02.11.2015 20:15")},
    }
    inline_models = [(PerformanceQuota, {"form_columns": ("id", "category", "capacity"),
                                         "form_label": _l("Contingents par catégorie"),
                                         "column_labels": {"category": _l("Catégorie"), "capacity": _l("Jauge")},
                                         "form_args": {"category": {"query_factory": _by(SeatCategory, SeatCategory.position)}}})]

    def on_model_change(self, form, model, is_created):
        if model.season_id is None and model.season is None and model.event is not None:
            model.season = model.event.season
        quotas = [q for q in model.quotas if q.capacity is not None]
        for q in quotas:
            q.taken = q.taken or 0
            catalogue_rules.check(db.session, q)
        if not model.capacity:
            model.capacity = sum(q.capacity for q in quotas)
        model.taken = model.taken or 0
        catalogue_rules.check_capacity(model, model.capacity)

    def on_model_delete(self, model):
        if model.taken:
            raise ValueError(_("%(taken)s places sont prises pour cette séance : annulez les billets ou "
                               "retirez-la de la vente (« En vente » décoché).", taken=model.taken))


class QuotaView(SalesModelView):
    """Contingents: the capacity of a category at a performance (changed under the quota row lock,
    never below what is taken)."""

    column_list = ("performance", "category", "capacity", "taken")
    column_formatters = {"performance": _perf_label}
    form_columns = ("performance", "category", "capacity")
    column_filters = ("performance.event.title", "category.label")
    form_args = {"performance": {"query_factory": _performances, "get_label": performance_label},
                 "category": {"query_factory": _by(SeatCategory, SeatCategory.position)},
                 "capacity": {"validators": [NumberRange(min=0)]}}

    def on_model_change(self, form, model, is_created):
        if not is_created:  # what is taken now, under the lock the sales take (not what the form read)
            with db.session.no_autoflush:
                locked = lock_rows(db.session, select(PerformanceQuota.taken).where(PerformanceQuota.id == model.id)).scalar()
            model.taken = locked or 0
        model.taken = model.taken or 0
        super().on_model_change(form, model, is_created)

    def on_model_delete(self, model):
        if model.taken:
            raise ValueError(_("%(taken)s places sont prises dans ce contingent : il ne peut pas être supprimé.",
                               taken=model.taken))


class AudienceView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "label", "position", "active")
    form_columns = ("code", "label", "position", "active")
    column_filters = ("active",)
    column_default_sort = "position"


class TariffView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "audience", "label", "position", "active")
    labels = {"label": _l("Libellé du tarif")}
    form_columns = ("code", "audience", "label", "position", "active")
    column_filters = ("audience.label", "active")
    column_searchable_list = ("code", "label")
    column_default_sort = "position"
    form_args = {"audience": {"query_factory": _by(Audience, Audience.position), "blank_text": _l("(aucun)")}}


class PriceView(SalesModelView):
    column_list = ("performance", "category", "tariff", "amount")
    column_formatters = {"performance": _perf_label,
                         "amount": lambda v, c, m, n: Markup('<span class="text-nowrap">%s</span>')
                         % escape(_money(m.amount))}
    form_columns = ("performance", "category", "tariff", "amount")
    column_filters = ("category.label", "tariff.label")
    column_default_sort = [("performance_id", True), ("category_id", False), ("tariff_id", False)]
    form_args = {"performance": {"query_factory": _performances, "get_label": performance_label},
                 "category": {"query_factory": _by(SeatCategory, SeatCategory.position)},
                 "tariff": {"query_factory": _by(Tariff, Tariff.position), "get_label": lambda t: t.full_label},
                 "amount": {"description": _l("Ex. 110,00")}}


def _money(amount) -> str:
    return format_money(amount)


class FeeView(DeactivatableMixin, SalesModelView):
    column_list = ("code", "label", "amount", "refundable", "event", "channel", "active")
    labels = {"refundable": _l("Remboursable"), "event": _l("Événement (vide : tous)"), "channel": _l("Filière (vide : toutes)")}
    column_formatters = {"amount": lambda v, c, m, n: _money(m.amount)}
    form_columns = ("code", "label", "amount", "refundable", "event", "channel", "active")
    form_args = {"event": {"query_factory": _by(Event, Event.title), "blank_text": _l("(tous les événements)")},
                 "channel": {"query_factory": _by(SalesChannel, SalesChannel.label), "blank_text": _l("(toutes les filières)")}}


# --------------------------------------------------------------------------- settings


class PaymentModeView(PaymentModeSettingsMixin, SalesModelView):
    """Modes de règlement: each of a type registered by a plugin (cash, card, …, waiting account), its
    type chosen at creation; the type's settings edited as a form (``admin_payments``). Never deleted
    (payments refer to them): deactivated."""

    permission_edit = MANAGE_SETTINGS
    column_list = ("position", "code", "label", "type_code", "settings", "active")
    labels = {"type_code": _l("Type"), "settings": _l("Réglages")}
    form_columns = ("code", "label", "type_code", "position", "active")
    form_overrides = {"type_code": SelectField}
    column_default_sort = "position"
    can_delete = False

    @staticmethod
    def _types():
        return get_registry().payment_mode_types

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.column_formatters = {"type_code": lambda v, c, m, n: getattr(self._types().get(m.type_code), "label",
                                                                          m.type_code),
                                  "settings": lambda v, c, m, n: settings_summary(m)}
        # the details page too (Flask-Admin copied the class's formatters before these were set)
        self.column_formatters_detail = self.column_formatters

    def _with_choices(self, form):
        form.type_code.choices = [(t.code, t.label) for t in self._types().values()]
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))


class PointOfSaleView(SalesModelView):
    permission_edit = MANAGE_SETTINGS
    column_list = ("code", "label", "channel", "is_default", "option_hours", "requires_open_till", "active")
    labels = {"is_default": _l("Par défaut"), "option_hours": _l("Durée d'option (heures, 0 : sans échéance)"),
              "requires_open_till": _l("Caisse ouverte obligatoire")}
    form_columns = ("code", "label", "channel", "is_default", "option_hours", "requires_open_till", "active")
    form_args = {"channel": {"query_factory": _by(SalesChannel, SalesChannel.label)},
                 "option_hours": {"validators": [NumberRange(min=0, max=MAX_OPTION_HOURS)]}}
    can_delete = False

    def on_model_change(self, form, model, is_created):
        if model.is_default:
            for other in db.session.scalars(select(PointOfSale).where(PointOfSale.is_default.is_(True))):
                if other is not model:
                    other.is_default = False


class ChannelView(SalesModelView):
    permission_edit = MANAGE_SETTINGS
    column_list = ("code", "label", "active")
    form_columns = ("code", "label", "active")
    can_delete = False


def catalogue_views() -> list:
    def v(cls, model, endpoint, name, category=CATALOGUE):
        return cls(model, endpoint=f"sales_{endpoint}", name=name, category=category)

    return [
        v(SeasonView, Season, "season", _l("Saisons")),
        v(VenueView, Venue, "venue", _l("Lieux")),
        v(AreaView, Area, "area", _l("Zones")),
        v(SeatView, Seat, "seat", _l("Places")),
        v(SeatCategoryView, SeatCategory, "seat_category", _l("Catégories")),
        v(EventView, Event, "event", _l("Événements")),
        v(PerformanceView, Performance, "performance", _l("Séances")),
        v(QuotaView, PerformanceQuota, "quota", _l("Contingents")),
        v(AudienceView, Audience, "audience", _l("Publics")),
        v(TariffView, Tariff, "tariff", _l("Tarifs")),
        v(PriceView, Price, "price", _l("Prix")),
        v(FeeView, Fee, "fee", _l("Frais")),
        v(PaymentModeView, PaymentMode, "payment_mode", _l("Modes de règlement"), SETTINGS),
        v(PointOfSaleView, PointOfSale, "point_of_sale", _l("Points de vente"), SETTINGS),
        v(ChannelView, SalesChannel, "channel", _l("Filières de vente"), SETTINGS),
    ]
