"""The screens' forms: text that cannot be stored is refused with a clear error and what was typed is
kept (Flask-Admin forms: a field error; any other form post: a page naming the field and showing the
text back); body limits; a lock not obtained in time is a flash "try again", not an endless wait."""
from __future__ import annotations

import pytest
from flask import request
from flask_admin import expose
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses import Permission
from coulisses import db as cdb
from coulisses.db import Base, lock_rows
from tests.conftest import app_session, csrf_token_of, login
from tests.platform.conftest import make_plugin


class Shelf(Base):
    __tablename__ = "tp_forms_shelf"
    __plugin__ = "tp_forms"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))


NOTES: list[str] = []


def admin_views(admin):
    from coulisses.web.admin import CoulissesBaseView, ModelView

    class NoteView(CoulissesBaseView):
        @expose("/", methods=["GET", "POST"])
        def index(self):
            if request.method == "POST":
                NOTES.append(request.form["note"])
                return "stored"
            from flask_wtf.csrf import generate_csrf

            return (f'<form method="post"><input type="hidden" name="csrf_token" value="{generate_csrf()}">'
                    '<textarea name="note"></textarea></form>')

    return [ModelView(Shelf, permission="tp_forms.edit", name="Shelves", endpoint="tp_forms_shelf"),
            NoteView(permission="tp_forms.edit", name="Notes", endpoint="tp_forms_notes")]


@pytest.fixture
def forms_app(make_app, register_plugin, make_operator):
    NOTES.clear()
    register_plugin(make_plugin("tp_forms", hooks={
        "coulisses_permissions": lambda: [Permission("tp_forms.edit", "Edit shelves", ("operator",))],
        "coulisses_admin_views": admin_views,
    }))
    app = make_app(plugins=["tp_forms"], LOCK_TIMEOUT=0.5, MAX_BODY_BYTES=64 * 1024)
    make_operator("clerk", roles=["operator"])
    with app_session(app) as s:
        s.add(Shelf(label="Hall"))
        s.commit()
    return app


@pytest.fixture
def clerk(forms_app):
    client = forms_app.test_client()
    assert login(client, "clerk").status_code == 302
    return client


def token(client, url):
    return csrf_token_of(client.get(url).get_data(as_text=True))


def shelves(app) -> list[str]:
    with app_session(app) as s:
        return list(s.scalars(select(Shelf.label).order_by(Shelf.id)))


@pytest.mark.parametrize("typed", ["Foyer\x00", "Foyer\x07bis", "Foyer \x1b[31m"])
def test_a_flask_admin_form_refuses_a_control_character_with_a_field_error_keeping_what_was_typed(forms_app, clerk,
                                                                                                typed):
    url = "/admin/tp_forms_shelf/new/"
    response = clerk.post(url, data={"label": typed, "csrf_token": token(clerk, url)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "caractère de contrôle invisible" in html  # the operator's language (French by default)
    assert 'value="Foyer' in html  # the field shows what was typed
    assert shelves(forms_app) == ["Hall"]
    response = clerk.post(url, data={"label": "Foyer", "csrf_token": token(clerk, url)})
    assert response.status_code == 302 and shelves(forms_app) == ["Hall", "Foyer"]


def test_any_other_form_post_is_refused_before_its_view_runs_showing_what_was_typed(forms_app, clerk):
    url = "/admin/tp_forms_notes/"
    response = clerk.post(url, data={"note": "Allergic to\x00 peanuts", "csrf_token": token(clerk, url)},
                          headers={"Referer": "http://localhost/admin/tp_forms_notes/"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<strong>note</strong>" in html and "U+0000" in html
    assert "Allergic to\ufffd peanuts" in html  # nothing is lost
    assert 'href="http://localhost/admin/tp_forms_notes/"' in html
    assert NOTES == []
    # tabs and line breaks are text in a form
    response = clerk.post(url, data={"note": "Line 1\r\n\tLine 2", "csrf_token": token(clerk, url)})
    assert response.get_data(as_text=True) == "stored" and NOTES == ["Line 1\r\n\tLine 2"]


def test_the_login_form_refuses_a_control_character_as_a_form_error(forms_app):
    client = forms_app.test_client()
    response = client.post("/login", data={"login": "clerk\x00", "password": "x",
                                           "csrf_token": token(client, "/login")})
    assert response.status_code == 200
    assert "caractère de contrôle invisible (U+0000) en position 6" in response.get_data(as_text=True)


def test_a_form_body_beyond_the_limit_is_a_413_but_an_upload_may_be_larger(forms_app, clerk):
    url = "/admin/tp_forms_notes/"
    csrf = token(clerk, url)
    assert clerk.post(url, data={"note": "x" * 70_000, "csrf_token": csrf}).status_code == 413
    from io import BytesIO

    response = clerk.post(url, data={"note": "with a file", "csrf_token": csrf,
                                     "file": (BytesIO(b"y" * 70_000), "big.csv")},
                          content_type="multipart/form-data")
    assert response.status_code == 200 and NOTES == ["with a file"]


@pytest.fixture
def held_lock(forms_app, database_url):
    engine = cdb.make_engine(database_url)
    session = Session(engine)
    lock_rows(session, select(Shelf).where(Shelf.id == 1)).scalar()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


def test_a_stuck_transaction_gives_the_second_operator_a_flash_try_again_keeping_the_form(forms_app, clerk,
                                                                                         held_lock):
    url = "/admin/tp_forms_shelf/edit/?id=1"
    response = clerk.post(url, data={"label": "Grand foyer", "csrf_token": token(clerk, url)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Une autre opération modifie les mêmes données : réessayez dans un instant." in html
    assert 'value="Grand foyer"' in html
    held_lock.rollback()
    assert shelves(forms_app) == ["Hall"]
    response = clerk.post(url, data={"label": "Grand foyer", "csrf_token": token(clerk, url)})
    assert response.status_code == 302 and shelves(forms_app) == ["Grand foyer"]


def test_busy_error_from_a_plain_screen_is_a_flash_on_the_previous_page(forms_app, clerk, held_lock, monkeypatch):
    from coulisses.web.extensions import db

    def store_under_lock():
        lock_rows(db.session, select(Shelf).where(Shelf.id == 1)).scalar()
        return "stored"

    view = forms_app.view_functions["tp_forms_notes.index"]
    monkeypatch.setitem(forms_app.view_functions, "tp_forms_notes.index",
                        lambda **kw: store_under_lock() if request.method == "POST" else view(**kw))
    url = "/admin/tp_forms_notes/"
    response = clerk.post(url, data={"note": "x", "csrf_token": token(clerk, url)},
                          headers={"Referer": "http://localhost/admin/"})
    assert response.status_code == 302 and response.headers["Location"] == "http://localhost/admin/"
    assert response.headers["Retry-After"] == "2"
    assert "réessayez dans un instant" in clerk.get("/admin/").get_data(as_text=True)
    with app_session(forms_app) as s:
        assert s.scalar(select(func.count()).select_from(Shelf)) == 1
