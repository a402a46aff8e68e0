"""French first, English and Spanish too: the host's catalogues are complete and shipped compiled."""
from __future__ import annotations

from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

import coulisses
from coulisses import security
from tests.conftest import app_session, login

HOST = Path(coulisses.__file__).resolve().parent
LANGUAGES = ("fr", "es")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def host_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(HOST), method_map=method_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalogue(lang):
    with open(HOST / "translations" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_host_message_is_translated(lang):
    messages = host_messages()
    assert "Log in" in messages and "Unknown login or wrong password." in messages
    cat = catalogue(lang)
    missing = sorted(m for m in messages if not (cat.get(m) and cat.get(m).string) or cat.get(m).fuzzy)
    assert missing == [], f"untranslated in {lang} (run pybabel extract/update, see platform/coulisses/babel.cfg)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shipped_mo_is_the_compiled_po(lang):
    cat = catalogue(lang)
    buf = BytesIO()
    write_mo(buf, cat)
    buf.seek(0)
    expected = {m.id: m.string for m in read_mo(buf) if m.id}
    with open(HOST / "translations" / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        shipped = {m.id: m.string for m in read_mo(f) if m.id}
    assert shipped == expected, f"messages.mo of {lang} is stale: run pybabel compile -d platform/coulisses/translations"


@pytest.mark.parametrize("header, lang, words", [
    (None, "fr", ["Se connecter", "Identifiant", "Mot de passe", "Le back-office de la billetterie"]),
    ("fr-FR,fr;q=0.9", "fr", ["Se connecter", "Identifiant"]),
    ("en-GB,en;q=0.8", "en", ["Log in", "Login", "Password", "Back-office of the box office"]),
    ("es-ES,es;q=0.9,en;q=0.5", "es", ["Iniciar sesión", "Usuario", "Contraseña"]),
    ("de-DE", "fr", ["Se connecter"]),
])
def test_the_login_page_speaks_the_browser_language_french_by_default(app, header, lang, words):
    headers = {"Accept-Language": header} if header else {}
    html = app.test_client().get("/login", headers=headers).get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html, (lang, word)
    if lang != "en":
        assert ">Log in<" not in html


def test_the_error_message_is_translated(app, make_operator):
    make_operator("marie")
    client = app.test_client()
    assert "Identifiant inconnu ou mot de passe erroné." in login(client, "marie", "wrong").get_data(as_text=True)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    assert "Usuario desconocido o contraseña incorrecta." in login(client, "marie", "wrong").get_data(as_text=True)


def test_the_operator_language_wins_over_the_browser(app, make_operator):
    make_operator("pilar", roles=["administrator"])
    with app_session(app) as s:
        security.get_operator(s, "pilar").locale = "es"
        s.commit()
    client = app.test_client()
    login(client, "pilar")
    html = client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Bienvenido/a, Pilar" in html
    assert "Plugins activados" in html


def test_amounts_are_shown_in_the_locale(app):
    from coulisses.web.app import format_money

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert format_money(Decimal("2420")) == "2\u202f420,00\xa0€"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert format_money(Decimal("2420")) == "€2,420.00"
