"""The B2B portal: a partner's relay signs in with the internet account of the contacts plugin, buys
on the structure's account, sees the order, its print-at-home tickets, the instalments and the
invoices, pays an instalment through the built-in test provider (hook
``waiting_account_payment_providers``); wrong passwords are refused; the portal and the
back-office never open each other's routes; a customer sees nothing of another's."""
from __future__ import annotations

import io
from decimal import Decimal

import pdfplumber
import pytest
from sqlalchemy import select

from plugins.waiting_account.models import Instalment, Movement
from plugins.waiting_account.services import accounts
from tests.conftest import app_session, csrf_token_of
from tests.waiting_account.conftest import sell_on_account


@pytest.fixture
def relay(db, buyer, structure, operator_id):
    """AKOKA Viviane, relay of UNIVERSITY PARIS, with an internet account; returns (contact, password)."""
    from plugins.contacts.services.accounts import create_internet_account
    from plugins.contacts.services.links import add_link

    buyer.email = "viviane.akoka@university-paris.fr"
    add_link(db, buyer, "relay_of", structure)
    _account, password = create_internet_account(db, buyer)
    db.commit()
    return buyer, password


def _login(client, email, password):
    page = client.get("/portal/login")
    return client.post("/portal/login", data={"csrf_token": csrf_token_of(page.get_data(as_text=True)),
                                              "email": email, "password": password})


def test_a_relay_buys_on_the_structures_account_and_pays_an_instalment(app, db, catalogue, relay, structure):
    contact, password = relay
    client = app.test_client()
    assert client.get("/portal/").headers["Location"].startswith("/portal/login")
    refused = _login(client, contact.email, "wrong")
    assert refused.status_code == 401 and "incorrect" in refused.get_data(as_text=True)
    assert _login(client, contact.email, password).status_code == 302
    home = client.get("/portal/").get_data(as_text=True)
    assert "UNIVERSITY PARIS" in home and "Mon compte" in home
    page = client.get("/portal/performances").get_data(as_text=True)
    assert "Joyaux" in page and "Grande salle" not in page  # seated venues are not sold on the portal yet
    c = catalogue
    bought = client.post("/portal/buy", data={"csrf_token": csrf_token_of(page), "quantity": "2",
                                              "price": f"{c.performance.id}:{c.cat1.id}:{c.full.id}"})
    assert bought.status_code == 302
    db.expire_all()
    movement = db.scalar(select(Movement))
    assert (movement.amount, accounts.account_of(db, structure).id) == (Decimal("220.00"), movement.account_id)
    from plugins.sales.models import Order

    order = db.get(Order, movement.order_id)
    assert (order.buyer_id, order.payer_id, order.structure_id) == (contact.id, structure.id, structure.id)
    home = client.get("/portal/").get_data(as_text=True)
    assert f"Billets à imprimer (PDF) du dossier {order.number}" in home
    pdf = client.get(f"/portal/orders/{order.number}/tickets.pdf")
    with pdfplumber.open(io.BytesIO(pdf.data)) as doc:
        assert len(doc.pages) == 2 and "Joyaux" in doc.pages[0].extract_text()
    [instalment] = db.scalars(select(Instalment)).all()
    token = csrf_token_of(home)
    declined = client.post(f"/portal/instalments/{instalment.id}/pay",
                           data={"csrf_token": token, "provider": "test", "card_number": "4000 0000 0000 0002"})
    assert declined.status_code == 302
    assert "Paiement refusé" in client.get("/portal/").get_data(as_text=True)
    db.expire_all()
    assert accounts.balance(db, movement.account_id) == Decimal("220.00")
    paid = client.post(f"/portal/instalments/{instalment.id}/pay",
                       data={"csrf_token": token, "provider": "test", "card_number": "4242 4242 4242 4242"})
    assert paid.status_code == 302
    db.expire_all()
    assert accounts.balance(db, movement.account_id) == 0
    assert db.get(Instalment, instalment.id).state == "paid"


def test_the_portal_and_the_back_office_never_open_each_others_routes(app, db, relay, make_operator, client_for):
    contact, password = relay
    customer = app.test_client()
    _login(customer, contact.email, password)
    for url in ("/admin/", "/admin/waiting_account/", "/admin/sales/orders/", "/admin/contacts/sheet/1/"):
        answer = customer.get(url)
        assert answer.status_code in (302, 401, 403) and "/login" in answer.headers.get("Location", "/login"), url
        assert "/portal" not in answer.headers.get("Location", "")
    assert customer.get("/api/v1/contacts/1/waiting-account").status_code == 401
    make_operator("guichet", roles=["operator"])
    operator = client_for("guichet")
    assert operator.get("/portal/").headers["Location"].startswith("/portal/login")


def test_a_customer_sees_nothing_of_another(app, db, catalogue, buyer, structure, relay, person, invoice_range):
    from plugins.contacts.services.accounts import create_internet_account
    from plugins.waiting_account.services.invoices import invoice_orders

    order = sell_on_account(db, catalogue, buyer, structure, 1)
    invoice = invoice_orders(db, structure, [order])
    stranger = person("Martin", "Paul", email="paul.martin@example.org")
    _account, password = create_internet_account(db, stranger)
    db.commit()
    client = app.test_client()
    _login(client, stranger.email, password)
    assert client.get(f"/portal/orders/{order.number}/tickets.pdf").status_code == 404
    assert client.get(f"/portal/invoices/{invoice.number}.pdf").status_code == 404
    assert "ne permet pas d'acheter" in client.get("/portal/").get_data(as_text=True)
