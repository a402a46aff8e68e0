"""The generated CRUD screens of the catalogue and of the sales settings: every one renders, with
its read and write permissions; moments typed and shown in local time (stored UTC); amounts typed
as people type them; the rules the services keep (a quota never below what is taken)."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.conftest import app_session, csrf_token_of

ENDPOINTS = ["season", "venue", "area", "seat", "seat_category", "event", "performance", "quota", "audience",
             "tariff", "price", "fee", "payment_mode", "point_of_sale", "channel"]
SETTINGS = {"payment_mode", "point_of_sale", "channel"}


@pytest.fixture
def supervisor(app, catalogue, make_operator, client_for):
    make_operator("chef", roles=["supervisor"])
    return client_for("chef")


def form_of(client, url) -> dict:
    page = client.get(url)
    assert page.status_code == 200, url
    return {"csrf_token": csrf_token_of(page.get_data(as_text=True))}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_catalogue_and_settings_screen_renders_for_the_supervisor(supervisor, endpoint):
    listing = supervisor.get(f"/admin/sales_{endpoint}/")
    assert listing.status_code == 200
    assert supervisor.get(f"/admin/sales_{endpoint}/new/").status_code == 200


def test_menus_group_the_screens(supervisor):
    html = supervisor.get("/admin/").get_data(as_text=True)
    for menu in ("Ventes", "Catalogue", "Paramètres de vente"):
        assert menu in html
    for name in ("Vente - réservation", "Dossiers", "Saisons", "Lieux", "Séances", "Tarifs", "Prix", "Frais",
                 "Modes de règlement", "Points de vente", "Filières de vente"):
        assert f">{name}<" in html or f"> {name}" in html or name in html


def test_reading_and_writing_need_their_permissions(app, catalogue, make_operator, client_for):
    make_operator("guichet", roles=["operator"])
    make_operator("outsider", roles=[], permissions=["contacts.view"])
    make_operator("catalogue_only", roles=[], permissions=["sales.view", "sales.catalogue.manage"])
    operator, outsider, cat_only = client_for("guichet"), client_for("outsider"), client_for("catalogue_only")
    for endpoint in ENDPOINTS:
        assert operator.get(f"/admin/sales_{endpoint}/").status_code == 200, endpoint  # sales.view
        assert operator.get(f"/admin/sales_{endpoint}/new/").status_code == 403, endpoint
        assert outsider.get(f"/admin/sales_{endpoint}/").status_code == 403, endpoint
        expected = 403 if endpoint in SETTINGS else 200
        assert cat_only.get(f"/admin/sales_{endpoint}/new/").status_code == expected, endpoint


def test_a_performance_is_typed_in_local_time_and_stored_in_utc(app, supervisor, catalogue):
    from plugins.sales.models import Performance, PerformanceQuota

    c = catalogue
    data = form_of(supervisor, "/admin/sales_performance/new/")
    data.update({"event": str(c.event.id), "venue": str(c.venue.id), "starts_at": "02.11.2030 20:15",
                 "season": "", "capacity": "", "on_sale": "y",
                 "quotas-0-category": str(c.cat1.id), "quotas-0-capacity": "400",
                 "quotas-1-category": str(c.cat2.id), "quotas-1-capacity": "100"})
    response = supervisor.post("/admin/sales_performance/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    with app_session(app) as s:
        perf = s.scalar(select(Performance).where(Performance.starts_at > datetime(2030, 1, 1, tzinfo=timezone.utc)))
        assert perf.starts_at == datetime(2030, 11, 2, 19, 15, tzinfo=timezone.utc)  # 20:15 in Paris, winter
        assert perf.capacity == 500 and perf.season_id == c.season.id  # the quotas' sum, the event's season
        assert sorted(q.capacity for q in s.scalars(select(PerformanceQuota).where(PerformanceQuota.performance_id == perf.id))) == [100, 400]
        perf_id = perf.id
    # shown back in local time, in the list and in the edit form
    assert "02.11.2030 20:15" in supervisor.get("/admin/sales_performance/").get_data(as_text=True)
    edit = supervisor.get(f"/admin/sales_performance/edit/?id={perf_id}").get_data(as_text=True)
    assert 'value="02.11.2030 20:15"' in edit
    # a summer moment: UTC+2
    data = form_of(supervisor, f"/admin/sales_performance/edit/?id={perf_id}")
    data.update({"event": str(c.event.id), "venue": str(c.venue.id), "starts_at": "2031-06-21 20:30",
                 "capacity": "500", "on_sale": "y"})
    supervisor.post(f"/admin/sales_performance/edit/?id={perf_id}", data=data)
    with app_session(app) as s:
        assert s.get(Performance, perf_id).starts_at == datetime(2031, 6, 21, 18, 30, tzinfo=timezone.utc)


def test_a_local_time_that_does_not_exist_is_refused(supervisor, catalogue):
    c = catalogue
    data = form_of(supervisor, "/admin/sales_performance/new/")
    data.update({"event": str(c.event.id), "venue": str(c.venue.id), "starts_at": "29.03.2026 02:30",
                 "capacity": "10", "quotas-0-category": str(c.cat1.id), "quotas-0-capacity": "10"})
    html = supervisor.post("/admin/sales_performance/new/", data=data).get_data(as_text=True)
    assert "changement d&#39;heure" in html or "changement d'heure" in html
    data["starts_at"] = "le 2 novembre"
    html = supervisor.post("/admin/sales_performance/new/", data=data).get_data(as_text=True)
    assert "jj.mm.aaaa hh:mm" in html


def test_a_quota_cannot_go_below_what_is_taken(app, supervisor, catalogue, buyer, db):
    from plugins.sales.models import PerformanceQuota
    from plugins.sales.services import orders
    from tests.sales.conftest import line

    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat2, c.full, 4)])
    db.commit()
    quota = db.scalar(select(PerformanceQuota).where(PerformanceQuota.performance_id == c.performance.id,
                                                     PerformanceQuota.category_id == c.cat2.id))
    url = f"/admin/sales_quota/edit/?id={quota.id}"
    data = form_of(supervisor, url)
    data.update({"performance": str(c.performance.id), "category": str(c.cat2.id), "capacity": "3"})
    html = supervisor.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    assert "4 places sont déjà prises" in html
    data["capacity"] = "12"
    assert supervisor.post(url, data=data).status_code == 302
    db.expire_all()
    assert db.get(PerformanceQuota, quota.id).capacity == 12 and db.get(PerformanceQuota, quota.id).taken == 4


def test_prices_and_fees_take_amounts_as_people_type_them(app, supervisor, catalogue):
    from plugins.sales.models import Fee, Price

    c = catalogue
    data = form_of(supervisor, "/admin/sales_price/new/")
    data.update({"performance": str(c.performance.id), "category": str(c.cat2.id), "tariff": str(c.reduced.id),
                 "amount": "1 500,50"})
    assert supervisor.post("/admin/sales_price/new/", data=data).status_code == 302
    with app_session(app) as s:
        price = s.scalar(select(Price).where(Price.category_id == c.cat2.id, Price.tariff_id == c.reduced.id))
        assert price.amount == Decimal("1500.50")
    listing = supervisor.get("/admin/sales_price/").get_data(as_text=True)
    assert "1\u202f500,50\xa0€" in listing or "1 500,50 €" in listing or "1\xa0500,50\xa0€" in listing
    assert re.search(r"Joyaux - (Lun|Mar|Mer|Jeu|Ven|Sam|Dim) \d\d\.\d\d\.\d{4} \d\d:\d\d", listing)
    # a third decimal is an error, never a rounding; the same price twice is refused in words
    data["amount"] = "12,345"
    assert "12,345" in supervisor.post("/admin/sales_price/new/", data=data).get_data(as_text=True)
    data["amount"] = "10"
    html = supervisor.post("/admin/sales_price/new/", data=data, follow_redirects=True).get_data(as_text=True)
    assert "existe déjà" in html
    data = form_of(supervisor, "/admin/sales_fee/new/")
    data.update({"code": "LOC", "label": "Frais de location", "amount": "1,50", "refundable": "", "active": "y"})
    assert supervisor.post("/admin/sales_fee/new/", data=data).status_code == 302
    with app_session(app) as s:
        fee = s.scalar(select(Fee).where(Fee.code == "LOC"))
        assert fee.amount == Decimal("1.50") and fee.refundable is False


def test_a_used_row_is_deactivated_not_deleted_and_the_screen_says_so(app, supervisor, catalogue, buyer, db):
    from plugins.sales.services import orders
    from tests.sales.conftest import line

    c = catalogue
    orders.sell(db, buyer, [line(c.performance, c.cat1, c.full, 1)])
    db.commit()
    data = form_of(supervisor, "/admin/sales_tariff/")
    data["id"] = str(c.full.id)
    html = supervisor.post("/admin/sales_tariff/delete/", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Désactivation au lieu de suppression." in html
    assert "successfully deleted" not in html
    with app_session(app) as s:
        from plugins.sales.models import Tariff

        tariff = s.get(Tariff, c.full.id)
        assert tariff is not None and tariff.active is False  # kept for the order, no longer sold


def test_payment_modes_offer_the_registered_types(app, supervisor):
    from plugins.sales.models import PaymentMode

    html = supervisor.get("/admin/sales_payment_mode/new/").get_data(as_text=True)
    for label in ("Espèces", "Carte bancaire", "Solde avoir", "Autre paiement"):
        assert label in html
    data = form_of(supervisor, "/admin/sales_payment_mode/new/")
    data.update({"code": "ANCV", "label": "Chèques vacances", "type_code": "cheque", "position": "70", "active": "y"})
    assert supervisor.post("/admin/sales_payment_mode/new/", data=data).status_code == 302
    with app_session(app) as s:
        assert s.scalar(select(PaymentMode.type_code).where(PaymentMode.code == "ANCV")) == "cheque"


def test_a_row_of_seats_is_added_at_once(app, supervisor, catalogue):
    from plugins.sales.models import Seat

    c = catalogue
    data = form_of(supervisor, "/admin/sales_seat/rows/")
    data.update({"area": str(c.balcon.id), "row": "C", "numbers": "1-9 impairs", "category": str(c.cat1.id)})
    assert supervisor.post("/admin/sales_seat/rows/", data=data).status_code == 302
    with app_session(app) as s:
        numbers = list(s.scalars(select(Seat.number).where(Seat.row == "C").order_by(Seat.position)))
    assert numbers == ["1", "3", "5", "7", "9"]
