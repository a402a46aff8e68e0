"""The hooks the contacts plugin offers (contacts_indicators, contacts_references, the event hooks)
and its host hooks (permissions, config defaults, periodic tasks)."""
from decimal import Decimal

import pytest
from sqlalchemy import inspect, select

from coulisses import ConflictError, PluginError
from coulisses import plugins as cplugins
from coulisses import tasks as ctasks
from plugins.contacts.models import IndicatorValue
from plugins.contacts.registry import (
    ContactReference, IndicatorDefinition, IndicatorLevel, Registry, get_registry, use_registry)
from plugins.contacts.services import contacts as svc
from plugins.contacts.services.indicators import BUILTIN_INDICATORS, indicators_of
from tests.platform.conftest import make_plugin


def registry_for(register_plugin, **hooks):
    register_plugin(make_plugin("tp_hooks", depends=["contacts"], hooks=hooks))
    infos = cplugins.discover()
    return Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_hooks"])))


def test_contacts_indicators_a_plugin_adds_one(db, person, register_plugin):
    loyalty = IndicatorDefinition(
        "loyalty_points", "Points fidélité", lambda session, contact, facts, config: Decimal(len(contact.last_name)),
        lambda value, config: "many" if value >= 5 else "few",
        (IndicatorLevel("few", "Peu"), IndicatorLevel("many", "Beaucoup")), "Une lettre, un point.", 200)
    registry = registry_for(register_plugin, contacts_indicators=lambda: [loyalty])
    with use_registry(registry):
        contact = person("Shapira", "Michel")
        views = {iv.code: iv for iv in indicators_of(db, contact)}
    assert list(views)[-1] == "loyalty_points"
    assert (views["loyalty_points"].value, views["loyalty_points"].level_label) == (Decimal(7), "Beaucoup")


def test_contacts_indicators_a_code_defined_twice_differently_is_refused(register_plugin):
    clash = IndicatorDefinition("pmg", "PMG maison", BUILTIN_INDICATORS[0].compute, BUILTIN_INDICATORS[0].level)
    with pytest.raises(PluginError, match="indicateur de contact « pmg » : « contacts » en donne déjà une définition"):
        registry_for(register_plugin, contacts_indicators=lambda: [clash])


def test_contacts_references_list_every_table_holding_a_contact(register_plugin, db):
    own = get_registry().references
    tables = {ref.table for ref in own}
    from coulisses import db as cdb

    for table in cdb.tables_of(["contacts"]):
        if table.name in ("contacts_contact", "contacts_criterion", "contacts_duplicate_pair", "contacts_merge_log",
                          "contacts_retired_number"):
            continue  # the contact itself, criteria lists, the merge machinery's own tables, deleted numbers
        assert table.name in tables, f"{table.name} holds contact ids but is not in contacts_references"
        for ref in own:
            if ref.table == table.name:
                assert ref.column in table.c
    other = ContactReference("sales_order", "contact_id", "Dossiers")
    registry = registry_for(register_plugin, contacts_references=lambda: [other])
    assert other in registry.references and len(registry.references) == len(own) + 1


def test_contacts_contact_created_and_updated_run_in_the_transaction(db, register_plugin):
    seen = []
    registry = registry_for(
        register_plugin,
        contacts_contact_created=lambda session, contact: seen.append(("created", contact.number)),
        contacts_contact_updated=lambda session, contact, changed: seen.append(("updated", sorted(changed))))
    with use_registry(registry):
        contact = svc.create_contact(db, {"type_code": "individual", "last_name": "Shapira"})
        svc.update_contact(db, contact, {"first_name": "Michel", "function": "Enseignant"})
        svc.update_contact(db, contact, {"first_name": "Michel"})  # nothing changed: no call
    assert seen == [("created", contact.number), ("updated", ["first_name", "function"])]


def test_contacts_contact_deleting_can_refuse(db, register_plugin):
    def refuse(session, contact):
        raise ConflictError(f"Le contact {contact.number} a des dossiers")

    registry = registry_for(register_plugin, contacts_contact_deleting=refuse)
    contact = svc.create_contact(db, {"type_code": "individual", "last_name": "Shapira"})
    with use_registry(registry), pytest.raises(ConflictError, match="a des dossiers"):
        svc.delete_contact(db, contact)
    assert inspect(contact).persistent


def test_periodic_tasks_recompute_indicators_nightly(make_app, db, person):
    app = make_app(["contacts"], schema=False)
    pm = app.extensions["coulisses"].pm
    tasks = {t.name: t for _plugin, items in cplugins.call_each(pm, "coulisses_periodic_tasks") for t in items}
    assert tasks["contacts.indicators"].schedule == "nightly"
    assert tasks["contacts.roles"].schedule == "nightly"
    contact_id = person("Shapira", "Michel").id
    db.execute(IndicatorValue.__table__.delete())
    db.commit()
    assert ctasks.run(db, tasks["contacts.indicators"]).result == 1
    assert len(db.scalars(select(IndicatorValue).where(IndicatorValue.contact_id == contact_id)).all()) == 7
    assert ctasks.last_run(db, tasks["contacts.indicators"]) is not None


def test_coulisses_config_defaults_and_environment_override(make_app, monkeypatch):
    monkeypatch.setenv("COULISSES_CONTACTS_PMG_THRESHOLDS", "200,900")
    app = make_app(["contacts"])
    assert app.config["CONTACTS_SENIORITY_THRESHOLDS"] == "1,3,5"
    assert app.config["CONTACTS_PMG_THRESHOLDS"] == "200,900"
    assert app.extensions["contacts"].config["CONTACTS_PMG_THRESHOLDS"] == "200,900"


def test_coulisses_permissions_are_declared_by_contacts(app):
    declared = {code: d.plugin for code, d in app.extensions["coulisses"].permissions.items()}
    for code in ("contacts.view", "contacts.edit", "contacts.delete", "contacts.merge", "contacts.import",
                 "contacts.export", "contacts.personal_data"):
        assert declared[code] == "contacts"
