"""The catalogue: creation helpers (demo, tests, imports) and the sales screen's queries
(performances on sale with availability per category, prices per tariff, the seat map)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses.db import utcnow

from plugins.sales.models import (
    Area, Audience, Event, Fee, Performance, PerformanceQuota, PointOfSale, Price, SalesChannel, Season, Seat,
    SeatBooking, SeatCategory, Tariff, Venue,
)
from coulisses.i18n import _, _l, format_datetime

from plugins.sales.services.common import ZERO, get, money

# --------------------------------------------------------------------------- creation


def create_season(session: Session, code: str, label: str, start_date: date, end_date: date) -> Season:
    _unique_code(session, Season, code, _l("Saison"))
    check_season_dates(start_date, end_date)
    season = Season(code=code, label=label, start_date=start_date, end_date=end_date)
    session.add(season)
    session.flush()
    return season


def create_venue(session: Session, code: str, name: str, *, seated: bool = False, address: str = "") -> Venue:
    _unique_code(session, Venue, code, _l("Lieu"))
    venue = Venue(code=code, name=name, seated=seated, address=address)
    session.add(venue)
    session.flush()
    return venue


def add_area(session: Session, venue: Any, code: str, name: str, position: int = 0) -> Area:
    venue = get(session, Venue, venue, _l("Lieu introuvable"))
    area = Area(venue_id=venue.id, code=code, name=name, position=position)
    session.add(area)
    session.flush()
    return area


def add_seats(session: Session, area: Any, rows, category: Any = None) -> list[Seat]:
    """``rows``: ``{"A": ["1", "2"…]}`` or ``[(row, number), …]``; seats get positions in that order."""
    area = get(session, Area, area, _l("Zone introuvable"))
    category = get(session, SeatCategory, category, _l("Catégorie introuvable")) if category is not None else None
    pairs = [(r, n) for r, numbers in rows.items() for n in numbers] if isinstance(rows, dict) else list(rows)
    start = len(session.scalars(select(Seat.id).where(Seat.area_id == area.id)).all())
    seats = [Seat(venue_id=area.venue_id, area_id=area.id, category_id=category.id if category else None,
                  row=str(r), number=str(n), position=start + i) for i, (r, n) in enumerate(pairs)]
    session.add_all(seats)
    session.flush()
    return seats


def create_category(session: Session, code: str, label: str, position: int = 0) -> SeatCategory:
    _unique_code(session, SeatCategory, code, _l("Catégorie"))
    category = SeatCategory(code=code, label=label, position=position)
    session.add(category)
    session.flush()
    return category


def create_event(session: Session, code: str, title: str, *, season: Any = None, description: str = "",
                 for_children: bool = False) -> Event:
    season = get(session, Season, season, _l("Saison introuvable")) if season is not None else None
    _unique_code(session, Event, code, _l("Événement"))
    event = Event(code=code, title=title, season_id=season.id if season else None, description=description,
                  for_children=for_children)
    session.add(event)
    session.flush()
    return event


def create_performance(session: Session, event: Any, venue: Any, starts_at: datetime, *,
                       quotas: dict[Any, int], capacity: int | None = None, season: Any = None,
                       on_sale: bool = True) -> Performance:
    event = get(session, Event, event, _l("Événement introuvable"))
    venue = get(session, Venue, venue, _l("Lieu introuvable"))
    if starts_at.tzinfo is None:
        raise InvalidError(_("Date de séance sans fuseau horaire"),
                           {"starts_at": _("Date avec fuseau horaire requise")})
    if not quotas:
        raise InvalidError(_("Une séance a au moins une catégorie"), {"quotas": _("Contingent par catégorie requis")})
    total = sum(int(c) for c in quotas.values())
    if capacity is None:
        capacity = total
    if capacity < 0 or any(int(c) < 0 for c in quotas.values()):
        raise InvalidError(_("Jauge négative"), {"capacity": _("La jauge doit être positive")})
    season = get(session, Season, season, _l("Saison introuvable")) if season is not None else None
    performance = Performance(event_id=event.id, venue_id=venue.id, starts_at=starts_at, capacity=capacity, taken=0,
                              season_id=(season.id if season else event.season_id), on_sale=on_sale)
    session.add(performance)
    session.flush()
    for category, cap in quotas.items():
        category = get(session, SeatCategory, category, _l("Catégorie introuvable"))
        session.add(PerformanceQuota(performance_id=performance.id, category_id=category.id, capacity=int(cap), taken=0))
    session.flush()
    return performance


def set_quota(session: Session, performance: Any, category: Any, capacity: int) -> PerformanceQuota:
    from coulisses.db import lock_rows

    performance = get(session, Performance, performance, _l("Séance introuvable"), by_code=False)
    category = get(session, SeatCategory, category, _l("Catégorie introuvable"))
    quota = lock_rows(session, select(PerformanceQuota).where(
        PerformanceQuota.performance_id == performance.id, PerformanceQuota.category_id == category.id)).scalar()
    if quota is None:
        quota = PerformanceQuota(performance_id=performance.id, category_id=category.id, capacity=0, taken=0)
        session.add(quota)
    if capacity < quota.taken:
        raise ConflictError(_("%(taken)s places sont déjà prises en %(category)s : la jauge ne peut pas descendre "
                              "à %(capacity)s", taken=quota.taken, category=category.label, capacity=capacity))
    quota.capacity = capacity
    session.flush()
    return quota


def create_audience(session: Session, code: str, label: str, position: int = 0) -> Audience:
    """A new audience (unique code): ``catalogue_rules.create_audience``."""
    from plugins.sales.services import catalogue_rules

    return catalogue_rules.create_audience(session, code, label, position)


def create_tariff(session: Session, code: str, label: str, audience: Any = None, position: int = 0) -> Tariff:
    audience = get(session, Audience, audience, _l("Public introuvable")) if audience is not None else None
    _unique_code(session, Tariff, code, _l("Tarif"))
    tariff = Tariff(code=code, label=label, audience_id=audience.id if audience else None, position=position)
    session.add(tariff)
    session.flush()
    return tariff


def set_price(session: Session, performance: Any, category: Any, tariff: Any, amount) -> Price:
    performance = get(session, Performance, performance, _l("Séance introuvable"), by_code=False)
    category = get(session, SeatCategory, category, _l("Catégorie introuvable"))
    tariff = get(session, Tariff, tariff, _l("Tarif introuvable"))
    amount = money(amount)
    if amount < 0:
        raise InvalidError(_("Prix négatif"), {"amount": _("Le prix doit être positif ou nul")})
    price = session.scalar(select(Price).where(Price.performance_id == performance.id,
                                               Price.category_id == category.id, Price.tariff_id == tariff.id))
    if price is None:
        price = Price(performance_id=performance.id, category_id=category.id, tariff_id=tariff.id, amount=amount)
        session.add(price)
    else:
        price.amount = amount
    session.flush()
    return price


def set_event_prices(session: Session, event: Any, prices: dict[tuple[Any, Any], Any]) -> int:
    """The same prices for every performance of ``event``; returns how many prices were set."""
    event = get(session, Event, event, _l("Événement introuvable"))
    count = 0
    for performance in session.scalars(select(Performance).where(Performance.event_id == event.id)):
        for (category, tariff), amount in prices.items():
            set_price(session, performance, category, tariff, amount)
            count += 1
    return count


def create_fee(session: Session, code: str, label: str, amount, *, refundable: bool = True, event: Any = None,
               channel: Any = None) -> Fee:
    """A new fee (unique code, amount not negative): ``catalogue_rules.create_fee``."""
    from plugins.sales.services import catalogue_rules

    return catalogue_rules.create_fee(session, code, label, amount, refundable=refundable, event=event,
                                      channel=channel)


def fees_for(session: Session, performance: Performance, channel_id: int | None) -> list[Fee]:
    """The active fees a ticket of ``performance`` sold in channel ``channel_id`` carries."""
    stmt = select(Fee).where(Fee.active.is_(True),
                             or_(Fee.event_id.is_(None), Fee.event_id == performance.event_id),
                             or_(Fee.channel_id.is_(None), Fee.channel_id == channel_id)).order_by(Fee.id)
    return list(session.scalars(stmt))


def fees_by_performance(session: Session, performances: list[Performance],
                        channel_id: int | None) -> dict[int, list[Fee]]:
    """``fees_for`` of each of ``performances`` (performance id → fees), in one query."""
    events = {p.event_id for p in performances}
    stmt = select(Fee).where(Fee.active.is_(True), or_(Fee.event_id.is_(None), Fee.event_id.in_(events)),
                             or_(Fee.channel_id.is_(None), Fee.channel_id == channel_id)).order_by(Fee.id)
    fees = list(session.scalars(stmt))
    return {p.id: [f for f in fees if f.event_id is None or f.event_id == p.event_id] for p in performances}


def get_performance(session: Session, ref: Any) -> Performance:
    return get(session, Performance, ref, _l("Séance introuvable"), by_code=False)


def get_category(session: Session, ref: Any) -> SeatCategory:
    return get(session, SeatCategory, ref, _l("Catégorie introuvable"))


def get_tariff(session: Session, ref: Any) -> Tariff:
    return get(session, Tariff, ref, _l("Tarif introuvable"))


# --------------------------------------------------------------------------- queries


@dataclass
class CategoryAvailability:
    category_id: int
    code: str
    label: str
    capacity: int
    taken: int
    available: int


@dataclass
class PerformanceAvailability:
    id: int
    event_id: int
    event_title: str
    venue_id: int
    venue_name: str
    seated: bool
    season_id: int | None
    starts_at: datetime
    label: str
    on_sale: bool
    capacity: int
    taken: int
    available: int
    categories: list[CategoryAvailability] = field(default_factory=list)


def performance_label(performance: Performance) -> str:
    """``Joyaux - Lun 02.11.2015 20:15`` (deployment time zone, current language)."""
    return f"{performance.event.title} - {format_datetime(performance.starts_at, weekday=True)}"


def _availability(performance: Performance, *, active_only: bool = False) -> PerformanceAvailability:
    """``active_only``: what the sales offer (deactivated categories left out)."""
    overall = performance.capacity - performance.taken
    cats = [CategoryAvailability(q.category_id, q.category.code, q.category.label, q.capacity, q.taken,
                                 max(0, min(q.capacity - q.taken, overall)))
            for q in sorted(performance.quotas, key=lambda q: (q.category.position, q.category_id))
            if q.category.active or not active_only]
    return PerformanceAvailability(
        performance.id, performance.event_id, performance.event.title, performance.venue_id, performance.venue.name,
        performance.venue.seated, performance.season_id, performance.starts_at, performance_label(performance),
        performance.on_sale, performance.capacity, performance.taken, max(0, overall), cats)


def availability(session: Session, performance: Any) -> PerformanceAvailability:
    return _availability(get_performance(session, performance))


def performances_on_sale(session: Session, *, event: Any = None, season: Any = None, starts_from: datetime | None = None,
                         starts_until: datetime | None = None, q: str | None = None,
                         limit: int = 100) -> list[PerformanceAvailability]:
    stmt = (select(Performance).join(Event, Performance.event_id == Event.id)
            .join(Venue, Performance.venue_id == Venue.id)
            .outerjoin(Season, Performance.season_id == Season.id)
            .where(Performance.on_sale.is_(True), Performance.starts_at >= (starts_from or utcnow()),
                   Event.active.is_(True), Venue.active.is_(True), or_(Season.id.is_(None), Season.active.is_(True)))
            .options(selectinload(Performance.quotas).selectinload(PerformanceQuota.category),
                     selectinload(Performance.event), selectinload(Performance.venue))
            .order_by(Performance.starts_at, Performance.id).limit(max(1, min(int(limit), 1000))))
    if event is not None:
        stmt = stmt.where(Performance.event_id == get(session, Event, event, _l("Événement introuvable")).id)
    if season is not None:
        stmt = stmt.where(Performance.season_id == get(session, Season, season, _l("Saison introuvable")).id)
    if starts_until is not None:
        stmt = stmt.where(Performance.starts_at <= starts_until)
    if q:
        stmt = stmt.where(Event.title.ilike(f"%{q.strip()}%"))
    return [_availability(p, active_only=True) for p in session.scalars(stmt)]


@dataclass
class PriceRow:
    category_id: int
    category_label: str
    tariff_id: int
    tariff_code: str
    tariff_label: str
    amount: Decimal
    fees: Decimal


def prices_for(session: Session, performance: Any, channel: Any = None) -> list[PriceRow]:
    """The prices of a performance by category and tariff, with the per-ticket fees of ``channel``
    (default: the default point of sale's channel)."""
    performance = get_performance(session, performance)
    if channel is None:
        pos = session.scalar(select(PointOfSale).where(PointOfSale.is_default.is_(True)))
        channel_id = pos.channel_id if pos else None
    else:
        channel_id = get(session, SalesChannel, channel, _l("Filière introuvable")).id
    fees = sum((f.amount for f in fees_for(session, performance, channel_id)), ZERO)
    rows = session.execute(
        select(Price, SeatCategory, Tariff).join(SeatCategory, Price.category_id == SeatCategory.id)
        .join(Tariff, Price.tariff_id == Tariff.id)
        .outerjoin(Audience, Tariff.audience_id == Audience.id)
        .where(Price.performance_id == performance.id, Tariff.active.is_(True), SeatCategory.active.is_(True),
               or_(Audience.id.is_(None), Audience.active.is_(True)))
        .order_by(SeatCategory.position, SeatCategory.id, Tariff.position, Tariff.id)).all()
    return [PriceRow(c.id, c.label, t.id, t.code, t.full_label, p.amount, fees) for p, c, t in rows]


@dataclass
class SeatState:
    seat_id: int
    area_id: int
    area_name: str
    row: str
    number: str
    label: str
    category_id: int | None
    x: int | None
    y: int | None
    free: bool
    ticket_id: int | None


def seat_map(session: Session, performance: Any, area: Any = None) -> list[SeatState]:
    """Every seat of the performance's venue with whether it is free (seated venues)."""
    performance = get_performance(session, performance)
    stmt = (select(Seat, Area.name, SeatBooking.ticket_id).join(Area, Seat.area_id == Area.id)
            .outerjoin(SeatBooking, (SeatBooking.seat_id == Seat.id) & (SeatBooking.performance_id == performance.id))
            .where(Seat.venue_id == performance.venue_id)
            .order_by(Area.position, Area.id, Seat.position, Seat.id))
    if area is not None:
        stmt = stmt.where(Seat.area_id == get(session, Area, area, _l("Zone introuvable"), by_code=False).id)
    return [SeatState(s.id, s.area_id, area_name, s.row, s.number, s.label, s.category_id, s.x, s.y,
                      ticket_id is None, ticket_id)
            for s, area_name, ticket_id in session.execute(stmt)]


# --------------------------------------------------------------------------- changes (screens and API)
#
# The rules both the screens and the REST API apply: a code is unique (409 naming it), a season ends
# after it starts, a capacity never drops below what is taken, a price is never negative.


def _unique_code(session: Session, model, code: str, label: Any, current: Any = None) -> None:
    existing = session.scalar(select(model.id).where(model.code == code))
    if existing is not None and (current is None or existing != current.id):
        raise ConflictError(_("%(what)s : le code « %(code)s » existe déjà", what=str(label), code=code))


def check_season_dates(start_date: date | None, end_date: date | None) -> None:
    if start_date and end_date and start_date > end_date:
        raise InvalidError(_("Dates de saison incohérentes"), {"end_date": _("La fin précède le début")})


def _apply(obj: Any, changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in allowed:
        if name in changes and changes[name] is not None:
            setattr(obj, name, changes[name])


def update_season(session: Session, season: Any, **changes) -> Season:
    season = get(session, Season, season, _l("Saison introuvable"), by_code=False)
    if changes.get("code"):
        _unique_code(session, Season, changes["code"], _l("Saison"), season)
    check_season_dates(changes.get("start_date") or season.start_date, changes.get("end_date") or season.end_date)
    _apply(season, changes, ("code", "label", "start_date", "end_date"))
    session.flush()
    return season


def update_venue(session: Session, venue: Any, **changes) -> Venue:
    venue = get(session, Venue, venue, _l("Lieu introuvable"), by_code=False)
    if changes.get("code"):
        _unique_code(session, Venue, changes["code"], _l("Lieu"), venue)
    _apply(venue, changes, ("code", "name", "seated", "address"))
    session.flush()
    return venue


def update_category(session: Session, category: Any, **changes) -> SeatCategory:
    category = get(session, SeatCategory, category, _l("Catégorie introuvable"), by_code=False)
    if changes.get("code"):
        _unique_code(session, SeatCategory, changes["code"], _l("Catégorie"), category)
    _apply(category, changes, ("code", "label", "position"))
    session.flush()
    return category


def update_event(session: Session, event: Any, **changes) -> Event:
    event = get(session, Event, event, _l("Événement introuvable"), by_code=False)
    if changes.get("code"):
        _unique_code(session, Event, changes["code"], _l("Événement"), event)
    if "season" in changes:
        season = changes.pop("season")
        event.season_id = get(session, Season, season, _l("Saison introuvable")).id if season is not None else None
    _apply(event, changes, ("code", "title", "description", "for_children"))
    session.flush()
    return event


def update_tariff(session: Session, tariff: Any, **changes) -> Tariff:
    tariff = get(session, Tariff, tariff, _l("Tarif introuvable"), by_code=False)
    if changes.get("code"):
        _unique_code(session, Tariff, changes["code"], _l("Tarif"), tariff)
    if "audience" in changes:
        audience = changes.pop("audience")
        tariff.audience_id = get(session, Audience, audience, _l("Public introuvable")).id if audience is not None else None
    _apply(tariff, changes, ("code", "label", "position", "active"))
    session.flush()
    return tariff


def check_capacity(performance: Performance, capacity: int) -> None:
    """A performance's capacity never drops below the places already taken."""
    if capacity < 0:
        raise InvalidError(_("Jauge négative"), {"capacity": _("La jauge doit être positive")})
    if capacity < (performance.taken or 0):
        raise ConflictError(_("%(taken)s places sont déjà prises : la jauge ne peut pas descendre à %(capacity)s.",
                              taken=performance.taken, capacity=capacity))


def update_performance(session: Session, performance: Any, **changes) -> Performance:
    from coulisses.db import lock_rows

    performance = get(session, Performance, performance, _l("Séance introuvable"), by_code=False)
    lock_rows(session, select(Performance.id).where(Performance.id == performance.id)).scalar()
    session.refresh(performance)
    if changes.get("event") is not None:
        performance.event_id = get(session, Event, changes["event"], _l("Événement introuvable")).id
    if changes.get("venue") is not None and changes["venue"] != performance.venue_id:
        if performance.taken:
            raise ConflictError(_("%(taken)s places sont prises pour cette séance : le lieu ne peut plus changer.",
                                  taken=performance.taken))
        performance.venue_id = get(session, Venue, changes["venue"], _l("Lieu introuvable")).id
    if "season" in changes:
        season = changes["season"]
        performance.season_id = get(session, Season, season, _l("Saison introuvable")).id if season is not None else None
    if changes.get("starts_at") is not None:
        if changes["starts_at"].tzinfo is None:
            raise InvalidError(_("Date de séance sans fuseau horaire"),
                               {"starts_at": _("Date avec fuseau horaire requise")})
        performance.starts_at = changes["starts_at"]
    if changes.get("capacity") is not None:
        check_capacity(performance, changes["capacity"])
        performance.capacity = changes["capacity"]
    if changes.get("on_sale") is not None:
        performance.on_sale = changes["on_sale"]
    session.flush()
    return performance


def set_on_sale(session: Session, performance: Any, on_sale: bool) -> Performance:
    """Put a performance on sale or take it off (the sales refuse it, sold tickets stay valid)."""
    return update_performance(session, performance, on_sale=on_sale)


def deactivate_event(session: Session, event: Any) -> Event:
    """Deactivate ``event`` and take every performance of it off sale (``catalogue_rules.set_active``)."""
    from plugins.sales.services import catalogue_rules

    return catalogue_rules.set_active(session, Event, event, False)


def delete_quota(session: Session, performance: Any, category: Any) -> None:
    from coulisses.db import lock_rows

    performance = get(session, Performance, performance, _l("Séance introuvable"), by_code=False)
    category = get(session, SeatCategory, category, _l("Catégorie introuvable"), by_code=False)
    quota = lock_rows(session, select(PerformanceQuota).where(
        PerformanceQuota.performance_id == performance.id, PerformanceQuota.category_id == category.id)).scalar()
    if quota is None:
        raise NotFoundError(_("Contingent introuvable"))
    if quota.taken:
        raise ConflictError(_("%(taken)s places sont prises dans ce contingent : il ne peut pas être supprimé.",
                              taken=quota.taken))
    session.delete(quota)
    session.flush()


def delete_price(session: Session, performance: Any, category: Any, tariff: Any) -> None:
    price = session.scalar(select(Price).where(Price.performance_id == performance, Price.category_id == category,
                                               Price.tariff_id == tariff))
    if price is None:
        raise NotFoundError(_("Prix introuvable"))
    session.delete(price)
    session.flush()
