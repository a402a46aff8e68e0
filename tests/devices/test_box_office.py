"""The devices at work in the box office (sales enabled): the payment terminal as a payment mode
(pending payment → terminal job after commit → completed, failed or unknown), tickets printed on the
point of sale's ticket printer, the cash drawer opened by a cash payment, the customer display."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from coulisses.config import use_config
from plugins.devices.models import DeviceJob
from plugins.devices.services import config as dconfig
from plugins.devices.services import jobs
from plugins.devices.simulators import ConcertTerminalSimulator, FglPrinterSimulator
from tests.sales.conftest import buyer, catalogue, line, operator_id, person  # noqa: F401 - fixtures

POS = "GUICHET"


@pytest.fixture
def db(database_url, session):
    """Sales and devices enabled together (their registries, the outbox's job types)."""
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from plugins.sales.services.settings import install_defaults
    from tests.conftest import create_schema

    create_schema(database_url, ["sales", "devices"])
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["sales", "devices"]))):
        install_defaults(session)
        session.commit()
        yield session


@pytest.fixture
def pos_code(db):
    from plugins.sales.models import PointOfSale

    return db.scalar(select(PointOfSale.code).where(PointOfSale.is_default.is_(True)))


def device(db, pos_code, kind, driver, via="agent", url="socket://127.0.0.1:9", **settings):
    d = dconfig.create_device(db, {"location_code": pos_code, "name": kind, "kind": kind, "driver": driver,
                                   "via": via, "url": url, "settings": settings} if settings else
                              {"location_code": pos_code, "name": kind, "kind": kind, "driver": driver, "via": via,
                               "url": url})
    db.commit()
    return d


@pytest.fixture
def tpe(db):
    from plugins.sales.services import settings

    settings.create_payment_mode(db, "TPE", "TPE guichet", "payment_terminal")
    db.commit()


def a_sale(db, catalogue, buyer, payments=None, quantity=1):
    from plugins.sales.services import orders

    return orders.sell(db, buyer, [line(catalogue.performance, catalogue.cat2, catalogue.full, quantity)],
                       payments=payments or [])


def report(db, pos_code, ok=True, **outcome):
    """The workstation's agent runs the terminal's job and reports."""
    (job,) = jobs.lease_jobs(db, pos_code, "agent-test")
    jobs.complete(db, job.id, job.lease_id, ok=ok, **outcome)
    db.commit()
    return job


# --------------------------------------------------------------------------- payment terminal


def test_the_terminal_is_a_payment_mode_type_refused_without_a_terminal(db, catalogue, buyer, tpe):
    from coulisses import ConflictError
    from plugins.sales.registry import get_registry
    from plugins.sales.services.payments import PaymentInput, pay

    mtype = get_registry().payment_mode_type("payment_terminal")
    assert (mtype.completes_later, get_registry().owners["payment mode type:payment_terminal"]) == (True, "devices")
    order = a_sale(db, catalogue, buyer)
    with pytest.raises(ConflictError, match="Aucun terminal de paiement"):
        pay(db, order, [PaymentInput("TPE", "60.00")])
    db.rollback()
    assert db.scalar(select(DeviceJob.id)) is None


def test_an_accepted_payment_completes_the_pending_payment(db, catalogue, buyer, tpe, pos_code):
    from plugins.sales.services.payments import PaymentInput, pay

    device(db, pos_code, "payment_terminal", "concert")
    order = a_sale(db, catalogue, buyer)
    (pending,) = pay(db, order, [PaymentInput("TPE", "60.00")]).pending
    job = db.scalar(select(DeviceJob))
    assert (job.operation, job.payload["amount"], job.reference) == ("pay", "60.00", f"sales.pending:{pending.id}")
    assert job.payload["reference"] == str(order.number)
    db.commit()
    assert (order.state, pending.state) == ("not_settled", "pending")
    report(db, pos_code, result={"accepted": True, "amount": "60.00", "authorisation": "A12345"})
    db.expire_all()
    assert (pending.state, order.state, order.paid) == ("completed", "settled", Decimal("60.00"))
    assert order.payments[0].reference == "A12345"


def test_a_declined_payment_fails_and_the_amount_is_due_again(db, catalogue, buyer, tpe, pos_code):
    from plugins.sales.services.payments import PaymentInput, pay

    device(db, pos_code, "payment_terminal", "concert")
    order = a_sale(db, catalogue, buyer)
    (pending,) = pay(db, order, [PaymentInput("TPE", "60.00")]).pending
    db.commit()
    report(db, pos_code, ok=False, error_code="payment_declined", error_message="Carte refusée")
    db.expire_all()
    assert (pending.state, pending.message, order.balance) == ("failed", "Carte refusée", Decimal("60.00"))


def test_an_unknown_outcome_waits_for_an_operator_and_is_never_retried(db, catalogue, buyer, tpe, pos_code):
    from plugins.sales.services import pending as pend
    from plugins.sales.services.payments import PaymentInput, pay

    device(db, pos_code, "payment_terminal", "concert")
    order = a_sale(db, catalogue, buyer)
    (pending,) = pay(db, order, [PaymentInput("TPE", "60.00")]).pending
    db.commit()
    job = report(db, pos_code, ok=False, error_code="payment_unknown", error_message="Pas de réponse")
    db.expire_all()
    assert (job.state, pending.state, order.paid) == ("unknown", "unknown", Decimal("0.00"))
    assert jobs.lease_jobs(db, pos_code, "agent-test") == []  # not run again
    assert [p.id for p in pend.open_pending(db)] == [pending.id]
    jobs.resolve(db, job.id, "accepted")  # the operator read the terminal's journal
    db.commit()
    db.expire_all()
    assert (pending.state, pending.resolved_by_operator, order.state) == ("completed", True, "settled")


def test_an_operator_resolving_the_sale_first_leaves_a_late_report_harmless(db, catalogue, buyer, tpe, pos_code,
                                                                          operator_id):
    from plugins.sales.services import pending as pend
    from plugins.sales.services.payments import PaymentInput, pay

    device(db, pos_code, "payment_terminal", "concert")
    order = a_sale(db, catalogue, buyer)
    (pending,) = pay(db, order, [PaymentInput("TPE", "60.00")]).pending
    db.commit()
    (job,) = jobs.lease_jobs(db, pos_code, "agent-test")
    pend.resolve_pending(db, pending, "failed", note="Client parti")
    db.commit()
    jobs.complete(db, job.id, job.lease_id, ok=True, result={"accepted": True, "authorisation": "X"})
    db.commit()
    db.expire_all()
    assert (job.state, pending.state, order.paid) == ("done", "failed", Decimal("0.00"))


def test_a_refund_on_the_terminal_is_a_refund_job(db, catalogue, buyer, tpe, pos_code):
    from plugins.sales.services import orders
    from plugins.sales.services.payments import PaymentInput, refund_or_pending

    device(db, pos_code, "payment_terminal", "concert")
    order = a_sale(db, catalogue, buyer, payments=[PaymentInput("CARD", "60.00")])
    orders.release_tickets(db, order, order.tickets, kind="refund")
    started = refund_or_pending(db, order, "TPE", "60.00")
    job = db.scalar(select(DeviceJob).where(DeviceJob.operation == "refund"))
    assert (started.amount, job.payload["amount"]) == (Decimal("-60.00"), "60.00")
    db.commit()
    report(db, pos_code, result={"accepted": True, "amount": "60.00", "authorisation": "R1"})
    db.expire_all()
    assert (started.state, order.paid) == ("completed", Decimal("0.00"))


def test_end_to_end_on_the_simulated_terminal_after_commit(db, catalogue, buyer, tpe, pos_code, sims):
    from plugins.sales.services.payments import PaymentInput, pay

    terminal = sims(ConcertTerminalSimulator, outcome="accept")
    device(db, pos_code, "payment_terminal", "concert", via="server", url=terminal.url)
    order = a_sale(db, catalogue, buyer)
    with use_config({"OUTBOX_RUN": "inline"}):
        (pending,) = pay(db, order, [PaymentInput("TPE", "60.00")]).pending
        assert terminal.requests == []  # nothing inside the transaction
        db.commit()
    db.expire_all()
    assert terminal.requests[0].amount == Decimal("60.00")
    assert (pending.state, order.state) == ("completed", "settled")


# --------------------------------------------------------------------------- printing, drawer, display


def test_a_sale_prints_its_tickets_opens_the_drawer_and_shows_the_total(db, catalogue, buyer, pos_code):
    from plugins.sales.services.payments import PaymentInput

    device(db, pos_code, "ticket_printer", "boca_fgl")
    device(db, pos_code, "cash_drawer", "escpos_drawer")
    device(db, pos_code, "display", "cd5220")
    with use_config({"OUTBOX_RUN": "inline"}):
        order = a_sale(db, catalogue, buyer, payments=[PaymentInput("CASH", "120.00")], quantity=2)
        assert db.scalar(select(DeviceJob.id)) is None  # nothing before the commit
        db.commit()
    db.expire_all()
    done = {j.operation: j for j in db.scalars(select(DeviceJob))}
    assert set(done) == {"print_ticket", "open_drawer", "show"}
    tickets = done["print_ticket"].payload["tickets"]
    assert len(tickets) == 2 and {t.print_state for t in order.tickets} == {"printed"}
    barcodes = [e["data"] for t in tickets for e in t["elements"] if e["type"] == "barcode"]
    assert sorted(barcodes) == sorted(t.barcode for t in order.tickets)
    assert done["show"].payload["lines"][1] == "Merci !"


def test_a_second_delivery_prints_and_opens_nothing_more(db, catalogue, buyer, pos_code):
    from plugins.devices import box_office
    from plugins.sales.services.payments import PaymentInput

    device(db, pos_code, "ticket_printer", "boca_fgl")
    device(db, pos_code, "cash_drawer", "escpos_drawer")
    with use_config({"OUTBOX_RUN": "inline"}):
        order = a_sale(db, catalogue, buyer, payments=[PaymentInput("CASH", "60.00")])
        db.commit()
    db.expire_all()
    before = db.scalar(select(__import__("sqlalchemy").func.count(DeviceJob.id)))
    op = order.operations[0]
    box_office.after_tickets_to_print(db, order, list(order.tickets), op)
    box_office.after_payment_completed(db, order, order.payments[0], op)
    db.commit()
    assert db.scalar(select(__import__("sqlalchemy").func.count(DeviceJob.id))) == before


def test_a_failed_printer_leaves_the_sale_intact_and_the_job_visible(db, catalogue, buyer, pos_code, sims):
    from plugins.sales.services import orders

    printer = sims(FglPrinterSimulator, tickets_left=0)
    device(db, pos_code, "ticket_printer", "boca_fgl", via="server", url=printer.url)
    order = a_sale(db, catalogue, buyer)
    from plugins.sales.services.payments import PaymentInput, pay

    pay(db, order, [PaymentInput("CARD", "60.00")])
    db.commit()
    with use_config({"OUTBOX_RUN": "inline"}):
        orders.mark_printed(db, order.tickets)  # the order detail's "Imprimer"
        db.commit()
    db.expire_all()
    (job,) = jobs.unfinished(db, pos_code)
    assert (job.operation, job.state, job.error_code) == ("print_ticket", "failed", "paper_out")
    assert (order.state, order.paid) == ("settled", Decimal("60.00"))


def test_display_lines_fit_the_display():
    from types import SimpleNamespace

    from plugins.devices.box_office import display_lines

    lines = display_lines(SimpleNamespace(total=Decimal("1234.50"), balance=Decimal("34.50")))
    assert all(len(x) <= 20 for x in lines) and lines[0].startswith("Total") and "34,50" in lines[1]


def test_the_display_follows_the_basket(db, catalogue, buyer, tpe, pos_code):
    """Created → total and what is left; a payment started on the terminal; tickets removed → new total."""
    from plugins.sales.services import baskets, orders
    from plugins.sales.services.payments import PaymentInput, pay

    device(db, pos_code, "display", "cd5220")
    device(db, pos_code, "payment_terminal", "concert")

    def shown():
        return [j.payload["lines"] for j in db.scalars(select(DeviceJob).where(DeviceJob.operation == "show")
                                                       .order_by(DeviceJob.id))][-1]

    with use_config({"OUTBOX_RUN": "inline"}):
        basket = baskets.open_basket(db)
        order = orders.reserve(db, buyer, [line(catalogue.performance, catalogue.cat2, catalogue.full, 2)],
                               operation=basket.operation)
        db.commit()
        assert shown() == ["Total       120,00 €", "Reste       120,00 €"]
        orders.cancel_reservation(db, order, order.tickets[:1], operation=basket.operation)
        db.commit()
        assert shown() == ["Total        60,00 €", "Reste        60,00 €"]
        pay(db, order, [PaymentInput("TPE", "60.00")], operation=basket.operation)
        db.commit()
        assert shown() == ["Total        60,00 €", "Terminal     60,00 €"]


def test_the_terminal_settings_are_checked(db):
    from coulisses import InvalidError
    from plugins.devices.payment_terminal import PaymentTerminal

    t = PaymentTerminal()
    assert t.load_settings({"card_mode": "cheque", "role": " caisse 2 "})["role"] == "caisse 2"
    with pytest.raises(InvalidError) as err:
        t.load_settings({"card_mode": "bitcoin"})
    assert "settings.card_mode" in err.value.fields


def test_a_ticket_layout_shows_the_local_time_and_prints_on_the_simulated_printer(db, catalogue, buyer):
    from coulisses.i18n import format_datetime
    from plugins.devices.box_office import ticket_layout
    from plugins.devices.drivers.fgl import ticket_from_payload

    order = a_sale(db, catalogue, buyer)
    layout = ticket_layout(order.tickets[0])
    texts = [e["text"] for e in layout["elements"] if e["type"] == "text"]
    assert texts[1].startswith(format_datetime(catalogue.performance.starts_at, weekday=True))
    assert "Placement libre" in texts[2] and "60,00" in texts[3]
    ticket_from_payload(dict(layout))  # the printer's driver accepts it


# --------------------------------------------------------------------------- scanner


def test_a_ticket_scanned_on_the_simulated_scanner_takes_its_order_up_into_the_sales_basket(db, catalogue, buyer,
                                                                                             pos_code, sims):
    """The scanner simulator sends a ticket's barcode (AIM prefix, split in two writes); the driver
    reads it over pyserial, the scan is recorded at the point of sale, and the ticket's order comes
    into the point of sale's open sales basket, as the sales screen's "Code-barres" field does."""
    import threading

    from plugins.devices.drivers.scanner import SERIAL_SCANNER
    from plugins.devices.services import agents
    from plugins.devices.simulators import ScannerSimulator
    from plugins.devices.transport import open_port
    from plugins.sales.services import baskets

    order = a_sale(db, catalogue, buyer, quantity=2)
    other = a_sale(db, catalogue, buyer)
    basket = baskets.open_basket(db, point_of_sale=pos_code)
    db.commit()
    scanner = sims(ScannerSimulator, aim=True)
    read, stop = [], threading.Event()

    def on_scan(scan):
        read.append(scan)
        stop.set()

    with open_port(scanner.url) as port:
        scanner.wait_for(lambda: scanner.connections)
        scanner.scan(order.tickets[1].barcode, split=True)
        SERIAL_SCANNER.listen(port, {"timeout": 0.5}, on_scan, stop)
    assert [(s.code, s.symbology) for s in read] == [(order.tickets[1].barcode, "code128")]

    scan = agents.record_scan(db, pos_code, "scan-1", read[0].code, read[0].symbology)
    db.commit()
    assert scan.consumed_by == "sales"
    assert [o.number for o in baskets.basket_orders(db, basket)] == [order.number]
    assert basket.contact_id == buyer.id

    unknown = agents.record_scan(db, pos_code, "scan-2", "99999999999")  # a mistyped code: nothing moves
    elsewhere = agents.record_scan(db, "AILLEURS", "scan-3", other.tickets[0].barcode)  # no basket there
    db.commit()
    assert (unknown.consumed_by, elsewhere.consumed_by) == ("", "")
    assert [o.number for o in baskets.basket_orders(db, basket)] == [order.number]
