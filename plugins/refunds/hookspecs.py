"""The hooks the refunds plugin offers to other plugins (all named ``refunds_*``).

``refunds_product_kinds`` is a registry hook (a list, merged by the host's helper; two different
definitions under one code are refused naming both plugins). The event hooks get the ``session``
and run inside the business transaction, after the change was flushed.
"""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def refunds_product_kinds():
    """Called when the refunds registry is built (at startup, and for service calls outside the app).

    Return a list of ``plugins.refunds.registry.ProductKind(code, label, position, unit_amount,
    to_line_input, describe)``: the kinds of products that can be sold in exchange in the
    cancellation basket. Each is a tab of the screen's exchange block (the seed's ÉVÉNEMENT,
    ABONNEMENT, PACKAGES, AUTRES PRODUITS, AVANTAGES). The refunds plugin registers ``performance``
    (ÉVÉNEMENT) itself; a plugin selling subscriptions registers ``subscription`` and its tab appears
    without any change to the refunds plugin.
    """


@hookspec
def refunds_refund_done(session, basket, operation):
    """Called inside the transaction when a cancellation basket was settled: its tickets cancelled,
    its refunds recorded (``RefundPayout`` rows ``pending``), its exchange sold and paid, all in
    ``operation`` (the basket's "Ordre"). ``basket.summary`` says what was done per order.

    Raising vetoes the whole settlement (nothing is cancelled or refunded). The reports plugin's
    refund receipt and the waiting account's credit note are enqueued from here (outbox).
    """


@hookspec
def refunds_payout(session, payout, mode_type):
    """Called inside the payout transaction for each refund being paid out (``payout.state`` still
    ``pending``; marked ``done`` when every implementation returned). ``mode_type`` is the payment
    mode type's code (``cash``, ``card``, ``waiting_account``…).

    An implementation pays out what belongs to it and ignores the rest: the devices plugin opens the
    cash drawer for ``cash`` (through the outbox), the waiting account credits the contact's account
    for ``waiting_account``. Raising leaves the payout pending (completed later from the order, never
    paid twice).
    """
