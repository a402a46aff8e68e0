"""Contact types: a registry filled through ``contacts_types``; built-ins go through it too; an
integrator's type adds extra fields with its own validation, shown on the sheet and searchable."""
import pytest

from coulisses import InvalidError, PluginError
from coulisses import plugins as cplugins
from plugins.contacts.registry import ContactType, ExtraField, Registry, get_registry, use_registry
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.search import advanced_search
from plugins.contacts.services.sheet import get_sheet
from tests.platform.conftest import make_plugin


def _patron_validate(data):
    if data.get("level") == "gold" and int(data.get("yearly_gift", 0)) < 1000:
        return {"yearly_gift": "Un mécène or donne au moins 1000 € par an"}
    return {}


PATRON = ContactType(
    "patron", "Mécène", "individual",
    fields=(ExtraField("level", "Niveau", "choice", required=True,
                       choices=(("silver", "Argent"), ("gold", "Or")), searchable=True),
            ExtraField("yearly_gift", "Don annuel", "int")),
    validate=_patron_validate, description="Personne qui soutient l'organisme.")


def registry_with(register_plugin, *plugins):
    for plugin in plugins:
        register_plugin(plugin)
    infos = cplugins.discover()
    order = cplugins.resolve(infos, ["contacts", *(p.MANIFEST.name for p in plugins)])
    return Registry.from_manager(cplugins.build_manager(infos, order))


def test_the_builtin_types_come_through_the_hook():
    registry = get_registry()
    assert list(registry.types) == ["individual", "structure", "guide", "supplier", "partner", "producer", "support"]
    assert {t.code for t in registry.types_of_kind("structure")} == {"structure", "supplier", "partner", "producer"}
    assert registry.owners["type:individual"] == "contacts"
    assert "Ressource" in registry.types["guide"].description


def test_an_integrator_type_with_extra_fields_and_its_own_validation(db, register_plugin):
    registry = registry_with(register_plugin, make_plugin("tp_patrons", hooks={"contacts_types": lambda: [PATRON]}))
    with use_registry(registry):
        with pytest.raises(InvalidError) as exc:
            svc.create_contact(db, {"type_code": "patron", "last_name": "Medicis", "extra": {"level": "platinum"}})
        assert exc.value.fields == {"extra.level": "Niveau : valeur attendue parmi : silver, gold"}
        with pytest.raises(InvalidError) as exc:
            svc.create_contact(db, {"type_code": "patron", "last_name": "Medicis"})
        assert exc.value.fields == {"extra.level": "Niveau : obligatoire"}
        with pytest.raises(InvalidError) as exc:  # the type's own rule
            svc.create_contact(db, {"type_code": "patron", "last_name": "Medicis",
                                    "extra": {"level": "gold", "yearly_gift": "500"}})
        assert exc.value.fields == {"extra.yearly_gift": "Un mécène or donne au moins 1000 € par an"}
        patron = svc.create_contact(db, {"type_code": "patron", "last_name": "Medicis", "first_name": "Laurent",
                                         "extra": {"level": "gold", "yearly_gift": "5000"}})
        assert patron.kind == "individual" and patron.extra == {"level": "gold", "yearly_gift": 5000}
        svc.create_contact(db, {"type_code": "patron", "last_name": "Sforza", "extra": {"level": "silver"}})
        # shown on the sheet
        sheet = get_sheet(db, patron)
        assert sheet["type_label"] == "Mécène"
        assert {"name": "level", "label": "Niveau", "type": "choice", "value": "gold", "display": "Or"} in sheet["general"]["extra"]
        # usable in search
        rows = advanced_search(db, {"type_code": "patron", "extra.level": "gold"}).rows
        assert [r.name for r in rows] == ["MEDICIS, Laurent"]
        with pytest.raises(InvalidError) as exc:
            advanced_search(db, {"extra.yearly_gift": "5000"})
        assert "extra.yearly_gift" in exc.value.fields
        # update merges and validates again
        with pytest.raises(InvalidError):
            svc.update_contact(db, patron, {"extra": {"yearly_gift": 10}})
        assert svc.update_contact(db, patron, {"extra": {"level": "silver"}}) == {"extra"}
        assert patron.extra == {"level": "silver", "yearly_gift": 5000}


def test_an_unknown_extra_field_or_type_is_refused(db):
    with pytest.raises(InvalidError) as exc:
        svc.create_contact(db, {"type_code": "individual", "last_name": "X", "extra": {"shoe_size": 42}})
    assert "extra.shoe_size" in exc.value.fields
    with pytest.raises(InvalidError) as exc:
        svc.create_contact(db, {"type_code": "pirate", "last_name": "X"})
    assert exc.value.fields == {"type_code": "Type inconnu : pirate"}


def test_two_different_definitions_under_one_code_are_refused(register_plugin):
    other = ContactType("patron", "Donateur", "individual")
    with pytest.raises(PluginError, match="type de contact « patron » : « tp_a » en donne déjà une définition"):
        registry_with(register_plugin, make_plugin("tp_a", hooks={"contacts_types": lambda: [PATRON]}),
                      make_plugin("tp_b", hooks={"contacts_types": lambda: [other]}))


def test_the_same_definition_twice_is_accepted(register_plugin):
    registry = registry_with(register_plugin, make_plugin("tp_a", hooks={"contacts_types": lambda: [PATRON]}),
                             make_plugin("tp_b", hooks={"contacts_types": lambda: [PATRON]}))
    assert registry.types["patron"] is PATRON


def test_a_type_with_a_wrong_kind_is_refused(register_plugin):
    bad = ContactType("robot", "Robot", "machine")
    with pytest.raises(PluginError, match="le genre doit être individual ou structure"):
        registry_with(register_plugin, make_plugin("tp_bad", hooks={"contacts_types": lambda: [bad]}))


def test_the_type_changes_only_within_its_kind(db):
    guide = svc.create_contact(db, {"type_code": "individual", "last_name": "Durand"})
    assert svc.update_contact(db, guide, {"type_code": "guide"}) == {"type_code"}
    with pytest.raises(InvalidError) as exc:
        svc.update_contact(db, guide, {"type_code": "supplier"})
    assert "type_code" in exc.value.fields


def test_the_app_builds_its_registry_with_the_enabled_plugins(make_app, register_plugin):
    register_plugin(make_plugin("tp_patrons", depends=["contacts"], hooks={"contacts_types": lambda: [PATRON]}))
    app = make_app(["tp_patrons"])
    assert "patron" in app.extensions["contacts"].types
