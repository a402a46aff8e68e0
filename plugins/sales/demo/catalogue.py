"""The demo's catalogue: seasons, venues, categories, tariffs, events, performances, prices, fees,
points of sale and demo operators, made through ``plugins.sales.services``."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.sales.demo.data import (
    AUDIENCES,
    CATEGORIES,
    HORIZON_MONTHS,
    OPERATORS,
    PARIS,
    SCHOOL_PRICE,
    SEASON_2015,
    SEASON_TEMPLATE,
    SEED_PERFORMANCE_AT,
    TARIFFS,
)


@dataclass
class Catalogue:
    categories: dict[str, Any] = field(default_factory=dict)
    tariffs: dict[str, Any] = field(default_factory=dict)
    venues: dict[str, Any] = field(default_factory=dict)
    areas: dict[str, Any] = field(default_factory=dict)  # "GRANDE_SALLE.BALCON" → Area
    # performance id → category id → free seat ids, best first (seated) / area id (unseated)
    seats: dict[int, dict[int, list[int]]] = field(default_factory=dict)
    area_of: dict[int, int] = field(default_factory=dict)
    performances: list[Any] = field(default_factory=list)
    prices: dict[tuple[int, int, int], Decimal] = field(default_factory=dict)
    seat_ids: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (area, row, number) → id
    venue_seats: dict[int, list[tuple[int, int]]] = field(default_factory=dict)  # venue → (seat, category)
    left: dict[tuple[int, int], int] = field(default_factory=dict)  # (performance, category) → places left
    joyaux_seed: Any = None
    pos: dict[str, Any] = field(default_factory=dict)
    operators: dict[str, Any] = field(default_factory=dict)


def season_start(today: date) -> date:
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _add_months(day: date, months: int) -> date:
    y, m = day.year + (day.month - 1 + months) // 12, (day.month - 1 + months) % 12 + 1
    return date(y, m, min(day.day, 28))


def _moments(first_day: date, dates) -> list[datetime]:
    """A season's performance moments (UTC): fixed ``(y, m, d, hh, mm)`` (the seeds' season) or
    ``(months after the season's first day, day, hh, mm)`` (``SEASON_TEMPLATE``)."""
    moments = []
    for d in dates:
        if len(d) == 5:
            moments.append(_local(*d))
        else:
            months, day, hh, mm = d
            on = _add_months(first_day, months)
            moments.append(_local(on.year, on.month, min(day, 28), hh, mm))
    return moments


def demo_seasons(today: date) -> list[tuple[str, date, list]]:
    """The demo's seasons (code, first day, events): 2015/2016 (the seeds' dates), the previous one, the
    current one, and as many following ones as it takes for performances to go on at least
    ``HORIZON_MONTHS`` after ``today`` — a demo loaded in March is not an empty programme."""
    start = season_start(today)
    seasons = [("2015-2016", date(2015, 9, 1), SEASON_2015),
               (f"{start.year - 1}-{start.year}", date(start.year - 1, 9, 1), SEASON_TEMPLATE),
               (f"{start.year}-{start.year + 1}", start, SEASON_TEMPLATE)]
    from coulisses.i18n import local_time

    horizon = _add_months(today, HORIZON_MONTHS)

    def last_day(season) -> date:
        _code, first_day, events = season
        return local_time(max(m for ev in events for m in _moments(first_day, ev[5]))).date()

    while last_day(seasons[-1]) < horizon:
        first = date(seasons[-1][1].year + 1, 9, 1)
        seasons.append((f"{first.year}-{first.year + 1}", first, SEASON_TEMPLATE))
    return seasons


def _round(amount: Decimal) -> Decimal:
    return (amount * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2  # to the half euro


def _local(y, m, d, hh, mm) -> datetime:
    """A performance's local time (the deployment's time zone) in UTC."""
    from coulisses.i18n import deployment_timezone

    return datetime(y, m, d, hh, mm, tzinfo=deployment_timezone()).astimezone(timezone.utc)


def _operators(session: Session) -> dict[str, Any]:
    from coulisses import security

    out = {}
    for login, full_name in OPERATORS:
        op = security.get_operator(session, login)
        if op is None:
            op = security.Operator(login=login, full_name=full_name, password_hash="!", active=False)
            session.add(op)
            session.flush()
        out[login] = op
    return out


def build_catalogue(session: Session, today: date, *, repeat: int = 1) -> Catalogue:
    """Seasons, venues, categories, tariffs, events, performances, prices, fees, points of sale.
    ``repeat`` > 1 adds performances (weekly reruns) to hold the ``large`` demo."""
    from plugins.sales.models import SalesChannel
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import settings

    c = Catalogue()
    settings.install_defaults(session)
    channels = {ch.code: ch for ch in session.scalars(select(SalesChannel))}
    c.pos["GUICHET"] = settings.get_point_of_sale(session, "GUICHET")
    c.pos["WEB"] = settings.create_point_of_sale(session, "WEB", "Site internet", channels["internet"])
    c.pos["PARTENAIRE"] = settings.create_point_of_sale(session, "PARTENAIRE", "Revendeur partenaire",
                                                        channels["partner"])
    c.operators = _operators(session)
    cat.create_fee(session, "FRAIS_WEB", "Frais de réservation internet", "1.50", refundable=False,
                   channel=channels["internet"])
    cat.create_fee(session, "FRAIS_PART", "Frais de location partenaire", "2.00", refundable=True,
                   channel=channels["partner"])

    for i, (code, label) in enumerate(CATEGORIES, 1):
        c.categories[code] = cat.create_category(session, code, label, i)
    audiences = {code: cat.create_audience(session, code, label, i) for i, (code, label) in enumerate(AUDIENCES, 1)}
    for i, (code, label, audience, _share) in enumerate(TARIFFS, 1):
        c.tariffs[code] = cat.create_tariff(session, code, label, audiences[audience], i)

    # The seated venue: Orchestre rows A–J (Cat 1 A–E, Cat 2 F–J), Balcon 1–48 and 51S–58S (Cat 1,
    # numbered without rows as in the seed), Galerie rows A–D (Cat 3).
    salle = cat.create_venue(session, "GRANDE_SALLE", "Grande salle", seated=True,
                             address="1 place de l'Opéra, 75009 PARIS")
    studio = cat.create_venue(session, "STUDIO", "Studio (placement libre)", address="8 rue Scribe, 75009 PARIS")
    c.venues = {"GRANDE_SALLE": salle, "STUDIO": studio}
    cat1, cat2, cat3 = (c.categories[k] for k in ("CAT1", "CAT2", "CAT3"))
    orch = cat.add_area(session, salle, "ORCH", "Orchestre", 1)
    balcon = cat.add_area(session, salle, "BALC", "Balcon", 2)
    galerie = cat.add_area(session, salle, "GAL", "Galerie", 3)
    seats = []
    seats += cat.add_seats(session, orch, {r: [str(n) for n in range(1, 21)] for r in "ABCDE"}, cat1)
    seats += cat.add_seats(session, orch, {r: [str(n) for n in range(1, 21)] for r in "FGHIJ"}, cat2)
    seats += cat.add_seats(session, balcon, [("", str(n)) for n in range(1, 49)]
                           + [("", f"{n}S") for n in range(51, 59)], cat1)
    seats += cat.add_seats(session, galerie, {r: [str(n) for n in range(1, 17)] for r in "ABCD"}, cat3)
    for s in seats:
        c.seat_ids[(s.area_id, s.row, s.number)] = s.id
    c.venue_seats[salle.id] = [(s.id, s.category_id) for s in seats]
    parterre = cat.add_area(session, studio, "PARTERRE", "Parterre", 1)
    c.areas = {"BALCON": balcon, "PARTERRE": parterre}
    quotas_salle = {cat1: 156, cat2: 100, cat3: 64}
    quotas_studio = {cat1: 100, cat2: 50}

    for code, first_day, events in demo_seasons(today):
        season = cat.create_season(session, code, code.replace("-", "/"), first_day,
                                   date(first_day.year + 1, 8, 31))
        for ev_code, title, venue_code, prices, children, dates in events:
            event = cat.create_event(session, f"{ev_code}_{first_day.year}", title, season=season,
                                     for_children=children,
                                     description=f"{title} — saison {season.label}")
            venue = c.venues[venue_code]
            moments = _moments(first_day, dates)
            for k in range(1, repeat):
                moments += [m + timedelta(days=7 * k) for m in moments[:len(dates)]]
            for starts_at in sorted(moments):
                quotas = quotas_salle if venue.seated else quotas_studio
                perf = cat.create_performance(session, event, venue, starts_at, quotas=dict(quotas), season=season)
                c.performances.append(perf)
                c.left.update({(perf.id, category.id): n for category, n in quotas.items()})
                for cat_code, full in zip(("CAT1", "CAT2", "CAT3"), prices):
                    if full is None:
                        continue
                    category = c.categories[cat_code]
                    for t_code, _label, _aud, share in TARIFFS:
                        amount = SCHOOL_PRICE if share is None else _round(Decimal(full) * share)
                        tariff = c.tariffs[t_code]
                        cat.set_price(session, perf, category, tariff, amount)
                        c.prices[(perf.id, category.id, tariff.id)] = amount
                if venue.seated:
                    free: dict[int, list[int]] = defaultdict(list)
                    for seat_id, cat_id in c.venue_seats[venue.id]:
                        free[cat_id].append(seat_id)
                    c.seats[perf.id] = free
                else:
                    c.area_of[perf.id] = parterre.id
                if ev_code == "JOYAUX" and starts_at == SEED_PERFORMANCE_AT.astimezone(timezone.utc):
                    c.joyaux_seed = perf
    session.flush()
    return c
