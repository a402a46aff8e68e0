"""The host's base page gives every admin screen what WCAG 2.1 AA asks of a page (the browser audit,
tests/browser/test_accessibility.py, checks the rendered result): the operator's language, a title per
screen, a skip link and landmarks, messages in live regions, form errors tied to their fields."""
from __future__ import annotations

import re

from tests.conftest import csrf_token_of, login


def test_every_admin_page_has_lang_title_skip_link_and_landmarks(app, admin_client):
    html = admin_client.get("/admin/core_operator/").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert "<title>Opérateurs — Administration — Coulisses</title>" in html
    assert re.search(r'<a class="coulisses-skip-link" href="#main-content">Aller au contenu</a>', html)
    assert html.index("coulisses-skip-link") < html.index("<header>") < html.index('<main id="main-content"')
    assert '<nav class="navbar' in html and 'aria-label="Menu principal"' in html
    assert 'rel="icon"' in html
    # the shortcuts panel and its button are on every page
    assert 'id="coulisses-shortcuts" role="dialog" aria-modal="true"' in html
    assert 'data-shortcuts-open' in html


def test_the_page_follows_the_operators_language(app, make_operator):
    from coulisses import security
    from coulisses.web.extensions import db

    make_operator("ana", roles=["administrator"])
    with app.app_context():
        db.session.query(security.Operator).filter_by(login="ana").one().locale = "es"
        db.session.commit()
    client = app.test_client()
    login(client, "ana")
    html = client.get("/admin/core_role/").get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Ir al contenido" in html and "Atajos de teclado" in html


def test_messages_are_announced_errors_as_alerts(app, admin_client):
    html = admin_client.get("/admin/core_role/").get_data(as_text=True)
    assert 'data-testid="flash-messages"' not in html and 'data-testid="flash-errors"' not in html  # none without
    with admin_client.session_transaction() as session:
        session["_flashes"] = [("success", "Rôle enregistré."), ("error", "Impossible de supprimer ce rôle.")]
    html = admin_client.get("/admin/core_role/").get_data(as_text=True)
    status = html[html.index('data-testid="flash-messages"'):html.index('data-testid="flash-errors"')]
    alert = html[html.index('data-testid="flash-errors"'):html.index("<h1")]
    assert 'role="status" data-testid="flash-messages"' in html
    assert "Rôle enregistré." in status and "Impossible" not in status
    assert "Impossible de supprimer ce rôle." in alert and 'role="alert" data-testid="flash-errors"' in html


def test_a_field_in_error_names_its_message(app, admin_client):
    page = admin_client.get("/admin/core_role/new/").get_data(as_text=True)
    answer = admin_client.post("/admin/core_role/new/", data={"code": "", "name": "Caissier",
                                                               "csrf_token": csrf_token_of(page)})
    html = answer.get_data(as_text=True)
    field = re.search(r'<input[^>]*id="code"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="code-error"' in field
    assert re.search(r'<div class="invalid-feedback" id="code-error">', html)
    assert 'value="Caissier"' in html  # what was typed is kept


def test_login_errors_are_tied_to_their_fields(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    html = client.post("/login", data={"login": "", "password": "", "csrf_token": csrf_token_of(page)}).get_data(
        as_text=True)
    field = re.search(r'<input[^>]*id="login"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="login-error"' in field
    assert 'id="login-error"' in html
