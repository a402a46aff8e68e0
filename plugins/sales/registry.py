"""The sales registry: payment mode types, operation kinds, and the plugin manager the services call
the event hooks through.

``get_registry()`` returns the one the running app built at startup (``coulisses_startup``), else one
built from a plugin manager holding the sales plugin (and contacts). Tests install their own with
``use_registry(Registry.from_manager(pm))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coulisses import InvalidError, PluginError
from coulisses.i18n import _, _l
from coulisses.registry import RegistrySlot, collect, must_return

# The base class of payment mode types and the built-in ones (``payment_types``, ``payment_builtin``);
# ``PaymentModeType`` stays importable from here (plugins did: ``PaymentModeType("x", "X", ...)``).
from plugins.sales.payment_builtin import BUILTIN_TYPES
from plugins.sales.payment_types import PaymentModeType  # noqa: F401 - re-exported


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


@dataclass(frozen=True)
class OrderBlock:
    """A block another plugin adds to the order detail screen, to ``GET /api/v1/orders/<number>``
    (``blocks``) and to the order summary document (``sales_order_blocks``): a title, facts
    (label, value) and a table (column headings, rows of text already formatted in the operator's
    language; ``numeric``: the indexes of the columns aligned right)."""

    code: str
    title: Any  # translated (``_`` when built, or ``_l``)
    facts: tuple = ()  # ((label, value), ...)
    columns: tuple = ()
    rows: tuple = ()  # (("1", "05.12.2026", "110,00 €"), ...)
    numeric: tuple = ()
    caption: Any = ""  # the table's caption (read by screen readers; printed under the title)
    permission: str | None = None
    position: int = 100
    document: bool = True  # also printed on the order summary ("Récapitulatif de commande")

    def as_dict(self) -> dict:
        return {"code": self.code, "title": str(self.title), "caption": str(self.caption),
                "facts": [{"label": str(k), "value": str(v)} for k, v in self.facts],
                "columns": [str(c) for c in self.columns], "rows": [[str(c) for c in r] for r in self.rows],
                "numeric": list(self.numeric), "position": self.position}


@dataclass(frozen=True)
class PaymentPanel:
    """A panel another plugin draws under the payment rows (``sales_payment_panels``): the template
    (of the plugin's blueprint) gets ``modes`` (the payment rows: code, label, type, fields),
    ``values`` (what was posted), ``fields`` (errors named like the inputs: ``pay-<CODE>-<field>``),
    ``screen`` ("sell" or "order") and ``order`` (the order detail, on "order"; else None)."""

    code: str
    template: str
    permission: str | None = None
    position: int = 100


BUILTIN_PAYMENT_MODE_TYPES = BUILTIN_TYPES

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
    OperationKind("payer_change", _l("Changement de payeur")),
    OperationKind("pending_resolved", _l("Règlement en attente résolu")),
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
        types = collect(pm, "sales_payment_mode_types", what=_l("type de mode de règlement"), validate=_check_type)
        kinds = collect(pm, "sales_operation_kinds", what=_l("type d'opération"))
        owners = {**{f"payment mode type:{k}": v for k, v in types.owners.items()},
                  **{f"operation kind:{k}": v for k, v in kinds.owners.items()}}
        instances = {code: (t() if isinstance(t, type) else t) for code, t in types.items()}
        return cls(pm=pm, payment_mode_types=instances, operation_kinds=dict(kinds), owners=owners)

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


def _check_type(plugin: str, item) -> None:
    """A ``sales_payment_mode_types`` item is a ``PaymentModeType`` instance or subclass with a code."""
    ok = isinstance(item, PaymentModeType) or (isinstance(item, type) and issubclass(item, PaymentModeType))
    if not ok:
        raise PluginError(plugin, must_return("sales_payment_mode_types", "PaymentModeType", item))
    if not item.code:
        raise PluginError(plugin, _l("le type de mode de règlement %(item)r n'a pas de code", item=item))


_slot = RegistrySlot("sales", Registry.from_manager, fallback=["sales"])
use_registry = _slot.use  # ``with use_registry(r):`` — tests, throwaway plugins
registry_for = _slot.for_manager


def get_registry() -> Registry:
    """The registry of the running app, of the command or task being run, else of sales alone."""
    return _slot.get()
