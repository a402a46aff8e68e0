"""The waiting account's registry: the online payment providers (``waiting_account_payment_providers``).

``get_registry()`` returns the running app's (or the command's) registry, else one built with the
waiting_account plugin; tests install their own with ``use_registry``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from coulisses import NotFoundError
from coulisses.i18n import _, _l
from coulisses.registry import RegistrySlot, collect


@dataclass(frozen=True)
class ChargeRequest:
    amount: Decimal
    reference: str
    card_number: str
    contact_number: int


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    transaction_id: str = ""
    message: str = ""


@dataclass(frozen=True)
class PaymentProvider:
    code: str
    label: Any
    charge: Callable[[ChargeRequest], ChargeResult] = field(compare=False)
    settlement_mode: str = "CARD"


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return bool(digits) and total % 10 == 0


def test_charge(request: ChargeRequest) -> ChargeResult:
    """The built-in test provider: Stripe-like test cards, no money moves."""
    number = "".join(c for c in request.card_number if c.isdigit())
    if not 12 <= len(number) <= 19 or not _luhn(number):
        return ChargeResult(False, message=_("Numéro de carte invalide"))
    if number == "4000000000000002" or request.amount <= 0:
        return ChargeResult(False, message=_("Paiement refusé par la banque"))
    return ChargeResult(True, transaction_id=f"TEST-{secrets.token_hex(6).upper()}")


BUILTIN_PROVIDERS = [PaymentProvider("test", _l("Paiement de test (démonstration)"), test_charge)]


@dataclass
class Registry:
    pm: Any
    providers: dict[str, PaymentProvider]

    @classmethod
    def from_manager(cls, pm) -> "Registry":
        return cls(pm=pm, providers=dict(collect(pm, "waiting_account_payment_providers", what=_l("prestataire de paiement"))))

    def provider(self, code: str) -> PaymentProvider:
        try:
            return self.providers[code]
        except KeyError:
            raise NotFoundError(_("Prestataire de paiement inconnu : %(code)s", code=code)) from None


_slot = RegistrySlot("waiting_account", Registry.from_manager, fallback=["waiting_account"])
use_registry = _slot.use
registry_for = _slot.for_manager


def get_registry() -> Registry:
    return _slot.get()
