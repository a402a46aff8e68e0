"""The order's life on screen: "Disponibilité des séances" (and its JSON for the sales screen's panel),
"Caisse" (open with a float, close with counts, a difference needs its reason, the journal and its
PDF), the order detail's option, delivery and documents, the orders list's expiry, and the sales
screen's delivery fields and availability panel."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from coulisses.db import Actor, acting_as, utcnow
from tests.conftest import app_session, csrf_token_of
from tests.sales.conftest import line
from tests.sales.test_screens import basket, sell_form, seller, shop  # noqa: F401 - fixtures


def _csrf(client, url):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return csrf_token_of(page.get_data(as_text=True)), page.get_data(as_text=True)


def _reserve(app, shop, buyer, quantity=2):
    from plugins.sales.services import orders

    with app_session(app) as s, acting_as(Actor(None, "test")):
        order = orders.reserve(s, buyer.id, [line(shop.performance.id, shop.cat1.id, shop.full.id, quantity)])
        s.commit()
        return order.number


def test_availability_screen_and_its_json(app, seller, shop, buyer):  # noqa: F811
    _reserve(app, shop, buyer, 3)
    html = seller.get("/admin/sales/availability/").get_data(as_text=True)
    assert 'data-testid="availability-list"' in html and "Joyaux" in html
    page = seller.get(f"/admin/sales/availability/?performance={shop.performance.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-category="CAT1"' in body and "Hors cont." in body
    row = body.split('data-category="CAT1"')[1].split("</tr>")[0]
    assert [c.split(">")[-1] for c in row.split("</td>")[1:6]] == ["30", "0", "3", "0", "27"]
    data = seller.get(f"/admin/sales/availability/{shop.performance.id}.json").get_json()
    assert data["reserved"] == 3 and data["categories"][0]["available"] == 27
    assert seller.get("/admin/sales/availability/99999.json").status_code == 404


def test_sell_screen_has_the_panel_and_takes_the_delivery_email(app, seller, shop):  # noqa: F811
    from plugins.sales.models import Order, OrderDelivery

    html = seller.get("/admin/sales/sell/").get_data(as_text=True)
    assert 'data-testid="availability-panel"' in html and "sales/availability.js" in html
    assert 'name="delivery_email"' in html and 'name="immediate_print"' in html
    documents = html.split('data-testid="sell-documents"')[1].split("</details>")[0]
    assert "Billets (E-mail)" in documents and "Reçu (Impression)" in documents
    bad = seller.post("/admin/sales/sell/", data={**sell_form(seller, buyer=str(shop_buyer(app))), **basket(shop, 1),
                                                   "action": "reserve", "delivery_mode": "eticket",
                                                   "delivery_email": "pas-une-adresse"})
    assert bad.status_code == 422 and "pas-une-adresse" in bad.get_data(as_text=True)  # kept as typed
    good = seller.post("/admin/sales/sell/", data={**sell_form(seller, buyer=str(shop_buyer(app))), **basket(shop, 1),
                                                    "action": "reserve", "delivery_mode": "eticket",
                                                    "delivery_email": "viviane@example.org", "immediate_print": "0"})
    assert good.status_code == 302
    with app_session(app) as s:
        order = s.scalars(select(Order).order_by(Order.id.desc())).first()
        row = s.get(OrderDelivery, order.id)
        assert order.delivery_mode == "eticket" and row.email == "viviane@example.org" and row.immediate_print is False
        from plugins.sales.services.journal import entries_of

        assert [e.kind for e in entries_of(s, order=order)] == ["reserve"]  # no entry of its own


def shop_buyer(app):
    from plugins.contacts.models import Contact

    with app_session(app) as s:
        return s.scalar(select(Contact.number).where(Contact.last_name.ilike("akoka")))


def test_order_detail_option_delivery_and_documents(app, seller, shop, buyer):  # noqa: F811
    number = _reserve(app, shop, buyer)
    url = f"/admin/sales/orders/{number}/"
    token, html = _csrf(seller, url)
    assert 'data-testid="option-expiry"' in html and "Places réservées jusqu'au" in html
    assert 'data-testid="delivery-form"' in html and "Aucun document" not in html
    listed = seller.get("/admin/sales/orders/?state=reserved").get_data(as_text=True)
    assert 'data-testid="order-option-expiry"' in listed and "Option jusqu" in listed
    r = seller.post(f"/admin/sales/order-life/{number}/option", data={"csrf_token": token,
                                                                      "option_expires_at": "2001-01-01T10:00"})
    assert r.status_code == 302
    back = seller.get(url).get_data(as_text=True)
    assert 'data-testid="order-life-error"' in back and 'value="2001-01-01T10:00"' in back and "Date passée" in back
    assert 'data-testid="order-life-error"' not in seller.get(url).get_data(as_text=True)  # shown once
    r = seller.post(f"/admin/sales/order-life/{number}/option", data={"csrf_token": token, "no_expiry": "1"})
    assert r.status_code == 302
    assert "Sans échéance" in seller.get(url).get_data(as_text=True)
    r = seller.post(f"/admin/sales/order-life/{number}/delivery", data={
        "csrf_token": token, "delivery_mode": "eticket", "delivery_email": "faux", "immediate_print": "1"})
    back = seller.get(url).get_data(as_text=True)
    assert r.status_code == 302 and 'value="faux"' in back and "Adresse e-mail invalide" in back
    r = seller.post(f"/admin/sales/order-life/{number}/delivery", data={
        "csrf_token": token, "delivery_mode": "eticket", "delivery_email": "v@example.org", "immediate_print": "0"})
    assert r.status_code == 302
    html = seller.get(url).get_data(as_text=True)
    assert 'value="v@example.org"' in html and 'data-document="sales.order_summary"' in html
    r = seller.post(f"/admin/sales/order-life/{number}/documents", data={"csrf_token": token, "type_code": "sales.receipt",
                                                                          "send": "print", "quantity": "2"})
    assert r.status_code == 302
    html = seller.get(url).get_data(as_text=True)
    assert 'data-document="sales.receipt"' in html
    r = seller.post(f"/admin/sales/order-life/{number}/documents/reset", data={"csrf_token": token})
    assert r.status_code == 302 and 'data-document="sales.receipt"' not in seller.get(url).get_data(as_text=True)
    assert seller.post(f"/admin/sales/order-life/{number}/option", data={}).status_code == 400  # CSRF


def test_the_till_screens_open_close_and_journal(app, seller, shop, client_for, make_operator):  # noqa: F811
    token, html = _csrf(seller, "/admin/sales/till/")
    assert 'data-testid="till-open-form"' in html
    r = seller.post("/admin/sales/till/open", data={"csrf_token": token, "opening_float": "abc"})
    assert r.status_code == 422 and 'value="abc"' in r.get_data(as_text=True)
    assert seller.post("/admin/sales/till/open", data={"csrf_token": token, "opening_float": "100,00"}).status_code == 302
    html = seller.get("/admin/sales/till/").get_data(as_text=True)
    assert 'data-testid="till-close-form"' in html and 'data-testid="expected-CASH"' in html
    from plugins.sales.models import TillSession

    with app_session(app) as s:
        till_id = s.scalar(select(TillSession.id))
    r = seller.post(f"/admin/sales/till/{till_id}/close", data={"csrf_token": token, "count-CASH": "90,00"})
    assert r.status_code == 422 and "Raison de l" in r.get_data(as_text=True) and 'value="90,00"' in r.get_data(as_text=True)
    r = seller.post(f"/admin/sales/till/{till_id}/close", data={"csrf_token": token, "count-CASH": "90,00",
                                                                 "reason": "Erreur de rendu"})
    assert r.status_code == 302
    page = seller.get(f"/admin/sales/till/{till_id}/").get_data(as_text=True)
    assert 'data-testid="till-difference"' in page and "Erreur de rendu" in page
    make_operator("other_op", roles=["operator"])
    assert client_for("other_op").get(f"/admin/sales/till/{till_id}/").status_code == 403
    assert seller.get(f"/admin/sales/till/{till_id}/journal.pdf").status_code == 404  # no reports plugin here


@pytest.fixture
def reports_app(make_app):
    return make_app(["sales", "reports"], OUTBOX_RUN="inline")


def test_the_till_journal_pdf_and_documents_produced_when_settled(reports_app, make_operator):
    from pypdf import PdfReader

    from plugins.contacts.services.contacts import create_quick
    from plugins.sales.models import OrderDocument
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import orders, settings, till
    from plugins.sales.services.payments import PaymentInput
    from tests.sales.conftest import next_month

    app = reports_app
    op_id = make_operator("caissier", roles=["operator"])
    with app_session(app) as s, acting_as(Actor(op_id, "caissier")):
        settings.install_defaults(s)
        venue = cat.create_venue(s, "OPERA", "Opéra Garnier")
        cat1 = cat.create_category(s, "CAT1", "Cat 1")
        tariff = cat.create_tariff(s, "PLEIN", "Plein tarif")
        perf = cat.create_performance(s, cat.create_event(s, "JOYAUX", "Joyaux"), venue, next_month(), quotas={cat1: 5})
        cat.set_price(s, perf, cat1, tariff, "110.00")
        buyer = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        session = till.open_till(s, "50.00")
        order = orders.sell(s, buyer, [line(perf, cat1, tariff, 1)], payments=[PaymentInput("CASH", "110.00")])
        s.commit()
        till_id, number = session.id, order.number
    with app_session(app) as s:
        docs = list(s.scalars(select(OrderDocument).order_by(OrderDocument.id)))
        assert [(d.type_code, d.state) for d in docs] == [("sales.ticket", "ready"), ("sales.receipt", "ready")]
        assert all(d.document_id for d in docs)
    from coulisses.testing import login

    client = app.test_client()
    assert login(client, "caissier").status_code == 302
    pdf = client.get(f"/admin/sales/till/{till_id}/journal.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\u202f", " ").replace("\xa0", " ")
    assert "Journal d'une caisse" in text and "Fond de caisse" in text and "160,00" in text and str(number) in text
    html = client.get(f"/admin/sales/orders/{number}/").get_data(as_text=True)
    assert "prêt à imprimer" in html
