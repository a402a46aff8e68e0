"""The sales plugin speaks the person's language: service errors (which reach the screens, the API and
the commands), the API's error messages (``Accept-Language``), the labels of its registered kinds and
states, the order detail, the performance labels; the defaults a new organisation gets are named in
the deployment's language."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from coulisses import ConflictError, InvalidError
from coulisses.config import use_config
from coulisses.i18n import use_locale
from plugins.sales.services import orders, settings
from tests.conftest import app_session
from tests.sales.conftest import line
from tests.sales.test_api import client, sale, shop  # noqa: F401 - fixtures

CLOSED = {
    "fr": ("Le point de vente Ancien guichet est fermé : choisissez-en un autre", "Point de vente fermé"),
    "en": ("The point of sale Ancien guichet is closed: choose another one", "Point of sale closed"),
    "es": ("El punto de venta Ancien guichet está cerrado: elija otro", "Punto de venta cerrado"),
}


@pytest.mark.parametrize("lang", ["fr", "en", "es"])
def test_a_sales_422_follows_accept_language(client, shop, app, lang):  # noqa: F811 - fixtures
    with app_session(app) as s:
        settings.create_point_of_sale(s, "OLD", "Ancien guichet", "box_office").active = False
        s.commit()
    response = client().post("/api/v1/orders", json=sale(shop, point_of_sale="OLD"),
                             headers={"Accept-Language": lang})
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert (error["message"], error["fields"]["point_of_sale"]) == CLOSED[lang]


@pytest.mark.parametrize("lang, message", [
    ("en", "Not enough seats for Joyaux - "),
    ("es", "No quedan suficientes localidades para Joyaux - "),
])
def test_a_sales_409_follows_accept_language_with_its_dates_in_that_language(client, shop, lang, message):  # noqa: F811
    response = client().post("/api/v1/orders", json=sale(shop, quantity=6), headers={"Accept-Language": lang})
    assert response.status_code == 409, response.get_data(as_text=True)
    text = response.get_json()["error"]["message"]
    assert message in text and "/" in text and "6" in text, text  # 02/11/2015, not 02.11.2015
    assert "Plus assez" not in text and "Séance" not in text


def test_service_errors_are_in_the_current_language(db, catalogue, buyer, operator_id):
    order = orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)])
    db.commit()
    with use_locale("en"), pytest.raises(ConflictError, match=r"^Order \d+ has no reserved seat to cancel$"):
        orders.cancel_reservation(db, order)
    db.rollback()
    with use_locale("es"), pytest.raises(InvalidError) as exc:
        orders.sell(db, buyer, [])
    assert str(exc.value) == "El pedido no es válido" and exc.value.fields == {"lines": "La cesta está vacía"}
    db.rollback()
    with use_locale("en"), pytest.raises(InvalidError) as exc:
        orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)], payments=[],
                    point_of_sale="NOWHERE")
    assert exc.value.fields == {"point_of_sale": "Unknown point of sale"}


def test_labels_of_kinds_and_states_are_translated_when_shown(db, catalogue, buyer, operator_id):
    from plugins.sales.models import ORDER_STATE_LABELS, TICKET_STATE_LABELS
    from plugins.sales.registry import get_registry
    from plugins.sales.services.detail import order_detail

    registry = get_registry()
    order = orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full)])
    db.commit()
    with use_locale("en"):
        assert str(registry.operation_kinds["sell"].label) == "Sale"
        assert str(registry.payment_mode_types["credit_balance"].label) == "Credit balance"
        assert str(ORDER_STATE_LABELS["not_settled"]) == "Not settled" and str(TICKET_STATE_LABELS["paid"]) == "paid"
        detail = order_detail(db, order)
        assert detail["header"].startswith(f"Order {order.number} (Not settled) - ")
        assert detail["created_line"].startswith("Created ") and " by STX_BDD at " in detail["created_line"]
        assert detail["operations"][0]["label"].startswith("Operation ")
        assert detail["operations"][0]["kind_label"] == "Sale"
        assert detail["tickets"][0]["state_label"] == "paid"
    with use_locale("es"):
        assert order_detail(db, order)["header"].startswith(f"Pedido {order.number} (Pendiente de pago) - ")
    assert order_detail(db, order)["header"].startswith(f"Dossier {order.number} (Non soldé) - ")


@pytest.mark.parametrize("lang, label", [
    ("fr", "Joyaux - Lun 02.11.2015 20:15"),
    ("en", "Joyaux - Mon 02/11/2015 20:15"),
    ("es", "Joyaux - Lun 02/11/2015 20:15"),
])
def test_a_performance_label_is_written_as_the_language_writes_dates(db, catalogue, lang, label):
    from plugins.sales.services.catalogue import performance_label

    catalogue.performance.starts_at = datetime(2015, 11, 2, 19, 15, tzinfo=timezone.utc)  # 20:15 in Paris
    with use_locale(lang):
        assert performance_label(catalogue.performance) == label


@pytest.mark.parametrize("lang, cash, box_office, credit", [
    ("fr", "Espèces", "Guichet", "Solde avoir"),
    ("en", "Cash", "Box office", "Credit balance"),
    ("es", "Efectivo", "Taquilla", "Saldo a favor"),
])
def test_the_defaults_of_a_new_organisation_are_named_in_the_deployment_language(database_url, session, lang, cash,
                                                                                 box_office, credit):
    """``coulisses db upgrade`` installs them through the host (under ``use_locale(COULISSES_LOCALE)``)."""
    from coulisses import plugins as cplugins
    from plugins.sales.models import PaymentMode, PointOfSale, SalesChannel
    from tests.conftest import create_schema

    create_schema(database_url, ["sales"])
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["sales"]))
    with use_config({"LOCALE": lang}), use_locale("fr" if lang != "fr" else "en"):  # the operator's is not used
        assert "sales" in cplugins.install_defaults(session, pm)
    session.commit()
    modes = {m.code: m.label for m in session.scalars(select(PaymentMode))}
    assert (modes["CASH"], modes["CREDIT"]) == (cash, credit)
    assert session.scalar(select(PointOfSale.label).where(PointOfSale.code == "GUICHET")) == box_office
    assert session.scalar(select(SalesChannel.label).where(SalesChannel.code == "box_office")) == box_office
