"""The sales registry: payment mode types, operation kinds, and the plugin manager the services call
the event hooks through.

``get_registry()`` returns the one the running app built at startup (``coulisses_startup``), else one
built from a plugin manager holding the sales plugin (and contacts). Tests install their own with
``use_registry(Registry.from_manager(pm))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coulisses import InvalidError
from coulisses.i18n import _, _l
from coulisses.registry import RegistrySlot, collect


@dataclass(frozen=True)
class PaymentModeType:
    """What a kind of payment mode allows. ``needs_contact``: each payment names a contact (the
    credit balance spent, the waiting account charged). ``gives_change``: a payment may exceed the
    balance, the excess is given back as change (cash)."""

    code: str
    label: Any  # a lazy string (``_l``): shown in the operator's language
    can_pay: bool = True
    can_refund: bool = True
    needs_contact: bool = False
    gives_change: bool = False
    description: Any = ""


@dataclass(frozen=True)
class OperationKind:
    code: str
    label: Any  # a lazy string (``_l``)


@dataclass(frozen=True)
class OrderAction:
    """An action on the order detail screen (``sales_order_actions``)."""

    code: str
    label: Any  # translated (``_`` when built, or ``_l``)
    endpoint: str | None = None  # a Flask endpoint, called with number=order.number
    url: str | None = None
    permission: str | None = None
    position: int = 100
    method: str = "GET"


BUILTIN_PAYMENT_MODE_TYPES = [
    PaymentModeType("cash", _l("Espèces"), gives_change=True,
                    description=_l("Billets et pièces ; la monnaie est rendue quand le client donne plus.")),
    PaymentModeType("card", _l("Carte bancaire")),
    PaymentModeType("cheque", _l("Chèque")),
    PaymentModeType("bank_transfer", _l("Virement")),
    PaymentModeType("credit_balance", _l("Solde avoir"), needs_contact=True,
                    description=_l("Dépense l'avoir du contact (jamais en dessous de zéro) ; un remboursement "
                                "par ce mode crédite son avoir.")),
    PaymentModeType("other", _l("Autre paiement")),
]

BUILTIN_OPERATION_KINDS = [
    OperationKind("reserve", _l("Réservation")),
    OperationKind("sell", _l("Vente")),
    OperationKind("confirm", _l("Confirmation de réservation")),
    OperationKind("pay", _l("Paiement")),
    OperationKind("refund", _l("Remboursement")),
    OperationKind("cancel_reservation", _l("Annulation de réservation")),
    OperationKind("print", _l("Impression")),
    OperationKind("credit", _l("Mouvement d'avoir")),
    OperationKind("update", _l("Modification du dossier")),
    OperationKind("basket", _l("Panier")),
    OperationKind("hold", _l("Mise en attente du panier")),
    OperationKind("resume", _l("Reprise du panier")),
    OperationKind("abandon", _l("Abandon de l'ordre")),
    OperationKind("settle", _l("Clôture du panier")),
    OperationKind("take_up", _l("Reprise de dossier")),
    OperationKind("change_tariff", _l("Changement de tarif")),
    # the order's life (services.reservations, services.delivery)
    OperationKind("option", _l("Pose d'option")),
    OperationKind("option_expired", _l("Option échue : places libérées")),
    OperationKind("delivery", _l("Livraison billets")),
]


@dataclass
class Registry:
    pm: Any
    payment_mode_types: dict[str, PaymentModeType]
    operation_kinds: dict[str, OperationKind]
    owners: dict[str, str]

    @classmethod
    def from_manager(cls, pm) -> "Registry":
        types = collect(pm, "sales_payment_mode_types", what="payment mode type")
        kinds = collect(pm, "sales_operation_kinds", what="operation kind")
        owners = {**{f"payment mode type:{k}": v for k, v in types.owners.items()},
                  **{f"operation kind:{k}": v for k, v in kinds.owners.items()}}
        return cls(pm=pm, payment_mode_types=dict(types), operation_kinds=dict(kinds), owners=owners)

    def payment_mode_type(self, code: str) -> PaymentModeType:
        try:
            return self.payment_mode_types[code]
        except KeyError:
            raise InvalidError(_("Type de mode de règlement inconnu : %(code)s", code=code),
                               {"type_code": _("Types : %(codes)s", codes=", ".join(self.payment_mode_types))}) from None

    def hook(self, name: str, **kwargs) -> list:
        """Call an event hook (every implementation; an exception propagates: the veto)."""
        return getattr(self.pm.hook, name)(**kwargs)

    def contacts(self):
        """The contacts registry matching this plugin set (indicators see the sales facts)."""
        from plugins.contacts.registry import installed_registry, registry_for

        return installed_registry() or registry_for(self.pm)


_slot = RegistrySlot("sales", Registry.from_manager, fallback=["sales"])
use_registry = _slot.use  # ``with use_registry(r):`` — tests, throwaway plugins
registry_for = _slot.for_manager


def get_registry() -> Registry:
    """The registry of the running app, of the command or task being run, else of sales alone."""
    return _slot.get()
