"""The devices registry: the drivers every enabled plugin offers through ``devices_drivers``,
merged with the host's ``coulisses.registry.collect`` (one key defined by two plugins refuses the
start, naming both), the same in the web app, the CLI, the worker and the agent.

``get_registry()`` gives the registry of the running app or command, else one built from the devices
plugin alone (the agent, plain scripts, service tests). Tests install theirs with
``use_registry(Registry.from_manager(pm))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from coulisses import PluginError
from coulisses.registry import Collected, RegistrySlot, collect, must_return
from plugins.devices.i18n import _l

KINDS = {
    "ticket_printer": _l("Imprimante de billets"),
    "receipt_printer": _l("Imprimante de reçus"),
    "cash_drawer": _l("Tiroir-caisse"),
    "scanner": _l("Douchette"),
    "display": _l("Afficheur client"),
    "payment_terminal": _l("Terminal de paiement"),
}
# What a device of each kind can be asked to do (besides probe, status and test, which every driver has)
OPERATIONS = {
    "ticket_printer": ("print_ticket",),
    "receipt_printer": ("print_receipt", "open_drawer"),
    "cash_drawer": ("open_drawer",),
    "scanner": ("listen",),
    "display": ("show", "clear"),
    "payment_terminal": ("pay", "refund"),
}
COMMON_OPERATIONS = ("probe", "status", "test")
OPERATION_LABELS = {
    "print_ticket": _l("Impression de billets"), "print_receipt": _l("Impression de reçu"),
    "open_drawer": _l("Ouverture du tiroir"), "listen": _l("Écoute de la douchette"),
    "show": _l("Affichage client"), "clear": _l("Effacement de l'afficheur"), "pay": _l("Paiement"),
    "refund": _l("Remboursement"), "probe": _l("Identification"), "status": _l("État"), "test": _l("Test"),
}


def _validate(plugin: str, driver: Any) -> None:
    from plugins.devices.drivers.base import Driver

    if not isinstance(driver, Driver):
        raise PluginError(plugin, must_return("devices_drivers", "Driver", driver))
    if driver.kind not in KINDS:
        raise PluginError(plugin, _l("pilote %(key)r : genre inconnu %(kind)r (l'un de %(kinds)s)", key=driver.key,
                                     kind=driver.kind, kinds=", ".join(KINDS)))
    if not driver.key or not driver.key.replace("_", "").isalnum():
        raise PluginError(plugin, _l("clé de pilote %(key)r : des lettres, des chiffres et des tirets bas seulement",
                                     key=driver.key))


@dataclass
class Registry:
    pm: Any
    drivers: Collected

    @classmethod
    def from_manager(cls, pm) -> "Registry":
        return cls(pm=pm, drivers=collect(pm, "devices_drivers", what=_l("pilote de périphérique"), key=attrgetter("key"),
                                          validate=_validate))

    def driver(self, key: str):
        try:
            return self.drivers[key]
        except KeyError:
            from coulisses import InvalidError

            raise InvalidError(f"Pilote inconnu : {key}", {"driver": ", ".join(sorted(self.drivers))}) from None

    def drivers_of(self, kind: str) -> list:
        """The drivers of ``kind``, the preferred first (priority, then key)."""
        return sorted((d for d in self.drivers.values() if d.kind == kind), key=lambda d: (-d.priority, d.key))

    def owner(self, key: str) -> str | None:
        return self.drivers.owner(key)

    def hook(self, name: str, **kwargs) -> list:
        """Call one of the plugin's event hooks (every implementation; an exception propagates)."""
        return getattr(self.pm.hook, name)(**kwargs)


_slot = RegistrySlot("devices", Registry.from_manager, fallback=["devices"])
use_registry = _slot.use
registry_for = _slot.for_manager


def get_registry() -> Registry:
    return _slot.get()
