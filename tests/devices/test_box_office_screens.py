"""The order detail's "Imprimer" with the devices plugin: the chosen tickets go to the point of sale's
ticket printer (a job, after commit); the tickets are marked printed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.conftest import csrf_token_of
from tests.devices.test_box_office import db, device, pos_code  # noqa: F401 - fixtures
from tests.sales.conftest import buyer, catalogue, line, operator_id, person  # noqa: F401 - fixtures


@pytest.fixture
def app(make_app):
    return make_app(["sales", "devices"])


def test_imprimer_sends_the_chosen_tickets_to_the_ticket_printer(app, db, catalogue, buyer, pos_code, operator_id,
                                                                 client_for):
    from plugins.devices.models import DeviceJob
    from plugins.sales.services import orders
    from plugins.sales.services.payments import PaymentInput

    device(db, pos_code, "ticket_printer", "boca_fgl")
    with acting_as(Actor(operator_id, "STX_BDD")):
        order = orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat2, catalogue.full, 3)],
                            payments=[PaymentInput("CARD", "180.00")])
        db.commit()
    chosen = order.tickets[1]
    seller = client_for("STX_BDD")
    page = seller.get(f"/admin/sales/orders/{order.number}/").get_data(as_text=True)
    response = seller.post(f"/admin/sales/orders/{order.number}/print",
                           data={"csrf_token": csrf_token_of(page), "tickets": [str(chosen.id)]}, follow_redirects=True)
    assert "1 billet marqué imprimé" in response.get_data(as_text=True)
    db.expire_all()
    (job,) = db.scalars(select(DeviceJob).where(DeviceJob.operation == "print_ticket"))
    barcodes = [e["data"] for t in job.payload["tickets"] for e in t["elements"] if e["type"] == "barcode"]
    assert (barcodes, job.state, job.reference) == ([chosen.barcode], "pending", f"sales.order:{order.number}")
