"""Payment mode types as a base class: safe defaults, the built-ins' rules (settings, the operator's
fields, card refunds), a plugin's own type (settings, fields, the reason a payment is refused), and
payments that complete later (pending → completed / failed / unknown → resolved by an operator)."""
from decimal import Decimal

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

from coulisses import ConflictError, InvalidError, PluginError
from coulisses import plugins as cplugins
from plugins.sales.models import Operation, Payment, PendingPayment
from plugins.sales.payment_types import (
    AmountLimits, PaymentModeType, PaymentOutcome, TrimmedString, field_specs,
)
from plugins.sales.registry import Registry, get_registry, use_registry
from plugins.sales.services import orders, pending as pend, settings
from plugins.sales.services.payments import PaymentInput, pay, refund, refund_or_pending
from tests.platform.conftest import make_plugin
from tests.sales.conftest import line


@pytest.fixture
def order(db, catalogue, buyer):
    """A sold order of 2 × 110,00 (220,00), nothing paid."""
    c = catalogue
    o = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)])
    db.commit()
    return o


def set_settings(db, code, **values):
    mode = settings.update_payment_mode_settings(db, code, values)
    db.commit()
    return mode


# --------------------------------------------------------------------------- the base class


def test_a_flags_only_type_keeps_working_with_safe_defaults(db, order):
    t = PaymentModeType("voucher", "Bon", can_refund=False, needs_contact=True)
    assert (t.code, t.can_pay, t.can_refund, t.needs_contact, t.gives_change, t.completes_later) == (
        "voucher", True, False, True, False, False)
    assert t.load_settings({}) == {} and t.load_fields({}) == {}
    with pytest.raises(InvalidError) as err:
        t.load_fields({"number": "12"}, prefix="payments.0.details")
    assert err.value.fields == {"payments.0.details.number": "Champ inconnu"}
    assert t == PaymentModeType("voucher", "Bon", can_refund=False, needs_contact=True)
    assert t != PaymentModeType("voucher", "Bon")
    with pytest.raises(ValueError):
        PaymentModeType()


def test_the_builtins_are_subclasses_with_their_settings_and_fields():
    types = get_registry().payment_mode_types
    assert list(types) == ["cash", "card", "cheque", "bank_transfer", "credit_balance", "other"]
    assert all(isinstance(t, PaymentModeType) for t in types.values())
    assert [f.name for f in field_specs(types["cheque"].fields_schema)] == ["cheque_number", "bank"]
    specs = {f.name: f for f in field_specs(types["cheque"].settings_schema)}
    assert (specs["max_amount"].kind, specs["require_bank"].kind) == ("amount", "boolean")
    assert specs["max_amount"].label == "Montant maximum d'un règlement"
    assert types["cash"].gives_change and types["credit_balance"].needs_contact


def test_settings_are_validated_field_by_field(db):
    cheque = get_registry().payment_mode_types["cheque"]
    assert cheque.load_settings({"max_amount": "1 500,50", "require_bank": True})["max_amount"] == "1500.50"
    with pytest.raises(InvalidError) as err:
        cheque.load_settings({"max_amount": "beaucoup", "min_amount": "-1"})
    assert set(err.value.fields) == {"settings.max_amount", "settings.min_amount"}


def test_the_cash_limit_of_the_settings_refuses_with_the_reason(db, order):
    set_settings(db, "CASH", max_amount="100.00")
    with pytest.raises(ConflictError, match="Espèces : 150,00.€ dépasse le maximum de 100,00.€"):
        pay(db, order, [PaymentInput("CASH", "150.00")])
    db.rollback()
    result = pay(db, order, [PaymentInput("CASH", "100.00")])
    assert result.payments[0].amount == Decimal("100.00")


def test_the_cheque_fields_are_kept_on_the_payment_and_can_be_required(db, order):
    set_settings(db, "CHEQUE", require_number=True, require_bank=True)
    with pytest.raises(InvalidError) as err:
        pay(db, order, [PaymentInput("CHEQUE", "20.00", details={"cheque_number": "0012345"})])
    assert err.value.fields == {"payments.0.details.bank": "Champ obligatoire."}
    db.rollback()
    result = pay(db, order, [PaymentInput("CARD", "100.00"),
                             PaymentInput("CHEQUE", "120.00", details={"cheque_number": " 0012345 ", "bank": "LCL"})])
    db.commit()
    cheque = result.payments[1]
    assert (cheque.details, cheque.reference) == ({"cheque_number": "0012345", "bank": "LCL"}, "0012345")


def test_a_card_refund_is_at_most_what_the_card_paid(db, order, catalogue):
    pay(db, order, [PaymentInput("CARD", "100.00", details={"authorisation": "A1B2"}), PaymentInput("CASH", "120.00")])
    tickets = order.tickets
    orders.release_tickets(db, order, tickets, kind="refund")
    db.commit()
    assert order.balance == Decimal("-220.00")
    with pytest.raises(ConflictError, match="au plus 100,00.€ peut être remboursé"):
        refund(db, order, "CARD", "150.00")
    db.rollback()
    refund(db, order, "CARD", "100.00")
    with pytest.raises(ConflictError, match="au plus 0,00.€"):
        refund(db, order, "CARD", "1.00")
    refund(db, order, "CASH", "120.00")
    db.commit()
    assert order.balance == 0 and orders.check_order(db, order) == []


# --------------------------------------------------------------------------- a plugin's own type


class GiftSettings(AmountLimits):
    prefix = fields.String(load_default="GC-", metadata={"label": "Préfixe des bons"})


class GiftFields(Schema):
    voucher = TrimmedString(required=True, metadata={"label": "N° du bon"})


class GiftCard(PaymentModeType):
    code = "gift_card"
    label = "Bon cadeau"
    can_refund = False
    settings_schema = GiftSettings
    fields_schema = GiftFields
    reference_field = "voucher"

    def check_payment(self, ctx):
        if not ctx.details["voucher"].startswith(ctx.settings["prefix"]):
            return f"Bon {ctx.details['voucher']} inconnu"
        return super().check_payment(ctx)


def registry_with(register_plugin, name, *types):
    register_plugin(make_plugin(name, depends=["sales"], hooks={"sales_payment_mode_types": lambda: list(types)}))
    infos = cplugins.discover()
    return Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, [name])))


def test_a_plugin_type_with_settings_fields_and_its_own_rule(db, order, register_plugin):
    registry = registry_with(register_plugin, "tp_gift", GiftCard)  # a subclass: instantiated
    with use_registry(registry):
        with pytest.raises(InvalidError) as err:
            settings.create_payment_mode(db, "GIFT", "Bon cadeau", "gift_card", settings={"max_amount": "x"})
        assert list(err.value.fields) == ["settings.max_amount"]
        settings.create_payment_mode(db, "GIFT", "Bon cadeau", "gift_card", settings={"max_amount": "50"})
        db.commit()
        with pytest.raises(InvalidError) as err:
            pay(db, order, [PaymentInput("GIFT", "20.00")])
        assert err.value.fields == {"payments.0.details.voucher": "Champ obligatoire."}
        db.rollback()
        with pytest.raises(ConflictError, match="Bon XX-1 inconnu"):
            pay(db, order, [PaymentInput("GIFT", "20.00", details={"voucher": "XX-1"})])
        db.rollback()
        with pytest.raises(ConflictError, match="dépasse le maximum de 50,00"):
            pay(db, order, [PaymentInput("GIFT", "60.00", details={"voucher": "GC-1"})])
        db.rollback()
        result = pay(db, order, [PaymentInput("GIFT", "20.00", details={"voucher": "GC-7"})])
        assert (result.payments[0].reference, order.balance) == ("GC-7", Decimal("200.00"))
        assert "GIFT" not in [m.code for m in settings.payment_modes(db, for_refund=True)]


def test_a_hook_returning_something_else_than_a_type_is_refused(register_plugin):
    with pytest.raises(PluginError, match="doit renvoyer des objets PaymentModeType"):
        registry_with(register_plugin, "tp_bad", {"code": "x"})


# --------------------------------------------------------------------------- completing later


class Terminal(PaymentModeType):
    code = "test_terminal"
    label = "Terminal de test"
    completes_later = True
    started: list = []

    def pay(self, ctx):
        return PaymentOutcome.pending(details={"terminal": "T1"})

    def refund(self, ctx):
        return PaymentOutcome.pending()

    def on_pending(self, ctx, pending):
        Terminal.started.append(pending.id)


@pytest.fixture
def terminal(db, register_plugin):
    registry = registry_with(register_plugin, "tp_term", Terminal)
    with use_registry(registry):
        settings.create_payment_mode(db, "TPE", "TPE", "test_terminal")
        db.commit()
        Terminal.started.clear()
        yield registry


def test_a_pending_payment_holds_the_amount_until_it_completes(db, order, terminal):
    result = pay(db, order, [PaymentInput("TPE", "220.00")])
    db.commit()
    (p,) = result.pending
    assert (result.payments, p.state, Terminal.started) == ([], "pending", [p.id])
    assert (order.paid, order.state, p.details) == (0, "not_settled", {"terminal": "T1"})
    with pytest.raises(ConflictError, match="déjà réglé par les règlements précédents"):
        pay(db, order, [PaymentInput("CARD", "10.00")])  # the terminal holds the whole balance
    db.rollback()
    payment = pend.complete_pending(db, p.id, reference="AUTH 0042")
    db.commit()
    assert (payment.amount, payment.reference, payment.operation_id) == (Decimal("220.00"), "AUTH 0042",
                                                                         p.operation_id)
    assert (order.state, p.state, p.payment_id) == ("settled", "completed", payment.id)
    assert pend.complete_pending(db, p.id).id == payment.id  # the device said it twice: one payment
    assert db.scalar(select(Payment.id).where(Payment.order_id == order.id).limit(2).offset(1)) is None


def test_a_failed_pending_payment_leaves_the_amount_due(db, order, terminal):
    (p,) = pay(db, order, [PaymentInput("TPE", "220.00")]).pending
    pend.fail_pending(db, p, message="Carte refusée")
    db.commit()
    assert (p.state, p.message, order.balance) == ("failed", "Carte refusée", Decimal("220.00"))
    with pytest.raises(ConflictError, match="déjà échoué"):
        pend.complete_pending(db, p)
    db.rollback()
    pay(db, order, [PaymentInput("CARD", "220.00")])
    assert order.state == "settled"


def test_an_unknown_outcome_waits_for_an_operator(db, order, terminal, operator_id):
    (p,) = pay(db, order, [PaymentInput("TPE", "120.00")]).pending
    pend.mark_unknown(db, p, message="Pas de réponse du terminal")
    db.commit()
    assert [x.id for x in pend.open_pending(db)] == [p.id] and p.state == "unknown"
    with pytest.raises(InvalidError) as err:
        pend.resolve_pending(db, p, "completed", note=" ")
    assert "note" in err.value.fields
    db.rollback()
    payment = pend.resolve_pending(db, p, "completed", note="Ticket du TPE vu : accepté", reference="AUTH 9")
    db.commit()
    assert (payment.amount, order.paid, p.state, p.resolved_by_operator, p.resolved_by_id) == (
        Decimal("120.00"), Decimal("120.00"), "completed", True, operator_id)
    kinds = [o.kind for o in db.scalars(select(Operation).where(Operation.order_id == order.id).order_by(Operation.id))]
    assert kinds == ["sell", "pay", "pending_resolved"]
    assert pend.open_pending(db) == []
    with pytest.raises(ConflictError):
        pend.resolve_pending(db, p, "failed", note="trop tard")


def test_a_pending_refund_holds_what_is_owed(db, order, terminal):
    pay(db, order, [PaymentInput("CARD", "220.00")])
    orders.release_tickets(db, order, order.tickets, kind="refund")
    started = refund_or_pending(db, order, "TPE", "200.00")
    assert isinstance(started, PendingPayment) and started.amount == Decimal("-200.00")
    assert refund(db, order, "CASH", "20.00").amount == Decimal("-20.00")
    db.commit()
    with pytest.raises(ConflictError, match="ne doit que 0,00"):
        refund(db, order, "CASH", "0.01")
    db.rollback()
    pend.complete_pending(db, started)
    db.commit()
    assert (order.balance, order.state) == (0, "cancelled")
