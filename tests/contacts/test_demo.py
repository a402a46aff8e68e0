"""Demo data: the seeds' contacts with their numbers, the generated French contacts, the sequence."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from coulisses.db import peek_number
from plugins.contacts.demo import DUPONT_LIST, SEED_LABELS, SEED_NUMBERS, load_demo
from plugins.contacts.models import Contact, ContactLink
from plugins.contacts.services.contacts import get_contact, header
from plugins.contacts.services.search import quick_search


def test_small_demo_has_the_seed_contacts_and_the_dup_autocomplete_of_the_seed(db):
    load_demo(db, "small")
    db.commit()
    assert sorted(SEED_LABELS) == sorted(h.label for h in quick_search(db, "dup"))
    assert [h.label for h in quick_search(db, "Dupont, c")] == ["DUPONT, Chantal | FR-75012 [7611]",
                                                               "DUPONT, Chrysoline | FR-75006 [10068]"]
    michel = get_contact(db, 17)
    assert header(michel) == "17 Monsieur Michel SHAPIRA (Client)"
    assert (michel.birth_date, michel.email) == (date(2000, 7, 8), "michel.shapira@gmail.com")
    address = michel.main_address
    assert (address.line1, address.postal_code, address.city, address.country) == ("123 ELCA", "07000", "FREYSSENET", "FR")
    account = michel.internet_account
    assert account.login == "michel.shapira@gmail.com"
    assert account.updated_at.strftime("%Y-%m-%d %H:%M") == "2015-09-21 06:36"  # 08:36 in Paris
    from coulisses.security import Operator

    assert db.get(Operator, account.updated_by_id).login == "CUBE_B2C_S"
    from plugins.contacts.services.details import marketing_alerts_of

    [alert] = marketing_alerts_of(db, michel)
    assert "Package deux ballets" in alert.offer and alert.availability == 100
    [akoka] = [h for h in quick_search(db, "akoka") if h.number == 15]
    assert akoka.label == "AKOKA, Viviane | UNIVERSITY PARIS / Relais [15]"
    # generated contacts: ~300, around the seed numbers, with structures and their relays and members
    total = db.scalar(select(func.count()).select_from(Contact))
    assert 300 <= total <= 320
    assert db.scalar(select(func.count()).select_from(Contact).where(Contact.kind == "structure")) >= 20
    kinds = set(db.scalars(select(ContactLink.kind)))
    assert {"relay_of", "member_of"} <= kinds
    assert peek_number(db, "contacts.contact") > max(SEED_NUMBERS)
    assert quick_search(db, "celine") or quick_search(db, "*e")  # accents in the generated names
    names = set(db.scalars(select(Contact.last_name)))
    assert any("-" in n or " " in n for n in names) and any(ch in "".join(names) for ch in "ÉÈÊËÏÎÔÇ")


def test_demo_is_deterministic(db):
    from plugins.contacts.demo import generate

    first = [r["last_name"] if r["kind"] == "individual" else r["structure_name"]
             for rows, _ in generate(500, seed=3) for r in rows]
    second = [r["last_name"] if r["kind"] == "individual" else r["structure_name"]
              for rows, _ in generate(500, seed=3) for r in rows]
    assert first == second and len(first) == 500


def test_demo_loads_through_the_host_hook(app, database_url):
    from click.testing import CliRunner

    from coulisses.cli import main

    env = {"COULISSES_DATABASE_URL": database_url, "COULISSES_PLUGINS": "contacts", "COULISSES_ENV": "development",
           "COULISSES_INSTANCE_PATH": str(app.instance_path)}
    result = CliRunner().invoke(main, ["demo", "load", "--size", "small"], env=env)
    assert result.exit_code == 0, result.output
    from tests.conftest import app_session

    with app_session(app) as s:
        numbers = set(s.scalars(select(Contact.number).where(Contact.number.in_([n for n, *_ in DUPONT_LIST]))))
        assert numbers == {n for n, *_ in DUPONT_LIST}
