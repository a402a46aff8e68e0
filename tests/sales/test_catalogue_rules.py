"""Issue 14, catalogue: audiences and fees through the REST API; seasons, venues, categories, events,
audiences, tariffs and fees deactivated (screens and API) instead of deleted when something refers to
them, gone from the sell screen's choices but kept on past orders; a screen and the API refuse the
same things with the same message (one set of rules: ``services/catalogue_rules.py``)."""
from __future__ import annotations

import html as htmllib
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import app_session
from tests.sales.conftest import line
from tests.sales.test_catalogue_api import _ok, api  # noqa: F401 - the integrator's client fixture
from tests.sales.test_screens_catalogue import form_of, supervisor  # noqa: F401 - the supervisor's client


def _page(client, url, data) -> str:
    return htmllib.unescape(client.post(url, data=data, follow_redirects=True).get_data(as_text=True))


def _error(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


# --------------------------------------------------------------------------- audiences and fees (API)


def test_audiences_are_created_changed_listed_and_deactivated_through_the_api(api):
    audience = _ok(api.post("/api/v1/sales/audiences", json={"code": "ABO", "label": "Abonné", "position": 2}))
    assert audience["active"] is True and audience["position"] == 2
    error = _error(api.post("/api/v1/sales/audiences", json={"code": "ABO", "label": "Autre"}), 409)
    assert error["message"] == "Public : le code « ABO » existe déjà"
    assert "code" in _error(api.post("/api/v1/sales/audiences", json={"code": "", "label": "X"}), 422)["fields"]
    assert _ok(api.patch(f"/api/v1/sales/audiences/{audience['id']}", json={"label": "Abonnés"}), 200)["label"] == "Abonnés"
    assert _ok(api.post(f"/api/v1/sales/audiences/{audience['id']}/deactivate"), 200)["active"] is False
    assert audience["id"] not in [a["id"] for a in _ok(api.get("/api/v1/sales/audiences"), 200)]
    assert audience["id"] in [a["id"] for a in _ok(api.get("/api/v1/sales/audiences?inactive=true"), 200)]
    assert _ok(api.post(f"/api/v1/sales/audiences/{audience['id']}/activate"), 200)["active"] is True
    assert _error(api.post("/api/v1/sales/audiences/999999/deactivate"), 404)


def test_fees_are_created_changed_listed_and_deactivated_through_the_api(api, catalogue):
    error = _error(api.post("/api/v1/sales/fees", json={"code": "LOC", "label": "Location", "amount": "-1.00"}), 422)
    assert error["message"] == "Montant négatif" and error["fields"] == {"amount": "Le montant doit être positif ou nul"}
    error = _error(api.post("/api/v1/sales/fees", json={"code": "LOC", "label": "Location", "amount": "1.50",
                                                        "event": 999999}), 422)
    assert "event" in error["fields"]
    fee = _ok(api.post("/api/v1/sales/fees", json={"code": "LOC", "label": "Location", "amount": "1.50",
                                                   "refundable": False, "event": catalogue.event.id}))
    assert fee["amount"] == "1.50" and fee["event_id"] == catalogue.event.id and fee["refundable"] is False
    assert _error(api.post("/api/v1/sales/fees", json={"code": "LOC", "label": "X", "amount": "1"}), 409)
    changed = _ok(api.patch(f"/api/v1/sales/fees/{fee['id']}", json={"amount": "2.50", "event": None}), 200)
    assert changed["amount"] == "2.50" and changed["event_id"] is None
    assert _error(api.patch(f"/api/v1/sales/fees/{fee['id']}", json={"amount": "-2"}), 422)["fields"]["amount"]
    prices = _ok(api.get(f"/api/v1/sales/performances/{catalogue.performance.id}/prices"), 200)
    assert {p["fees"] for p in prices} == {"2.50"}
    assert _ok(api.post(f"/api/v1/sales/fees/{fee['id']}/deactivate"), 200)["active"] is False
    prices = _ok(api.get(f"/api/v1/sales/performances/{catalogue.performance.id}/prices"), 200)
    assert {p["fees"] for p in prices} == {"0.00"}
    assert [f["code"] for f in _ok(api.get("/api/v1/sales/fees"), 200)] == []
    assert [f["code"] for f in _ok(api.get("/api/v1/sales/fees?inactive=true"), 200)] == ["LOC"]


def test_the_new_endpoints_are_in_the_openapi_document(app, api):
    spec = _ok(api.get("/api/v1/openapi.json"), 200)
    for path in ("/sales/audiences", "/sales/fees", "/sales/fees/{fee_id}", "/sales/audiences/{audience_id}"):
        assert path in spec["paths"], path
    for segment, param in (("seasons", "season"), ("venues", "venue"), ("categories", "category"),
                           ("events", "event"), ("audiences", "audience"), ("tariffs", "tariff"), ("fees", "fee")):
        for verb in ("deactivate", "activate"):
            path = f"/sales/{segment}/{{{param}_id}}/{verb}"
            assert path in spec["paths"], path
            assert spec["paths"][path]["post"]["x-permission"] == "sales.catalogue.manage"
    assert spec["paths"]["/sales/fees"]["post"]["requestBody"]


# --------------------------------------------------------------------------- deactivation and the sales


def test_deactivated_rows_leave_the_sell_choices_and_stay_on_past_orders(app, api, db, catalogue, buyer):
    from plugins.sales.services import catalogue as cat
    from plugins.sales.services import orders

    c = catalogue
    order = orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 1)])
    number = order.number
    db.commit()

    def on_sale():
        with app_session(app) as s:
            return {p.id: [x.category_id for x in p.categories] for p in cat.performances_on_sale(s)}

    def price_keys():
        with app_session(app) as s:
            return {(p.category_id, p.tariff_id) for p in cat.prices_for(s, c.performance.id)}

    assert c.performance.id in on_sale() and c.seated.id in on_sale()
    for segment, ref, gone in (("seasons", c.season.id, {c.performance.id, c.seated.id}),
                               ("venues", c.venue.id, {c.performance.id})):
        _ok(api.post(f"/api/v1/sales/{segment}/{ref}/deactivate"), 200)
        assert not gone & set(on_sale()), segment
        _ok(api.post(f"/api/v1/sales/{segment}/{ref}/activate"), 200)
        assert gone <= set(on_sale()), segment

    assert _ok(api.post(f"/api/v1/sales/categories/{c.cat2.id}/deactivate"), 200)["active"] is False
    assert c.cat2.id not in on_sale()[c.performance.id]
    assert (c.cat2.id, c.full.id) not in price_keys() and (c.cat1.id, c.full.id) in price_keys()
    _ok(api.post(f"/api/v1/sales/audiences/{c.audience.id}/deactivate"), 200)
    assert price_keys() == set()  # every tariff of the catalogue belongs to that audience
    _ok(api.post(f"/api/v1/sales/audiences/{c.audience.id}/activate"), 200)
    assert (c.cat1.id, c.full.id) in price_keys()

    event = _ok(api.post(f"/api/v1/sales/events/{c.event.id}/deactivate"), 200)
    assert event["active"] is False and on_sale() == {}
    assert _ok(api.post(f"/api/v1/sales/events/{c.event.id}/activate"), 200)["active"] is True
    assert on_sale() == {}  # its performances are put back on sale one by one, on purpose

    # the past order keeps its deactivated category and its tariff
    detail = _ok(api.get(f"/api/v1/orders/{number}"), 200)
    text = str(detail)
    assert "Cat 2" in text and "Plein tarif" in text


def test_the_sell_screen_no_longer_offers_a_deactivated_category(app, api, catalogue, make_operator, client_for):
    make_operator("guichet", roles=["supervisor"])
    client = client_for("guichet")
    page = client.get("/admin/sales/sell/").get_data(as_text=True)
    assert '"label": "Cat 2"' in page or '"label":"Cat 2"' in page
    _ok(api.post(f"/api/v1/sales/categories/{catalogue.cat2.id}/deactivate"), 200)
    page = client.get("/admin/sales/sell/").get_data(as_text=True)
    assert '"label": "Cat 2"' not in page and '"label":"Cat 2"' not in page


# --------------------------------------------------------------------------- screens


def test_deleting_on_a_screen_deletes_an_unused_row_and_deactivates_a_used_one(app, supervisor, catalogue, db):
    from plugins.sales.models import SeatCategory, Season
    from plugins.sales.services import catalogue as cat

    spare = cat.create_category(db, "CAT9", "Cat 9", 9)
    db.commit()
    for ref in (spare.id, catalogue.cat2.id):
        data = form_of(supervisor, "/admin/sales_seat_category/")
        data["id"] = str(ref)
        page = _page(supervisor, "/admin/sales_seat_category/delete/", data)
    assert ("Catégorie « Cat 2 » : des billets, des prix ou des séances s'y rapportent. "
            "Désactivation au lieu de suppression.") in page
    with app_session(app) as s:
        assert s.get(SeatCategory, spare.id) is None
        assert s.get(SeatCategory, catalogue.cat2.id).active is False
    # the list's actions deactivate and reactivate
    data = form_of(supervisor, "/admin/sales_season/")
    data.update({"action": "deactivate", "rowid": str(catalogue.season.id)})
    page = _page(supervisor, "/admin/sales_season/action/", data)
    assert "1 élément désactivé" in page
    with app_session(app) as s:
        assert s.get(Season, catalogue.season.id).active is False
    data.update({"action": "activate"})
    assert "1 élément réactivé" in _page(supervisor, "/admin/sales_season/action/", data)
    with app_session(app) as s:
        assert s.get(Season, catalogue.season.id).active is True
        assert s.scalar(select(Season.active).where(Season.code == "S1")) is True


def test_a_clerk_cannot_deactivate(app, catalogue, make_operator, client_for):
    make_operator("vendeur", roles=["operator"])
    client = client_for("vendeur")
    response = client.post("/admin/sales_season/action/", data={"action": "deactivate",
                                                               "rowid": str(catalogue.season.id)})
    assert response.status_code in (400, 403)


# --------------------------------------------------------------------------- one set of rules


def _screen_refusal(client, url, values) -> str:
    data = form_of(client, url)
    data.update(values)
    return _page(client, url, data)


CASES = [
    # (API call, screen URL, screen form, status)
    (("post", "/api/v1/sales/seasons", {"code": "S9", "label": "S9", "start_date": "2027-07-01",
                                        "end_date": "2026-09-01"}),
     ("/admin/sales_season/new/", {"code": "S9", "label": "S9", "start_date": "2027-07-01",
                                   "end_date": "2026-09-01", "active": "y"}), 422),
    (("post", "/api/v1/sales/seasons", {"code": "S1", "label": "Autre", "start_date": "2026-09-01",
                                        "end_date": "2027-07-01"}),
     ("/admin/sales_season/new/", {"code": "S1", "label": "Autre", "start_date": "2026-09-01",
                                   "end_date": "2027-07-01", "active": "y"}), 409),
    (("post", "/api/v1/sales/audiences", {"code": "OCC", "label": "Autre"}),
     ("/admin/sales_audience/new/", {"code": "OCC", "label": "Autre", "position": "0", "active": "y"}), 409),
    (("post", "/api/v1/sales/categories", {"code": "CAT1", "label": "Autre"}),
     ("/admin/sales_seat_category/new/", {"code": "CAT1", "label": "Autre", "position": "0", "active": "y"}), 409),
    (("post", "/api/v1/sales/venues", {"code": "OPERA", "name": "Autre"}),
     ("/admin/sales_venue/new/", {"code": "OPERA", "name": "Autre", "address": "", "active": "y"}), 409),
    (("post", "/api/v1/sales/fees", {"code": "NEG", "label": "Négatif", "amount": "-1.00"}),
     ("/admin/sales_fee/new/", {"code": "NEG", "label": "Négatif", "amount": "-1,00", "active": "y"}), 422),
]


@pytest.mark.parametrize("call, screen, status", CASES, ids=["season-dates", "season-code", "audience-code",
                                                             "category-code", "venue-code", "fee-amount"])
def test_a_screen_and_the_api_refuse_the_same_things_with_the_same_message(app, api, supervisor, catalogue,
                                                                           call, screen, status):
    method, url, body = call
    error = _error(getattr(api, method)(url, json=body), status)
    page = _screen_refusal(supervisor, *screen)
    assert error["message"] in page
    for message in error.get("fields", {}).values():
        assert message in page
    assert "Enregistrement refusé par la base de données" not in page


def test_the_tariff_code_rule_is_the_same_on_update(app, api, supervisor, catalogue):
    error = _error(api.patch(f"/api/v1/sales/tariffs/{catalogue.reduced.id}", json={"code": "PLEIN"}), 409)
    data = form_of(supervisor, f"/admin/sales_tariff/edit/?id={catalogue.reduced.id}")
    data.update({"code": "PLEIN", "label": "Tarif réduit", "position": "0", "active": "y",
                 "audience": str(catalogue.audience.id)})
    page = _page(supervisor, f"/admin/sales_tariff/edit/?id={catalogue.reduced.id}", data)
    assert error["message"] == "Tarif : le code « PLEIN » existe déjà" and error["message"] in page


def test_rules_hold_for_services_called_directly(db, catalogue):
    from coulisses import ConflictError, InvalidError
    from plugins.sales.services import catalogue_rules

    with pytest.raises(ConflictError):
        catalogue_rules.create_audience(db, "OCC", "Double")
    with pytest.raises(InvalidError):
        catalogue_rules.create_fee(db, "X", "X", Decimal("-0.01"))
    assert catalogue_rules.remove(db, catalogue.audience) == "deactivated"  # its tariffs refer to it
    spare = catalogue_rules.create_audience(db, "GRP", "Groupe")
    assert catalogue_rules.remove(db, spare) == "deleted"



@pytest.mark.parametrize("what", ["season", "venue", "category", "audience"])
def test_a_deactivated_part_of_the_catalogue_cannot_be_sold_through_the_api(api, db, catalogue, buyer, what):
    """The sell screen hides deactivated rows; the API (and every other path) refuses them with a reason."""
    c = catalogue
    db.commit()
    segment, ref = {"season": ("seasons", c.season.id), "venue": ("venues", c.venue.id),
                    "category": ("categories", c.cat1.id), "audience": ("audiences", c.audience.id)}[what]
    sale = {"buyer": buyer.number,
            "lines": [{"performance": c.performance.id, "category": c.cat1.id, "tariff": c.full.id, "quantity": 1}]}
    _ok(api.post(f"/api/v1/sales/{segment}/{ref}/deactivate"), 200)
    refused = api.post("/api/v1/orders", json=sale)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["message"]
    _ok(api.post(f"/api/v1/sales/{segment}/{ref}/activate"), 200)
    assert api.post("/api/v1/orders", json=sale).status_code == 201
