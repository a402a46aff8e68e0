"""Sales on account: authorisation, maximum outstanding (amounts in the refusal), supervisor override
(recorded), instalment schedules, refunds on account, immutability, the migrations."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses.testing import assert_migrations_match_models
from plugins.waiting_account.models import ImmutableRecordError, Instalment, Movement
from plugins.waiting_account.services import accounts, schedule
from tests.waiting_account.conftest import sell_on_account


def test_the_migrations_create_the_models_schema(database_url):
    assert_migrations_match_models(database_url, "waiting_account")


def test_a_sale_on_account_debits_the_payers_account(db, catalogue, buyer, structure):
    order = sell_on_account(db, catalogue, buyer, structure, 3)
    db.commit()
    state = accounts.state_of(db, structure)
    assert (state.outstanding, state.available) == (Decimal("330.00"), Decimal("4670.00"))
    [movement] = db.scalars(select(Movement)).all()
    assert (movement.kind, movement.amount, movement.order_id, movement.balance_after) == (
        "sale", Decimal("330.00"), order.id, Decimal("330.00"))
    assert schedule.movement_status(db, movement) == "open"
    [instalment] = db.scalars(select(Instalment)).all()
    assert instalment.amount == Decimal("330.00") and instalment.state == "open"
    assert (instalment.due_date - order.created_at.date()).days in (29, 30, 31)


def test_beyond_the_ceiling_is_refused_with_the_amounts(db, catalogue, buyer, structure):
    accounts.set_authorisation(db, structure, authorised=True, ceiling="300.00")
    sell_on_account(db, catalogue, buyer, structure, 2)
    db.commit()
    with pytest.raises(ConflictError) as err:
        sell_on_account(db, catalogue, buyer, structure, 1)
    assert "220,00" in str(err.value) and "330,00" in str(err.value) and "300,00" in str(err.value)
    db.rollback()
    assert accounts.balance(db, accounts.account_of(db, structure)) == Decimal("220.00")
    assert accounts.can_pay(db, structure, "80.00") is None
    assert "maximum" in accounts.can_pay(db, structure, "80.01")


def test_an_unauthorised_contact_is_refused_and_a_supervisor_may_override(db, catalogue, buyer):
    with pytest.raises(ConflictError, match="n'est pas autorisé"):
        sell_on_account(db, catalogue, buyer, buyer, 1)
    db.rollback()
    with pytest.raises(InvalidError):
        with accounts.override(db, "  "):
            pass
    with accounts.override(db, "Accord du directeur"):
        order = sell_on_account(db, catalogue, buyer, buyer, 1)
    db.commit()
    movement = db.scalar(select(Movement).where(Movement.order_id == order.id))
    assert movement.override_reason == "Accord du directeur" and movement.operator_id is not None
    with pytest.raises(ConflictError):  # the override was for that sale only
        sell_on_account(db, catalogue, buyer, buyer, 1)


def test_with_follow_up_three_monthly_instalments_on_the_5th(db, catalogue, buyer, structure):
    order = sell_on_account(db, catalogue, buyer, structure, 1, mode="ATTENTE_SUIVI")
    rows = schedule.schedule_of(db, order_id=order.id)
    assert [r["amount"] for r in rows] == [Decimal("36.68"), Decimal("36.66"), Decimal("36.66")]
    assert all(r["due_date"].day == 5 for r in rows)
    months = [(r["due_date"].year * 12 + r["due_date"].month) for r in rows]
    assert months[1] - months[0] == 1 and months[2] - months[1] == 1


def test_the_operator_adjusts_the_schedule_before_confirming(db, catalogue, buyer, structure):
    with schedule.sale_options(db, schedule=[("2030-01-05", "10.00"), ("2030-03-05", "100.00")]):
        order = sell_on_account(db, catalogue, buyer, structure, 1, mode="ATTENTE_SUIVI")
    assert [(r["due_date"], r["amount"]) for r in schedule.schedule_of(db, order_id=order.id)] == [
        (date(2030, 1, 5), Decimal("10.00")), (date(2030, 3, 5), Decimal("100.00"))]
    db.commit()
    with pytest.raises(InvalidError) as err:
        with schedule.sale_options(db, schedule=[("2030-01-05", "10.00")]):
            sell_on_account(db, catalogue, buyer, structure, 1, mode="ATTENTE_SUIVI")
    assert "10,00" in err.value.fields["schedule"] and "110,00" in err.value.fields["schedule"]


def test_a_refund_on_account_lowers_what_is_owed_and_the_rest_goes_to_the_credit_balance(db, catalogue, buyer,
                                                                                         structure):
    from plugins.sales.services.credit import credit_balance
    from plugins.sales.services.payments import refund
    from plugins.waiting_account.services.settlement import settle

    order = sell_on_account(db, catalogue, buyer, structure, 2)
    settle(db, accounts.account_of(db, structure), "CHEQUE", "100.00", details={"cheque_number": "1234567",
                                                                               "bank": "LCL"})
    db.commit()
    from plugins.sales.services.orders import cancel_reservation, release_tickets  # noqa: F401

    release_tickets(db, order, order.tickets, kind="refund")
    refund(db, order, "ATTENTE", "220.00", contact=structure.id)
    db.commit()
    assert accounts.balance(db, accounts.account_of(db, structure)) == 0
    assert credit_balance(db, structure) == Decimal("100.00")


def test_movements_are_immutable(db, catalogue, buyer, structure):
    sell_on_account(db, catalogue, buyer, structure, 1)
    db.commit()
    movement = db.scalar(select(Movement))
    movement.amount = Decimal("1.00")
    with pytest.raises(ImmutableRecordError):
        db.flush()
    db.rollback()
    db.delete(db.scalar(select(Movement)))
    with pytest.raises(ImmutableRecordError):
        db.flush()
