"""The patrons plugin, as an operator, an API client, the command line and the database see it."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import select

from coulisses import InvalidError, migrations
from coulisses import db as cdb
from coulisses import plugins as cplugins
from coulisses.demo import load_demo
from coulisses.testing import app_session, assert_plugin_conforms, csrf_token_of

from coulisses_patrons import services
from coulisses_patrons.cli import patrons
from coulisses_patrons.models import Patronage


def spaces(text: str) -> str:
    """Babel separates thousands with a narrow no-break space; compare with plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


# --------------------------------------------------------------------------- services


def test_pledges_add_up_exactly_and_by_year(app):
    with app_session(app) as session:
        services.add_pledge(session, "Fondation Lumière", "0.10", date(2025, 12, 31))
        services.add_pledge(session, "Cabinet Marceau", Decimal("0.20"), date(2026, 1, 1))
        services.add_pledge(session, "Mme Duparc", 2420, date(2026, 6, 1))
        session.commit()
        assert services.total_pledged(session) == Decimal("2420.30")
        assert services.total_pledged(session, 2026) == Decimal("2420.20")
        assert services.total_pledged(session, 2024) == Decimal("0")


@pytest.mark.parametrize("amount, message", [
    (12.5, "never a float"),
    ("10.005", "more than 2 decimal places"),
    ("0", "must be positive"),
    ("douze", "not an amount"),
])
def test_a_wrong_amount_is_refused_with_the_reason(app, amount, message):
    with app_session(app) as session:
        with pytest.raises(InvalidError) as err:
            services.add_pledge(session, "Fondation Lumière", amount)
        assert message in err.value.fields["amount"]
        assert session.scalars(select(Patronage)).all() == []


def test_demo_data_loads_once(app):
    with app_session(app) as session:
        pm = app.extensions["coulisses"].pm
        # contacts first: the plugin depends on it
        assert load_demo(session, pm, "small", echo=lambda _: None) == ["contacts", "patrons"]
        assert load_demo(session, pm, "small", echo=lambda _: None) == []
        assert services.total_pledged(session) == Decimal("17770.00")
        linked = [p for p in services.list_pledges(session) if p.contact is not None]
        assert [(p.donor_name, p.contact.type_code, p.contact.extra) for p in linked] == [
            ("Mme Hélène Duparc", "patron", {"level": "silver", "since": 2019})]


# --------------------------------------------------------------------------- admin


def test_an_operator_without_the_permission_is_refused(app, make_operator, client_for):
    make_operator("guichet", roles=[], permissions=["core.api.docs"])
    client = client_for("guichet")
    assert client.get("/admin/patrons_patronage/").status_code == 403
    assert "/admin/patrons_patronage/" not in client.get("/admin/").get_data(as_text=True)  # not in the menu


def test_the_readonly_role_sees_the_pledges_but_cannot_record_one(app, make_operator, client_for):
    with app_session(app) as session:
        services.add_pledge(session, "Cabinet Marceau", "2420.00", date(2026, 3, 2))
        session.commit()
    make_operator("lecteur", roles=["readonly"])
    client = client_for("lecteur")
    page = client.get("/admin/patrons_patronage/")
    assert page.status_code == 200
    html = spaces(page.get_data(as_text=True))
    assert "Cabinet Marceau" in html and "2 420,00 €" in html
    assert client.get("/admin/patrons_patronage/new/").status_code == 403


def test_a_supervisor_records_a_pledge_typed_the_french_way(app, make_operator, client_for):
    op_id = make_operator("superviseur", roles=["supervisor"])
    client = client_for("superviseur")
    form = client.get("/admin/patrons_patronage/new/")
    assert form.status_code == 200
    response = client.post("/admin/patrons_patronage/new/", data={
        "csrf_token": csrf_token_of(form.get_data(as_text=True)),
        "donor_name": "Fondation Lumière", "amount": "1 500,50", "pledged_on": "2026-05-01", "note": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    with app_session(app) as session:
        pledge = session.scalars(select(Patronage)).one()
        assert (pledge.donor_name, pledge.amount, pledge.pledged_on) == ("Fondation Lumière", Decimal("1500.50"),
                                                                         date(2026, 5, 1))
        assert pledge.created_by_id == op_id


def test_an_amount_with_too_many_decimals_is_refused_in_the_form(app, make_operator, client_for):
    make_operator("superviseur", roles=["supervisor"])
    client = client_for("superviseur")
    form = client.get("/admin/patrons_patronage/new/")
    response = client.post("/admin/patrons_patronage/new/", data={
        "csrf_token": csrf_token_of(form.get_data(as_text=True)),
        "donor_name": "Fondation Lumière", "amount": "10,005", "pledged_on": "2026-05-01",
    })
    assert response.status_code == 200  # the form again, with the error
    assert "more than 2 decimal places" in response.get_data(as_text=True)
    with app_session(app) as session:
        assert session.scalars(select(Patronage)).all() == []


# --------------------------------------------------------------------------- REST


def test_the_api_records_and_sums_pledges_with_amounts_as_strings(app, make_operator, token_for):
    make_operator("caisse", roles=["supervisor"])
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for('caisse')}", "Idempotency-Key": "pledge-1"}
    body = {"donor_name": "Fondation Lumière", "amount": "15000.00", "pledged_on": "2026-01-15"}
    first = client.post("/api/v1/patrons/pledges", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["amount"] == "15000.00"
    again = client.post("/api/v1/patrons/pledges", json=body, headers=headers)
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    total = client.get("/api/v1/patrons/total?year=2026", headers={"Authorization": headers["Authorization"]})
    assert total.get_json() == {"total": "15000.00", "year": 2026}
    # a path parameter: the pledge by its id, 404 for none, 422 for an id out of range
    auth = {"Authorization": headers["Authorization"]}
    one = client.get(f"/api/v1/patrons/pledges/{first.get_json()['id']}", headers=auth)
    assert one.status_code == 200 and one.get_json() == first.get_json()
    assert client.get("/api/v1/patrons/pledges/999999", headers=auth).status_code == 404
    too_big = client.get(f"/api/v1/patrons/pledges/{2**31}", headers=auth)
    assert too_big.status_code == 422 and "pledge_id" in too_big.get_json()["error"]["fields"]


def test_the_api_refuses_a_wrong_amount_and_a_reader_who_writes(app, make_operator, token_for):
    make_operator("caisse", roles=["supervisor"])
    make_operator("lecteur", roles=["readonly"])
    client = app.test_client()
    bad = client.post("/api/v1/patrons/pledges", json={"donor_name": "X", "amount": "1.005"},
                      headers={"Authorization": f"Bearer {token_for('caisse')}"})
    assert bad.status_code == 422
    assert "amount" in bad.get_json()["error"]["fields"]
    refused = client.post("/api/v1/patrons/pledges", json={"donor_name": "X", "amount": "1.00"},
                          headers={"Authorization": f"Bearer {token_for('lecteur')}"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"


def test_the_endpoints_are_in_the_openapi_document(app, make_operator, token_for):
    make_operator("caisse", roles=["supervisor"])
    doc = app.test_client().get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token_for('caisse')}"})
    paths = doc.get_json()["paths"]
    assert paths["/patrons/pledges"]["post"]["x-permission"] == "patrons.manage"
    assert paths["/patrons/total"]["get"]["x-permission"] == "patrons.view"


# --------------------------------------------------------------------------- command line


def test_the_total_command_prints_formatted_money(app):
    runner = CliRunner()
    with app.app_context():
        added = runner.invoke(patrons, ["add", "Mme Duparc", "2420,5", "--on", "2026-05-20"])
        assert added.exit_code == 0, added.output
        refused = runner.invoke(patrons, ["add", "Mme Duparc", "12.345"])
        assert refused.exit_code == 1 and "more than 2 decimal places" in refused.output
        result = runner.invoke(patrons, ["total"])
    assert result.exit_code == 0, result.output
    assert spaces(result.output).strip() == "Total pledged: 2 420,50 €"


# --------------------------------------------------------------------------- migrations


def test_the_migration_creates_exactly_the_models_tables(database_url):
    infos = cplugins.discover()
    order = cplugins.resolve(infos, ["patrons"])
    assert order == ["contacts", "patrons"]  # enabling patrons pulls in contacts
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        migrations.upgrade(conn, infos, order)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_object": migrations.include_object_for(order), "compare_type": True})
        assert compare_metadata(context, cdb.metadata) == []
        assert "patrons_0002" in migrations.current_heads(conn)  # patrons_0002: the pledge's contact
        assert "patrons_0002" in migrations.applied_revisions(conn, infos)
        assert "contacts_0001" in migrations.applied_revisions(conn, infos)
    engine.dispose()


def test_the_migration_from_0001_keeps_the_pledges(database_url):
    """An organisation that ran 0.1.0 (patrons_0001, without contacts) upgrades: its pledges stay."""
    from alembic import command
    from sqlalchemy import text

    infos = cplugins.discover()
    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        cfg = migrations.alembic_config(conn, infos, ["core", "patrons"])
        command.upgrade(cfg, "core@head")
        command.upgrade(cfg, "patrons_0001")
        conn.execute(text("INSERT INTO patrons_patronage (donor_name, amount, pledged_on, note, created_at, "
                          "updated_at) VALUES ('Fondation Lumière', 150000, '2026-01-15', '', "
                          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    with engine.begin() as conn:
        migrations.upgrade(conn, infos, ["contacts", "patrons"])
    with engine.connect() as conn:
        assert conn.execute(text("SELECT donor_name, amount, contact_id FROM patrons_patronage")).all() == [
            ("Fondation Lumière", 150000, None)]
    engine.dispose()


def test_the_plugin_keeps_the_host_s_rules(app):
    """Migrations equal models, permissions declared and checked, nothing open to anonymous visitors,
    routes under /api/v1/patrons, hooks matching their specifications, every message translated."""
    assert_plugin_conforms(app, "patrons")
