"""Demo data of the sales plugin (host hook ``coulisses_demo_data``, after the contacts' demo).

- The catalogue: the seasons — 2015/2016 (the seeds' dates), the previous one, the current one and,
  when the current one ends less than ``HORIZON_MONTHS`` (9) after today, the next one (computed from
  today, so that ``make run`` always shows performances on sale and a programme months ahead); a
  seated "Grande salle" (Orchestre rows A–J, Balcon numbered 1–48 and 51S–58S as in the seed,
  Galerie rows A–D) and an unseated "Studio" (free placement, a capacity per category); categories
  Cat 1–3; audiences and tariffs ("Contact occasionnel - Plein tarif", reduced, children, season
  ticket holders, school groups); a price per performance × category × tariff; simple fees on the
  internet and partner channels; points of sale Guichet (box office), Site internet, Revendeur
  partenaire; demo operators (inactive, they cannot log in): STX_BDD, GUICHET_2, CUBE_B2C_S.
- The seed's order, exactly: order 959 for AKOKA, Viviane [15], relay of UNIVERSITY PARIS [16] (the
  structure is the order's structure and its payer), 22 tickets "Joyaux - Lun 02.11.2015 20:15,
  Cat 1, Contact occasionnel - Plein tarif" at 110,00 € in the Balcon (51S, 1, 3, 17 … as in the
  seed), paid 2 420,00 € by the payment mode "other" — or, when the waiting_account plugin is
  enabled (a payment mode of its type exists), left for its demo to pay on account —, created 28.09.2015 17:03 by STX_BDD at the Guichet, printed, handed to the contact.
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

Numbers, gapless as in production: order 959 is the seed's; generated orders take the numbers just
before and after it in date order (a fresh database starts at 959 minus the orders dated before the
seed's). Operations start at 1271 (a fresh database): "Ordre 1271" is the seed's cancellation basket
of order 959 — a basket that takes order 959 up and is left on hold at the Guichet, for the refund
(the refunds plugin's demo resumes it); every later operation follows without a gap. Order 959's tickets carry the seed's barcodes
(``SEED_BARCODES``: 51S is 01010002748, …, all within 01010002727 … 01010002748, one range). They
do not follow our scheme (10-digit payload + Luhn check digit): like tickets imported from another
system, they are found by look-up and scanning all the same.

Modules: ``data`` (the fixed data and the seed's numbers), ``devices`` (``demo_clock``,
``seeded_barcodes``), ``catalogue`` (``build_catalogue``), ``orders`` (people, planned orders, the
seed's order, credits); ``load_demo`` (here) runs them. Every name is re-exported here.
"""
from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses.db import set_sequence_floor
from coulisses.i18n import _, local_time

from plugins.sales.demo.catalogue import Catalogue, build_catalogue, demo_seasons, season_start
from plugins.sales.demo.data import (
    AUDIENCES,
    CATEGORIES,
    HORIZON_MONTHS,
    OPERATORS,
    PARIS,
    SCHOOL_PRICE,
    SEASON_2015,
    SEASON_TEMPLATE,
    SEED,
    SEED_BARCODE_PAYLOAD,
    SEED_BARCODES,
    SEED_OPERATION_NUMBER,
    SEED_ORDER_AT,
    SEED_ORDER_NUMBER,
    SEED_PERFORMANCE_AT,
    SEED_SEATS,
    SIZES,
    TARIFF_WEIGHTS,
    TARIFFS,
)
from plugins.sales.demo.devices import DemoClock, demo_clock, seeded_barcodes
from plugins.sales.services.delivery import no_documents
from plugins.sales.demo.orders import (
    People,
    Plan,
    give_credits,
    load_people,
    make_order,
    hold_seed_basket,
    make_seed_order,
    open_seed_basket,
    take_up_seed_order,
    shapira_plans,
    align_customers,
    plan_orders,
)
from plugins.sales.demo.catalogue import _local, _operators, _round  # noqa: F401
from plugins.sales.demo.devices import _SeededRandom  # noqa: F401
from plugins.sales.demo.orders import _give_back, _lines, _payments, _sale_moment  # noqa: F401

__all__ = [
    "SIZES", "PARIS", "SEED", "SEED_ORDER_NUMBER", "SEED_OPERATION_NUMBER", "SEED_BARCODE_PAYLOAD", "SEED_BARCODES", "SEED_ORDER_AT",
    "SEED_PERFORMANCE_AT", "SEED_SEATS", "OPERATORS", "CATEGORIES", "AUDIENCES", "TARIFFS", "TARIFF_WEIGHTS",
    "SCHOOL_PRICE", "SEASON_2015", "SEASON_TEMPLATE", "HORIZON_MONTHS",
    "DemoClock", "demo_clock", "seeded_barcodes",
    "Catalogue", "season_start", "demo_seasons", "build_catalogue",
    "People", "load_people", "Plan", "plan_orders", "make_order", "make_seed_order", "open_seed_basket",
    "take_up_seed_order", "hold_seed_basket", "shapira_plans", "align_customers", "give_credits",
    "load_demo",
]


def load_demo(session: Session, size: str = "normal", *, today: date | None = None, seed: int = SEED,
              echo=None) -> dict:
    """The ``coulisses_demo_data`` hook. Returns a small summary (counts, the seed order's id)."""
    from plugins.contacts.demo import AKOKA_NUMBER, SHAPIRA_NUMBER, UNIVERSITY_NUMBER
    from plugins.contacts.models import Contact
    from plugins.contacts.services.indicators import recompute_indicators

    count = SIZES.get(size, SIZES["normal"])
    now = cdb.utcnow()
    today = today or local_time(now).date()  # the deployment's day
    rnd = random.Random(seed)
    c = build_catalogue(session, today, repeat=6 if size == "large" else 1)
    people = load_people(session)
    if not people.individuals:
        return {"orders": 0}
    akoka = session.scalar(select(Contact.id).where(Contact.number == AKOKA_NUMBER))
    university = session.scalar(select(Contact.id).where(Contact.number == UNIVERSITY_NUMBER))
    shapira = session.scalar(select(Contact.id).where(Contact.number == SHAPIRA_NUMBER))
    if shapira is not None:  # his purchases are the seed's (shapira_plans), not random ones
        people.individuals = [i for i in people.individuals if i != shapira]
    if c.joyaux_seed is not None:  # the seed order's seats are not for the generated orders
        balcon = c.areas["BALCON"].id
        seed_seats = {c.seat_ids[(balcon, "", n)] for n in SEED_SEATS}
        pool = c.seats[c.joyaux_seed.id]
        for cat_id in pool:
            pool[cat_id] = [s for s in pool[cat_id] if s not in seed_seats]
        c.left[(c.joyaux_seed.id, c.categories["CAT1"].id)] -= len(SEED_SEATS)
    plans = plan_orders(c, people, count, rnd, now)
    plans = sorted(shapira_plans(session, c, shapira, now) + plans, key=lambda p: p.at)
    seed_at = SEED_ORDER_AT.astimezone(timezone.utc)
    # the orders dated before the seed's take the numbers just below 959 (at most 958 of them)
    before = _feasible(c, [p for p in plans if p.at < seed_at])[-(SEED_ORDER_NUMBER - 1):]
    after = [p for p in plans if p.at >= seed_at]
    seeded = bool(akoka and university and c.joyaux_seed is not None)
    if seeded:
        set_sequence_floor(session, "sales.order", SEED_ORDER_NUMBER - len(before))
    buyers: set[int] = set()
    made = 0
    with demo_clock() as clock, seeded_barcodes(seed) as source, no_documents(session):  # historical orders: no documents
        basket_id = open_seed_basket(session, c, clock) if seeded else None
        for i, plan in enumerate(before + [None] + after):
            if plan is None:
                if seeded:
                    order = make_seed_order(session, c, (akoka, university), clock, source)
                    take_up_seed_order(session, c, basket_id, order)
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
            make_order(session, c, plan, rnd, clock)
            buyers.add(plan.buyer)
            made += 1
            if echo and made % 500 == 0:
                echo(_("  ventes : %(made)s / %(total)s dossiers", made=made, total=len(before) + len(after)))
            if made % 100 == 0:
                session.expunge_all()  # keep the identity map (and each flush) small
        clock.now = None
        if basket_id is not None:
            hold_seed_basket(session, c, basket_id)
        give_credits(session, c, sorted(buyers - {akoka}), rnd)
    align_customers(session, buyers)
    # Indicators as of today (the orders recomputed them as of each order's moment).
    for contact in session.scalars(select(Contact).where(Contact.id.in_(buyers))):
        recompute_indicators(session, contact)
    session.flush()
    return {"orders": made + 1, "seed_basket": basket_id}


def _feasible(c: Catalogue, plans: list) -> list:
    """The plans the loop will make (a cancelled reservation planned where the places had gone is
    left out), worked out beforehand so that the order numbers can be given without a gap."""
    left = dict(c.left)
    kept = []
    for plan in plans:
        wanted: dict[int, int] = defaultdict(int)
        for cat_id, _tariff in plan.tickets:
            wanted[cat_id] += 1
        if any(left[(plan.performance.id, k)] < n for k, n in wanted.items()):
            continue
        if plan.kind != "cancelled":
            for k, n in wanted.items():
                left[(plan.performance.id, k)] -= n
        kept.append(plan)
    return kept
