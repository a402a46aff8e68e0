"""Personal data: anonymisation of a contact, the purge batch and its simulation (service, REST, CLI,
periodic task)."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text, update

from coulisses import ConflictError
from coulisses.db import clock
from coulisses import plugins as cplugins
from plugins.contacts.models import Address, Contact, InternetAccount, Note
from plugins.contacts.registry import ContactReference, Registry, use_registry
from plugins.contacts.services import personal_data as pd
from plugins.contacts.services.search import quick_search
from tests.conftest import app_session
from tests.platform.conftest import make_plugin

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _age(db, contact, days, purchase_days=None):
    """Make ``contact`` look untouched for ``days`` days (and its last purchase ``purchase_days`` ago)."""
    values = {"updated_at": NOW - timedelta(days=days)}
    if purchase_days is not None:
        values.update(customer_since=NOW - timedelta(days=purchase_days + 10),
                      last_purchase_at=NOW - timedelta(days=purchase_days))
    db.execute(update(Contact).where(Contact.id == contact.id).values(**values))
    db.commit()


def test_anonymise_keeps_statistics_and_clears_the_person(db, person, operator_id):
    from plugins.contacts.services import details
    from plugins.contacts.services.accounts import create_internet_account

    c = person("SHAPIRA", "Michel", "07000", city="FREYSSENET", line1="123 ELCA", email="michel.shapira@gmail.com",
               mobile_phone="06 12 34 56 78", birth_date="08.07.2000", iban="FR7630006000011234567890189")
    details.add_note(db, c, "Allergique aux arachides")
    create_internet_account(db, c)
    db.commit()
    pd.anonymise(db, c)
    db.commit()
    db.expire_all()
    c = db.get(Contact, c.id)
    assert (c.last_name, c.first_name, c.email, c.mobile_phone, c.birth_date, c.iban) == ("ANONYME", "", None, None, None, None)
    address = c.main_address
    assert (address.country, address.postal_code, address.city, address.line1) == ("FR", "07000", "FREYSSENET", "")
    assert c.anonymised_at is not None and c.updated_by_id == operator_id
    assert db.scalar(select(func.count()).select_from(InternetAccount).where(InternetAccount.contact_id == c.id)) == 0
    notes = [n.text for n in details.notes_of(db, c)]
    assert "Allergique aux arachides" not in " ".join(notes) and any("anonymisé le" in n for n in notes)
    assert quick_search(db, "shapira") == [] and quick_search(db, "michel.shapira@") == []
    with pytest.raises(ConflictError):
        pd.anonymise(db, c)


def test_purge_deletes_prospects_anonymises_customers_and_keeps_the_active(db, person):
    old_prospect = person("ANCIEN", "Prospect")
    old_customer = person("ANCIEN", "Client")
    active_customer = person("ACTIF", "Client")  # bought last month
    recent_prospect = person("RECENT", "Prospect")
    _age(db, old_prospect, 40 * 31)
    _age(db, old_customer, 40 * 31, purchase_days=40 * 31)
    _age(db, active_customer, 40 * 31, purchase_days=30)
    _age(db, recent_prospect, 100)
    numbers = {c.id: c.number for c in (old_prospect, old_customer, active_customer, recent_prospect)}
    simulated = pd.purge(db, 36, simulate=True, now=NOW)
    assert simulated.deleted == [numbers[old_prospect.id]] and simulated.anonymised == [numbers[old_customer.id]]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Contact)) == 4  # a simulation changes nothing
    report = pd.purge(db, 36, now=NOW)
    db.commit()
    assert report.deleted == [numbers[old_prospect.id]] and report.anonymised == [numbers[old_customer.id]]
    remaining = {c.number: c for c in db.scalars(select(Contact))}
    assert numbers[old_prospect.id] not in remaining
    assert remaining[numbers[old_customer.id]].last_name == "ANONYME"
    assert remaining[numbers[active_customer.id]].last_name == "ACTIF"
    assert remaining[numbers[recent_prospect.id]].last_name == "RECENT"
    assert pd.purge(db, 36, now=NOW).examined == 0  # anonymised contacts are left alone


def test_a_prospect_referenced_by_another_plugin_is_anonymised_not_deleted(db, person, register_plugin):
    db.execute(text("CREATE TABLE tp_pd_ticket (id INTEGER PRIMARY KEY, "
                    "holder_id INTEGER REFERENCES contacts_contact (id))"))
    p = person("PORTEUR", "Billet")
    db.execute(text("INSERT INTO tp_pd_ticket (id, holder_id) VALUES (1, :c)"), {"c": p.id})
    _age(db, p, 40 * 31)
    register_plugin(make_plugin("tp_pd", depends=["contacts"], hooks={
        "contacts_references": lambda: [ContactReference("tp_pd_ticket", "holder_id", "Billets")]}))
    infos = cplugins.discover()
    registry = Registry.from_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["tp_pd"])))
    with use_registry(registry):
        report = pd.purge(db, 36, now=NOW, registry=registry)
    assert report.deleted == [] and report.kept_referenced == [p.number]
    assert db.get(Contact, p.id).anonymised_at is not None


def test_months_default_comes_from_the_configuration():
    assert pd.inactivity_months({}) == 36
    assert pd.inactivity_months({"CONTACTS_INACTIVITY_MONTHS": "12"}) == 12


def test_rest_anonymise_and_purge_need_contacts_personal_data(app, api):
    from plugins.contacts.services.contacts import create_quick

    with app_session(app) as s:
        number = create_quick(s, {"civility": "MME", "last_name": "EFFACE", "first_name": "Moi", "country": "FR",
                                  "postal_code": "75012", "city": "PARIS"}).number
        s.commit()
    assert api("supervisor").post(f"/api/v1/contacts/{number}/anonymise").status_code == 403
    admin = api("administrator")
    done = admin.post(f"/api/v1/contacts/{number}/anonymise")
    assert done.status_code == 200 and done.get_json()["anonymised_at"]
    assert admin.get(f"/api/v1/contacts/{number}").get_json() is not None
    assert admin.post(f"/api/v1/contacts/{number}/anonymise").status_code == 409
    report = admin.post("/api/v1/contacts/purge", json={"months": 36, "simulate": True}).get_json()
    assert report["simulate"] is True and report["deleted"] == 0


def test_cli_purge_simulate_reports_without_changing(app, database_url):
    from coulisses.cli import main
    from plugins.contacts.services.contacts import create_quick

    with app_session(app) as s:
        c = create_quick(s, {"civility": "M", "last_name": "VIEUX", "first_name": "Paul", "country": "FR",
                             "postal_code": "75012", "city": "PARIS"})
        s.execute(update(Contact).where(Contact.id == c.id).values(
            updated_at=NOW - timedelta(days=5 * 365)))
        s.commit()
    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    with clock(lambda: NOW):  # the command reads the host's clock
        result = CliRunner().invoke(main, ["contacts", "purge", "--months", "36", "--simulate"], env=env)
    assert result.exit_code == 0, result.output
    assert "Prospects qui seraient supprimés : 1" in result.output and "Simulation" in result.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
    with clock(lambda: NOW):
        result = CliRunner().invoke(main, ["contacts", "purge", "--months", "36"], env=env)
    assert "Prospects qui ont été supprimés : 1" in result.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0


def test_the_weekly_task_is_declared(app):
    tasks = {t.name: t for _p, items in cplugins.call_each(app.extensions["coulisses"].pm, "coulisses_periodic_tasks")
             for t in items}
    assert tasks["contacts.personal_data"].schedule == "weekly"


def test_the_first_tasks_run_on_a_demo_database_anonymises_nothing_until_the_purge_is_enabled(app, database_url):
    """Nothing is lost by a default (issue 7 §4): ``tasks run --due`` only simulates the purge and says
    so; with ``CONTACTS_PURGE_ENABLED`` the same run anonymises and deletes."""
    from coulisses.cli import main
    from coulisses.db import clock

    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    with clock(lambda: datetime(2026, 1, 5, 9, tzinfo=timezone.utc)):
        loaded = CliRunner().invoke(main, ["demo", "load", "--size", "small"], env=env)
    assert loaded.exit_code == 0, loaded.output

    def counts():
        with app_session(app) as s:
            return (s.scalar(select(func.count()).select_from(Contact)),
                    s.scalar(select(func.count()).select_from(Contact).where(Contact.anonymised_at.is_not(None))))

    before = counts()
    assert before[0] > 100 and before[1] == 0
    later = datetime(2030, 3, 31, 0, 30, tzinfo=timezone.utc)  # four years on: every demo contact inactive
    with clock(lambda: later):
        result = CliRunner().invoke(main, ["tasks", "run", "--due"], env=env)
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("contacts.personal_data :"))
    assert "'enabled': False" in line and "'simulate': True" in line and "CONTACTS_PURGE_ENABLED" in line
    assert counts() == before  # nothing deleted, nothing anonymised

    with clock(lambda: later):
        result = CliRunner().invoke(main, ["tasks", "run", "contacts.personal_data"],
                                    env={**env, "COULISSES_CONTACTS_PURGE_ENABLED": "true"})
    assert result.exit_code == 0, result.output
    assert "'enabled': True" in result.output and "'simulate': False" in result.output
    total, anonymised = counts()
    assert anonymised > 0 and total < before[0]  # customers anonymised, prospects deleted


def test_the_task_simulates_unless_enabled(db, person):
    p = person("OUBLIE", "Paul")
    _age(db, p, days=5 * 365)
    off = pd.purge_task(db, now=NOW)
    db.commit()
    assert off["enabled"] is False and off["simulate"] is True and off["deleted"] == 1
    assert db.get(Contact, p.id) is not None
    assert "CONTACTS_PURGE_ENABLED" in off["message"]
    assert pd.purge_enabled({"CONTACTS_PURGE_ENABLED": "true"}) and not pd.purge_enabled({})
    enabled = dataclasses.replace(pd.get_registry(), config={"CONTACTS_PURGE_ENABLED": True})
    on = pd.purge_task(db, now=NOW, registry=enabled)
    db.commit()
    assert on["enabled"] is True and on["simulate"] is False and on["deleted"] == 1 and "message" not in on
    assert db.get(Contact, p.id) is None
