"""The cancellation basket's rules: refusals that keep the rest, causes and their fees, simple fees,
modes and their ceilings, hold / resume / abandon, AUTO-ÉCHANGE, a positive balance to pay."""
from __future__ import annotations

from decimal import Decimal

import pytest

from coulisses import ConflictError, InvalidError
from plugins.refunds.services import amounts, baskets, causes, exchange
from plugins.refunds.services.settle import RefundInput, settle
from plugins.sales.services.orders import LineInput, check_order, reserve
from plugins.sales.services.payments import PaymentInput


def test_refusals_keep_the_rest(db, world, sell):
    paid = sell(3)
    reserved = reserve(db, world.akoka, [LineInput(world.joyaux.id, world.cat2.id, world.full.id, 1,
                                                   seats=[world.seats["C1"]])])
    db.commit()
    basket = baskets.open_basket(db)
    first = baskets.add_barcodes(db, basket, [paid.tickets[0].barcode])
    assert first.added == [paid.tickets[0].barcode]
    result = baskets.add_numbers(db, basket, f"{paid.tickets[0].barcode}, 99999999999 {reserved.tickets[0].barcode};"
                                             f"{paid.tickets[1].barcode}")
    assert result.added == [paid.tickets[1].barcode]
    reasons = dict(result.refused)
    assert "déjà dans le panier" in reasons[paid.tickets[0].barcode]
    assert "inconnu" in reasons["99999999999"]
    assert "non payé" in reasons[reserved.tickets[0].barcode]
    assert len(basket.tickets) == 2
    settle(db, basket, refunds=[RefundInput("OTHER", "220.00")])
    db.commit()
    again = baskets.open_basket(db)
    result = baskets.add_barcodes(db, again, [paid.tickets[0].barcode, paid.tickets[2].barcode])
    assert result.added == [paid.tickets[2].barcode]
    assert "déjà annulé" in result.refused[0][1]


def test_not_paid_order_is_refused(db, world, sell):
    from plugins.sales.services import orders

    order = orders.sell(db, world.akoka, [LineInput(world.joyaux.id, world.cat1.id, world.full.id, 1,
                                                    seats=[world.seats["1"]])])
    db.commit()
    basket = baskets.open_basket(db)
    result = baskets.add_order(db, basket, order)
    assert not result.added and "non payé" in result.refused[0][1]


def test_number_range_typed(db, world, sell):
    order = sell(5)
    codes = sorted(t.barcode for t in order.tickets)
    basket = baskets.open_basket(db)
    result = baskets.add_numbers(db, basket, f"{codes[1]} - {codes[3]}")
    assert sorted(result.added) == codes[1:4]


@pytest.mark.parametrize("kind,value,kept", [("fixed", "5.00", "5.00"), ("per_ticket", "2.00", "6.00"),
                                             ("percent", "10", "33.00"), ("none", "0", "0.00")])
def test_cause_fee_is_kept(db, world, sell, kind, value, kept):
    order = sell(3)
    cause = causes.create_cause(db, "T", "Test", fee_kind=kind, fee_value=value)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    baskets.set_options(db, basket, cause=cause.code, requested_by="public")
    refund = Decimal("330.00") - Decimal(kept)
    assert amounts.preview(db, basket)["total"] == -refund
    res = settle(db, basket, refunds=[RefundInput("OTHER", refund)])
    db.commit()
    assert res.kept == Decimal(kept) and res.refunded == refund
    db.refresh(order)
    # refunded + kept = what was paid for the cancelled tickets
    assert order.total == Decimal(kept) and order.paid == Decimal(kept) and check_order(db, order) == []


def test_fee_override_and_simple_fees(db, world, sell):
    from plugins.sales.services import catalogue as cat

    cat.create_fee(db, "LOC", "Frais de location", "1.50", refundable=True)
    cat.create_fee(db, "DOS", "Frais de dossier", "0.50", refundable=False)
    db.commit()
    order = sell(2)
    assert order.total == Decimal("224.00")
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    assert amounts.preview(db, basket)["total"] == Decimal("-223.00")  # the non-refundable part stays
    baskets.set_options(db, basket, refund_fees=False)
    assert amounts.preview(db, basket)["total"] == Decimal("-220.00")
    baskets.set_options(db, basket, fee_override="7.01")
    assert amounts.preview(db, basket)["total"] == Decimal("-212.99")
    res = settle(db, basket, refunds=[RefundInput("OTHER", "212.99")])
    assert res.kept == Decimal("11.01")
    db.commit()
    db.refresh(order)
    assert order.total == order.paid == Decimal("11.01")


def test_mode_ceiling_and_override(db, world, sell):
    order = sell(2, mode="CARD")
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    db.commit()
    options = {o["code"]: o for o in amounts.preview(db, basket)["refund_options"]}
    assert options["CARD"]["limit"] == Decimal("220.00") and options["CARD"]["available"]
    assert not options["CASH"]["available"] and options["CREDIT"]["limit"] is None
    assert "CHEQUE" not in options  # AUTRE PAIEMENT lists the order's own modes
    with pytest.raises(ConflictError):
        settle(db, basket, refunds=[RefundInput("CASH", "220.00")])
    db.rollback()
    with pytest.raises(InvalidError):
        settle(db, basket, refunds=[RefundInput("CARD", "100.00")])  # the sum must be the total
    db.rollback()
    res = settle(db, basket, refunds=[RefundInput("CASH", "20.00"), RefundInput("CARD", "200.00")],
                 allow_over_limit=True)
    assert [r["mode"] for r in res.refunds] == ["CASH", "CARD"]


def test_refund_to_credit_balance(db, world, sell):
    from plugins.sales.services.credit import credit_balance

    order = sell(1)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    res = settle(db, basket, refunds=[RefundInput("CREDIT", "110.00")])
    db.commit()
    assert credit_balance(db, world.akoka) == Decimal("110.00")
    assert [p.state for p in res.payouts] == ["done"]


def test_hold_resume_abandon(db, world, sell):
    order = sell(1)
    basket = baskets.open_basket(db)
    number = basket.number
    baskets.add_order(db, basket, order)
    baskets.hold(db, basket)
    assert basket in baskets.held_baskets(db)
    baskets.resume(db, basket)
    baskets.abandon(db, basket)
    with pytest.raises(ConflictError):
        baskets.add_order(db, basket, order)
    db.commit()
    db.refresh(order)
    assert order.state == "settled"  # nothing was cancelled
    assert baskets.open_basket(db).number == number + 1  # the number stays used


def test_self_exchange_keeps_the_seats_and_changes_the_tariff(db, world, sell):
    order = sell(2)
    seats = sorted(t.seat_id for t in order.tickets)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    [line] = exchange.self_exchange(db, basket)
    assert sorted(line.seats) == seats
    exchange.change_line(db, basket, line.id, tariff=world.reduced.id)
    view = amounts.preview(db, basket)
    assert view["subtotal_sold"] == Decimal("154.00") and view["total"] == Decimal("-66.00")
    res = settle(db, basket, refunds=[RefundInput("OTHER", "66.00")])
    db.commit()
    assert sorted(t.seat_id for t in res.exchange_order.tickets) == seats
    assert res.exchange_order.state == "settled"


def test_exchange_with_a_balance_to_pay(db, world, sell):
    order = sell(1, performance=world.carmina)  # 60,00
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    exchange.add_performance(db, basket, world.joyaux, world.cat1, world.full, 1, seats=[world.seats["30"]])
    assert amounts.preview(db, basket)["total"] == Decimal("50.00")
    db.commit()
    with pytest.raises(InvalidError):
        settle(db, basket)
    db.rollback()
    res = settle(db, basket, payments=[PaymentInput("CASH", "100.00")])
    assert res.change == Decimal("50.00") and res.exchange_order.state == "settled"


def test_exchange_to_zero_closes(db, world, sell):
    order = sell(1)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    exchange.add_performance(db, basket, world.joyaux, world.cat1, world.full, 1, seats=[world.seats["31"]])
    assert amounts.preview(db, basket)["total"] == 0
    res = settle(db, basket)
    assert res.transferred == Decimal("110.00") and basket.state == "settled"


def test_the_payment_mode_types_decide_the_refund_options(db, world, sell):
    """One source of truth: what a mode may refund comes from its type (sales' payment mode types):
    a cheque mode whose settings say the organisation issues no cheques is offered with the type's
    reason; the card's own limit; the credit balance (its refund is a credit) needs the contact."""
    from plugins.sales.services.settings import update_payment_mode_settings

    order = sell(2, payments=[PaymentInput("CHEQUE", "120.00"), PaymentInput("CARD", "100.00")])
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    options = {o["code"]: o for o in amounts.preview(db, basket)["refund_options"]}
    assert (options["CHEQUE"]["available"], options["CHEQUE"]["limit"]) == (True, Decimal("120.00"))
    assert (options["CARD"]["available"], options["CARD"]["limit"]) == (True, Decimal("100.00"))
    update_payment_mode_settings(db, "CHEQUE", {"can_refund_by_cheque": False})
    baskets.set_options(db, basket, contact=None)
    options = {o["code"]: o for o in amounts.preview(db, basket)["refund_options"]}
    assert not options["CHEQUE"]["available"] and "ne permet pas de rembourser" in options["CHEQUE"]["reason"]
    assert not options["CREDIT"]["available"] and options["CREDIT"]["reason"] == "Choisissez d'abord le contact du panier"
    with pytest.raises(ConflictError, match="ne permet pas de rembourser"):
        settle(db, basket, refunds=[RefundInput("CHEQUE", "120.00"), RefundInput("CARD", "100.00")])


def test_the_exchange_order_gets_the_delivery_chosen_on_the_basket(db, world, sell):
    """"Livraison billets" of the basket (the sell screen's block): the exchange order is delivered
    by e-mail to the address typed, without immediate print, and plans the e-ticket documents."""
    from plugins.sales.services.delivery import delivery_view, documents

    order = sell(1)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    exchange.add_performance(db, basket, world.carmina, world.cat1, world.full, 1, seats=[world.seats["32"]])
    with pytest.raises(InvalidError) as refused:
        baskets.set_options(db, basket, delivery_email="pas une adresse")
    assert "email" in refused.value.fields
    baskets.set_options(db, basket, delivery_mode="eticket", delivery_email="Viviane@Example.org",
                        immediate_print=False)
    view = amounts.preview(db, basket)
    assert view["delivery"]["mode"] == "eticket" and view["delivery"]["immediate_print"] is False
    assert [d["type"] for d in view["delivery"]["documents"]] == ["sales.order_summary", "sales.ticket"]
    res = settle(db, basket, refunds=[RefundInput("OTHER", "50.00")])
    db.commit()
    new = res.exchange_order
    shown = delivery_view(db, new)
    assert (new.delivery_mode, shown["email"], shown["immediate_print"]) == ("eticket", "Viviane@example.org", False)
    assert [(d.type_code, d.send) for d in documents(db, new)] == [("sales.order_summary", "email"),
                                                                  ("sales.ticket", "email")]
    assert {t.delivery_mode for t in new.tickets} == {"eticket"}
