"""The "Compte d'attente" mode's settings screen: its type's settings (follow-up, instalments) are a
form validated field by field; what was typed is kept on a refusal; the sales screen names the
supervisor's override field."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import app_session, csrf_token_of


def _mode(app, code):
    from plugins.sales.models import PaymentMode

    with app_session(app) as s:
        mode = s.scalar(select(PaymentMode).where(PaymentMode.code == code))
        return mode.id, dict(mode.settings)


def test_the_waiting_account_mode_settings_are_a_form(app, db, make_operator, client_for):
    make_operator("CHEF", roles=["supervisor"])
    client = client_for("CHEF")
    mode_id, _ = _mode(app, "ATTENTE_SUIVI")
    url = f"/admin/sales_payment_mode/edit/?id={mode_id}"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Nombre d&#39;échéances" in html and "Jour du mois des échéances" in html and "Avec suivi" in html
    assert 'name="setting__count"' in html and 'value="3"' in html
    data = {"csrf_token": csrf_token_of(html), "code": "ATTENTE_SUIVI", "label": "Compte d'attente avec suivi",
            "position": "71", "active": "y", "setting__follow_up": "y", "setting__count": "4",
            "setting__day": "31", "setting__months": "1"}
    refused = client.post(url, data=data)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and 'value="31"' in text and 'value="4"' in text
    assert _mode(app, "ATTENTE_SUIVI")[1]["count"] == 3  # nothing saved
    data["setting__day"] = "10"
    assert client.post(url, data=data).status_code == 302
    assert _mode(app, "ATTENTE_SUIVI")[1] == {"follow_up": True, "count": 4, "day": 10, "months": 1,
                                              "auto_invoice": False}


def test_the_sales_screen_offers_the_override_field_with_the_waiting_account_modes(app, db, catalogue, make_operator,
                                                                                  client_for):
    make_operator("CHEF", roles=["supervisor"])
    page = client_for("CHEF").get("/admin/sales/sell/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="pay-ATTENTE-override_reason"' in html and "Motif du dépassement (superviseur)" in html
