"""The catalogue through the REST API only (issue 14, "REST for integrators"): an integrator creates a
season, a venue with its areas and seats, an event, a performance with its quotas, categories, tariffs
and prices, then sells through the order API; bad input is a 422 naming the field, a taken code a 409,
a deactivated performance or tariff refuses new sales."""
import pytest

from tests.sales.conftest import next_month

MANAGE = "sales.catalogue.manage"


@pytest.fixture
def api(app, make_operator, token_for):
    """A client of an integrator holding the catalogue's permissions and the sales'."""
    from plugins.sales.services import settings
    from tests.conftest import app_session

    with app_session(app) as s:
        settings.install_defaults(s)
        s.commit()
    make_operator("integrator", roles=["operator"], permissions=[MANAGE])
    token, client = token_for("integrator"), app.test_client()

    class Client:
        def __getattr__(self, method):
            def call(url, **kw):
                return getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, **kw)
            return call

    return Client()


def _ok(response, status=201):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def build_catalogue(api, seated=False):
    season = _ok(api.post("/api/v1/sales/seasons", json={"code": "S2026", "label": "Saison 2026-2027",
                                                          "start_date": "2026-09-01", "end_date": "2027-07-15"}))
    cat1 = _ok(api.post("/api/v1/sales/categories", json={"code": "CAT1", "label": "Cat 1", "position": 1}))
    cat2 = _ok(api.post("/api/v1/sales/categories", json={"code": "CAT2", "label": "Cat 2", "position": 2}))
    areas = [{"code": "PAR", "name": "Parterre", "rows": [{"row": "A", "numbers": ["1", "2", "3"],
                                                          "category": cat1["id"]}]}] if seated else []
    venue = _ok(api.post("/api/v1/sales/venues", json={"code": "GARNIER", "name": "Opéra Garnier", "seated": seated,
                                                        "areas": areas}))
    event = _ok(api.post("/api/v1/sales/events", json={"code": "JOYAUX", "title": "Joyaux", "season": season["id"]}))
    performance = _ok(api.post("/api/v1/sales/performances", json={
        "event": event["id"], "venue": venue["id"], "starts_at": next_month().isoformat(),
        "quotas": [{"category": cat1["id"], "capacity": 3}, {"category": cat2["id"], "capacity": 10}]}))
    tariff = _ok(api.post("/api/v1/sales/tariffs", json={"code": "PLEIN", "label": "Plein tarif"}))
    price = _ok(api.put(f"/api/v1/sales/performances/{performance['id']}/prices/{cat1['id']}/{tariff['id']}",
                        json={"amount": "110.00"}), 200)
    _ok(api.put(f"/api/v1/sales/performances/{performance['id']}/prices/{cat2['id']}/{tariff['id']}",
                json={"amount": "45.50"}), 200)
    return {"season": season, "venue": venue, "event": event, "performance": performance, "cat1": cat1,
            "cat2": cat2, "tariff": tariff, "price": price}


def _buyer(app):
    from plugins.contacts.services.contacts import create_quick
    from tests.conftest import app_session

    with app_session(app) as s:
        buyer = create_quick(s, {"civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "country": "FR",
                                 "postal_code": "75006", "city": "PARIS"})
        s.commit()
        return buyer.number


def _sell(api, buyer, c, quantity=2, category="cat1", **line):
    return api.post("/api/v1/orders", json={"buyer": buyer, "lines": [{
        "performance": c["performance"]["id"], "category": c[category]["id"], "tariff": c["tariff"]["id"],
        "quantity": quantity, **line}], "payments": [{"mode": "CASH", "amount": "1000.00"}]})


def test_an_integrator_builds_a_season_and_sells_through_the_api_only(app, api):
    c = build_catalogue(api)
    assert c["season"]["code"] == "S2026" and c["event"]["season_id"] == c["season"]["id"]
    assert c["price"]["amount"] == "110.00"
    performance = c["performance"]
    assert performance["season_id"] == c["season"]["id"], "the event's season by default"
    assert performance["capacity"] == 13, "the sum of the quotas by default"
    assert {q["code"]: q["capacity"] for q in performance["categories"]} == {"CAT1": 3, "CAT2": 10}

    order = _ok(_sell(api, _buyer(app), c))
    assert order["total"] == "220.00" and order["ticket_count"] == 2

    shown = _ok(api.get(f"/api/v1/sales/performances/{performance['id']}"), 200)
    assert {q["code"]: q["available"] for q in shown["categories"]}["CAT1"] == 1
    assert [v["code"] for v in _ok(api.get("/api/v1/sales/venues"), 200)] == ["GARNIER"]
    assert [x["code"] for x in _ok(api.get("/api/v1/sales/categories"), 200)] == ["CAT1", "CAT2"]
    assert [p["id"] for p in _ok(api.get("/api/v1/sales/catalogue/performances"), 200)] == [performance["id"]]


def test_a_seated_venue_with_areas_and_seats_sells_a_seat(app, api):
    c = build_catalogue(api, seated=True)
    (area,) = c["venue"]["areas"]
    assert area["seat_count"] == 3
    more = _ok(api.post(f"/api/v1/sales/areas/{area['id']}/seats", json={"rows": [{"row": "B", "numbers": ["1", "2"]}]}))
    assert [s["label"] for s in more] and len(more) == 2
    seats = _ok(api.get(f"/api/v1/sales/areas/{area['id']}/seats"), 200)
    assert [(s["row"], s["number"]) for s in seats][:3] == [("A", "1"), ("A", "2"), ("A", "3")]
    order = _ok(_sell(api, _buyer(app), c, quantity=1, seats=[seats[0]["id"]]))
    assert order["ticket_count"] == 1


def test_updates_apply_the_screens_rules(app, api):
    c = build_catalogue(api)
    season, performance = c["season"], c["performance"]
    changed = _ok(api.patch(f"/api/v1/sales/seasons/{season['id']}", json={"label": "Saison 26-27"}), 200)
    assert changed["label"] == "Saison 26-27" and changed["code"] == "S2026"
    bad = api.patch(f"/api/v1/sales/seasons/{season['id']}", json={"end_date": "2026-01-01"})
    assert bad.status_code == 422 and "end_date" in bad.get_json()["error"]["fields"]

    _ok(_sell(api, _buyer(app), c, quantity=3))
    low = api.patch(f"/api/v1/sales/performances/{performance['id']}", json={"capacity": 2})
    assert low.status_code == 409, "never below what is sold"
    quota = api.put(f"/api/v1/sales/performances/{performance['id']}/quotas/{c['cat1']['id']}", json={"capacity": 1})
    assert quota.status_code == 409
    assert _ok(api.put(f"/api/v1/sales/performances/{performance['id']}/quotas/{c['cat1']['id']}",
                       json={"capacity": 5}), 200)["capacity"] == 5
    assert api.delete(f"/api/v1/sales/performances/{performance['id']}/quotas/{c['cat1']['id']}").status_code == 409
    assert api.delete(f"/api/v1/sales/performances/{performance['id']}/quotas/{c['cat2']['id']}").status_code == 204
    assert _ok(api.patch(f"/api/v1/sales/tariffs/{c['tariff']['id']}", json={"label": "Plein"}), 200)["label"] == "Plein"
    assert _ok(api.patch(f"/api/v1/sales/events/{c['event']['id']}", json={"season": None}), 200)["season_id"] is None


@pytest.mark.parametrize("url, body, field", [
    ("/api/v1/sales/seasons", {"code": "S", "label": "S", "start_date": "2027-01-01", "end_date": "2026-01-01"},
     "end_date"),
    ("/api/v1/sales/seasons", {"code": "", "label": "S", "start_date": "2026-01-01", "end_date": "2026-12-01"},
     "code"),
    ("/api/v1/sales/venues", {"code": "V", "name": "x" * 201}, "name"),
    ("/api/v1/sales/events", {"code": "E", "title": "T", "season": 0}, "season"),
    ("/api/v1/sales/categories", {"code": "C", "label": "C", "position": -1}, "position"),
    ("/api/v1/sales/tariffs", {"code": "T"}, "label"),
    ("/api/v1/sales/events", {"code": "E", "title": "T", "season": 999999}, "season"),
    ("/api/v1/sales/tariffs", {"code": "T", "label": "T", "audience": 999999}, "audience"),
    ("/api/v1/sales/venues", {"code": "V", "name": "V", "areas": [{"code": "A", "name": "A", "rows": [
        {"row": "A", "numbers": ["1"], "category": 999999}]}]}, "areas.0.rows.0.category"),
])
def test_bad_input_is_a_422_naming_the_field(api, url, body, field):
    response = api.post(url, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]


def test_bad_performance_and_price_input_names_the_field(api):
    c = build_catalogue(api)
    base = {"event": c["event"]["id"], "venue": c["venue"]["id"], "starts_at": next_month().isoformat(),
            "quotas": [{"category": c["cat1"]["id"], "capacity": 3}]}
    for change, field in (({"starts_at": "2026-12-01T20:00:00"}, "starts_at"), ({"quotas": []}, "quotas"),
                          ({"capacity": -1}, "capacity"), ({"venue": 999999}, "venue"),
                          ({"quotas": [{"category": 999999, "capacity": 1}]}, "quotas.0.category"),
                          ({"quotas": [{"category": c["cat1"]["id"], "capacity": 1}] * 2}, "quotas.1.category")):
        response = api.post("/api/v1/sales/performances", json={**base, **change})
        assert response.status_code == 422, (change, response.get_json())
        assert field in response.get_json()["error"]["fields"], response.get_json()
    price_url = f"/api/v1/sales/performances/{c['performance']['id']}/prices/{c['cat1']['id']}/{c['tariff']['id']}"
    for amount in ("-1.00", 12, "abc"):
        response = api.put(price_url, json={"amount": amount})
        assert response.status_code == 422 and "amount" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("url, body", [
    ("/api/v1/sales/seasons", {"code": "S2026", "label": "Autre", "start_date": "2026-01-01", "end_date": "2026-02-01"}),
    ("/api/v1/sales/venues", {"code": "GARNIER", "name": "Autre"}),
    ("/api/v1/sales/events", {"code": "JOYAUX", "title": "Autre"}),
    ("/api/v1/sales/categories", {"code": "CAT1", "label": "Autre"}),
    ("/api/v1/sales/tariffs", {"code": "PLEIN", "label": "Autre"}),
])
def test_duplicates_are_a_409(api, url, body):
    build_catalogue(api)
    response = api.post(url, json=body)
    assert response.status_code == 409, response.get_json()
    assert body["code"] in response.get_json()["error"]["message"]


def test_duplicate_code_on_update_and_duplicate_area_are_409(api):
    c = build_catalogue(api)
    assert api.patch(f"/api/v1/sales/categories/{c['cat2']['id']}", json={"code": "CAT1"}).status_code == 409
    assert _ok(api.patch(f"/api/v1/sales/categories/{c['cat2']['id']}", json={"code": "CAT2"}), 200)
    url = f"/api/v1/sales/venues/{c['venue']['id']}/areas"
    _ok(api.post(url, json={"code": "BAL", "name": "Balcon"}))
    assert api.post(url, json={"code": "BAL", "name": "Balcon bis"}).status_code == 409


def test_deactivated_items_refuse_new_sales(app, api):
    c = build_catalogue(api)
    buyer = _buyer(app)
    _ok(_sell(api, buyer, c, quantity=1))
    tariff = _ok(api.post(f"/api/v1/sales/tariffs/{c['tariff']['id']}/deactivate"), 200)
    assert tariff["active"] is False
    assert _sell(api, buyer, c, quantity=1).status_code == 409
    assert c["tariff"]["id"] not in [t["id"] for t in _ok(api.get("/api/v1/sales/tariffs"), 200)]
    assert c["tariff"]["id"] in [t["id"] for t in _ok(api.get("/api/v1/sales/catalogue/tariffs?inactive=true"), 200)]
    _ok(api.patch(f"/api/v1/sales/tariffs/{c['tariff']['id']}", json={"active": True}), 200)
    _ok(_sell(api, buyer, c, quantity=1))

    assert _ok(api.post(f"/api/v1/sales/performances/{c['performance']['id']}/deactivate"), 200)["on_sale"] is False
    assert _sell(api, buyer, c, quantity=1).status_code == 409
    _ok(api.patch(f"/api/v1/sales/performances/{c['performance']['id']}", json={"on_sale": True}), 200)
    _ok(_sell(api, buyer, c, quantity=1))
    _ok(api.post(f"/api/v1/sales/events/{c['event']['id']}/deactivate"), 200)
    assert _sell(api, buyer, c, quantity=1).status_code == 409


def test_changes_need_the_catalogue_permission(app, api, make_operator, token_for):
    make_operator("clerk", roles=["operator"])
    headers = {"Authorization": f"Bearer {token_for('clerk')}"}
    client = app.test_client()
    response = client.post("/api/v1/sales/seasons", headers=headers, json={
        "code": "S", "label": "S", "start_date": "2026-01-01", "end_date": "2026-02-01"})
    assert response.status_code == 403
    assert client.get("/api/v1/sales/venues", headers=headers).status_code == 200
    spec = client.get("/api/v1/openapi.json", headers={"Authorization": api_token(app, token_for)}).get_json()
    assert spec["paths"]["/sales/seasons"]["post"]["x-permission"] == MANAGE
    assert "/sales/performances/{performance_id}/prices/{category_id}/{tariff_id}" in spec["paths"]


def api_token(app, token_for):
    return f"Bearer {token_for('integrator')}"
