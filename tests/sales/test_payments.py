"""Payments: several at once, the overpayment rule (cash gives change, nothing else exceeds the
balance), refunds capped by what is owed, credit balances never negative, payment mode types."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError, PluginError
from coulisses import plugins as cplugins
from plugins.sales.models import CreditMovement, Payment
from plugins.sales.registry import PaymentModeType, Registry, use_registry
from plugins.sales.services import credit, orders, settings
from plugins.sales.services.payments import PaymentInput, pay, refund
from tests.platform.conftest import make_plugin
from tests.sales.conftest import line


@pytest.fixture
def order(db, catalogue, buyer):
    """A sold order of 2 × 110,00 (220,00), nothing paid."""
    c = catalogue
    o = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    db.commit()
    return o


def test_an_order_paid_in_two_payments_is_settled(db, order):
    first = pay(db, order, [PaymentInput("CARD", "100.00", reference="ticket CB 4411")])
    assert (order.state, order.balance, first.change) == ("not_settled", Decimal("120.00"), 0)
    second = pay(db, order, [PaymentInput("CHEQUE", "20.00"), PaymentInput("CASH", "100.00")])
    db.commit()
    assert (order.state, order.balance) == ("settled", 0)
    assert len(second.payments) == 2 and second.operation.kind == "pay"
    assert [p.amount for p in db.scalars(select(Payment).order_by(Payment.id))] == [
        Decimal("100.00"), Decimal("20.00"), Decimal("100.00")]
    assert orders.check_order(db, order) == []


def test_cash_beyond_the_balance_gives_change(db, order):
    result = pay(db, order, [PaymentInput("CARD", "200.00"), PaymentInput("CASH", "50.00")])
    cash = result.payments[1]
    assert (cash.amount, cash.tendered, cash.change, result.change) == (
        Decimal("20.00"), Decimal("50.00"), Decimal("30.00"), Decimal("30.00"))
    assert order.balance == 0 and order.paid == Decimal("220.00")


def test_other_modes_never_exceed_the_balance(db, order):
    with pytest.raises(ConflictError, match="dépasse le reste à payer .* seules les espèces rendent la monnaie"):
        pay(db, order, [PaymentInput("CARD", "220.01")])
    db.rollback()
    with pytest.raises(ConflictError, match="déjà réglé par les règlements précédents"):
        pay(db, order, [PaymentInput("CASH", "300.00"), PaymentInput("CARD", "1.00")])
    db.rollback()
    pay(db, order, [PaymentInput("CARD", "220.00")])
    with pytest.raises(ConflictError, match="n'a rien à régler"):
        pay(db, order, [PaymentInput("CASH", "1.00")])


def test_amounts_are_exact_and_positive(db, order):
    with pytest.raises(InvalidError) as err:
        pay(db, order, [PaymentInput("CARD", 10.5)])
    assert "float" in err.value.fields["payments.0.amount"]
    with pytest.raises(InvalidError):
        pay(db, order, [PaymentInput("CARD", "10.005")])
    with pytest.raises(InvalidError):
        pay(db, order, [PaymentInput("CARD", "-5.00")])


def test_paying_a_reservation_in_full_confirms_it(db, catalogue, buyer):
    c = catalogue
    reservation = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full)])
    pay(db, reservation, [PaymentInput("CARD", "10.00")])  # a deposit: still reserved
    assert reservation.state == "reserved" and buyer.customer_since is None
    pay(db, reservation, [PaymentInput("CARD", "100.00")])
    assert reservation.state == "settled" and reservation.tickets[0].state == "paid"
    assert buyer.customer_since is not None
    # the confirmation is part of the payment's operation (one operator action, one number)
    assert [op.kind for op in reservation.operations] == ["reserve", "pay", "pay"]
    from plugins.sales.services.journal import entries_of

    assert [e.kind for e in entries_of(db, order=reservation)] == ["reserve", "pay", "pay", "confirm"]
    assert entries_of(db, order=reservation)[-1].operation_id == reservation.operations[-1].id


def test_refunds_are_capped_by_what_is_owed(db, catalogue, buyer):
    c = catalogue
    reservation = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    pay(db, reservation, [PaymentInput("CARD", "50.00")])
    orders.cancel_reservation(db, reservation)
    assert (reservation.state, reservation.balance) == ("not_settled", Decimal("-50.00"))
    db.commit()
    with pytest.raises(ConflictError, match="ne doit que 50,00"):
        refund(db, reservation, "CARD", "50.01")
    db.rollback()
    refund(db, reservation, "CARD", "30.00")
    refund(db, reservation, "CASH", "20.00")
    db.commit()
    assert (reservation.state, reservation.balance) == ("cancelled", 0)
    with pytest.raises(ConflictError, match="ne doit que 0,00"):
        refund(db, reservation, "CARD", "0.01")  # a second refund of the same money is impossible
    db.rollback()
    assert orders.check_order(db, orders.get_order(db, reservation.number)) == []


def test_credit_balance_is_spent_as_a_payment_mode_and_never_negative(db, order, buyer):
    credit.adjust_credit(db, buyer, "150.00", "Geste commercial")
    db.commit()
    assert credit.credit_balance(db, buyer) == Decimal("150.00")
    with pytest.raises(ConflictError, match="Avoir insuffisant : 150,00.€ disponible"):
        pay(db, order, [PaymentInput("CREDIT", "200.00")])
    db.rollback()
    pay(db, order, [PaymentInput("CREDIT", "150.00"), PaymentInput("CARD", "70.00")])
    assert credit.credit_balance(db, buyer) == 0
    movements = credit.credit_movements(db, buyer)
    assert [(m.amount, m.balance_after) for m in movements] == [(Decimal("-150.00"), 0), (Decimal("150.00"), Decimal("150.00"))]
    assert movements[0].order_id == order.id
    with pytest.raises(ConflictError):
        credit.adjust_credit(db, buyer, "-0.01", "Correction")


def test_a_refund_to_the_credit_balance_credits_the_contact(db, catalogue, buyer):
    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)], payments=[PaymentInput("CARD", "110.00")])
    orders.release_tickets(db, order, order.tickets, kind="refund")
    refund(db, order, "CREDIT", "110.00")
    assert credit.credit_balance(db, buyer) == Decimal("110.00") and order.state == "cancelled"


def test_the_database_refuses_a_negative_running_credit(db, buyer):
    from sqlalchemy.exc import IntegrityError

    db.add(CreditMovement(contact_id=buyer.id, amount=Decimal("-1.00"), balance_after=Decimal("-1.00")))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def test_payment_modes_and_their_types(db):
    codes = [m.code for m in settings.payment_modes(db)]
    assert codes == ["CASH", "CARD", "CHEQUE", "TRANSFER", "CREDIT", "OTHER"]
    assert settings.payment_mode_type(settings.get_payment_mode(db, "CREDIT")).needs_contact
    with pytest.raises(InvalidError, match="Type de mode de règlement inconnu"):
        settings.create_payment_mode(db, "WAIT", "Compte d'attente", "waiting_account")


def test_sales_payment_mode_types_a_plugin_adds_a_type(db, order, register_plugin):
    wait = PaymentModeType("waiting_account", "Compte d'attente", can_pay=True, can_refund=True, needs_contact=True)
    register_plugin(make_plugin("tp_wait", depends=["sales"], hooks={"sales_payment_mode_types": lambda: [wait]}))
    infos = cplugins.discover()
    registry = Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_wait"])))
    with use_registry(registry):
        settings.create_payment_mode(db, "WAIT", "Compte d'attente", "waiting_account")
        result = pay(db, order, [PaymentInput("WAIT", "220.00")])
    assert result.payments[0].contact_id == order.buyer_id and order.state == "settled"
    assert "WAIT" not in [m.code for m in settings.payment_modes(db)]  # its plugin is not enabled here


def test_sales_payment_mode_types_a_code_defined_twice_differently_is_refused(register_plugin):
    clash = PaymentModeType("cash", "Liquide", gives_change=False)
    register_plugin(make_plugin("tp_cash", depends=["sales"], hooks={"sales_payment_mode_types": lambda: [clash]}))
    infos = cplugins.discover()
    with pytest.raises(PluginError, match="type de mode de règlement « cash » : « sales » en donne déjà une définition"):
        Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_cash"])))
