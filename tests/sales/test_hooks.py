"""The hooks the sales plugin offers: the event hooks run inside the transaction and can veto,
sales_order_actions extend the order detail, sales_operation_kinds extend the journal."""
import pytest

from coulisses import ConflictError, InvalidError, PluginError
from coulisses import plugins as cplugins
from plugins.sales.registry import OperationKind, OrderAction, Registry, use_registry
from plugins.sales.services import orders
from plugins.sales.services.detail import order_detail
from plugins.sales.services.journal import record_operation
from plugins.sales.services.payments import PaymentInput, pay, refund
from tests.platform.conftest import make_plugin
from tests.sales.conftest import line


def registry_for(register_plugin, **hooks):
    register_plugin(make_plugin("tp_sales_hooks", depends=["sales"], hooks=hooks))
    infos = cplugins.discover()
    return Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_sales_hooks"])))


def test_event_hooks_are_called_in_order_inside_the_transaction(db, catalogue, buyer, register_plugin):
    seen = []
    registry = registry_for(
        register_plugin,
        sales_order_created=lambda session, order: seen.append(("created", order.number, order.state, len(order.tickets))),
        sales_payment_recorded=lambda session, order, payment: seen.append(("payment", str(payment.amount))),
        sales_order_paid=lambda session, order: seen.append(("paid", order.state)),
        sales_tickets_cancelled=lambda session, order, tickets: seen.append(("cancelled", len(tickets))),
        sales_tickets_printed=lambda session, order, tickets: seen.append(("printed", [t.print_state for t in tickets])),
    )
    c = catalogue
    with use_registry(registry):
        order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 2)],
                            payments=[PaymentInput("CARD", "100.00"), PaymentInput("CASH", "120.00")])
        orders.mark_printed(db, order.tickets[:1])
        reservation = orders.reserve(db, buyer, [line(c.performance, c.cat2, c.full, 3)])
        orders.cancel_reservation(db, reservation, reservation.tickets[:2])
        orders.release_tickets(db, order, order.tickets[1:], kind="refund")
        refund(db, order, "CASH", "110.00")
    assert seen == [
        ("created", 1, "not_settled", 2), ("payment", "100.00"), ("payment", "120.00"), ("paid", "settled"),
        ("printed", ["printed"]), ("created", 2, "reserved", 3), ("cancelled", 2), ("cancelled", 1),
        ("payment", "-110.00"), ("paid", "settled")]


def test_raising_from_an_event_hook_vetoes_the_operation(db, catalogue, buyer, register_plugin):
    def limit(session, order):
        if len(order.tickets) > 4:
            raise ConflictError("Pas plus de 4 billets par dossier")

    def ceiling(session, order, payment):
        if payment.payment_mode.code == "OTHER":
            raise ConflictError("Encours maximum dépassé")

    registry = registry_for(register_plugin, sales_order_created=limit, sales_payment_recorded=ceiling)
    c = catalogue
    db.commit()
    with use_registry(registry):
        with pytest.raises(ConflictError, match="Pas plus de 4 billets"):
            orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 5)])
        db.rollback()
        order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
        db.commit()
        with pytest.raises(ConflictError, match="Encours maximum"):
            pay(db, order, [PaymentInput("OTHER", "110.00")])
        db.rollback()
    order = orders.get_order(db, order.number)
    assert order.paid == 0 and catalogue.performance.taken == 1


def test_sales_order_actions_extend_the_order_detail(db, catalogue, buyer, register_plugin):
    def actions(session, order):
        if order.state in ("settled", "not_settled"):
            return [OrderAction("refund", "Rembourser", url=f"/refunds/{order.number}", permission="refunds.refund"),
                    OrderAction("invoice", "Facturer", endpoint="waiting_account.invoice", position=10)]
        return []

    registry = registry_for(register_plugin, sales_order_actions=actions)
    c = catalogue
    with use_registry(registry):
        order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full)])
        assert [a["code"] for a in order_detail(db, order)["actions"]] == ["invoice", "refund"]
        assert [a["code"] for a in order_detail(db, order, can=lambda p: False)["actions"]] == ["invoice"]
        reservation = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full)])
        assert order_detail(db, reservation)["actions"] == []


def test_sales_operation_kinds_a_plugin_adds_a_kind(db, catalogue, buyer, register_plugin):
    registry = registry_for(register_plugin, sales_operation_kinds=lambda: [OperationKind("exchange", "Échange")])
    order = orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)])
    with pytest.raises(InvalidError, match="Type d'opération inconnu : exchange"):
        record_operation(db, "exchange", order=order)
    with use_registry(registry):
        op = record_operation(db, "exchange", order=order, details={"from": 1})
        assert order_detail(db, order)["operations"][-1]["kind_label"] == "Échange"
    assert op.number == 2


def test_sales_operation_kinds_a_code_defined_twice_differently_is_refused(register_plugin):
    with pytest.raises(PluginError, match="type d'opération « sell » : « sales » en donne déjà une définition"):
        registry_for(register_plugin, sales_operation_kinds=lambda: [OperationKind("sell", "Vendre")])
