"""With the devices plugin: a scanner at the point of sale feeds its open cancellation basket, and a
cash refund opens the cash drawer there (a device job, after commit)."""
from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def ddb(db, database_url):
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from tests.conftest import create_schema

    create_schema(database_url, ["refunds", "devices"])
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["refunds", "devices"]))):
        yield db


def test_scanner_feeds_the_basket_and_cash_opens_the_drawer(ddb, world, sell):
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import agents, config
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, complete_payouts, settle

    db = ddb
    config.create_device(db, {"location_code": "GUICHET", "name": "Tiroir", "kind": "cash_drawer",
                              "driver": "escpos_drawer", "via": "agent", "url": "socket://127.0.0.1:9"})
    order = sell(2, mode="CASH")
    basket = baskets.open_basket(db)
    db.commit()
    scan = agents.record_scan(db, "GUICHET", "scan-1", order.tickets[0].barcode)
    assert scan.consumed_by == "refunds"
    assert [bt.ticket.barcode for bt in basket.tickets] == [order.tickets[0].barcode]
    elsewhere = agents.record_scan(db, "AUTRE", "scan-2", order.tickets[1].barcode)
    assert elsewhere.consumed_by == "" and len(basket.tickets) == 1
    settle(db, basket, refunds=[RefundInput("CASH", "110.00")])
    db.commit()
    complete_payouts(db, basket=basket)
    db.commit()
    jobs = db.query(DeviceJob).all()
    assert [(j.operation, j.reference) for j in jobs] == [("open_drawer", jobs[0].reference)]
    assert jobs[0].reference.startswith("refunds.payout:")


def test_plage_takes_two_workstation_scans_as_the_first_and_the_last_of_a_range(ddb, world, sell):
    """"Plage" on: a scan is kept as the first of a range (nothing added), the next one adds every
    ticket from the first to it; a misread first is refused and starts nothing; off: one per scan."""
    from plugins.devices.services import agents
    from plugins.refunds.services import baskets

    db = ddb
    order = sell(4, mode="CASH")
    codes = sorted(t.barcode for t in order.tickets)
    basket = baskets.open_basket(db)
    baskets.set_scan_range(db, basket, True)
    db.commit()
    misread = baskets.add_scanned(db, basket, "0109999999")
    assert misread.refused and not basket.scan_range_first and basket.tickets == []
    first = agents.record_scan(db, "GUICHET", "r-1", codes[3])  # the last one first: the range is the same
    assert first.consumed_by == "refunds" and basket.scan_range_first == codes[3] and basket.tickets == []
    db.commit()
    last = agents.record_scan(db, "GUICHET", "r-2", codes[0])
    assert last.consumed_by == "refunds"
    assert sorted(bt.ticket.barcode for bt in basket.tickets) == codes
    assert basket.scan_range and basket.scan_range_first == ""  # still "Plage": the next pair starts
    again = agents.record_scan(db, "GUICHET", "r-3", codes[1])
    assert basket.scan_range_first == codes[1]
    baskets.set_scan_range(db, basket, False)  # off: the waiting first is forgotten
    assert basket.scan_range_first == "" and not basket.scan_range
    single = baskets.add_scanned(db, basket, codes[1])
    assert single.refused and "déjà dans le panier" in single.refused[0][1]
    assert again.consumed_by == "refunds" and len(basket.tickets) == 4


def test_a_cash_refund_opens_the_drawer_once_with_the_after_commit_events(ddb, world, sell):
    """The sales plugin's after-commit events (cash payment, cash refund) and the payout: the drawer
    opens for the sale's cash payment, and once for the refund (at payout, not at settlement too)."""
    from coulisses.config import use_config
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import config
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, complete_payouts, settle

    db = ddb
    config.create_device(db, {"location_code": "GUICHET", "name": "Tiroir", "kind": "cash_drawer",
                              "driver": "escpos_drawer", "via": "agent", "url": "socket://127.0.0.1:9"})
    with use_config({"OUTBOX_RUN": "inline"}):
        order = sell(1, mode="CASH", printed=False)
        basket = baskets.open_basket(db)
        baskets.add_barcodes(db, basket, [order.tickets[0].barcode])
        settle(db, basket, refunds=[RefundInput("CASH", "110.00")])
        db.commit()
        complete_payouts(db, basket=basket)
        db.commit()
    refs = sorted(j.reference.split(":")[0] for j in db.query(DeviceJob).filter_by(operation="open_drawer"))
    assert refs == ["refunds.payout", "sales.payment"]


def test_a_settled_basket_prints_its_refund_receipt_on_the_simulated_receipt_printer_after_commit(ddb, world, sell):
    """Settling a basket with a receipt printer at its point of sale records a print job in the
    settlement, printed after commit (the outbox); the printer simulator decodes the receipt: the
    operation, the order and its cancelled tickets, the refund by mode, the total refunded, with
    accents and €. The printer out of paper: the refund stands, the job waits on the till."""
    from coulisses.config import use_config
    from coulisses.i18n import format_money
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import config, jobs
    from plugins.devices.simulators import EscPosPrinterSimulator
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, settle

    db = ddb
    with EscPosPrinterSimulator() as printer:
        config.create_device(db, {"location_code": "GUICHET", "name": "Reçus", "kind": "receipt_printer",
                                  "driver": "escpos", "via": "server", "url": printer.url})
        order = sell(2, mode="CASH")
        basket = baskets.open_basket(db)
        baskets.add_order(db, basket, order)
        db.commit()
        with use_config({"OUTBOX_RUN": "inline"}):
            settle(db, basket, refunds=[RefundInput("CASH", "220.00")])
            (job,) = db.query(DeviceJob).filter_by(operation="print_receipt").all()
            assert printer.receipts == []  # nothing printed inside the settlement's transaction
            db.commit()
        printer.wait_for(lambda: len(printer.receipts) == 1)
        text = [line.text for line in printer.receipts[0]]
        db.expire_all()
        assert db.get(DeviceJob, job.id).state == "done" and job.reference == f"refunds.basket:{basket.id}"
        assert text[0] == "REMBOURSEMENT" and printer.receipts[0][0].bold
        assert text[1] == f"Ordre {basket.operation.number}"
        amount = format_money(-220).replace("\xa0", " ").replace("\u202f", " ")
        assert any(f"Dossier {order.number}" in line and "2 billet(s) annulé(s)" in line for line in text)
        assert any(line.startswith("Espèces") and line.endswith(amount) for line in text), text
        assert text[-1].startswith("Total remboursé") and text[-1].endswith(
            format_money(220).replace("\xa0", " ").replace("\u202f", " "))
        assert all(len(line) <= 42 for line in text)

        printer.paper = "out"  # the next refund: the printer cannot print, the refund stands
        second = sell(1, mode="CASH")
        other = baskets.open_basket(db)
        baskets.add_order(db, other, second)
        db.commit()
        with use_config({"OUTBOX_RUN": "inline"}):
            settle(db, other, refunds=[RefundInput("CASH", "110.00")])
            db.commit()
        db.expire_all()
        failed = db.query(DeviceJob).filter_by(reference=f"refunds.basket:{other.id}").one()
        assert other.state == "settled" and failed.state == "failed" and len(printer.receipts) == 1
        assert [j.id for j in jobs.till_jobs(db, "GUICHET").failed] == [failed.id]


# --------------------------------------------------------------------------- refunds on the payment terminal


@pytest.fixture
def app(make_app):
    return make_app(["refunds", "devices"])


def _terminal_and_order(db, world, sell, sims_outcome, terminal):
    """A Concert terminal at the Guichet (driven by the server, on the simulator) and a 110 € order paid
    on it (accepted), then a basket with its ticket."""
    from coulisses.config import use_config
    from plugins.devices.services import config
    from plugins.refunds.services import baskets
    from plugins.sales.services import settings
    from plugins.sales.services.payments import PaymentInput

    settings.create_payment_mode(db, "TPE", "TPE guichet", "payment_terminal")
    config.create_device(db, {"location_code": "GUICHET", "name": "TPE", "kind": "payment_terminal",
                              "driver": "concert", "via": "server", "url": terminal.url,
                              "settings": {"answer_timeout": 1}})
    db.commit()
    with use_config({"OUTBOX_RUN": "inline"}):
        order = sell(1, payments=[PaymentInput("TPE", "110.00")])
    db.expire_all()
    assert order.paid == Decimal("110.00")
    terminal.outcome = sims_outcome
    basket = baskets.open_basket(db)
    baskets.add_barcodes(db, basket, [order.tickets[0].barcode])
    db.commit()
    return order, basket


def _settle_on_the_terminal(db, basket):
    from coulisses.config import use_config
    from plugins.refunds.services.settle import RefundInput, pending_refunds, settle

    with use_config({"OUTBOX_RUN": "inline"}):
        result = settle(db, basket, refunds=[RefundInput("TPE", "110.00")])
        db.commit()  # the terminal's job runs after commit
    db.expire_all()
    return result, pending_refunds(db, basket)


@pytest.mark.parametrize("outcome", ["accept", "decline", "timeout"])
def test_a_refund_on_the_terminal_keeps_the_settlement_whatever_it_answers(ddb, world, sell, outcome):
    """Accepted: the refund's payment is written. Declined: the settlement stands, the 110 € are owed
    to the customer again on the order. No answer (timeout): unknown, never run again, an operator
    resolves it."""
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import jobs
    from plugins.devices.simulators import ConcertTerminalSimulator
    from plugins.refunds.models import RefundPayout

    db = ddb
    with ConcertTerminalSimulator(outcome="accept") as terminal:
        order, basket = _terminal_and_order(db, world, sell, outcome, terminal)
        result, (pending,) = _settle_on_the_terminal(db, basket)
        assert len(terminal.requests) == 2 and terminal.requests[1].amount == Decimal("110.00")
    assert basket.state == "settled" and order.tickets[0].state == "cancelled"
    assert result.refunds[0]["pending"] == pending.id and pending.amount == Decimal("-110.00")
    assert db.query(RefundPayout).count() == 0  # the terminal is the payout
    job = db.query(DeviceJob).filter_by(operation="refund").one()
    expected = {"accept": ("completed", "done", Decimal("0.00")),
                "decline": ("failed", "failed", Decimal("-110.00")),
                "timeout": ("unknown", "unknown", Decimal("-110.00"))}[outcome]
    assert (pending.state, job.state, order.balance) == expected
    if outcome == "timeout":
        assert job.retryable is False and jobs.lease_jobs(db, "GUICHET", "agent") == []
        with pytest.raises(Exception):
            jobs.retry(db, job.id)  # never run again
        db.rollback()


@pytest.mark.parametrize("decision", ["accepted", "declined"])
def test_an_unknown_terminal_refund_resolved_by_an_operator_completes_or_reverses(ddb, world, sell, operator_id,
                                                                                  decision):
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import jobs
    from plugins.devices.simulators import ConcertTerminalSimulator

    db = ddb
    with ConcertTerminalSimulator(outcome="accept") as terminal:
        order, basket = _terminal_and_order(db, world, sell, "timeout", terminal)
        _result, (pending,) = _settle_on_the_terminal(db, basket)
    job = db.query(DeviceJob).filter_by(operation="refund").one()
    assert (job.state, pending.state) == ("unknown", "unknown")
    jobs.resolve(db, job.id, decision)  # the operator read the terminal's journal
    db.commit()
    db.expire_all()
    if decision == "accepted":
        assert (pending.state, pending.resolved_by_operator, order.balance) == ("completed", True, Decimal("0.00"))
        assert pending.payment.amount == Decimal("-110.00")
    else:
        assert (pending.state, order.balance) == ("failed", Decimal("-110.00"))
    assert basket.state == "settled"


def test_a_refund_waiting_for_the_workstation_s_terminal_then_unknown_is_said_on_the_basket(
        ddb, world, sell, app, make_operator, client_for):
    """The terminal on the workstation (its agent has not answered yet): the basket says the refund is
    waiting; the agent reports no answer: the basket says so, never retried, in the operator's language."""
    from coulisses import security
    from plugins.devices.services import config, jobs
    from plugins.refunds.services import baskets
    from plugins.sales.services import settings
    from plugins.sales.services.payments import PaymentInput
    from plugins.refunds.services.settle import RefundInput, settle

    db = ddb
    settings.create_payment_mode(db, "TPE", "TPE guichet", "payment_terminal")
    config.create_device(db, {"location_code": "GUICHET", "name": "TPE", "kind": "payment_terminal",
                              "driver": "concert", "via": "agent", "url": "/dev/ttyUSB0"})
    order = sell(1)  # paid by "other": the terminal refunds over the mode's limit (permission)
    basket = baskets.open_basket(db)
    baskets.add_barcodes(db, basket, [order.tickets[0].barcode])
    result = settle(db, basket, refunds=[RefundInput("TPE", "110.00")], allow_over_limit=True)
    db.commit()
    assert basket.state == "settled" and result.refunds[0]["pending"]
    make_operator("chef", roles=["supervisor"])
    client = client_for("chef")
    url = f"/admin/refunds/basket/{basket.id}/"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="device-refund-pending"' in page and "en attente de la réponse du terminal" in page
    (job,) = jobs.lease_jobs(db, "GUICHET", "agent-test")
    jobs.complete(db, job.id, job.lease_id, ok=False, error_code="payment_unknown", error_message="Pas de réponse")
    db.commit()
    texts = {"fr": "issue inconnue (pas de réponse du terminal)",
             "en": "outcome unknown (no answer from the terminal)",
             "es": "resultado desconocido (sin respuesta del terminal)"}
    for lang, text in texts.items():
        security.get_operator(db, "chef").locale = lang
        db.commit()
        page = client.get(url).get_data(as_text=True)
        assert 'data-testid="device-refund-unknown"' in page and 'role="alert"' in page
        assert text in page, lang


def test_the_basket_shows_its_failed_refund_receipt_with_reessayer(ddb, world, sell, app, make_operator, client_for):
    """The refund receipt's print failed on the workstation (paper out): the settled basket shows it in
    the till's notice; "Réessayer" runs it again and comes back to the basket."""
    from plugins.devices.models import DeviceJob
    from plugins.devices.services import config, jobs
    from plugins.refunds.services import baskets
    from plugins.refunds.services.settle import RefundInput, settle
    from tests.conftest import csrf_token_of

    db = ddb
    config.create_device(db, {"location_code": "GUICHET", "name": "Reçus", "kind": "receipt_printer",
                              "driver": "escpos", "via": "agent", "url": "/dev/ttyUSB0"})
    order = sell(1)
    basket = baskets.open_basket(db)
    baskets.add_order(db, basket, order)
    settle(db, basket, refunds=[RefundInput("OTHER", "110.00")])
    db.commit()
    (job,) = jobs.lease_jobs(db, "GUICHET", "agent-test")
    assert job.operation == "print_receipt" and job.reference == f"refunds.basket:{basket.id}"
    jobs.complete(db, job.id, job.lease_id, ok=False, error_code="paper_out", error_message="Plus de papier")
    db.commit()
    make_operator("guichet", roles=["operator"])
    client = client_for("guichet")
    url = f"/admin/refunds/basket/{basket.id}/"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="till-jobs"' in page and "Impression de reçu en échec sur Reçus" in page
    assert "Plus de papier" in page and page.count('data-testid="till-job-retry"') == 1
    answer = client.post("/devices-till/retry", data={"csrf_token": csrf_token_of(page), "job": str(job.id),
                                                      "next": url})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(url)
    db.expire_all()
    assert db.get(DeviceJob, job.id).state == "pending"
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="till-job-failed"' not in page and "1 impression(s) ou ouverture(s) du tiroir en attente." in page
