"""Issue 14: the Administration tab of the contact sheet read "Création Création 21.09.2015 … par …"
(a "Création" label before a line that starts with "Création")."""
from __future__ import annotations

import re

import pytest

from tests.contacts.test_screens import shapira, text_of, visible


@pytest.fixture
def boss(make_operator, client_for):
    make_operator("boss", roles=["administrator"])
    return client_for("boss")


def test_administration_tab_says_creation_once(app, boss):
    number = shapira(app)
    admin = visible(text_of(boss.get(f"/admin/contacts/sheet/{number}/?tab=administration")))
    assert re.search(r"Création \d\d\.\d\d\.\d{4} \d\d:\d\d par boss", admin)
    assert "Création Création" not in admin
    assert len(re.findall(r"Création \d", admin)) == 1
    assert "Modification Modification" not in admin
