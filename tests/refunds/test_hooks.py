"""The refunds plugin's hooks: ``refunds_refund_done`` (called once per settlement, raising vetoes it
all), ``refunds_product_kinds`` (a plugin's product kind becomes a tab of the exchange block; a code
defined twice is refused), ``sales_order_actions`` (REPRENDRE), and the plugin's conformance."""
from __future__ import annotations

from decimal import Decimal

import pytest

from coulisses import ConflictError, PluginError
from coulisses.registry import current_manager
from coulisses.testing import assert_plugin_conforms
from plugins.refunds.registry import ProductKind, Registry
from plugins.refunds.services import baskets
from plugins.refunds.services.settle import RefundInput, settle
from tests.platform.conftest import make_plugin


def test_refund_done_is_called_and_may_veto(db, world, sell):
    order = sell(2)
    seen = []

    def done(session, basket, operation):
        seen.append((basket.id, operation.number, basket.summary["refunded"]))
        if len(seen) == 1:
            raise ConflictError("refusé par un module")

    plugin = make_plugin("tp_veto", hooks={"refunds_refund_done": done})
    pm = current_manager()
    pm.register(plugin, name="tp_veto")
    try:
        basket = baskets.open_basket(db)
        baskets.add_order(db, basket, order)
        db.commit()
        with pytest.raises(ConflictError):
            settle(db, basket, refunds=[RefundInput("OTHER", "220.00")])
        db.rollback()
        db.refresh(order)
        assert order.total == Decimal("220.00") and all(t.state == "printed" for t in order.tickets)
        settle(db, baskets.get_basket(db, basket.id), refunds=[RefundInput("OTHER", "220.00")])
        db.commit()
    finally:
        pm.unregister(plugin)
    assert seen == [(basket.id, basket.number, "220.00")] * 2


def _kind(code):
    return ProductKind(code, "Abonnement", unit_amount=lambda s, line, basket: Decimal("150.00"),
                       to_line_input=lambda s, line: None, describe=lambda s, line: ("Abonnement 3 spectacles", ""),
                       position=20)


def test_a_product_kind_of_another_plugin_appears_as_a_tab(register_plugin, make_app):
    register_plugin(make_plugin("tp_subs", depends=["refunds"],
                                hooks={"refunds_product_kinds": lambda: [_kind("subscription")]}))
    app = make_app(["refunds", "tp_subs"])
    kinds = app.extensions["refunds"].product_kinds
    assert list(kinds) == ["performance", "subscription"]
    from coulisses import security
    from tests.conftest import PASSWORD, csrf_token_of, login

    with app.app_context():
        from coulisses.web.extensions import db

        security.create_operator(db.session, "chef", PASSWORD, "Chef", ["supervisor"])
        db.session.commit()
    client = app.test_client()
    login(client, "chef", PASSWORD)

    token = csrf_token_of(client.get("/admin/refunds/basket/").get_data(as_text=True))
    with app.app_context():
        from coulisses.web.extensions import db
        from plugins.refunds.services.causes import install_defaults
        from plugins.sales.services.settings import install_defaults as sales_defaults

        sales_defaults(db.session)
        install_defaults(db.session)
        db.session.commit()
    url = client.post("/admin/refunds/basket/new", data={"csrf_token": token}).headers["Location"].split("#")[0]
    html = client.get(url).get_data(as_text=True)
    assert 'id="tab-performance"' in html and 'id="tab-subscription"' in html and ">Abonnement<" in html


def test_a_product_kind_code_defined_twice_is_refused(register_plugin):
    from coulisses import plugins as cplugins

    register_plugin(make_plugin("tp_dup", depends=["refunds"],
                                hooks={"refunds_product_kinds": lambda: [_kind("performance")]}))
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds", "tp_dup"]))
    with pytest.raises(PluginError) as err:
        Registry.from_manager(pm)
    assert "performance" in str(err.value)


def test_the_refunds_plugin_conforms(make_app):
    app = make_app(["refunds"])
    assert_plugin_conforms(app, "refunds")
