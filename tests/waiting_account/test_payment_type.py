"""The "Compte d'attente" payment mode type: its settings schema (the mode's form), the reason given
before paying (authorisation, maximum outstanding with the amounts), the override, refunds."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from plugins.sales.payment_types import PaymentModeType, field_specs
from plugins.waiting_account.payment_type import WAITING_ACCOUNT, WaitingAccount
from plugins.waiting_account.services import accounts, schedule
from tests.waiting_account.conftest import sell_on_account


def _mode(db, code):
    from plugins.sales.models import PaymentMode

    return db.scalar(select(PaymentMode).where(PaymentMode.code == code))


def test_the_type_is_registered_as_a_payment_mode_type(db):
    from plugins.sales.registry import get_registry

    mtype = get_registry().payment_mode_type("waiting_account")
    assert isinstance(mtype, WaitingAccount) and isinstance(mtype, PaymentModeType)
    assert (mtype.needs_contact, mtype.can_pay, mtype.can_refund) == (True, True, True)


def test_the_default_modes_keep_their_rules(db):
    assert _mode(db, "ATTENTE_SUIVI").settings == {"follow_up": True, "count": 3, "day": 5, "months": 1,
                                                   "auto_invoice": False}
    assert schedule.rules(_mode(db, "ATTENTE"))["follow_up"] is False


def test_the_settings_form_has_translated_labels_and_validates_each_field(db):
    from coulisses.i18n import use_locale

    specs = {s.name: s for s in field_specs(WaitingAccount.settings_schema)}
    assert [specs[n].kind for n in ("follow_up", "count", "day", "months")] == ["boolean", "integer", "integer",
                                                                                "integer"]
    assert specs["count"].label == "Nombre d'échéances"
    with use_locale("en"):
        assert field_specs(WaitingAccount.settings_schema)[1].label == "Number of instalments"
    # empty fields take their defaults (a form posts None for what was left empty)
    assert WAITING_ACCOUNT.load_settings({"follow_up": True, "count": None, "day": "", "months": None}) == {
        "follow_up": True, "count": 1, "day": 5, "months": 1, "auto_invoice": False}
    with pytest.raises(InvalidError) as err:
        WAITING_ACCOUNT.load_settings({"follow_up": True, "count": 0, "day": 31, "months": "x"})
    assert set(err.value.fields) == {"settings.count", "settings.day", "settings.months"}


def test_settings_edited_on_the_mode_change_the_schedule(db, catalogue, buyer, structure):
    from plugins.sales.services.settings import update_payment_mode_settings

    update_payment_mode_settings(db, _mode(db, "ATTENTE_SUIVI"), {"follow_up": True, "count": 2, "day": 10,
                                                                   "months": 2})
    db.commit()
    order = sell_on_account(db, catalogue, buyer, structure, 1, mode="ATTENTE_SUIVI")
    rows = schedule.schedule_of(db, order_id=order.id)
    assert [r["amount"] for r in rows] == [Decimal("55.00"), Decimal("55.00")]
    assert all(r["due_date"].day == 10 for r in rows)
    assert (rows[1]["due_date"].year * 12 + rows[1]["due_date"].month) - (
        rows[0]["due_date"].year * 12 + rows[0]["due_date"].month) == 2


def test_check_payment_gives_the_reason_with_the_amounts_before_paying(db, catalogue, buyer, structure):
    from plugins.sales.services.payments import context

    accounts.set_authorisation(db, structure, authorised=True, ceiling="300.00")
    sell_on_account(db, catalogue, buyer, structure, 2)
    db.commit()
    mode = _mode(db, "ATTENTE")
    from plugins.sales.models import Order

    some_order = db.scalars(select(Order)).first()
    ok = context(db, some_order, mode, WAITING_ACCOUNT, Decimal("80.00"), structure)
    assert WAITING_ACCOUNT.check_payment(ok) is None
    too_much = context(db, some_order, mode, WAITING_ACCOUNT, Decimal("80.01"), structure)
    reason = str(WAITING_ACCOUNT.check_payment(too_much))
    assert "220,00" in reason and "300,01" in reason and "300,00" in reason
    not_authorised = context(db, some_order, mode, WAITING_ACCOUNT, Decimal("1.00"), buyer)
    assert "n'est pas autorisé" in str(WAITING_ACCOUNT.check_payment(not_authorised))
    with accounts.override(db, "Accord du directeur"):
        assert WAITING_ACCOUNT.check_payment(too_much) is None
    no_contact = context(db, some_order, mode, WAITING_ACCOUNT, Decimal("1.00"), None)
    assert WAITING_ACCOUNT.check_payment(no_contact) is not None


def test_a_sale_beyond_the_ceiling_is_refused_by_the_type_nothing_written(db, catalogue, buyer, structure):
    from plugins.waiting_account.models import Movement

    accounts.set_authorisation(db, structure, authorised=True, ceiling="100.00")
    db.commit()
    with pytest.raises(ConflictError, match="maximum"):
        sell_on_account(db, catalogue, buyer, structure, 1)
    db.rollback()
    assert db.scalars(select(Movement)).all() == []


@pytest.fixture
def supervisor(db):
    """An operator of role supervisor, holding the waiting account's permissions (their defaults)."""
    from coulisses import security
    from plugins.waiting_account.hooks import coulisses_permissions

    security.sync_roles_and_permissions(db, security.collect_permissions([("waiting_account",
                                                                           coulisses_permissions())]))
    op = security.create_operator(db, "SUPERVISEUR", "correct horse battery", "Superviseur", ["supervisor"])
    db.commit()
    return op


def test_a_supervisor_types_the_override_reason_in_the_payment_field(db, catalogue, buyer, structure, supervisor):
    from coulisses.db import Actor, acting_as
    from plugins.waiting_account.models import Movement

    # the override reason is drawn in the payment row; the schedule is the payment panel's hidden input
    assert [(s.name, s.kind) for s in field_specs(WaitingAccount.fields_schema)] == [("override_reason", "text"),
                                                                                     ("schedule", "hidden")]
    # an operator without the permission: refused on the field, nothing written
    with pytest.raises(InvalidError) as err:
        sell_on_account(db, catalogue, buyer, buyer, 1, details={"override_reason": "Accord"})
    assert "payments.0.details.override_reason" in err.value.fields
    db.rollback()
    assert db.scalars(select(Movement)).all() == []
    with acting_as(Actor(operator_id=supervisor.id, login=supervisor.login)):
        order = sell_on_account(db, catalogue, buyer, buyer, 1, details={"override_reason": "  Accord du directeur "})
        db.commit()
    movement = db.scalar(select(Movement).where(Movement.order_id == order.id))
    assert movement.override_reason == "Accord du directeur" and movement.operator_id == supervisor.id
    assert accounts.balance(db, movement.account_id) == Decimal("110.00")
    with pytest.raises(ConflictError, match="n'est pas autorisé"):  # for that payment only
        sell_on_account(db, catalogue, buyer, buyer, 1)



def test_installing_the_defaults_again_restores_rules_lost_while_the_type_had_no_schema(db):
    from plugins.waiting_account.services.views import install_defaults

    _mode(db, "ATTENTE_SUIVI").settings = {}
    _mode(db, "ATTENTE").settings = {"follow_up": True, "count": 2}  # an organisation's own: kept
    db.commit()
    install_defaults(db)
    db.commit()
    assert schedule.rules(_mode(db, "ATTENTE_SUIVI"))["count"] == 3
    assert _mode(db, "ATTENTE").settings == {"follow_up": True, "count": 2}
