"""The product's own error pages (404, 403, 405, 500), in the operator's language; JSON under /api/."""
from __future__ import annotations

import pytest

from tests.conftest import login


@pytest.fixture
def failing_app(app):
    """The app with a route that fails, and exceptions answered as in production (not propagated)."""
    @app.route("/admin/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    return app


def _set_language(client, app, login_name, lang):
    from coulisses import security
    from coulisses.web.extensions import db

    with app.app_context():
        op = db.session.query(security.Operator).filter_by(login=login_name).one()
        op.locale = lang
        db.session.commit()


@pytest.mark.parametrize("lang, title, home", [
    ("fr", "Page introuvable", "Retour à l'accueil"),
    ("en", "Page not found", "Back to the home page"),
    ("es", "Página no encontrada", "Volver a la página de inicio"),
])
def test_404_is_the_products_page_in_the_operators_language(app, make_operator, lang, title, home):
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    login(client, "boss")
    _set_language(client, app, "boss", lang)
    answer = client.get("/admin/no-such-screen/")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert f'<html lang="{lang}">' in html
    assert f"<h1 class=\"h3\">{title}</h1>" in html
    assert home in html.replace("&#39;", "'")
    assert "favicon.svg" in html
    assert "Not Found" not in html  # not werkzeug's page


def test_403_and_405_pages(app, make_operator):
    make_operator("clerk", roles=["readonly"])
    client = app.test_client()
    login(client, "clerk")
    answer = client.get("/admin/core_operator/")
    assert answer.status_code == 403
    assert "Accès refusé" in answer.get_data(as_text=True)
    answer = client.get("/locale")  # POST only
    assert answer.status_code == 405 and "POST" in answer.headers["Allow"]
    assert "Action impossible ici" in answer.get_data(as_text=True)


def test_500_is_the_products_page_and_json_under_the_api(failing_app, make_operator):
    make_operator("boss", roles=["administrator"])
    client = failing_app.test_client()
    login(client, "boss")
    answer = client.get("/admin/boom")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 500
    assert "Erreur inattendue" in html and "boom" not in html  # nothing of the exception is shown
    answer = client.get("/api/v1/no-such-endpoint", headers={"Accept-Language": "en"})
    assert answer.status_code == 404 and answer.is_json
    assert answer.get_json()["error"]["code"] == "not_found"


def test_the_favicon_is_served_and_linked(app, admin_client):
    answer = app.test_client().get("/static/coulisses/favicon.svg")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    assert b"<svg" in answer.data
    assert app.test_client().get("/favicon.ico").status_code in (200, 301, 302, 308)
    assert 'rel="icon" href="/static/coulisses/favicon.svg"' in admin_client.get("/admin/").get_data(as_text=True)
