"""The demo's people (the contacts' demo individuals, relays and members) and orders: planned over
the performances, then made through the services at their (past) moment; the seed's order 959 and a
few credit balances."""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses.db import Actor, acting_as, set_sequence_floor
from coulisses.i18n import _

from plugins.sales.demo.catalogue import Catalogue, _round
from plugins.sales.demo.data import (
    PARIS,
    SEED_BARCODES,
    SEED_OPERATION_NUMBER,
    SEED_ORDER_AT,
    SEED_ORDER_NUMBER,
    SEED_SEATS,
    TARIFF_WEIGHTS,
)
from plugins.sales.demo.devices import DemoClock, _SeededRandom


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
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
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
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
        order = orders.sell(session, akoka, [LineInput(perf.id, cat1.id, full.id, len(seats), seats=seats)],
                            structure=university, payer=university, point_of_sale=pos, delivery_mode="handed")
        assert order.number == SEED_ORDER_NUMBER, order.number
        # the seed's barcodes (issued by another system, outside our check digit): set as imported
        by_seat = {t.seat_id: t for t in order.tickets}
        for seat_id, code in zip(seats, SEED_BARCODES, strict=True):
            by_seat[seat_id].barcode = code
        session.flush()
        if not waiting_account_modes(session):
            pay(session, order, [PaymentInput("OTHER", order.total, reference="Compte d'attente UNIVERSITY PARIS")],
                point_of_sale=pos)
        # else the waiting_account plugin's demo pays it on UNIVERSITY PARIS's account, as in the seed
        orders.mark_printed(session, order.tickets, point_of_sale=pos)
    return order


def waiting_account_modes(session: Session) -> list[str]:
    """The codes of the active payment modes of type ``waiting_account`` (the plugin is enabled)."""
    from plugins.sales.models import PaymentMode

    return list(session.scalars(select(PaymentMode.code).where(PaymentMode.type_code == "waiting_account",
                                                                 PaymentMode.active.is_(True))))


SHAPIRA_FIRST_PURCHASE = datetime(2015, 9, 21, 8, 36, tzinfo=PARIS)  # "Client depuis le 21.09.2015"


def shapira_plans(session: Session, c: Catalogue, shapira: int | None, now: datetime) -> list[Plan]:
    """SHAPIRA Michel [17]'s purchases, so that his sheet agrees with itself as in the seed: his first
    order on 21.09.2015 08:36 on the internet (two Cat 1 places for Joyaux), and an order paid in the
    previous season (the PMG's period) worth between the PMG thresholds (about 200 €: "ARGENT", Moyen)."""
    from plugins.sales.services.contact_activity import season_bounds

    if shapira is None:
        return []
    cat1, full = c.categories["CAT1"].id, c.tariffs["PLEIN"].id
    plans = []
    if c.joyaux_seed is not None:
        plans.append(Plan(SHAPIRA_FIRST_PURCHASE.astimezone(timezone.utc), c.joyaux_seed, "WEB", "CUBE_B2C_S",
                          shapira, None, "settled", [(cat1, full)] * 2))
    start, end = season_bounds(session, now, -1)
    for perf in sorted(c.performances, key=lambda p: p.starts_at):
        price = c.prices.get((perf.id, cat1, full))
        at = perf.starts_at - timedelta(days=10)
        if not (start + timedelta(days=1) <= at and perf.starts_at < end) or perf is c.joyaux_seed or not price:
            continue
        quantity = max(1, int((Decimal("200") / price).to_integral_value(rounding="ROUND_CEILING")))
        if not Decimal("150") <= price * quantity < Decimal("600"):
            continue
        plans.append(Plan(at, perf, "GUICHET", "STX_BDD", shapira, None, "settled", [(cat1, full)] * quantity,
                          printed=True))
        break
    return plans


def align_customers(session: Session, keep: set[int]) -> None:
    """Make every contact's status agree with its orders once the demo's orders exist: the contacts
    demo marks some generated contacts as customers at random dates; with sales, a customer is a
    contact that bought (as buyer, payer or structure a relay bought for), customer since its first
    sold order and last purchase at its last one; the others are prospects. Stored indicators of
    contacts whose status changed are dropped (computed again when next shown); ``keep`` are
    contacts whose indicators were just computed (the buyers, recomputed after this)."""
    from sqlalchemy import delete, func, or_, update

    from plugins.contacts.models import Contact, IndicatorValue
    from plugins.sales.models import Order

    sold = (Order.state.in_(("settled", "not_settled")),
            or_(Order.buyer_id == Contact.id, Order.payer_id == Contact.id, Order.structure_id == Contact.id))
    first = select(func.min(Order.created_at)).where(*sold).correlate(Contact).scalar_subquery()
    last = select(func.max(Order.created_at)).where(*sold).correlate(Contact).scalar_subquery()
    changed = select(Contact.id).where(or_(Contact.customer_since.is_not(None), Contact.id.in_(
        select(Order.buyer_id).union(select(Order.payer_id), select(Order.structure_id)))))
    session.execute(delete(IndicatorValue).where(IndicatorValue.contact_id.in_(changed),
                                                 IndicatorValue.contact_id.not_in(keep or {0})))
    session.execute(update(Contact).where(Contact.id.in_(changed))
                    .values(customer_since=first, last_purchase_at=last)
                    .execution_options(synchronize_session=False))
    session.expire_all()


def give_credits(session: Session, c: Catalogue, buyers: list[int], rnd: random.Random, count: int = 12) -> None:
    """A few credit balances ("solde avoir") by hand, for the contact sheet's section and the
    "Solde avoir" payment mode (the refunds plugin credits them otherwise)."""
    from plugins.sales.services.credit import adjust_credit

    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    reasons = ("Geste commercial : spectacle annulé", "Report de séance", "Avoir sur réclamation")
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
        for contact_id in rnd.sample(buyers, min(count, len(buyers))):
            adjust_credit(session, contact_id, Decimal(rnd.choice((20, 30, 45, 60, 80))), rnd.choice(reasons),
                          point_of_sale=pos)


def open_seed_basket(session: Session, c: Catalogue, clock: DemoClock) -> int:
    """"Ordre 1271": the seed's cancellation basket, the demo's first operation (a fresh database's
    operation numbers start there, then follow without a gap). Returns the basket's id."""
    from plugins.sales.services.baskets import open_basket

    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    set_sequence_floor(session, "sales.operation", SEED_OPERATION_NUMBER)
    clock.now = SEED_ORDER_AT.astimezone(timezone.utc)
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
        basket = open_basket(session, point_of_sale=pos)
    return basket.id


def take_up_seed_order(session: Session, c: Catalogue, basket_id: int, order) -> None:
    """Order 959 taken up in "Ordre 1271" (the refund to come)."""
    from plugins.sales.models import Basket
    from plugins.sales.services.baskets import take_up

    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
        take_up(session, session.get(Basket, basket_id), order)


def hold_seed_basket(session: Session, c: Catalogue, basket_id: int) -> None:
    """"Ordre 1271" waits at the Guichet (METTRE EN ATTENTE), for the refund of order 959."""
    from plugins.sales.models import Basket
    from plugins.sales.services.baskets import hold

    op, pos = c.operators["STX_BDD"], c.pos["GUICHET"]
    with acting_as(Actor(operator_id=op.id, login=op.login, context={"point_of_sale_id": pos.id})):
        hold(session, session.get(Basket, basket_id), note=_("Remboursement du dossier %(number)s demandé",
                                                              number=SEED_ORDER_NUMBER))
