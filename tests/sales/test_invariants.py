"""Money invariants under random sequences of reserve / sell / confirm / pay / cancel / release /
refund / credit operations (hypothesis stateful testing), after every step:

- every order's balance = total − payments + refunds, its total = its tickets, its state consistent;
- a contact's credit balance is never negative (and is the sum of its movements);
- no seat is held by two live tickets, and every live seated ticket holds its booking;
- no category and no performance is sold beyond its capacity, and the counters equal the tickets.

Refused operations (ConflictError / InvalidError) are rolled back and must leave everything as it was.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from coulisses import ConflictError, InvalidError
from plugins.sales.models import (
    CreditMovement, Order, Payment, Performance, PerformanceQuota, SeatBooking, Ticket, ACTIVE_TICKET_STATES,
)
from plugins.sales.services import credit, orders
from plugins.sales.services.payments import PaymentInput, pay, refund
from tests.sales.conftest import line

AMOUNTS = st.sampled_from(["0.01", "10.00", "50.00", "60.00", "110.00", "115.50", "200.00", "500.00"])
MODES = st.sampled_from(["CASH", "CARD", "CHEQUE", "CREDIT", "OTHER"])


class World:
    """What the machine works on (set by the test before running it)."""

    db = None
    catalogue = None
    person = None
    runs = 0


class SalesMachine(RuleBasedStateMachine):
    """Each run gets its own performances and buyers, so that a run depends on nothing before it."""

    def __init__(self):
        import dataclasses

        from plugins.sales.services import catalogue as cat
        from tests.sales.conftest import next_month

        super().__init__()
        World.runs += 1
        self.db, c = World.db, World.catalogue
        performance = cat.create_performance(self.db, c.event, c.venue, next_month(), quotas={c.cat1: 30, c.cat2: 10},
                                             capacity=8)  # Cat 1 and Cat 2 share 8 places
        seated = cat.create_performance(self.db, c.event, c.seated_venue, next_month(19, 30), quotas={c.cat1: 6})
        for perf in (performance, seated):
            cat.set_price(self.db, perf, c.cat1, c.full, "110.00")
            cat.set_price(self.db, perf, c.cat1, c.reduced, "80.00")
        cat.set_price(self.db, performance, c.cat2, c.full, "60.00")
        self.c = dataclasses.replace(c, performance=performance, seated=seated)
        self.buyers = [World.person(f"Client{World.runs}", name).id for name in ("Viviane", "Michel", "Chantal")]
        self.db.commit()
        self.perf_ids = (performance.id, seated.id)
        self.orders: list[int] = []  # order numbers

    # ------------------------------------------------------------------ helpers

    def attempt(self, action):
        """Run ``action``; commit on success, roll back and check nothing moved on refusal."""
        before = self.snapshot()
        try:
            result = action()
        except (ConflictError, InvalidError):
            self.db.rollback()
            assert self.snapshot() == before, "a refused operation changed something"
            return None
        self.db.commit()
        return result

    def snapshot(self):
        db = self.db
        return (db.scalar(select(func.count()).select_from(Ticket).where(Ticket.state.in_(ACTIVE_TICKET_STATES))),
                db.scalar(select(func.count()).select_from(Payment)),
                db.scalar(select(func.count()).select_from(CreditMovement)),
                tuple(db.execute(select(PerformanceQuota.id, PerformanceQuota.taken).order_by(PerformanceQuota.id))))

    def order(self, index):
        return orders.get_order(self.db, self.orders[index % len(self.orders)])

    def lines(self, data, kinds):
        c = self.c
        out = []
        for kind in kinds:
            if kind == "cat1":
                out.append(line(c.performance, c.cat1, data.draw(st.sampled_from([c.full, c.reduced])),
                                data.draw(st.integers(1, 4))))
            elif kind == "cat2":
                out.append(line(c.performance, c.cat2, c.full, data.draw(st.integers(1, 3))))
            else:
                seats = data.draw(st.lists(st.sampled_from([s.id for s in c.seats]), min_size=1, max_size=3, unique=True))
                out.append(line(c.seated, c.cat1, c.full, len(seats), seats=seats))
        return out

    # ------------------------------------------------------------------ rules

    @rule(data=st.data(), kinds=st.lists(st.sampled_from(["cat1", "cat2", "seat"]), min_size=1, max_size=2),
          reserve_only=st.booleans(), buyer=st.integers(0, 2))
    def create(self, data, kinds, reserve_only, buyer):
        lines = self.lines(data, kinds)
        service = orders.reserve if reserve_only else orders.sell
        order = self.attempt(lambda: service(self.db, self.buyers[buyer], lines))
        if order is not None:
            self.orders.append(order.number)

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), payments=st.lists(st.tuples(MODES, AMOUNTS), min_size=1, max_size=2))
    def pay(self, index, payments):
        order = self.order(index)
        paid_before = order.paid
        result = self.attempt(lambda: pay(self.db, order, [PaymentInput(m, a) for m, a in payments]))
        if result is not None:
            assert result.order.paid == paid_before + sum(p.amount for p in result.payments)
            for p, (mode, amount) in zip(result.payments, payments):
                if p.change:
                    assert mode == "CASH" and p.tendered == Decimal(amount) == p.amount + p.change

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), modes=st.lists(MODES, min_size=1, max_size=2))
    def pay_the_balance(self, index, modes):
        """What the operator does most: pay what is due, in one or two payments."""
        order = self.order(index)
        due = order.balance
        parts = [due] if len(modes) == 1 or due < Decimal("0.02") else [(due / 2).quantize(Decimal("0.01")),
                                                                         due - (due / 2).quantize(Decimal("0.01"))]
        self.attempt(lambda: pay(self.db, order, [PaymentInput(m, a) for m, a in zip(modes, parts)]))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), mode=st.sampled_from(["CARD", "CASH", "CREDIT"]))
    def refund_what_is_owed(self, index, mode):
        order = self.order(index)
        owed = -order.balance
        self.attempt(lambda: refund(self.db, order, mode, owed))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), count=st.integers(1, 3))
    def cancel_reservation(self, index, count):
        order = self.order(index)
        tickets = [t for t in order.tickets if t.state == "reserved"][:count] or order.tickets[:1]
        self.attempt(lambda: orders.cancel_reservation(self.db, order, tickets))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50))
    def confirm(self, index):
        order = self.order(index)
        self.attempt(lambda: orders.confirm(self.db, order))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), count=st.integers(1, 2))
    def release(self, index, count):
        order = self.order(index)
        tickets = [t for t in order.tickets if t.state in ("paid", "printed")][:count] or order.tickets[:1]
        self.attempt(lambda: orders.release_tickets(self.db, order, tickets, kind="refund"))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), mode=st.sampled_from(["CARD", "CASH", "CREDIT"]))
    def return_and_refund(self, index, mode):
        """What the refunds plugin does: cancel a sold ticket and give back what is then owed."""
        order = self.order(index)
        sold = [t for t in order.tickets if t.state in ("paid", "printed")][:1]

        def both():
            orders.release_tickets(self.db, order, sold, kind="refund")
            owed = -order.balance
            if owed > 0:
                refund(self.db, order, mode, owed)
        self.attempt(both)

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50), mode=st.sampled_from(["CARD", "CASH", "CREDIT"]), amount=AMOUNTS)
    def refund(self, index, mode, amount):
        order = self.order(index)
        self.attempt(lambda: refund(self.db, order, mode, amount))

    @precondition(lambda self: self.orders)
    @rule(index=st.integers(0, 50))
    def print_tickets(self, index):
        order = self.order(index)
        self.attempt(lambda: orders.mark_printed(self.db, order.tickets, reprint=True))

    @rule(buyer=st.integers(0, 2), amount=AMOUNTS, debit=st.booleans())
    def adjust_credit(self, buyer, amount, debit):
        value = -Decimal(amount) if debit else Decimal(amount)
        self.attempt(lambda: credit.adjust_credit(self.db, self.buyers[buyer], value, "Ajustement"))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def orders_balance(self):
        for order in self.db.scalars(select(Order).where(Order.number.in_(self.orders))):
            assert orders.check_order(self.db, order) == [], order.number
            payments = self.db.scalars(select(Payment.amount).where(Payment.order_id == order.id)).all()
            total_in = sum((a for a in payments if a > 0), Decimal(0))
            refunds = sum((-a for a in payments if a < 0), Decimal(0))
            assert order.balance == order.total - total_in + refunds
            live = self.db.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.order_id == order.id, Ticket.state.in_(ACTIVE_TICKET_STATES)))
            if order.state == "settled":
                assert order.balance == 0 and live > 0
            if order.state == "cancelled":
                assert order.balance == 0 and live == 0

    @invariant()
    def credit_never_negative(self):
        for buyer in self.buyers:
            movements = self.db.scalars(select(CreditMovement).where(CreditMovement.contact_id == buyer)
                                        .order_by(CreditMovement.id)).all()
            running = Decimal(0)
            for m in movements:
                running += m.amount
                assert running >= 0 and m.balance_after == running
            assert credit.credit_balance(self.db, buyer) == running

    @invariant()
    def no_seat_sold_twice(self):
        twice = self.db.execute(select(Ticket.performance_id, Ticket.seat_id).where(
            Ticket.seat_id.is_not(None), Ticket.state.in_(ACTIVE_TICKET_STATES), Ticket.performance_id.in_(self.perf_ids))
            .group_by(Ticket.performance_id, Ticket.seat_id).having(func.count() > 1)).all()
        assert twice == []
        live_seated = self.db.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.seat_id.is_not(None), Ticket.state.in_(ACTIVE_TICKET_STATES), Ticket.performance_id.in_(self.perf_ids)))
        assert self.db.scalar(select(func.count()).select_from(SeatBooking).where(
            SeatBooking.performance_id.in_(self.perf_ids))) == live_seated

    @invariant()
    def capacity_never_exceeded(self):
        for quota in self.db.scalars(select(PerformanceQuota).where(PerformanceQuota.performance_id.in_(self.perf_ids))):
            live = self.db.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.performance_id == quota.performance_id, Ticket.category_id == quota.category_id,
                Ticket.state.in_(ACTIVE_TICKET_STATES)))
            assert quota.taken == live <= quota.capacity
        for performance in self.db.scalars(select(Performance).where(Performance.id.in_(self.perf_ids))):
            live = self.db.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.performance_id == performance.id, Ticket.state.in_(ACTIVE_TICKET_STATES)))
            assert performance.taken == live <= performance.capacity


def test_money_invariants_hold_under_random_operation_sequences(db, catalogue, person, operator_id, is_postgres):
    from plugins.sales.services.catalogue import create_fee

    create_fee(db, "LOC", "Frais de location", "2.00", refundable=False)
    create_fee(db, "DOS", "Frais de dossier", "1.50")
    World.db, World.catalogue, World.person = db, catalogue, person
    db.commit()
    run_state_machine_as_test(SalesMachine, settings=settings(
        max_examples=15 if is_postgres else 25, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))


@pytest.mark.parametrize("kinds", [["seat", "seat"]])
def test_the_same_seat_twice_in_one_basket_is_refused(db, catalogue, buyer, kinds):
    c = catalogue
    with pytest.raises(InvalidError, match="La même place est demandée deux fois"):
        orders.sell(db, buyer, [line(c.seated, c.cat1, c.full, 1, seats=[c.seats[0].id]),
                                line(c.seated, c.cat1, c.full, 1, seats=[c.seats[0].id])])
