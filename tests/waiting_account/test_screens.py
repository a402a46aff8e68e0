"""The waiting account's screens: find the account by contact or invoice number, its state and
history; settle with a cheque (the receipt); a wrong amount keeps what was typed; authorise (a
supervisor only); invoice orders; the contact sheet's block; the settings."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from plugins.waiting_account.models import Receipt
from plugins.waiting_account.services import accounts, invoices
from tests.conftest import app_session, csrf_token_of
from tests.waiting_account.conftest import sell_on_account


def _screen(client, **args):
    page = client.get("/admin/waiting_account/", query_string=args)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_the_operator_finds_the_account_and_settles_it_by_cheque(app, db, catalogue, buyer, structure, make_operator,
                                                                 client_for, invoice_range):
    order = sell_on_account(db, catalogue, buyer, structure, 3)
    invoice = invoices.invoice_orders(db, structure, [order])
    db.commit()
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    hits = _screen(client, q="UNIVERSITY")
    assert f"contact={structure.id}" in hits
    assert "Aucun contact ni facture ne correspond" in _screen(client, q="ZZ99")  # not an invoice either
    html = _screen(client, q=invoice.number)  # by invoice number
    assert "UNIVERSITY PARIS" in html and "330,00" in html and "Non soldé" in html and invoice.number in html
    assert 'data-testid="authorisation-form"' not in html  # operators do not authorise
    account_id = accounts.account_of(db, structure).id
    token = csrf_token_of(html)
    wrong = client.post(f"/admin/waiting_account/{account_id}/settle",
                        data={"csrf_token": token, "mode": "CHEQUE", "amount": "1 000,005", "bank": "LCL"})
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422 and "Montant invalide" in text and 'value="LCL"' in text
    missing = client.post(f"/admin/waiting_account/{account_id}/settle",
                          data={"csrf_token": token, "mode": "CHEQUE", "amount": "400,00"})
    assert missing.status_code == 422 and 'id="wa-cheque-error"' in missing.get_data(as_text=True)
    done = client.post(f"/admin/waiting_account/{account_id}/settle",
                       data={"csrf_token": token, "mode": "CHEQUE", "amount": "400,00", "cheque_number": "8812345",
                             "bank": "LCL"})
    assert done.status_code == 302 and "waiting_account.receipt" in done.headers["Location"]
    with app_session(app) as s:
        receipt = s.scalar(select(Receipt))
        assert (receipt.to_account, receipt.to_credit) == (Decimal("330.00"), Decimal("70.00"))
    html = _screen(client, account=account_id)
    assert "Soldé" in html and "8812345 LCL" in html


def test_a_supervisor_authorises_and_invoices(app, db, catalogue, buyer, structure, make_operator, client_for,
                                              invoice_range, identity):
    order = sell_on_account(db, catalogue, buyer, structure, 1)
    db.commit()
    account_id = accounts.account_of(db, structure).id
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    html = _screen(client, contact=structure.id)
    token = csrf_token_of(html)
    bad = client.post(f"/admin/waiting_account/{account_id}/authorisation",
                      data={"csrf_token": token, "authorised": "1", "ceiling": "-5"})
    assert bad.status_code == 422 and "Montant positif ou nul" in bad.get_data(as_text=True)
    ok = client.post(f"/admin/waiting_account/{account_id}/authorisation",
                     data={"csrf_token": token, "authorised": "1", "ceiling": "7 500,00"})
    assert ok.status_code == 302
    page = client.get(f"/admin/waiting_account/invoice?account={account_id}&order={order.number}")
    assert page.status_code == 200 and f'value="{order.number}"' in page.get_data(as_text=True)
    issued = client.post("/admin/waiting_account/invoice", data={"csrf_token": token, "account": account_id,
                                                                "orders": [str(order.number)]})
    assert issued.status_code == 302 and "ref=FA1" in issued.headers["Location"]
    with app_session(app) as s:
        assert accounts.account_of(s, structure.id).ceiling == Decimal("7500.00")
        assert invoices.get_invoice(s, "FA1").total == Decimal("110.00")


def test_the_contact_sheet_shows_the_account_in_the_management_tab(app, db, catalogue, buyer, structure,
                                                                   make_operator, client_for):
    sell_on_account(db, catalogue, buyer, structure, 2)
    db.commit()
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    page = client.get(f"/admin/contacts/sheet/{structure.number}/?tab=management")
    if page.status_code in (301, 302, 308):
        page = client.get(page.headers["Location"])
    html = page.get_data(as_text=True)
    assert 'data-testid="waiting-account-section"' in html
    assert "000,00" in html and "220,00" in html and f"/admin/waiting_account/?contact={structure.id}" in html


def test_the_organisation_authorises_new_structures_by_default(app, db, make_operator, client_for, operator_id):
    from plugins.contacts.services.contacts import create_contact

    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    page = client.get("/admin/waiting_account_settings/")
    token = csrf_token_of(page.get_data(as_text=True))
    bad = client.post("/admin/waiting_account_settings/", data={"csrf_token": token, "form": "settings",
                                                               "structures_authorised": "1", "default_ceiling": "abc",
                                                               "vat_rate": "5.5", "payment_days": "30"})
    assert bad.status_code == 422 and 'value="abc"' in bad.get_data(as_text=True)
    ok = client.post("/admin/waiting_account_settings/", data={"csrf_token": token, "form": "settings",
                                                              "structures_authorised": "1", "default_ceiling": "3 000",
                                                              "vat_rate": "5,5", "payment_days": "45"})
    assert ok.status_code == 302
    rng = client.post("/admin/waiting_account_settings/", data={"csrf_token": token, "form": "range", "prefix": "F",
                                                               "first_number": "10", "last_number": "5",
                                                               "valid_from": "2026-01-01", "valid_until": "2026-12-31"})
    assert rng.status_code == 422 and "Le dernier numéro suit le premier" in rng.get_data(as_text=True)
    db.expire_all()
    structure = create_contact(db, {"type_code": "structure", "structure_name": "THÉÂTRE DU NORD"})
    person = create_contact(db, {"type_code": "individual", "civility": "M", "last_name": "NORD", "first_name": "Jean"})
    db.commit()
    assert accounts.state_of(db, structure).authorised and accounts.state_of(db, structure).ceiling == Decimal("3000.00")
    assert not accounts.state_of(db, person).authorised


def test_the_screens_need_their_permissions(app, db, make_operator, client_for):
    make_operator("lecteur", roles=["readonly"])
    client = client_for("lecteur")
    assert client.get("/admin/waiting_account/").status_code == 200
    assert client.get("/admin/waiting_account_settings/").status_code == 403
    assert client.get("/admin/waiting_account_debits/").status_code == 403
