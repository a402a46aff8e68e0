"""Indicators: values computed from a contact's activity, each mapped to a level (pictograms on the
sheet's summary, the list in the Indicators menu). The set is extensible (``contacts_indicators``).

Built-in definitions (activity facts come from ``contacts_facts``, i.e. from the sales plugin; until
it provides them the value is 0 / no and the level the lowest one):

``attendance`` — Assiduité
    Distinct performances attended or booked this season, returned tickets excluded
    (fact ``performances_this_season``). Levels with ``CONTACTS_ATTENDANCE_THRESHOLDS`` = (1, 2, 6):
    0 inactive, 1 occasional, 2–5 regular, 6 and more constant.
``member`` — Adhérent
    1 when the contact holds a valid, non-refunded membership product (fact ``membership_valid``).
    Levels: no / yes.
``season_ticket`` — Abonné
    1 when the contact holds a season ticket of the current season (fact ``season_ticket``).
``children_product`` — Produit enfant
    1 when the contact bought a product for children this season (fact ``children_product``).
``pmg`` — PMG (petit / moyen / gros; SML)
    The contact's spend over the previous season, refunds deducted (fact ``spend_previous_season``,
    a Decimal). Levels with ``CONTACTS_PMG_THRESHOLDS`` = ("150.00", "600.00"): none (nothing
    spent), S below 150, M from 150 to below 600, L from 600.
``seniority`` — Ancienneté
    Seasons since the first purchase (fact ``seasons_since_first_purchase``, or counted from
    ``customer_since`` with seasons starting in month ``CONTACTS_SEASON_START_MONTH`` = 9). Levels
    with ``CONTACTS_SENIORITY_THRESHOLDS`` = (1, 3, 5): none (prospect), new (first season),
    confirmed (1–2), loyal (3–4), historic (5 and more).
``channel`` — Filière utilisée
    Number of sales channels the contact bought through (fact ``channels``). Levels none / single /
    multi.

Recalculation: on change (creation, update, ``record_purchase``) for that contact, and nightly for
everyone (task ``contacts.indicators``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.db import utcnow
from coulisses.i18n import _, _l, format_money, local_time

from plugins.contacts.models import Contact, IndicatorValue
from plugins.contacts.registry import IndicatorDefinition, IndicatorLevel, Registry, get_registry

CONFIG_DEFAULTS: dict[str, Any] = {
    "CONTACTS_ATTENDANCE_THRESHOLDS": "1,2,6",
    "CONTACTS_PMG_THRESHOLDS": "150.00,600.00",
    "CONTACTS_SENIORITY_THRESHOLDS": "1,3,5",
    "CONTACTS_SEASON_START_MONTH": 9,
}


def _thresholds(value, cast=int) -> list:
    if isinstance(value, str):
        value = [p for p in value.replace(";", ",").split(",") if p.strip()]
    return [cast(str(p).strip()) for p in value]


def indicator_config(config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The indicator settings: the defaults overridden by ``config`` (the app's configuration)."""
    merged = dict(CONFIG_DEFAULTS)
    for key in CONFIG_DEFAULTS:
        if config and config.get(key) not in (None, ""):
            merged[key] = config[key]
    return {
        "attendance": _thresholds(merged["CONTACTS_ATTENDANCE_THRESHOLDS"]),
        "pmg": _thresholds(merged["CONTACTS_PMG_THRESHOLDS"], Decimal),
        "seniority": _thresholds(merged["CONTACTS_SENIORITY_THRESHOLDS"]),
        "season_start_month": int(merged["CONTACTS_SEASON_START_MONTH"]),
    }


def _band(value, thresholds: list, codes: list[str]) -> str:
    """``codes[i]`` for the i-th band delimited by ``thresholds`` (len(codes) == len(thresholds) + 1)."""
    index = 0
    for t in thresholds:
        if value >= t:
            index += 1
    return codes[min(index, len(codes) - 1)]


def season_index(when: datetime, start_month: int) -> int:
    """Seasons counted as years starting in ``start_month`` (September: 2024-09-01 → 2024), on the
    deployment's calendar (Europe/Paris): 31 August 23:30 UTC is already 1 September in Paris."""
    if isinstance(when, datetime):
        when = local_time(when)
    return when.year if when.month >= start_month else when.year - 1


# --------------------------------------------------------------------------- built-ins


def _flag(fact: str):
    def compute(session, contact, facts, config):
        return 1 if facts.get(fact) else 0
    return compute


def _yes_no(value, config) -> str:
    return "yes" if value else "no"


YES_NO = (IndicatorLevel("no", _l("Non"), "none"), IndicatorLevel("yes", _l("Oui"), "check"))


def _attendance(session, contact, facts, config):
    return int(facts.get("performances_this_season") or 0)


def _attendance_level(value, config) -> str:
    return _band(value or 0, config["attendance"], ["inactive", "occasional", "regular", "constant"])


def _pmg(session, contact, facts, config):
    spend = facts.get("spend_previous_season")
    if spend is None:
        return Decimal("0.00")
    if isinstance(spend, float):
        raise TypeError("spend_previous_season must be a Decimal, never a float")
    return Decimal(spend)


def _pmg_level(value, config) -> str:
    if not value or value <= 0:
        return "none"
    return _band(value, config["pmg"], ["S", "M", "L"])


def _seniority(session, contact, facts, config):
    if facts.get("seasons_since_first_purchase") is not None:
        return int(facts["seasons_since_first_purchase"])
    if contact.customer_since is None:
        return None
    start = config["season_start_month"]
    return max(0, season_index(utcnow(), start) - season_index(contact.customer_since, start))


def _seniority_level(value, config) -> str:
    if value is None:
        return "none"
    return _band(value, config["seniority"], ["new", "confirmed", "loyal", "historic"])


def _channel(session, contact, facts, config):
    return len(set(facts.get("channels") or ()))


def _channel_level(value, config) -> str:
    return "none" if not value else ("single" if value == 1 else "multi")


BUILTIN_INDICATORS = [
    IndicatorDefinition(
        "attendance", _l("Assiduité"), _attendance, _attendance_level,
        (IndicatorLevel("inactive", _l("Inactif"), "none"), IndicatorLevel("occasional", _l("Occasionnel"), "person"),
         IndicatorLevel("regular", _l("Régulier"), "person-plus"), IndicatorLevel("constant", _l("Constant"), "people")),
        _l("Nombre de séances distinctes assistées ou réservées cette saison, retours exclus."), 10),
    IndicatorDefinition("member", _l("Adhérent"), _flag("membership_valid"), _yes_no, YES_NO,
                        _l("Détient un produit d'adhésion valide et non remboursé."), 20),
    IndicatorDefinition("season_ticket", _l("Abonné"), _flag("season_ticket"), _yes_no, YES_NO,
                        _l("Détient un abonnement de la saison en cours."), 30),
    IndicatorDefinition("children_product", _l("Produit enfant"), _flag("children_product"), _yes_no, YES_NO,
                        _l("A acheté un produit pour enfants cette saison."), 40),
    IndicatorDefinition(
        "pmg", _l("PMG"), _pmg, _pmg_level,
        (IndicatorLevel("none", _l("Aucun achat"), "none"), IndicatorLevel("S", _l("Petit"), "trophy-bronze"),
         IndicatorLevel("M", _l("Moyen"), "trophy-silver"), IndicatorLevel("L", _l("Gros"), "trophy-gold")),
        _l("Montant dépensé la saison précédente (remboursements déduits), en tranches petit / moyen / gros "
           "définies par l'organisme (CONTACTS_PMG_THRESHOLDS)."), 50),
    IndicatorDefinition(
        "seniority", _l("Ancienneté"), _seniority, _seniority_level,
        (IndicatorLevel("none", _l("Prospect"), "none"), IndicatorLevel("new", _l("Nouveau"), "document"),
         IndicatorLevel("confirmed", _l("Confirmé"), "document"), IndicatorLevel("loyal", _l("Fidèle"), "documents"),
         IndicatorLevel("historic", _l("Historique"), "archive")),
        _l("Saisons écoulées depuis le premier achat (seuils CONTACTS_SENIORITY_THRESHOLDS)."), 60),
    IndicatorDefinition(
        "channel", _l("Filière utilisée"), _channel, _channel_level,
        (IndicatorLevel("none", _l("Aucune"), "none"), IndicatorLevel("single", _l("Une filière"), "bicycle"),
         IndicatorLevel("multi", _l("Plusieurs filières"), "bicycles")),
        _l("Nombre de filières de vente par lesquelles le contact a acheté."), 70),
]


# --------------------------------------------------------------------------- computing


def facts_of(session: Session, contact: Contact, registry: Registry | None = None) -> dict[str, Any]:
    registry = registry or get_registry()
    facts: dict[str, Any] = {}
    for _plugin, result in registry.call("contacts_facts", session=session, contact=contact):
        facts.update(result)
    return facts


def recompute_indicators(session: Session, contact: Contact, config: dict | None = None, *,
                         registry: Registry | None = None) -> dict[str, IndicatorValue]:
    """Compute every registered indicator for ``contact`` and store value and level."""
    registry = registry or get_registry()
    cfg = indicator_config(config if config is not None else registry.config)
    facts = facts_of(session, contact, registry)
    stored = {iv.code: iv for iv in session.scalars(select(IndicatorValue).where(
        IndicatorValue.contact_id == contact.id))}
    now = utcnow()
    out = {}
    for code, definition in registry.indicators.items():
        value = definition.compute(session, contact, facts, cfg)
        level = definition.level(value, cfg)
        row = stored.get(code)
        if row is None:
            row = IndicatorValue(contact_id=contact.id, code=code)
            session.add(row)
        row.value_text = None if value is None else str(value)
        row.level = level
        row.computed_at = now
        out[code] = row
    session.flush()
    return out


def recompute_all(session: Session, config: dict | None = None, *, batch: int = 500,
                  registry: Registry | None = None, commit: bool = False) -> int:
    """Recompute the indicators of every contact (the nightly task); returns how many contacts.
    With ``commit=True`` (the task), commits after each batch to keep transactions short."""
    registry = registry or get_registry()
    last_id, count = 0, 0
    while True:
        contacts = session.scalars(select(Contact).where(Contact.id > last_id).order_by(Contact.id).limit(batch)).all()
        if not contacts:
            break
        for contact in contacts:
            recompute_indicators(session, contact, config, registry=registry)
            count += 1
        last_id = contacts[-1].id
        if commit:
            session.commit()
            session.expunge_all()  # keep memory flat over a million contacts
    return count


@dataclass
class IndicatorView:
    code: str
    label: str
    value: Decimal | None
    level: str
    level_label: str
    icon: str
    description: str
    computed_at: datetime | None


def indicators_of(session: Session, contact: Contact, registry: Registry | None = None) -> list[IndicatorView]:
    """The contact's indicators in the registry's order (computed now when missing)."""
    registry = registry or get_registry()
    stored = {iv.code: iv for iv in session.scalars(select(IndicatorValue).where(
        IndicatorValue.contact_id == contact.id))}
    if any(code not in stored for code in registry.indicators):
        stored = recompute_indicators(session, contact, registry=registry)
    views = []
    for code, definition in registry.indicators.items():
        row = stored[code]
        level = next((lvl for lvl in definition.levels if lvl.code == row.level), None)
        views.append(IndicatorView(code, str(definition.label), row.value, row.level,
                                   str(level.label) if level else row.level, level.icon if level else "",
                                   str(definition.description), row.computed_at))
    return views


# --------------------------------------------------------------------------- explaining (the sheet's selector)

COMPUTED_WHEN = _l("Recalculé à chaque modification du contact (création, mise à jour, achat) et chaque nuit "
                   "pour tous les contacts (tâche contacts.indicators).")


def _int_bands(thresholds: list, first: str | None = None) -> list[str]:
    """(1, 2, 6) → ["0", "1", "2 à 5", "6 et plus"] (integer values, band i from thresholds[i-1])."""
    bounds = [0, *thresholds]
    out = []
    for i, low in enumerate(bounds):
        if i == len(bounds) - 1:
            out.append(_("%(low)s et plus", low=low))
        else:
            high = bounds[i + 1] - 1
            out.append(str(low) if high <= low else _("%(low)s à %(high)s", low=low, high=high))
    if first is not None:
        out[0] = first
    return out


def indicator_scale(code: str, definition: IndicatorDefinition, config: dict[str, Any] | None = None
                    ) -> list[tuple[str, str]]:
    """(values, level label) for each level of an indicator, with the organisation's thresholds."""
    cfg = indicator_config(config)
    labels = [str(lvl.label) for lvl in definition.levels]
    if code == "attendance" and len(labels) == 4:
        return list(zip(_int_bands(cfg["attendance"]), labels))
    if code == "seniority" and len(labels) == 5:
        bands = _int_bands(cfg["seniority"], first=_("moins de %(num)s", num=cfg["seniority"][0])) if cfg["seniority"] else []
        return [(_("aucun achat"), labels[0]), *zip(bands, labels[1:])]
    if code == "pmg" and len(labels) == 4:
        t = cfg["pmg"]
        money = [format_money(Decimal(x)) for x in t]
        bands = [_("rien dépensé"), _("moins de %(amount)s", amount=money[0])] + \
            [_("de %(low)s à moins de %(high)s", low=a, high=b) for a, b in zip(money, money[1:])] + \
            [_("%(low)s et plus", low=money[-1])]
        return list(zip(bands, labels))
    if definition.levels == YES_NO:
        return [("0", _("Non")), ("1", _("Oui"))]
    if code == "channel" and len(labels) == 3:
        return list(zip(["0", "1", _("%(low)s et plus", low=2)], labels))
    return [("", label) for label in labels]  # a plugin's indicator: its levels, in order
