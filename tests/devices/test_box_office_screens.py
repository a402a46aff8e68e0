"""The order detail's "Imprimer" with the devices plugin: the chosen tickets go to the point of sale's
ticket printer (a job, after commit); the tickets are marked printed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from coulisses.db import Actor, acting_as
from tests.conftest import csrf_token_of
from plugins.devices.services import config as dconfig
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


def test_the_till_shows_failed_prints_to_retry_and_unknown_payments_to_resolve_elsewhere(
        app, db, pos_code, operator_id, client_for, make_operator):
    """The sales screen of the point of sale lists its failed print (with "Réessayer", which runs it
    again), its payment of unknown outcome (no "Réessayer": a link to where it is resolved), and how
    many prints are still waiting; another point of sale's jobs are not there; a reader cannot retry."""
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import jobs

    printer = device(db, pos_code, "receipt_printer", "escpos")
    terminal = device(db, pos_code, "payment_terminal", "concert")
    elsewhere = dconfig.create_device(db, {"location_code": "AUTRE", "name": "Ailleurs", "kind": "receipt_printer",
                                           "driver": "escpos", "via": "agent", "url": "socket://127.0.0.1:9"})
    receipt = jobs.submit(db, printer, "print_receipt", {"lines": ["Reçu"]}, reference="sales.order:959")
    paying = jobs.submit(db, terminal, "pay", {"amount": "42.50"}, reference="sales.pending:1")
    other = jobs.submit(db, elsewhere, "print_receipt", {"lines": ["Ailleurs"]})
    for job in jobs.lease_jobs(db, pos_code, "agent", limit=5) + jobs.lease_jobs(db, "AUTRE", "agent"):
        code = "payment_unknown" if job.operation == "pay" else "paper_out"
        jobs.complete(db, job.id, job.lease_id, ok=False, error_code=code, error_message="Plus de papier")
    jobs.submit(db, printer, "print_receipt", {"lines": ["Suivant"]})  # still waiting
    db.commit()
    assert (receipt.state, paying.state, other.state) == ("failed", "unknown", "failed")

    seller = client_for("STX_BDD")
    page = seller.get("/admin/sales/sell/").get_data(as_text=True)
    assert 'data-testid="till-jobs"' in page
    assert page.count('data-testid="till-job-failed"') == 1 and "Impression de reçu en échec sur receipt_printer" in page
    assert "Plus de papier" in page and "Ailleurs" not in page
    assert page.count('data-testid="till-job-retry"') == 1  # the unknown payment is never retried from here
    assert 'data-testid="till-job-unknown"' in page and 'href="/admin/sales/pending-payments/"' in page
    assert "1 impression(s) ou ouverture(s) du tiroir en attente." in page

    make_operator("lecteur", roles=["readonly"])
    reader = client_for("lecteur")
    token = csrf_token_of(reader.get("/admin/").get_data(as_text=True))
    assert reader.post("/devices-till/retry", data={"csrf_token": token, "job": str(receipt.id)}).status_code == 403
    answer = seller.post("/devices-till/retry", data={"csrf_token": csrf_token_of(page), "job": str(receipt.id),
                                                      "next": "/admin/sales/sell/"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/admin/sales/sell/")
    db.expire_all()
    assert db.get(DeviceJob, receipt.id).state == "pending"
    again = seller.get("/admin/sales/sell/").get_data(as_text=True)
    assert "Impression de reçu relancée" in again and 'data-testid="till-job-failed"' not in again
    assert "2 impression(s) ou ouverture(s) du tiroir en attente." in again
    # a job that cannot be retried (the unknown payment), a site elsewhere: said, nothing runs
    refused = seller.post("/devices-till/retry", data={"csrf_token": csrf_token_of(page), "job": str(paying.id),
                                                       "next": "https://example.org/"}, follow_redirects=False)
    assert refused.status_code == 302 and "example.org" not in refused.headers["Location"]
    db.expire_all()
    assert db.get(DeviceJob, paying.id).state == "unknown"
