"""The host's registry helper: collect a list hook (duplicates refused naming both plugins) and the
slot that gives each app, command or test the registry of its own plugin set."""
from dataclasses import dataclass

import pytest

from coulisses import PluginError
from coulisses import hookspec
from coulisses import plugins as cplugins
from coulisses.registry import RegistrySlot, collect, current_manager, install_manager, use_manager
from tests.platform.conftest import make_plugin


@dataclass(frozen=True)
class Kind:
    code: str
    label: str


class Specs:
    @hookspec
    def tp_kinds():
        """Test hook: a list of ``Kind``."""


def _manager(infos, names):
    return cplugins.build_manager(infos, cplugins.resolve(infos, names))


def _plugins(register_plugin, **lists):
    owner = make_plugin("tp_spec")
    owner.hookspecs = Specs  # the plugin that offers the hook
    register_plugin(owner)
    for name, items in lists.items():
        register_plugin(make_plugin(name, depends=["tp_spec"], hooks={"tp_kinds": (lambda items=items: items)}))
    return cplugins.discover()


def test_collect_merges_in_load_order_and_keeps_owners(register_plugin):
    infos = _plugins(register_plugin, tp_a=[Kind("x", "X"), Kind("y", "Y")], tp_b=[Kind("z", "Z"), Kind("x", "X")])
    pm = _manager(infos, ["tp_a", "tp_b"])
    kinds = collect(pm, "tp_kinds", what="kind")
    assert list(kinds) == ["x", "y", "z"]  # the same definition twice is kept once
    assert (kinds.owner("x"), kinds.owner("z")) == ("tp_a", "tp_b")


def test_collect_refuses_two_definitions_of_one_code_naming_both_plugins(register_plugin):
    infos = _plugins(register_plugin, tp_a=[Kind("x", "X")], tp_b=[Kind("x", "Autre X")])
    pm = _manager(infos, ["tp_a", "tp_b"])
    with pytest.raises(PluginError) as exc:
        collect(pm, "tp_kinds", what="kind")
    assert str(exc.value) == "plugin « tp_b » : kind « x » : « tp_a » en donne déjà une définition"


def test_collect_names_the_plugin_whose_item_fails_validation(register_plugin):
    infos = _plugins(register_plugin, tp_a=[Kind("x", "")])
    pm = _manager(infos, ["tp_a"])

    def validate(plugin, item):
        if not item.label:
            raise ValueError("a label is required")

    with pytest.raises(PluginError, match=r"plugin « tp_a » : kind 'x' : a label is required"):
        collect(pm, "tp_kinds", what="kind", validate=validate)


def test_the_slot_answers_the_block_then_the_current_manager_then_the_fallback(register_plugin):
    infos = _plugins(register_plugin, tp_a=[Kind("a", "A")], tp_b=[Kind("b", "B")])
    built = []

    def build(pm):
        built.append(pm)
        return sorted(collect(pm, "tp_kinds", what="kind")) if pm.has_plugin("tp_spec") else []

    slot = RegistrySlot("tp_slot", build, fallback=[])
    assert current_manager() is None and slot.installed() is None
    assert slot.get() == [] and slot.get() == [] and len(built) == 1  # the fallback, built once
    pm_a, pm_ab = _manager(infos, ["tp_a"]), _manager(infos, ["tp_a", "tp_b"])
    with use_manager(pm_a):
        assert slot.get() == ["a"]
        with use_manager(pm_ab):
            assert slot.get() == ["a", "b"]  # each command or worker sees its own plugin set
        with slot.use(["block"]):
            assert slot.get() == ["block"]
        assert slot.get() == ["a"]
    assert slot.get() == [] and len(built) == 3  # one build per manager
    install_manager(pm_ab)  # what the CLI does for the enabled set
    try:
        assert slot.get() == ["a", "b"]
    finally:
        install_manager(None)


def test_the_running_app_has_its_own_registry(make_app):
    from plugins.contacts.registry import get_registry

    with_sales, contacts_only = make_app(["sales"]), make_app(["contacts"])
    with with_sales.app_context():
        assert "seniority" in get_registry().indicators and get_registry() is with_sales.extensions["contacts"]
    with contacts_only.app_context():
        assert get_registry() is contacts_only.extensions["contacts"]
