"""The hooks the waiting_account plugin offers to other plugins (named ``waiting_account_*``)."""
from __future__ import annotations

from coulisses import hookspec


@hookspec
def waiting_account_payment_providers():
    """Called when the waiting account's registry is built (at startup, and for service calls outside
    the app).

    Return a list of ``plugins.waiting_account.registry.PaymentProvider(code, label, charge,
    settlement_mode="CARD")``: the online payment services a portal customer may pay an instalment
    with. ``charge(request)`` gets a ``ChargeRequest(amount, reference, card_number, contact_number)``
    and returns a ``ChargeResult(ok, transaction_id, message)``; an approved charge settles the
    instalment with the payment mode ``settlement_mode`` (its code), the transaction id as reference.
    The plugin registers a built-in ``test`` provider (demo and tests: test card 4242 4242 4242 4242
    approved, 4000 0000 0000 0002 declined). Two providers under one code refuse the start.
    """
