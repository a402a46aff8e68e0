"""The contacts registry: types, indicators, sheet sections, references, built from the hooks.

The services find the current registry with ``get_registry()``: the one the running app built at
startup (``coulisses_startup``), else (CLI without app, service tests) one built from a plugin
manager holding the contacts plugin alone. Tests that add a throwaway plugin build their own with
``Registry.from_manager(pm)`` and install it with ``use_registry(...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from collections.abc import Mapping
from typing import Any, Callable

from coulisses import PluginError
from coulisses.config import current_config
from coulisses.i18n import _l
from coulisses.registry import RegistrySlot, collect

TABS = ("summary", "general", "marketing", "management", "notes", "administration", "side")
HISTORY_KINDS = ("sends", "purchases", "cultural", "financial")
FIELD_TYPES = ("str", "int", "decimal", "date", "bool", "choice")


class ConfigView(Mapping):
    """The ``CONTACTS_*`` settings of a configuration, read when asked (not copied), so that a value
    saved on the plugins screen is what the services read next."""

    def __init__(self, config: Mapping[str, Any]):
        self._config = config

    def _keys(self) -> list[str]:
        return [k for k in list(self._config) if str(k).startswith("CONTACTS_")]

    def __getitem__(self, key: str) -> Any:
        if not str(key).startswith("CONTACTS_"):
            raise KeyError(key)
        return self._config[key]

    def __iter__(self):
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:
        return f"ConfigView({dict(self)!r})"


@dataclass(frozen=True)
class ExtraField:
    """A field a contact type adds, stored in ``Contact.extra[name]``."""

    name: str
    label: str
    type: str = "str"  # one of FIELD_TYPES
    required: bool = False
    choices: tuple[tuple[str, str], ...] = ()  # (code, label) for type "choice"
    max_length: int | None = None
    searchable: bool = False
    help: str = ""


@dataclass(frozen=True)
class ContactType:
    """A contact type. ``kind`` says whether it is a natural (individual) or legal (structure) person."""

    code: str
    label: str
    kind: str  # "individual" | "structure"
    fields: tuple[ExtraField, ...] = ()
    validate: Callable[[dict[str, Any]], dict[str, str]] | None = field(default=None, compare=False)
    description: str = ""
    position: int = 100


@dataclass(frozen=True)
class IndicatorLevel:
    code: str
    label: str
    icon: str = ""  # a pictogram name the screen maps to an icon


@dataclass(frozen=True)
class IndicatorDefinition:
    """An indicator: ``compute(session, contact, facts, config)`` gives a value, ``level(value,
    config)`` maps it to one of ``levels``."""

    code: str
    label: str
    compute: Callable[..., Any] = field(compare=False)
    level: Callable[[Any, dict], str] = field(compare=False)
    levels: tuple[IndicatorLevel, ...] = ()
    description: str = ""
    position: int = 100

    def level_label(self, code: str) -> str:
        for lvl in self.levels:
            if lvl.code == code:
                return lvl.label
        return code


@dataclass(frozen=True)
class SheetSection:
    code: str
    label: str
    tab: str  # one of TABS
    data: Callable[..., Any] = field(compare=False)
    template: str | None = None
    permission: str | None = None
    position: int = 100


@dataclass
class HistoryRow:
    """One line of a history. ``amount`` is a ``Decimal`` (never a float) or None."""

    kind: str  # one of HISTORY_KINDS
    date: datetime | date
    label: str
    reference: str = ""
    amount: Decimal | None = None
    status: str = ""
    url: str | None = None
    source: str = ""  # the plugin that contributed it
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ContactReference:
    """A column of some table that holds a ``contacts_contact.id``."""

    table: str
    column: str
    label: str = ""
    unique_with: tuple[str, ...] = ()


@dataclass
class Registry:
    pm: Any
    types: dict[str, ContactType]
    indicators: dict[str, IndicatorDefinition]
    sections: list[SheetSection]
    references: list[ContactReference]
    owners: dict[str, str] = field(default_factory=dict)  # "type:code" → plugin
    config: dict[str, Any] = field(default_factory=dict)  # the app's CONTACTS_* settings

    @classmethod
    def from_manager(cls, pm, config: dict[str, Any] | None = None) -> "Registry":
        def check_type(plugin, item) -> None:
            if item.kind not in ("individual", "structure"):
                raise PluginError(plugin, _l("type de contact « %(code)s » : le genre doit être individual ou structure",
                                             code=item.code))
            for f in item.fields:
                if f.type not in FIELD_TYPES:
                    raise PluginError(plugin, _l("type de contact « %(code)s » : le champ « %(field)s » a un type "
                                                 "inconnu « %(type)s »", code=item.code, field=f.name, type=f.type))

        types = collect(pm, "contacts_types", what=_l("type de contact"), validate=check_type)
        indicators = collect(pm, "contacts_indicators", what=_l("indicateur de contact"))
        owners = {**{f"type:{k}": v for k, v in types.owners.items()},
                  **{f"indicator:{k}": v for k, v in indicators.owners.items()}}
        def check_section(plugin, item) -> None:
            if item.tab not in TABS:
                raise PluginError(plugin, _l("section de fiche « %(code)s » : l'onglet doit être l'un de %(tabs)s",
                                             code=item.code, tabs=", ".join(TABS)))

        sections = list(collect(pm, "contacts_sheet_sections", what=_l("section de fiche"), validate=check_section,
                                allow_same=False).values())
        references = list(collect(pm, "contacts_references", what=_l("référence à un contact"),
                                  key=lambda r: (r.table, r.column)).values())
        return cls(
            pm=pm,
            types=dict(sorted(types.items(), key=lambda kv: (kv[1].position, kv[0]))),
            indicators=dict(sorted(indicators.items(), key=lambda kv: (kv[1].position, kv[0]))),
            sections=sorted(sections, key=lambda s: (TABS.index(s.tab), s.position, s.code)),
            references=references,
            owners=owners,
            config=ConfigView(config if config is not None else {}),
        )

    def type(self, code: str) -> ContactType:
        try:
            return self.types[code]
        except KeyError:
            from coulisses import InvalidError
            from coulisses.i18n import _

            raise InvalidError(_("Type de contact inconnu : %(code)s", code=code),
                               {"type_code": _("Type inconnu : %(code)s", code=code)}) from None

    def types_of_kind(self, kind: str) -> list[ContactType]:
        return [t for t in self.types.values() if t.kind == kind]

    def call(self, hook_name: str, **kwargs) -> list[tuple[str, Any]]:
        from coulisses.plugins import call_each

        return call_each(self.pm, hook_name, **kwargs)


def _build(pm) -> Registry:
    # the live configuration: a setting changed on the plugins screen is seen without a new registry
    return Registry.from_manager(pm, current_config())


_slot = RegistrySlot("contacts", _build, fallback=["contacts"])
use_registry = _slot.use  # ``with use_registry(r):`` — tests, throwaway plugins
registry_for = _slot.for_manager  # the registry of a plugin manager (another plugin's registry uses it)
installed_registry = _slot.installed  # the test block's or the current manager's, else None


def get_registry() -> Registry:
    """The registry of the running app, of the command or task being run, else of contacts alone."""
    return _slot.get()
