"""The basket on the screens: RÉSERVER / PAYER as one operation, METTRE EN ATTENTE and the "Paniers"
list (resumed by another operator of the point of sale), ABANDONNER ORDRE, and "reprise de dossier"
(REPRENDRE on the order detail: remove a reserved ticket, change a tariff, add tickets, pay)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.conftest import app_session, csrf_token_of
from tests.sales.conftest import line
from tests.sales.test_screens import basket, sell_form, seller, shop  # noqa: F401 - fixtures


def baskets_of(app):
    from plugins.sales.models import Basket

    with app_session(app) as s:
        return [(b.number, b.state) for b in s.scalars(select(Basket).order_by(Basket.id))]


def test_a_sale_is_one_basket_one_operation(app, seller, shop, buyer):
    from plugins.sales.models import Operation, OperationEntry

    data = sell_form(seller, buyer=str(buyer.number), action="pay", **basket(shop, 2), **{"pay-CASH": "300"})
    response = seller.post("/admin/sales/sell/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    [(number, state)] = baskets_of(app)
    assert state == "settled"
    with app_session(app) as s:
        assert list(s.scalars(select(Operation.number))) == [number]
        kinds = list(s.scalars(select(OperationEntry.kind).order_by(OperationEntry.id)))
    assert kinds == ["basket", "sell", "pay", "settle"]
    html = seller.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Ordre {number} terminé" in html and "Monnaie à rendre" in html


def test_hold_then_resume_from_the_basket_list(app, seller, shop, buyer, client_for, make_operator):
    data = sell_form(seller, buyer=str(buyer.number), **basket(shop, 2), basket_note="Revient à 18 h")
    response = seller.post("/admin/sales/sell/hold", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/sales/baskets/")
    [(number, state)] = baskets_of(app)
    assert state == "held"

    make_operator("COLLEGUE")
    colleague = client_for("COLLEGUE")
    listing = colleague.get("/admin/sales/baskets/").get_data(as_text=True)
    assert f"Ordre {number}" in listing and "Revient à 18 h" in listing and "STX_BDD" in listing
    token = csrf_token_of(listing)
    resumed = colleague.post("/admin/sales/sell/resume", data={"csrf_token": token, "basket": str(number)})
    assert resumed.status_code == 302 and f"basket={number}" in resumed.headers["Location"]
    page = colleague.get(resumed.headers["Location"]).get_data(as_text=True)
    assert f"[Ordre {number}]" in page and 'data-testid="basket-orders"' in page
    assert baskets_of(app) == [(number, "open")]
    # paying the reservation settles the basket: still one operation
    pay = colleague.post("/admin/sales/sell/", data={"csrf_token": csrf_token_of(page), "basket": str(number),
                                                       "action": "pay", "pay-CARD": "220,00", "delivery_mode": "handed"})
    assert pay.status_code == 302, pay.get_data(as_text=True)[:3000]
    assert baskets_of(app) == [(number, "settled")]


def test_hold_with_nothing_is_refused_and_keeps_what_was_typed(app, seller, shop):
    data = sell_form(seller, basket_note="rien")
    response = seller.post("/admin/sales/sell/hold", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Rien à mettre en attente" in html and 'value="rien"' in html
    assert baskets_of(app) == []


def test_abandon_releases_the_places(app, seller, shop, buyer):
    from plugins.sales.models import Ticket

    seller.post("/admin/sales/sell/hold", data=sell_form(seller, buyer=str(buyer.number), **basket(shop, 3)))
    [(number, _)] = baskets_of(app)
    listing = seller.get("/admin/sales/baskets/").get_data(as_text=True)
    response = seller.post("/admin/sales/sell/abandon", data={"csrf_token": csrf_token_of(listing),
                                                              "basket": str(number), "back": "baskets"})
    assert response.status_code == 302
    assert baskets_of(app) == [(number, "abandoned")]
    with app_session(app) as s:
        assert set(s.scalars(select(Ticket.state))) == {"cancelled"}
    assert "Aucun panier en attente" in seller.get("/admin/sales/baskets/").get_data(as_text=True)


def test_take_up_an_order_remove_change_tariff_add_and_pay(app, seller, shop, buyer, db, operator_id):
    from plugins.sales.models import Order, Ticket
    from plugins.sales.services import orders

    c = shop
    order = orders.reserve(db, buyer, [line(c.performance, c.cat1, c.full, 3)])
    db.commit()
    detail = seller.get(f"/admin/sales/orders/{order.number}/").get_data(as_text=True)
    assert 'data-testid="take-up"' in detail and "REPRENDRE" in detail
    taken = seller.post("/admin/sales/sell/take-up", data={"csrf_token": csrf_token_of(detail), "order": str(order.number)})
    assert taken.status_code == 302
    [(number, _)] = baskets_of(app)
    page = seller.get(taken.headers["Location"]).get_data(as_text=True)
    assert f'data-testid="basket-order-{order.number}"' in page
    # left open, the basket is in "Paniers" too, to be taken back
    listing = seller.get("/admin/sales/baskets/").get_data(as_text=True)
    assert f"/admin/sales/sell/?basket={number}" in listing and "En cours" in listing
    with app_session(app) as s:
        first, second, third = s.scalars(select(Ticket).where(Ticket.order_id == order.id).order_by(Ticket.id)).all()
        ids = (first.id, second.id, third.id)
    common = {"csrf_token": csrf_token_of(page), "basket": str(number), "delivery_mode": "handed", **basket(c, 1, category=c.cat2)}
    removed = seller.post("/admin/sales/sell/basket-change", data={**common, "remove": str(ids[0])})
    assert removed.status_code == 200 and "retiré du dossier" in removed.get_data(as_text=True)
    # the line being typed is still in the basket
    assert 'name="line-0-category"' in removed.get_data(as_text=True)
    changed = seller.post("/admin/sales/sell/basket-change",
                          data={**common, "retariff": str(ids[1]), f"tariff-{ids[1]}": str(c.reduced.id)})
    assert changed.status_code == 200 and "Tarif réduit" in changed.get_data(as_text=True)
    paid = seller.post("/admin/sales/sell/", data={**common, "action": "pay", "target": str(order.number),
                                                    "pay-CASH": "300"})
    assert paid.status_code == 302, paid.get_data(as_text=True)[:3000]
    with app_session(app) as s:
        o = s.scalar(select(Order).where(Order.id == order.id))
        live = [t for t in o.tickets if t.state != "cancelled"]
        assert o.state == "settled" and o.balance == 0
        assert sorted(str(t.price) for t in live) == ["110.00", "60.00", "80.00"]
        assert {t.state for t in live} == {"paid"}
    assert baskets_of(app) == [(number, "settled")]


def test_a_refused_change_comes_back_with_the_reason(app, seller, shop, buyer, db, operator_id):
    from plugins.sales.services import orders
    from plugins.sales.services.payments import PaymentInput

    c = shop
    order = orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)], payments=[PaymentInput("CASH", "110.00")])
    db.commit()
    detail = seller.get(f"/admin/sales/orders/{order.number}/").get_data(as_text=True)
    taken = seller.post("/admin/sales/sell/take-up", data={"csrf_token": csrf_token_of(detail), "order": str(order.number)})
    [(number, _)] = baskets_of(app)
    page = seller.get(taken.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="remove-' not in page  # a paid ticket is not removed here (refund)
    response = seller.post("/admin/sales/sell/basket-change", data={"csrf_token": csrf_token_of(page), "basket": str(number),
                                                                    "remove": str(order.tickets[0].id)})
    assert response.status_code == 409 and "remboursement" in response.get_data(as_text=True)


def test_a_scanned_ticket_takes_its_order_up_and_keeps_the_lines_being_typed(app, seller, shop, buyer):
    """"Code-barres (scan)": a keyboard-wedge scanner types a ticket's barcode and Enter; the order
    comes into the basket (a new one), the lines typed meanwhile are kept; a mistyped code says so
    beside the field and loses nothing."""
    from plugins.sales.models import Order

    done = seller.post("/admin/sales/sell/", data=sell_form(seller, buyer=str(buyer.number), action="reserve",
                                                           **basket(shop, 2)))
    assert done.status_code == 302
    with app_session(app) as s:
        order = s.scalars(select(Order)).one()
        number, barcode = order.number, order.tickets[0].barcode

    typed = basket(shop, 3, category=shop.cat2)
    response = seller.post("/admin/sales/sell/scan", data=sell_form(seller, scan=barcode, **typed))
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    html = response.get_data(as_text=True)
    [(basket_number, state)] = baskets_of(app)[-1:]
    assert state == "open"
    assert f"Billet {barcode} : dossier {number} repris dans l&#39;ordre {basket_number}." in html
    assert f"[Ordre {basket_number}]" in html and 'data-testid="basket-orders"' in html
    assert f'value="{shop.cat2.id}"' in html.split('data-testid="basket"')[1]  # the line typed is still there
    assert 'id="sell-scan" name="scan" value=""' in html

    wrong = seller.post("/admin/sales/sell/scan", data=sell_form(seller, scan="01019999999", basket=str(basket_number),
                                                                 **typed))
    assert wrong.status_code == 404
    page = wrong.get_data(as_text=True)
    assert "Code-barres inconnu : 01019999999" in page and 'id="sell-scan-error"' in page
    assert 'value="01019999999"' in page and f"[Ordre {basket_number}]" in page
    assert f'value="{shop.cat2.id}"' in page.split('data-testid="basket"')[1]
