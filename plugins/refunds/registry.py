"""The refunds registry: the kinds of products that can be sold in exchange
(``refunds_product_kinds``), and the plugin manager the services call the event hooks through.

``get_registry()`` returns the running app's, else one built with the refunds plugin; tests install
their own with ``use_registry(Registry.from_manager(pm))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from coulisses import InvalidError
from coulisses.i18n import _, _l
from coulisses.registry import RegistrySlot, collect


@dataclass(frozen=True)
class ProductKind:
    """A kind of product sold in exchange (a tab of the exchange block).

    ``unit_amount(session, line) -> Decimal``: what one unit of an ``ExchangeLine`` costs (price and
    fees, at the basket's point of sale); ``to_line_input(session, line)``: the sales ``LineInput``
    that sells it; ``describe(session, line) -> (group, detail)``: the labels of the line
    ("Carmina Burana - Lun 26.10.2015 19:30", "Cat 1 Contact occasionnel - Plein tarif");
    ``choices(session, q) -> list[dict]``: what the tab offers (``id``, ``label``)."""

    code: str
    label: Any
    unit_amount: Callable[..., Decimal]
    to_line_input: Callable[..., Any]
    describe: Callable[..., tuple[str, str]]
    choices: Callable[..., list[dict]] | None = None
    position: int = 100


@dataclass
class Registry:
    pm: Any
    product_kinds: dict[str, ProductKind]
    owners: dict[str, str]

    @classmethod
    def from_manager(cls, pm) -> "Registry":
        kinds = collect(pm, "refunds_product_kinds", what=_l("type de produit"))
        return cls(pm=pm, product_kinds=dict(sorted(kinds.items(), key=lambda kv: (kv[1].position, kv[0]))),
                   owners=dict(kinds.owners))

    def product_kind(self, code: str) -> ProductKind:
        try:
            return self.product_kinds[code]
        except KeyError:
            raise InvalidError(_("Type de produit inconnu : %(code)s", code=code),
                               {"kind": _("Types : %(codes)s", codes=", ".join(self.product_kinds))}) from None

    def hook(self, name: str, **kwargs) -> list:
        return getattr(self.pm.hook, name)(**kwargs)

    def enabled(self, plugin: str) -> bool:
        return self.pm.has_plugin(plugin)


_slot = RegistrySlot("refunds", Registry.from_manager, fallback=["refunds"])
use_registry = _slot.use
registry_for = _slot.for_manager


def get_registry() -> Registry:
    return _slot.get()
