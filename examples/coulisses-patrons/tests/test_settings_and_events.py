"""The plugin's setting edited on the plugins screen (PATRONS_MINIMUM_PLEDGE) and its webhook event
(patrons.pledge.recorded), through the host's hooks."""
from decimal import Decimal

import pytest

from coulisses import InvalidError
from coulisses.testing import csrf_token_of


def test_the_minimum_pledge_is_set_on_the_plugins_screen(app, make_operator, client_for):
    from coulisses.web.extensions import db

    from coulisses_patrons.services import add_pledge

    make_operator("boss", roles=["administrator"])
    client = client_for("boss")
    page = client.get("/admin/core_plugins/settings/patrons")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "PATRONS_MINIMUM_PLEDGE" in html
    done = client.post("/admin/core_plugins/settings/patrons",
                       data={"csrf_token": csrf_token_of(html), "PATRONS_MINIMUM_PLEDGE": "50.00"})
    assert done.status_code == 302
    assert app.config["PATRONS_MINIMUM_PLEDGE"] == Decimal("50.00")
    with app.app_context():
        with pytest.raises(InvalidError) as refused:
            add_pledge(db.session, "Fondation Lumière", "20.00")
        assert refused.value.fields == {"amount": "The minimum pledge is 50.00."}
        db.session.rollback()
        assert add_pledge(db.session, "Fondation Lumière", "50.00").amount == Decimal("50.00")


def test_a_pledge_is_in_the_change_feed(app, make_operator, token_for):
    from coulisses.web.extensions import db

    from coulisses_patrons.services import add_pledge

    with app.app_context():
        add_pledge(db.session, "Fondation Lumière", "1500.50")
        db.session.commit()
    make_operator("integration", roles=[], permissions=["core.changes", "patrons.view"])
    feed = app.test_client().get("/api/v1/changes", headers={"Authorization": f"Bearer {token_for('integration')}"})
    [change] = feed.get_json()["changes"]
    assert change["event"] == "patrons.pledge.recorded"
    assert change["data"]["donor"] == "Fondation Lumière" and change["data"]["amount"] == "1500.50"
