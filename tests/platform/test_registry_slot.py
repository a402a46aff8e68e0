"""RegistrySlot: a plugin's registry is the block's, else the running app's, else a default built once."""
from coulisses.plugins import RegistrySlot


def test_the_block_wins_then_the_app_then_the_default_built_once():
    built = []
    slot = RegistrySlot("tp_slot", lambda: built.append("default") or "default")
    assert slot.installed() is None
    assert slot.get() == "default" and slot.get() == "default"
    assert built == ["default"]
    slot.set_app("app")
    assert slot.get() == "app" and slot.installed() == "app"
    with slot.use("block"):
        assert slot.get() == "block"
        with slot.use("inner"):
            assert slot.get() == "inner"
        assert slot.get() == "block"
    assert slot.get() == "app"
    slot.set_app(None)
    assert slot.get() == "default" and built == ["default"]
