"""The "Échange - annulation" screen: the seed's flow by forms (scan a range, refund 6 by the order's
payment mode; the 22-for-22 exchange), refusals shown with the rest kept, REPRENDRE from the order
detail (checked tickets), permissions."""
from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token_of


@pytest.fixture
def shop(app, world, db):
    db.commit()
    return world


@pytest.fixture
def chef(shop, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    return client_for("chef")


def new_basket(client) -> tuple[str, str]:
    page = client.get("/admin/refunds/basket/")
    assert page.status_code == 200
    token = csrf_token_of(page.get_data(as_text=True))
    response = client.post("/admin/refunds/basket/new", data={"csrf_token": token})
    assert response.status_code == 302
    return response.headers["Location"].split("#")[0], token


def test_seed_flow_refund_six_by_range(chef, seed_order):
    order = seed_order()
    codes = sorted(t.barcode for t in order.tickets)
    url, token = new_basket(chef)
    page = chef.get(url).get_data(as_text=True)
    assert "Ordre " in page and 'id="scan"' in page and "autofocus" in page
    r = chef.post(url + "tickets", data={"csrf_token": token, "first": codes[0], "last": codes[5]},
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert html.count("6 billet(s) ajouté(s)") == 1  # the basket's message, not the layout's as well
    assert "Joyaux - Lun 02.11.2015 20:15" in html and "Cat 1 Contact occasionnel - Plein tarif" in html
    assert re.search(r'data-testid="subtotal-refunded">-660,00\xa0€', html)
    assert re.search(r'data-testid="basket-total">-660,00\xa0€', html)
    assert "Autre paiement" in html  # the reminder and the order's own mode
    bad = chef.post(url + "settle", data={"csrf_token": token, "refund-OTHER": "600,00"})
    assert bad.status_code == 422 and "doivent faire" in bad.get_data(as_text=True)
    assert 'value="600,00"' in bad.get_data(as_text=True)  # what was typed is kept
    done = chef.post(url + "settle", data={"csrf_token": token, "refund-OTHER": "660,00"}, follow_redirects=True)
    assert "réglé" in done.get_data(as_text=True) and 'data-testid="settled-summary"' in done.get_data(as_text=True)


def test_plage_makes_the_scan_field_take_the_first_then_the_last_of_a_range(chef, seed_order):
    """"Plage" (a toggle button, pressed when on): two scans in "Code-barres (scan)" — a keyboard-wedge
    scanner — are the first and the last ticket of a range; off again: one ticket per scan."""
    order = seed_order()
    codes = sorted(t.barcode for t in order.tickets)
    url, token = new_basket(chef)
    assert 'aria-pressed="false"' in chef.get(url).get_data(as_text=True)
    on = chef.post(url + "scan-range", data={"csrf_token": token, "on": "1"}, follow_redirects=True).get_data(as_text=True)
    assert 'id="scan-range-toggle"' in on and 'aria-pressed="true"' in on and 'name="on" value="0"' in on
    assert "Plage : scannez le premier puis le dernier billet de chaque plage." in on
    first = chef.post(url + "tickets", data={"csrf_token": token, "scan": codes[0]}, follow_redirects=True)
    html = first.get_data(as_text=True)
    assert f"Premier billet de la plage : {codes[0]}. Scannez le dernier." in html
    assert 'data-testid="refund-line"' not in html
    last = chef.post(url + "tickets", data={"csrf_token": token, "scan": codes[5]}, follow_redirects=True)
    assert "6 billet(s) ajouté(s)" in last.get_data(as_text=True)
    off = chef.post(url + "scan-range", data={"csrf_token": token, "on": "0"}, follow_redirects=True)
    assert 'aria-pressed="false"' in off.get_data(as_text=True)
    one = chef.post(url + "tickets", data={"csrf_token": token, "scan": codes[6]}, follow_redirects=True)
    assert "1 billet(s) ajouté(s)" in one.get_data(as_text=True)


def test_seed_flow_exchange_22_for_carmina(chef, shop, seed_order):
    order = seed_order()
    url, token = new_basket(chef)
    chef.post(url + "tickets", data={"csrf_token": token, "order": str(order.number)})
    seats = " ".join(str(shop.seats[str(n)]) for n in range(1, 23))
    price = f"{shop.carmina.id}:{shop.cat1.id}:{shop.full.id}"
    r = chef.post(url + "exchange", data={"csrf_token": token, "price": price, "quantity": "22", "seats": seats},
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Carmina Burana - Lun 26.10.2015 19:30" in html
    assert re.search(r'data-testid="subtotal-refunded">-2\u202f420,00\xa0€', html)
    assert re.search(r'data-testid="subtotal-sold">1\u202f320,00\xa0€', html)
    assert re.search(r'data-testid="basket-total">-1\u202f100,00\xa0€', html)
    done = chef.post(url + "settle", data={"csrf_token": token, "refund-OTHER": "1100,00"}, follow_redirects=True)
    assert "échange : dossier" in done.get_data(as_text=True)


def test_refusal_keeps_the_rest_and_take_from_order_detail(chef, seed_order):
    order = seed_order()
    page = chef.get(f"/admin/sales/orders/{order.number}/")
    html = page.get_data(as_text=True)
    assert re.search(r'form="tickets-form" formaction="/admin/refunds/basket/take\?order=\d+"[^>]*data-action="refunds_take"', html)
    token = csrf_token_of(html)
    chosen = [str(t.id) for t in order.tickets[:2]]
    r = chef.post(f"/admin/refunds/basket/take?order={order.number}", data={"csrf_token": token, "tickets": chosen})
    url = r.headers["Location"].split("#")[0]
    r = chef.post(url + "tickets", data={"csrf_token": token, "numbers": f"{order.tickets[0].barcode}, 12345678901"},
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "déjà dans le panier" in html and "inconnu" in html
    assert re.search(r'data-testid="subtotal-refunded">-220,00', html)


def test_permissions(shop, make_operator, client_for, seed_order):
    make_operator("lecteur", roles=["readonly"])
    reader = client_for("lecteur")
    assert reader.get("/admin/refunds/basket/").status_code == 403
    make_operator("guichet", roles=["operator"])
    operator = client_for("guichet")
    order = seed_order()
    url, token = new_basket(operator)
    operator.post(url + "tickets", data={"csrf_token": token, "order": str(order.number)})
    page = operator.get(url).get_data(as_text=True)
    assert re.search(r'id="refund-CASH"[^>]*disabled', page)  # cash needs refunds.cash (supervisor)
    assert 'id="fee_override"' not in page
    r = operator.post(url + "settle", data={"csrf_token": token, "refund-CASH": "2420,00"})
    assert r.status_code == 422 and "refunds.cash" in r.get_data(as_text=True)


def test_cancelled_performance_screen(chef, shop, sell, db):
    order = sell(2, mode="CARD")
    page = chef.get(f"/admin/refunds/performances/{shop.joyaux.id}/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "220,00" in html and 'data-testid="simulation-modes"' in html
    token = csrf_token_of(html)
    r = chef.post(f"/admin/refunds/performances/{shop.joyaux.id}/start", data={"csrf_token": token,
                                                                             "fallback": "CREDIT"},
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'data-testid="progress"' in html
    from plugins.refunds.models import PerformanceCancellation

    db.expire_all()
    pc = db.query(PerformanceCancellation).one()
    from coulisses.outbox import run_pending

    if pc.state != "done":  # the worker's turn when the app leaves jobs to it
        run_pending(db.get_bind())
        db.expire_all()
        pc = db.query(PerformanceCancellation).one()
    assert pc.state == "done" and len(pc.report["done"]) == 1
    db.refresh(order)
    assert order.state == "cancelled"
    html = chef.get(f"/admin/refunds/performances/{shop.joyaux.id}/").get_data(as_text=True)
    assert "1 dossier(s) remboursé(s)" in html


@pytest.mark.parametrize("language, exchange, customer", [
    ("fr", "Échange", "Convenance personnelle"),
    ("en", "Exchange", "Personal convenience"),
    ("es", "Cambio", "Conveniencia personal"),
])
def test_built_in_causes_show_in_the_reader_s_language_and_an_organisation_s_own_as_typed(
        shop, db, make_operator, client_for, language, exchange, customer):
    from coulisses import security
    from coulisses.i18n import use_locale
    from plugins.refunds.models import RefundCause
    from plugins.refunds.services.causes import create_cause

    # the seed's French wording is what is stored; an organisation's own cause and a renamed one stay as typed
    stored = {c.code: c.label for c in db.query(RefundCause)}
    assert stored["EXCHANGE"] == "Échange" and stored["CUSTOMER"] == "Convenance personnelle"
    create_cause(db, "FESTIVAL", "Annulation du festival")
    db.query(RefundCause).filter_by(code="GESTURE").one().label = "Geste du directeur"
    db.commit()
    make_operator("chef", roles=["supervisor"])
    security.get_operator(db, "chef").locale = language
    db.commit()
    with use_locale("en"):
        assert str(db.query(RefundCause).filter_by(code="CANCELLED").one()) == "Performance cancelled"
    client = client_for("chef")
    url, _token = new_basket(client)
    page = client.get(url).get_data(as_text=True)
    options = re.findall(r'<option value="([A-Z]+)"[^>]*>([^<(]+)', page)
    labels = {code: label.strip() for code, label in options}
    assert labels["EXCHANGE"] == exchange
    assert labels["FESTIVAL"] == "Annulation du festival"
    assert labels["GESTURE"] == "Geste du directeur"
    assert labels["CUSTOMER"] == customer
    listing = client.get("/admin/refunds_cause/").get_data(as_text=True)
    assert exchange in listing and "Annulation du festival" in listing
    if language != "fr":
        assert "Échange" not in listing
    exchange_id = db.query(RefundCause).filter_by(code="EXCHANGE").one().id
    details = client.get(f"/admin/refunds_cause/details/?id={exchange_id}").get_data(as_text=True)
    assert exchange in details  # the details page as the list, never the stored French
    if language != "fr":
        assert "Échange" not in details
