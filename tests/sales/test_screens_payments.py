"""The payment screens: a mode's settings as a form (validated field by field, what was typed kept),
the operator's fields in the sales screen's payment rows, "Règlements en attente" resolved by a
supervisor, "Changer le payeur" from the order detail."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.conftest import app_session, csrf_token_of
from tests.sales.test_screens import basket, order_959, select_operator, sell_form, seller, shop  # noqa: F401


@pytest.fixture
def supervisor(shop, make_operator, client_for):  # noqa: F811
    make_operator("CHEF", roles=["supervisor"])
    return client_for("CHEF")


def mode_id(app, code):
    from plugins.sales.models import PaymentMode

    with app_session(app) as s:
        return s.scalar(select(PaymentMode.id).where(PaymentMode.code == code))


def test_the_mode_settings_are_a_form_validated_field_by_field(app, supervisor):
    url = f"/admin/sales_payment_mode/edit/?id={mode_id(app, 'CHEQUE')}"
    page = supervisor.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Montant maximum d&#39;un règlement" in html and "Banque obligatoire" in html
    assert 'name="type_code"' not in html and "Type : Chèque" in html  # fixed once created
    data = {"csrf_token": csrf_token_of(html), "code": "CHEQUE", "label": "Chèque", "position": "20", "active": "y",
            "setting__max_amount": "beaucoup", "setting__require_bank": "y"}
    refused = supervisor.post(url, data=data)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Ce n&#39;est pas un nombre." in text and 'value="beaucoup"' in text
    data["setting__max_amount"] = "1 500,00"
    assert supervisor.post(url, data=data).status_code == 302
    from plugins.sales.models import PaymentMode

    with app_session(app) as s:
        settings = s.scalar(select(PaymentMode).where(PaymentMode.code == "CHEQUE")).settings
    assert (settings["max_amount"], settings["require_bank"], settings["require_number"]) == ("1500.00", True, False)
    listing = supervisor.get("/admin/sales_payment_mode/").get_data(as_text=True)
    assert "Montant maximum d&#39;un règlement : 1500.00" in listing
    details = supervisor.get(url.replace("/edit/", "/details/")).get_data(as_text=True)
    assert "Montant maximum d&#39;un règlement : 1500.00" in details and "max_amount" not in details  # never the JSON
    assert not re.search(r">\s*cheque\s*<", details)  # the type's name, not its code


def test_the_sales_screen_asks_the_mode_fields_and_keeps_them_on_a_refusal(app, seller, supervisor, shop, buyer):  # noqa: F811
    from plugins.sales.services import settings

    with app_session(app) as s:
        settings.update_payment_mode_settings(s, "CHEQUE", {"require_bank": True})
        s.commit()
    page = seller.get("/admin/sales/sell/").get_data(as_text=True)
    assert 'id="pay-CHEQUE-cheque_number"' in page and '<label for="pay-CHEQUE-bank"' in page
    assert 'data-testid="payment-fields-CHEQUE" hidden' in page  # until an amount is typed
    data = sell_form(seller, buyer=str(buyer.number), action="pay", **basket(shop, 2),
                     **{"pay-CHEQUE": "220,00", "pay-CHEQUE-cheque_number": "0012345"})
    refused = seller.post("/admin/sales/sell/", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="pay-CHEQUE-bank-error">Champ obligatoire.' in html and 'value="0012345"' in html
    assert 'data-testid="payment-fields-CHEQUE" hidden' not in html
    data["pay-CHEQUE-bank"] = "LCL"
    done = seller.post("/admin/sales/sell/", data=data)
    assert done.status_code == 302
    from plugins.sales.models import Payment

    with app_session(app) as s:
        payment = s.scalars(select(Payment)).one()
        assert (payment.details, payment.reference) == ({"cheque_number": "0012345", "bank": "LCL"}, "0012345")


def test_changing_the_payer_from_the_order_detail(app, supervisor, order_959, person, db):  # noqa: F811
    sold, _ = order_959
    other = person("Martin", "Paul")
    db.commit()
    detail = supervisor.get(f"/admin/sales/orders/{sold}/").get_data(as_text=True)
    assert f"/admin/sales/payer/{sold}/" in detail and "Changer le payeur" in detail
    page = supervisor.get(f"/admin/sales/payer/{sold}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('name="payments"') == 2
    token = csrf_token_of(html)
    missing = supervisor.post(f"/admin/sales/payer/{sold}/", data={"csrf_token": token, "payer": "", "reason": "Erreur"})
    assert missing.status_code == 422 and 'value="Erreur"' in missing.get_data(as_text=True)
    from plugins.sales.models import Order, Payment

    with app_session(app) as s:
        order = s.scalar(select(Order).where(Order.number == sold))
        first = s.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).first().id
    done = supervisor.post(f"/admin/sales/payer/{sold}/", data={"csrf_token": token, "payer": str(other.number),
                                                               "payments": [str(first)], "reason": "Erreur"})
    assert done.status_code == 302
    with app_session(app) as s:
        order = s.scalar(select(Order).where(Order.number == sold))
        rows = [(p.amount, p.contact_id, p.correction_of_id)
                for p in s.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id))]
        assert rows[2:] == [(Decimal("-100.00"), order.buyer_id, first), (Decimal("100.00"), other.id, first)]
        assert order.payer_id == other.id


def test_the_payer_change_needs_its_permission(app, seller, order_959):  # noqa: F811
    sold, _ = order_959
    assert seller.get(f"/admin/sales/payer/{sold}/").status_code == 403
    assert f"/admin/sales/payer/{sold}/" not in seller.get(f"/admin/sales/orders/{sold}/").get_data(as_text=True)


def test_pending_payments_are_resolved_on_their_screen(app, seller, supervisor, order_959, db):  # noqa: F811
    from plugins.sales.models import Order, PendingPayment
    from plugins.sales.services.journal import record_operation
    from plugins.sales.services.settings import get_payment_mode

    _, reserved = order_959
    with acting_as(Actor(db.scalar(select_operator()), "STX_BDD")):
        order = db.scalar(select(Order).where(Order.number == reserved))
        op = record_operation(db, "pay", order=order)
        db.add(PendingPayment(order_id=order.id, payment_mode_id=get_payment_mode(db, "CARD").id, amount=Decimal("60.00"),
                              state="unknown", operation_id=op.id, details={}, message="Délai dépassé"))
        db.commit()
    listing = seller.get("/admin/sales/pending-payments/").get_data(as_text=True)
    assert "Délai dépassé" in listing and "Issue inconnue" in listing and 'name="outcome"' not in listing
    page = supervisor.get("/admin/sales/pending-payments/").get_data(as_text=True)
    pid = db.scalar(select(PendingPayment.id))
    token = csrf_token_of(page)
    empty = supervisor.post(f"/admin/sales/pending-payments/{pid}/resolve",
                            data={"csrf_token": token, "outcome": "completed", "note": "", "reference": "AUTH 5"})
    assert empty.status_code == 422 and 'value="AUTH 5"' in empty.get_data(as_text=True)
    done = supervisor.post(f"/admin/sales/pending-payments/{pid}/resolve",
                           data={"csrf_token": token, "outcome": "completed", "note": "Ticket TPE vu", "reference": "AUTH 5"})
    assert done.status_code == 302
    assert "Aucun règlement en attente." in supervisor.get("/admin/sales/pending-payments/").get_data(as_text=True)
    db.expire_all()
    order = db.scalar(select(Order).where(Order.number == reserved))
    assert (order.paid, order.state) == (Decimal("60.00"), "settled")
