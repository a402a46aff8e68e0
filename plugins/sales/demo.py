"""Demo data of the sales plugin (host hook ``coulisses_demo_data``, after the contacts' demo).

- The catalogue: three seasons — 2015/2016 (the seeds' dates), the previous one and the current one
  (computed from today, so that ``make run`` always shows performances on sale and upcoming); a
  seated "Grande salle" (Orchestre rows A–J, Balcon numbered 1–48 and 51S–58S as in the seed,
  Galerie rows A–D) and an unseated "Studio" (free placement, a capacity per category); categories
  Cat 1–3; audiences and tariffs ("Contact occasionnel - Plein tarif", reduced, children, season
  ticket holders, school groups); a price per performance × category × tariff; simple fees on the
  internet and partner channels; points of sale Guichet (box office), Site internet, Revendeur
  partenaire; demo operators (inactive, they cannot log in): STX_BDD, GUICHET_2, CUBE_B2C_S.
- The seed's order, exactly: order 959 for AKOKA, Viviane [15], relay of UNIVERSITY PARIS [16] (the
  structure is the order's structure and its payer), 22 tickets "Joyaux - Lun 02.11.2015 20:15,
  Cat 1, Contact occasionnel - Plein tarif" at 110,00 € in the Balcon (51S, 1, 3, 17 … as in the
  seed), paid 2 420,00 € by the payment mode "other" (the waiting account plugin will own that
  payment later), created 28.09.2015 17:03 by STX_BDD at the Guichet, printed, handed to the contact.
- Generated orders (``small`` 40, ``normal`` 2,000, ``large`` 30,000) spread over the demo contacts
  and the performances, in chronological order: settled, partly paid, reserved (some with a
  deposit), cancelled reservations, printed tickets, e-tickets; cash (with change), card, cheque,
  transfer, other; relays buying for their structure (which pays); attendees on group orders.

Everything goes through the services (``plugins.sales.services``), so the money invariants hold by
construction; two demo-only devices make the result historical and deterministic:
- ``demo_clock``: the services' ``utcnow`` is set to each order's (past) moment while it is made,
  so the audit, operations, payments and the contacts' "customer since" read as real history;
- ``seeded_barcodes``: barcode bases are drawn from a seeded ``random.Random`` instead of
  ``secrets`` (the demo is reproducible; production barcodes stay unguessable).

Numbers: order 959 is the seed's; generated orders take the numbers before and after it in date
order. Operation 1271 ("Ordre 1271", the refund of order 959 in the seed's cancellation basket) is
left free for the refunds plugin's demo. The seed's barcode 01010002748 is not a valid barcode of
our scheme (10-digit payload + Luhn check digit: the check digit of 0101000274 is 7), so order 959's
run starts at the same payload: 51S is 01010002747, the next tickets 01010002754, … (one range).
"""
from __future__ import annotations

import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses.db import Actor, acting_as, peek_number, set_sequence_floor

SIZES = {"small": 40, "normal": 2_000, "large": 30_000}
PARIS = ZoneInfo("Europe/Paris")
SEED = 20150928

SEED_ORDER_NUMBER = 959
SEED_OPERATION_NUMBER = 1271  # kept free: the seed's refund of order 959 ("Ordre 1271")
SEED_BARCODE_PAYLOAD = 101000274  # the seed's 0101000274·8 → our 01010002747 (Luhn)
SEED_ORDER_AT = datetime(2015, 9, 28, 17, 3, tzinfo=PARIS)
SEED_PERFORMANCE_AT = datetime(2015, 11, 2, 20, 15, tzinfo=PARIS)
# The Balcon seats of the seed's order 959, in the seed's order (20 shown; 22 tickets: two more).
SEED_SEATS = ["51S", "1", "3", "17", "19", "21", "23", "24", "22", "20", "18", "16", "14", "12", "10", "8",
              "53S", "31", "33", "42", "35", "37"]
OPERATORS = (("STX_BDD", "Guichet - Sophie Tixier"), ("GUICHET_2", "Guichet - Marc Lemoine"),
             ("CUBE_B2C_S", "Canal B2C (ventes internet)"))

CATEGORIES = (("CAT1", "Cat 1"), ("CAT2", "Cat 2"), ("CAT3", "Cat 3"))
AUDIENCES = (("OCC", "Contact occasionnel"), ("ABO", "Abonné"), ("SCOL", "Groupe scolaire"))
# code, label, audience, share of the full price (None: fixed amount)
TARIFFS = (("PLEIN", "Plein tarif", "OCC", Decimal("1")),
           ("REDUIT", "Tarif réduit", "OCC", Decimal("0.7")),
           ("ENFANT", "Enfant (-12 ans)", "OCC", Decimal("0.5")),
           ("ABONNE", "Tarif abonné", "ABO", Decimal("0.85")),
           ("SCOLAIRE", "Tarif scolaire", "SCOL", None))
TARIFF_WEIGHTS = {"PLEIN": 60, "REDUIT": 18, "ENFANT": 8, "ABONNE": 12, "SCOLAIRE": 2}
SCHOOL_PRICE = Decimal("12.00")

# Events: code, title, venue ("GRANDE_SALLE" seated / "STUDIO" unseated), Cat 1/2/3 full prices,
# for children, performance hours (local) — one list per season kind.
SEASON_2015 = [
    ("JOYAUX", "Joyaux", "GRANDE_SALLE", ("110.00", "60.00", "35.00"), False,
     [(2015, 10, 30, 20, 0), (2015, 10, 31, 20, 0), (2015, 11, 1, 15, 0), (2015, 11, 2, 20, 15)]),
    ("CARMINA", "Carmina Burana", "GRANDE_SALLE", ("60.00", "45.00", "25.00"), False,
     [(2015, 10, 24, 20, 0), (2015, 10, 26, 19, 30)]),
    ("CASSE_NOISETTE", "Casse-Noisette", "GRANDE_SALLE", ("95.00", "70.00", "40.00"), True,
     [(2015, 12, 19, 15, 0), (2015, 12, 20, 15, 0), (2015, 12, 22, 20, 0)]),
    ("JAZZ_STUDIO", "Jazz au Studio", "STUDIO", ("28.00", "20.00", None), False,
     [(2016, 1, 15, 21, 0), (2016, 3, 11, 21, 0)]),
    ("PIERRE_LOUP", "Pierre et le loup", "STUDIO", ("18.00", "12.00", None), True,
     [(2016, 2, 17, 15, 0), (2016, 2, 20, 11, 0)]),
]
# For the previous and the current season: (code suffix, title, venue, prices, children, month offsets
# from September, day, hour, minute).
SEASON_TEMPLATE = [
    ("LAC", "Le Lac des cygnes", "GRANDE_SALLE", ("120.00", "85.00", "45.00"), False,
     [(1, 10, 20, 0), (1, 11, 20, 0), (1, 12, 15, 0)]),
    ("FLUTE", "La Flûte enchantée", "GRANDE_SALLE", ("130.00", "90.00", "50.00"), False,
     [(2, 14, 19, 30), (2, 16, 19, 30), (4, 6, 19, 30)]),
    ("DON_GIOVANNI", "Don Giovanni", "GRANDE_SALLE", ("140.00", "95.00", "55.00"), False,
     [(3, 8, 19, 30), (5, 21, 19, 30), (7, 3, 19, 30)]),
    ("CASSE_NOISETTE", "Casse-Noisette", "GRANDE_SALLE", ("95.00", "70.00", "40.00"), True,
     [(3, 20, 15, 0), (3, 21, 15, 0), (3, 23, 20, 0)]),
    ("QUATUOR", "Quatuor Ébène", "STUDIO", ("32.00", "22.00", None), False,
     [(0, 25, 20, 30), (2, 28, 20, 30), (6, 12, 20, 30)]),
    ("PIERRE_LOUP", "Pierre et le loup", "STUDIO", ("18.00", "12.00", None), True,
     [(2, 5, 15, 0), (5, 18, 11, 0), (8, 10, 15, 0)]),
    ("JAZZ_STUDIO", "Jazz au Studio", "STUDIO", ("28.00", "20.00", None), False,
     [(1, 30, 21, 0), (4, 15, 21, 0), (7, 24, 21, 0), (9, 5, 21, 0)]),
]


# --------------------------------------------------------------------------- demo-only devices


@dataclass
class DemoClock:
    """The moment the services believe it is (``None``: the real time)."""

    now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now if self.now is not None else datetime.now(timezone.utc)


@contextmanager
def demo_clock() -> Iterator[DemoClock]:
    """``utcnow`` answers a settable clock while the demo makes its (past) orders."""
    with cdb.clock(DemoClock()) as demo:
        yield demo


class _SeededRandom:
    """What ``barcodes`` needs of ``secrets``, from a seeded generator; ``force`` queues bases."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.forced: list[int] = []

    def randbelow(self, n: int) -> int:
        return self.forced.pop(0) if self.forced else self.rnd.randrange(n)


@contextmanager
def seeded_barcodes(seed: int) -> Iterator[_SeededRandom]:
    from plugins.sales.services import barcodes

    with barcodes.random_source(_SeededRandom(seed)) as source:
        yield source


# --------------------------------------------------------------------------- catalogue


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


def _round(amount: Decimal) -> Decimal:
    return (amount * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2  # to the half euro


def _local(y, m, d, hh, mm) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=PARIS).astimezone(timezone.utc)


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

    start = season_start(today)
    seasons = [
        ("2015-2016", date(2015, 9, 1), SEASON_2015),
        (f"{start.year - 1}-{start.year}", date(start.year - 1, 9, 1), SEASON_TEMPLATE),
        (f"{start.year}-{start.year + 1}", start, SEASON_TEMPLATE),
    ]
    for code, first_day, events in seasons:
        season = cat.create_season(session, code, code.replace("-", "/"), first_day,
                                   date(first_day.year + 1, 8, 31))
        for ev_code, title, venue_code, prices, children, dates in events:
            event = cat.create_event(session, f"{ev_code}_{first_day.year}", title, season=season,
                                     for_children=children,
                                     description=f"{title} — saison {season.label}")
            venue = c.venues[venue_code]
            moments = []
            for d in dates:
                if len(d) == 5:
                    moments.append(_local(*d))
                else:
                    months, day, hh, mm = d
                    y, m = first_day.year + (first_day.month - 1 + months) // 12, (first_day.month - 1 + months) % 12 + 1
                    moments.append(_local(y, m, min(day, 28), hh, mm))
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


# --------------------------------------------------------------------------- people


@dataclass
class People:
    individuals: list[int]
    relays: list[tuple[int, int]]  # (relay individual id, structure id)
    members: dict[int, list[int]]  # structure id → member individual ids


def load_people(session: Session) -> People:
    from plugins.contacts.models import Contact, ContactLink

    individuals = list(session.scalars(select(Contact.id).where(
        Contact.kind == "individual", Contact.valid.is_(True)).order_by(Contact.id)))
    links = session.execute(select(ContactLink.from_contact_id, ContactLink.kind, ContactLink.to_contact_id)
                            .where(ContactLink.kind.in_(("relay_of", "member_of")))
                            .order_by(ContactLink.id)).all()
    valid = set(individuals)
    relays = [(a, b) for a, kind, b in links if kind == "relay_of" and a in valid]
    members: dict[int, list[int]] = defaultdict(list)
    for a, kind, b in links:
        if kind == "member_of" and a in valid:
            members[b].append(a)
    return People(individuals, relays, members)


# --------------------------------------------------------------------------- orders


@dataclass
class Plan:
    at: datetime
    performance: Any
    pos: str
    operator: str
    buyer: int
    structure: int | None
    kind: str  # settled | partial | reserved | deposit | cancelled
    tickets: list[tuple[int, int]]  # (category id, tariff id)
    attendees: list[int] = field(default_factory=list)
    printed: bool = False


def _sale_moment(rnd: random.Random, perf_at: datetime, now: datetime) -> datetime:
    latest = min(perf_at - timedelta(hours=2), now - timedelta(minutes=5))
    earliest = perf_at - timedelta(days=100)
    span = max(60, int((latest - earliest).total_seconds()))
    at = earliest + timedelta(seconds=rnd.randrange(span))
    local = at.astimezone(PARIS)
    if local.hour < 10 or local.hour >= 19:  # the box office's and the buyers' hours
        local = local.replace(hour=rnd.randint(10, 18), minute=rnd.randrange(60))
        at = local.astimezone(timezone.utc)
    return min(at, latest)


def plan_orders(c: Catalogue, people: People, count: int, rnd: random.Random, now: datetime) -> list[Plan]:
    """``count`` orders over the performances whose sales have started, in date order."""
    tariffs = c.tariffs
    tariff_ids = [tariffs[k].id for k in TARIFF_WEIGHTS]
    weights = list(TARIFF_WEIGHTS.values())
    performances = [p for p in c.performances if p.starts_at - timedelta(days=100) < now - timedelta(minutes=10)]
    remaining = {p.id: p.capacity for p in performances}
    if c.joyaux_seed is not None:
        remaining[c.joyaux_seed.id] -= len(SEED_SEATS)
    cat_left = {p.id: {q.category_id: q.capacity for q in p.quotas} for p in performances}
    if c.joyaux_seed is not None:
        cat_left[c.joyaux_seed.id][c.categories["CAT1"].id] -= len(SEED_SEATS)
    plans = []
    for _ in range(count):
        open_perfs = [p for p in performances if remaining[p.id] >= 1]
        if not open_perfs:
            break
        # upcoming performances sell less than past ones (they are still on sale)
        perf = rnd.choices(open_perfs, [remaining[p.id] * (0.6 if p.starts_at > now else 1.0)
                                        for p in open_perfs])[0]
        at = _sale_moment(rnd, perf.starts_at, now)
        channel = rnd.choices(("GUICHET", "WEB", "PARTENAIRE"), (55, 35, 10))[0]
        operator = "CUBE_B2C_S" if channel == "WEB" else rnd.choice(("STX_BDD", "STX_BDD", "GUICHET_2"))
        structure = None
        group = rnd.random() < 0.06 and people.relays
        if group:
            buyer, structure = rnd.choice(people.relays)
            quantity = rnd.randint(8, 20)
        else:
            buyer = rnd.choice(people.individuals)
            quantity = rnd.choices((1, 2, 3, 4, 5, 6), (22, 45, 12, 13, 5, 3))[0]
        quantity = min(quantity, remaining[perf.id])
        cats = [cid for cid, left in cat_left[perf.id].items() if left > 0]
        cat_id = rnd.choice(cats)
        quantity = min(quantity, cat_left[perf.id][cat_id])
        if group and perf.event.for_children:
            chosen = [tariffs["SCOLAIRE"].id] * quantity
        elif group:
            chosen = [tariffs["PLEIN"].id] * quantity
        else:
            chosen = rnd.choices(tariff_ids, weights, k=quantity)
        chosen = [t if (perf.id, cat_id, t) in c.prices else tariffs["PLEIN"].id for t in chosen]
        past = perf.starts_at < now
        roll = rnd.random()
        if past:
            kind = "settled" if roll < 0.93 else ("partial" if roll < 0.96 else "cancelled")
        else:
            kind = ("settled" if roll < 0.70 else "partial" if roll < 0.80 else "reserved" if roll < 0.90
                    else "deposit" if roll < 0.95 else "cancelled")
        if kind != "cancelled":
            remaining[perf.id] -= quantity
            cat_left[perf.id][cat_id] -= quantity
        attendees = []
        if structure is not None and people.members.get(structure):
            pool = people.members[structure]
            attendees = [pool[i % len(pool)] for i in range(min(quantity, len(pool)))]
        elif quantity >= 2 and rnd.random() < 0.1:
            attendees = [buyer] + rnd.sample(people.individuals, quantity - 1)
        plans.append(Plan(at, perf, channel, operator, buyer, structure, kind,
                          [(cat_id, t) for t in chosen], attendees,
                          printed=kind == "settled" and channel != "WEB" and (past or rnd.random() < 0.5)))
    plans.sort(key=lambda p: p.at)
    return plans


def _payments(rnd: random.Random, total: Decimal, pos: str, structure: int | None) -> list:
    from plugins.sales.services.payments import PaymentInput

    if total <= 0:
        return []
    if structure is not None:
        return [PaymentInput(rnd.choice(("TRANSFER", "OTHER", "CHEQUE")), total, reference="Bon de commande")]
    if pos == "WEB":
        return [PaymentInput("CARD", total, reference=f"CB-{rnd.randrange(10 ** 6):06d}")]
    roll = rnd.random()
    if roll < 0.25:
        tendered = (total / 10).to_integral_value(rounding="ROUND_CEILING") * 10
        return [PaymentInput("CASH", tendered)]
    if roll < 0.75:
        return [PaymentInput("CARD", total)]
    if roll < 0.92:
        return [PaymentInput("CHEQUE", total, reference=f"Chèque n° {rnd.randrange(10 ** 7):07d}")]
    part = _round(total * Decimal("0.4"))
    if 0 < part < total:
        return [PaymentInput("CASH", part), PaymentInput("CARD", total - part)]
    return [PaymentInput("CARD", total)]


def _lines(c: Catalogue, plan: Plan):
    from plugins.sales.services.orders import LineInput

    perf = plan.performance
    by_key: dict[tuple[int, int], int] = defaultdict(int)
    for cat_id, tariff_id in plan.tickets:
        by_key[(cat_id, tariff_id)] += 1
    lines, a = [], 0
    for (cat_id, tariff_id), qty in by_key.items():
        seats = ()
        if perf.id in c.seats:
            pool = c.seats[perf.id][cat_id]
            seats, c.seats[perf.id][cat_id] = pool[:qty], pool[qty:]
        attendees = plan.attendees[a:a + qty]
        a += qty
        lines.append(LineInput(perf.id, cat_id, tariff_id, qty, seats=list(seats), attendees=attendees,
                               area=c.area_of.get(perf.id)))
    return lines


def _give_back(c: Catalogue, lines) -> None:
    for line in lines:
        if line.seats:
            c.seats[line.performance][line.category] = list(line.seats) + c.seats[line.performance][line.category]


def make_order(session: Session, c: Catalogue, plan: Plan, rnd: random.Random, clock: DemoClock):
    """Make one planned order through the services, at its moment, as its operator."""
    from plugins.sales.services import orders
    from plugins.sales.services.payments import PaymentInput, pay

    op = c.operators[plan.operator]
    pos = c.pos[plan.pos]
    lines = _lines(c, plan)
    clock.now = plan.at
    delivery = "eticket" if plan.pos == "WEB" else ("post" if plan.pos == "PARTENAIRE" and rnd.random() < 0.5
                                                   else "handed")
    payer = plan.structure
    with acting_as(Actor(operator_id=op.id, login=op.login, point_of_sale_id=pos.id)):
        if plan.kind in ("reserved", "deposit", "cancelled"):
            order = orders.reserve(session, plan.buyer, lines, structure=plan.structure, payer=payer,
                                   point_of_sale=pos, delivery_mode=delivery)
            if plan.kind == "deposit":
                clock.now = plan.at + timedelta(minutes=2)
                pay(session, order, [PaymentInput("CARD", _round(order.total * Decimal("0.3")) or order.total)],
                    point_of_sale=pos)
            elif plan.kind == "cancelled":
                clock.now = plan.at + timedelta(days=rnd.randint(1, 10))
                orders.cancel_reservation(session, order, point_of_sale=pos)
                _give_back(c, lines)
            return order
        order = orders.sell(session, plan.buyer, lines, structure=plan.structure, payer=payer, point_of_sale=pos,
                            delivery_mode=delivery)
        payments = _payments(rnd, order.total, plan.pos, plan.structure)
        if plan.kind == "partial" and order.total > 0:
            payments = [PaymentInput(rnd.choice(("CHEQUE", "CARD")), _round(order.total * Decimal("0.5")))]
        if payments and payments[0].amount > 0:
            pay(session, order, payments, point_of_sale=pos)
        if plan.printed:
            clock.now = plan.at + timedelta(minutes=1)
            orders.mark_printed(session, order.tickets, point_of_sale=pos)
    return order


def make_seed_order(session: Session, c: Catalogue, people_akoka: tuple[int, int], clock: DemoClock,
                    barcode_source: _SeededRandom):
    """Order 959 of the seed, through the services."""
    from plugins.sales.services import orders
    from plugins.sales.services.orders import LineInput
    from plugins.sales.services.payments import PaymentInput, pay

    akoka, university = people_akoka
    perf = c.joyaux_seed
    balcon = c.areas["BALCON"]
    seats = [c.seat_ids[(balcon.id, "", n)] for n in SEED_SEATS]
    cat1, full = c.categories["CAT1"], c.tariffs["PLEIN"]
    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    set_sequence_floor(session, "sales.order", SEED_ORDER_NUMBER)
    clock.now = SEED_ORDER_AT.astimezone(timezone.utc)
    barcode_source.forced.append(SEED_BARCODE_PAYLOAD)
    with acting_as(Actor(operator_id=op.id, login=op.login, point_of_sale_id=pos.id)):
        order = orders.sell(session, akoka, [LineInput(perf.id, cat1.id, full.id, len(seats), seats=seats)],
                            structure=university, payer=university, point_of_sale=pos, delivery_mode="handed")
        assert order.number == SEED_ORDER_NUMBER, order.number
        pay(session, order, [PaymentInput("OTHER", order.total, reference="Compte d'attente UNIVERSITY PARIS")],
            point_of_sale=pos)
        orders.mark_printed(session, order.tickets, point_of_sale=pos)
    return order


def give_credits(session: Session, c: Catalogue, buyers: list[int], rnd: random.Random, count: int = 12) -> None:
    """A few credit balances ("solde avoir") by hand, for the contact sheet's section and the
    "Solde avoir" payment mode (the refunds plugin credits them otherwise)."""
    from plugins.sales.services.credit import adjust_credit

    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    reasons = ("Geste commercial : spectacle annulé", "Report de séance", "Avoir sur réclamation")
    with acting_as(Actor(operator_id=op.id, login=op.login, point_of_sale_id=pos.id)):
        for contact_id in rnd.sample(buyers, min(count, len(buyers))):
            adjust_credit(session, contact_id, Decimal(rnd.choice((20, 30, 45, 60, 80))), rnd.choice(reasons),
                          point_of_sale=pos)


def _skip_seed_operation(session: Session, ahead: int = 6) -> None:
    """Keep operation number 1271 free: jump over it when the next operations would reach it."""
    nxt = peek_number(session, "sales.operation") or 1
    if nxt <= SEED_OPERATION_NUMBER < nxt + ahead:
        set_sequence_floor(session, "sales.operation", SEED_OPERATION_NUMBER + 1)


def load_demo(session: Session, size: str = "normal", *, today: date | None = None, seed: int = SEED,
              echo=None) -> dict:
    """The ``coulisses_demo_data`` hook. Returns a small summary (counts, the seed order's id)."""
    from plugins.contacts.demo import AKOKA_NUMBER, UNIVERSITY_NUMBER
    from plugins.contacts.models import Contact
    from plugins.contacts.services.indicators import recompute_indicators

    count = SIZES.get(size, SIZES["normal"])
    now = cdb.utcnow()
    today = today or now.astimezone(PARIS).date()
    rnd = random.Random(seed)
    c = build_catalogue(session, today, repeat=6 if size == "large" else 1)
    people = load_people(session)
    if not people.individuals:
        return {"orders": 0}
    akoka = session.scalar(select(Contact.id).where(Contact.number == AKOKA_NUMBER))
    university = session.scalar(select(Contact.id).where(Contact.number == UNIVERSITY_NUMBER))
    if c.joyaux_seed is not None:  # the seed order's seats are not for the generated orders
        balcon = c.areas["BALCON"].id
        seed_seats = {c.seat_ids[(balcon, "", n)] for n in SEED_SEATS}
        pool = c.seats[c.joyaux_seed.id]
        for cat_id in pool:
            pool[cat_id] = [s for s in pool[cat_id] if s not in seed_seats]
        c.left[(c.joyaux_seed.id, c.categories["CAT1"].id)] -= len(SEED_SEATS)
    plans = plan_orders(c, people, count, rnd, now)
    seed_at = SEED_ORDER_AT.astimezone(timezone.utc)
    # the orders dated before the seed's take the numbers below 959 (at most 958 of them)
    before = [p for p in plans if p.at < seed_at][-(SEED_ORDER_NUMBER - 1):]
    after = [p for p in plans if p.at >= seed_at]
    buyers: set[int] = set()
    made = 0
    with demo_clock() as clock, seeded_barcodes(seed) as source:
        for i, plan in enumerate(before + [None] + after):
            if plan is None:
                if akoka and university and c.joyaux_seed is not None:
                    _skip_seed_operation(session)
                    make_seed_order(session, c, (akoka, university), clock, source)
                    buyers.add(akoka)
                continue
            wanted: dict[int, int] = defaultdict(int)
            for cat_id, _tariff in plan.tickets:
                wanted[cat_id] += 1
            if any(c.left[(plan.performance.id, k)] < n for k, n in wanted.items()):
                continue  # a cancelled reservation planned where the places had gone meanwhile
            if plan.kind != "cancelled":
                for k, n in wanted.items():
                    c.left[(plan.performance.id, k)] -= n
            _skip_seed_operation(session)
            make_order(session, c, plan, rnd, clock)
            buyers.add(plan.buyer)
            made += 1
            if echo and made % 500 == 0:
                echo(f"  sales: {made} / {len(before) + len(after)} orders")
            if made % 100 == 0:
                session.expunge_all()  # keep the identity map (and each flush) small
        clock.now = None
        _skip_seed_operation(session, ahead=20)
        give_credits(session, c, sorted(buyers - {akoka}), rnd)
    set_sequence_floor(session, "sales.order", SEED_ORDER_NUMBER + 1)
    set_sequence_floor(session, "sales.operation", SEED_OPERATION_NUMBER + 1)
    # Indicators as of today (the orders recomputed them as of each order's moment).
    for contact in session.scalars(select(Contact).where(Contact.id.in_(buyers))):
        recompute_indicators(session, contact)
    session.flush()
    return {"orders": made + 1}
