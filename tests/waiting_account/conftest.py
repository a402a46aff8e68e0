"""Fixtures of the waiting account's tests: a service session on a schema with the host's, contacts',
sales', reports' and waiting_account's tables, a plugin manager holding waiting_account (so that the
sales services call its hooks), the sales fixtures (catalogue, operator, buyers), a structure paying
on account and an invoice range."""
from __future__ import annotations

from datetime import date

import pytest

from coulisses import plugins as cplugins
from coulisses.registry import use_manager
from tests.conftest import create_schema
from tests.sales.conftest import Catalogue, catalogue, line, next_month, operator_id, person  # noqa: F401

PLUGINS = ["waiting_account"]


@pytest.fixture
def app(make_app):
    return make_app(PLUGINS)


@pytest.fixture
def pm():
    infos = cplugins.discover()
    return cplugins.build_manager(infos, cplugins.resolve(infos, PLUGINS), warn=False)


@pytest.fixture
def db(database_url, session, pm):
    """A service-layer session; the registries are built from a manager with waiting_account."""
    from plugins.sales.services.settings import install_defaults as sales_defaults
    from plugins.waiting_account.services.views import install_defaults

    create_schema(database_url, PLUGINS)
    with use_manager(pm):
        sales_defaults(session)
        install_defaults(session)
        session.commit()
        yield session


@pytest.fixture
def structure(db, operator_id):
    """UNIVERSITY PARIS, authorised on account up to 5 000,00 €."""
    from plugins.contacts.services.contacts import create_contact
    from plugins.waiting_account.services.accounts import set_authorisation

    contact = create_contact(db, {"type_code": "structure", "structure_name": "UNIVERSITY PARIS",
                                  "email": "compta@university-paris.fr"},
                             address={"line1": "12 rue de l'École de Médecine", "postal_code": "75006",
                                      "city": "PARIS", "country": "FR"})
    set_authorisation(db, contact, authorised=True, ceiling="5000.00")
    db.commit()
    return contact


@pytest.fixture
def buyer(db, person, operator_id):
    contact = person("Akoka", "Viviane")
    db.commit()
    return contact


@pytest.fixture
def invoice_range(db, operator_id):
    from plugins.waiting_account.services.invoices import create_range

    rng = create_range(db, "FA", 1, 999999, date(2000, 1, 1), date(2099, 12, 31))
    db.commit()
    return rng


def sell_on_account(db, catalogue, buyer, payer, quantity=1, mode="ATTENTE", details=None, **kw):
    """An order of ``quantity`` × 110,00 (Cat 1, full price) paid on ``payer``'s account (``details``:
    the payment's fields)."""
    from plugins.sales.services import orders
    from plugins.sales.services.payments import PaymentInput

    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, quantity)], payer=payer,
                        payments=[PaymentInput(mode, str(110 * quantity) + ".00", contact=payer.id, details=details)], **kw)
    return order


@pytest.fixture
def identity(db):
    """The organisation's identity printed on the invoices (the seller)."""
    from plugins.reports.services.identity import update_identity

    update_identity(db, {"name": "Opéra de Lyon", "legal_form": "SAS", "siren": "732829320",
                         "siret": "73282932000074", "vat_number": "FR40303265045",
                         "address": "1 place de la Comédie\n69001 LYON", "iban": "FR7630006000011234567890189",
                         "bic": "AGRIFRPP"})
    db.commit()
