"""The waiting account's screens and the portal in English and Spanish: no French string of the
plugin's catalogue left on them (the catalogue is extracted from the code each run)."""
from __future__ import annotations

from pathlib import Path

import pytest

import plugins.waiting_account
from coulisses import security
from plugins.waiting_account.services import accounts, invoices
from tests.conftest import app_session
from tests.i18n_screens import french_leftovers
from tests.waiting_account.conftest import sell_on_account
from tests.waiting_account.test_portal import _login, relay  # noqa: F401 - fixture

PACKAGE = Path(plugins.waiting_account.__file__).parent
# data, not messages: the payment modes' labels, written in the deployment's language (French here)
# when the plugin installed its defaults
DATA = {"Compte d'attente", "Compte d'attente avec suivi"}


def leftovers(html, lang):
    return [s for s in french_leftovers(html, PACKAGE, lang) if s not in DATA]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_no_french_string_on_the_screens(app, db, catalogue, buyer, structure, relay, invoice_range,  # noqa: F811
                                         make_operator, client_for, lang):
    order = sell_on_account(db, catalogue, buyer, structure, 2, mode="ATTENTE_SUIVI")
    invoices.invoice_orders(db, structure, [order])
    db.commit()
    account_id = accounts.account_of(db, structure).id
    login = f"chef_{lang}"
    make_operator(login, roles=["administrator"])
    with app_session(app) as s:
        security.get_operator(s, login).locale = lang
        s.commit()
    client = client_for(login)
    urls = [f"/admin/waiting_account/?account={account_id}", "/admin/waiting_account/?q=UNIVERSITY",
            f"/admin/waiting_account/invoice?account={account_id}", "/admin/waiting_account_debits/",
            "/admin/waiting_account_settings/", f"/admin/contacts/sheet/{structure.number}/?tab=management"]
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert leftovers(answer.get_data(as_text=True), lang) == [], url
    customer, password = relay
    portal = app.test_client()
    portal.get("/portal/login", headers={"Accept-Language": lang})
    _login(portal, customer.email, password)
    for url in ("/portal/", "/portal/performances"):
        html = portal.get(url, headers={"Accept-Language": lang}).get_data(as_text=True)
        assert leftovers(html, lang) == [], url
