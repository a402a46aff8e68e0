"""The sales plugin's reports and documents through the reports engine: a day's figures never move
when later operations are recorded; the cash desk journal and its expected cash; payments by mode;
the door list; sales by performance; documents stored once, reprinted identically, corrected as new
documents, numbered; print-at-home tickets with their barcode; e-mail with the PDF attached, read back
from a local SMTP server, and the contact's "Envois" history."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from coulisses.config import use_config
from coulisses.db import clock
from tests.reports.conftest import CONFIG, attachments, mail_config
from tests.sales.conftest import buyer, catalogue, db, line, operator_id, person  # noqa: F401 - fixtures

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2015, 11, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture
def rs(db, database_url, operator_id):
    """The sales session, with the reports tables and a registry of reports + sales + contacts."""
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager
    from tests.conftest import create_schema

    create_schema(database_url, ["reports", "sales"])
    infos = cplugins.discover()
    with use_manager(cplugins.build_manager(infos, cplugins.resolve(infos, ["reports", "sales"]))), \
            use_config(dict(CONFIG)):
        yield db


def at(moment):
    return clock(lambda: moment.astimezone(timezone.utc))


def sell(session, catalogue, buyer, quantity, mode, amount):
    from plugins.sales.services.orders import sell as do_sell
    from plugins.sales.services.payments import PaymentInput

    order = do_sell(session, buyer, [line(catalogue.performance, catalogue.cat1, catalogue.full, quantity)],
                    payments=[PaymentInput(mode, Decimal(amount))])
    session.commit()
    return order


def report_csv(session, code, params):
    from plugins.reports.services import engine

    data, _name, _type = engine.render_bytes(session, code, params, "csv", options={"separator": ";"})
    return data, list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def pdf_text(data):
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return text.replace("\xa0", " ").replace("\u202f", " ")


def test_a_days_figures_are_the_same_whenever_the_report_is_run(rs, catalogue, buyer):
    from plugins.sales.services import orders, payments
    from plugins.reports.services import engine

    with at(DAY):
        first = sell(rs, catalogue, buyer, 2, "CASH", "250.00")  # 220 due: 30 change
        sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    day = {"start": "02.11.2015", "end": "02.11.2015"}
    modes = {"start": "02.11.2015", "end": "02.11.2015"}
    journal = {"day": "02.11.2015", "point_of_sale": "GUICHET"}
    before = {code: report_csv(rs, code, p)[0] for code, p in
              (("sales.per_day", day), ("sales.payments_by_mode", modes), ("sales.cash_journal", journal))}
    rows = report_csv(rs, "sales.per_day", day)[1]
    assert rows[1] == ["2015-11-02", "3", "330,00", "0", "330,00", "0,00"]
    with at(DAY + timedelta(days=1, hours=5)):  # the next day: a refund and a new sale
        ticket = first.tickets[0]
        op = orders.release_tickets(rs, first, [ticket], kind="refund")
        payments.refund(rs, first, "CASH", Decimal("110.00"), operation=op)
        rs.commit()
        sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    after = {code: report_csv(rs, code, p)[0] for code, p in
             (("sales.per_day", day), ("sales.payments_by_mode", modes), ("sales.cash_journal", journal))}
    assert after == before  # byte for byte
    rows = report_csv(rs, "sales.per_day", {"start": "02.11.2015", "end": "03.11.2015"})[1]
    assert rows[2] == ["2015-11-03", "1", "110,00", "1", "110,00", "110,00"]
    data, _n, _t = engine.render_bytes(rs, "sales.per_day", day, "pdf")
    text = pdf_text(data)
    assert "Ventes par jour" in text and "330,00 €" in text and "02.11.2015" in text


def test_cash_journal_lists_operations_and_expected_cash(rs, catalogue, buyer):
    from plugins.sales.services import orders, payments
    from plugins.reports.services import engine

    with at(DAY):
        first = sell(rs, catalogue, buyer, 2, "CASH", "250.00")
        sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    with at(DAY + timedelta(hours=3)):
        op = orders.release_tickets(rs, first, [first.tickets[0]], kind="refund")
        payments.refund(rs, first, "CASH", Decimal("110.00"), operation=op)
        rs.commit()
    rows = report_csv(rs, "sales.cash_journal", {"day": "02.11.2015", "point_of_sale": "GUICHET"})[1]
    kinds = [r[2] for r in rows[1:]]
    assert kinds.count("Vente") == 2 and "Remboursement" in kinds
    assert [r[6] for r in rows[1:] if r[5] == "Espèces"] == ["220,00", "-110,00"]
    data, _n, _t = engine.render_bytes(rs, "sales.cash_journal", {"day": "02.11.2015", "point_of_sale": "GUICHET",
                                                                  "operator": "STX_BDD"}, "pdf")
    text = pdf_text(data)
    assert "Espèces attendues dans le tiroir" in text and "110,00 €" in text
    assert "Encaissements — Carte bancaire" in text and "Remboursements — Espèces" in text
    assert "220,00 €" in text and "STX_BDD" in text
    other_day = report_csv(rs, "sales.cash_journal", {"day": "03.11.2015", "point_of_sale": "GUICHET"})[1]
    assert len(other_day) == 1


def test_payments_by_mode_and_sales_by_performance(rs, catalogue, buyer):
    from plugins.reports.services import engine

    with at(DAY):
        sell(rs, catalogue, buyer, 2, "CASH", "220.00")
        sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    rows = report_csv(rs, "sales.payments_by_mode", {"start": "02.11.2015", "end": "02.11.2015"})[1]
    assert rows[1:] == [["Espèces", "1", "220,00", "0,00", "220,00"], ["Carte bancaire", "1", "110,00", "0,00", "110,00"]]
    rows = report_csv(rs, "sales.by_performance", {})[1]
    joyaux = next(r for r in rows[1:] if r[2] == "Opéra Garnier")
    assert joyaux[3:7] == ["40", "3", "0", "330,00"] and joyaux[7] == "0.075".replace(".", ",")
    data, _n, _t = engine.render_bytes(rs, "sales.by_performance", {}, "pdf")
    assert "Places vendues par séance" in pdf_text(data)


def test_door_list(rs, catalogue, buyer, person):
    with at(DAY):
        sell(rs, catalogue, buyer, 2, "CASH", "220.00")
    rows = report_csv(rs, "sales.door_list", {"performance": str(catalogue.performance.id)})[1]
    assert len(rows) == 3 and rows[1][0] == "Cat 1" and rows[1][4].startswith("AKOKA, Viviane [")
    assert len(rows[1][1]) == 11


def test_documents_are_stored_reprinted_identically_and_corrected_as_new(rs, catalogue, buyer):
    from plugins.reports.models import Document
    from plugins.reports.services import documents

    with at(DAY):
        order = sell(rs, catalogue, buyer, 2, "CASH", "220.00")
        receipt = documents.generate(rs, "sales.receipt", str(order.number))
        rs.commit()
    assert receipt.number == "R2015-00001" and len(receipt.sha256) == 64
    first_bytes = documents.reprint(rs, receipt)
    text = pdf_text(first_bytes)
    assert "Reçu R2015-00001" in text and "220,00 €" in text and f"Dossier {order.number}" in text
    with at(DAY + timedelta(days=3)):
        again = documents.generate(rs, "sales.receipt", str(order.number))
        assert again.id == receipt.id and documents.reprint(rs, again) == first_bytes
        fixed = documents.generate(rs, "sales.receipt", str(order.number), correct=True)
        rs.commit()
    assert fixed.id != receipt.id and fixed.replaces_id == receipt.id and fixed.number == "R2015-00002"
    assert documents.reprint(rs, receipt) == first_bytes  # the first one never changes
    assert rs.scalar(select(Document.contact_id).where(Document.id == fixed.id)) == buyer.id
    summary = documents.generate(rs, "sales.order_summary", str(order.number))
    text = pdf_text(documents.reprint(rs, summary))
    assert "Récapitulatif de commande" in text and "Solde restant dû : 0,00 €" in text and "Joyaux" in text
    tickets = documents.generate(rs, "sales.ticket", str(order.number))
    data = documents.reprint(rs, tickets)
    with open("/tmp/reports_tickets.pdf", "wb") as shot:  # looked at: pdftoppm -png /tmp/reports_tickets.pdf
        shot.write(data)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 2
    for page, ticket in zip(reader.pages, order.tickets):
        assert ticket.barcode in page.extract_text() and "Joyaux" in page.extract_text()


def test_send_by_email_with_the_pdf_attached_and_the_contacts_history(rs, catalogue, person, smtp_server):
    from plugins.contacts.models import TicketingSend
    from plugins.reports.services import delivery, documents

    buyer = person("Akoka", "Viviane", email="viviane@example.org")
    with at(DAY):
        order = sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    with use_config(mail_config(smtp_server)):
        document = documents.generate(rs, "sales.order_summary", str(order.number))
        recipient = documents.recipient_of(rs, document)
        assert recipient.email == "viviane@example.org"
        delivery.queue_document(rs, document, "autre.adresse@example.org")
        assert smtp_server.messages == []  # nothing leaves before the commit
        rs.commit()  # the outbox runs the job after commit (inline in tests)
    [message] = smtp_server.messages
    assert message["To"] == "autre.adresse@example.org" and message["From"] == "billetterie@opera.example"
    [(name, data)] = attachments(message)
    assert name.endswith(".pdf") and data == documents.reprint(rs, document)
    assert f"Dossier {order.number}" in pdf_text(data)
    sends = list(rs.scalars(select(TicketingSend).where(TicketingSend.contact_id == buyer.id)))
    assert len(sends) == 1 and sends[0].channel == "email" and sends[0].source == "reports"
    assert document.sends[0].state == "sent"


def test_a_refused_address_sends_nothing(rs, catalogue, buyer):
    from coulisses import InvalidError
    from plugins.reports.services import delivery, documents

    with at(DAY):
        order = sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    document = documents.generate(rs, "sales.order_summary", str(order.number))
    with pytest.raises(InvalidError) as caught:
        delivery.queue_document(rs, document, "pas une adresse")
    assert "to" in caught.value.fields


def test_order_detail_offers_the_documents(rs, catalogue, buyer):
    from plugins.sales.services.detail import order_detail

    with at(DAY):
        order = sell(rs, catalogue, buyer, 1, "CARD", "110.00")
    actions = {a["code"] if isinstance(a, dict) else a.code: a for a in order_detail(rs, order)["actions"]}
    assert {"reports_summary", "reports_receipt", "reports_tickets"} <= set(actions)


def test_contacts_reports(rs, person):
    from plugins.reports.services import engine

    with at(DAY):
        person("Dupont", "Chantal", city="LYON", postal_code="69001")
        person("Martin", "Paul")
    with at(DAY + timedelta(days=40)):
        person("Durand", "Anne")
    rs.commit()
    rows = report_csv(rs, "contacts.list", {"type_code": "individual"})[1]
    names = [r[1] for r in rows[1:]]
    assert names[:3] == [n for n in names[:3]] and any(n.startswith("DUPONT, Chantal [") for n in names)
    assert any(r[2] == "69001 LYON" for r in rows[1:])
    rows = report_csv(rs, "contacts.new_per_month", {"start": "01.11.2015", "end": "31.12.2015"})[1]
    assert rows[1:] == [["11/2015", "2", "0", "2"], ["12/2015", "1", "0", "1"]]
    data, _n, _t = engine.render_bytes(rs, "contacts.new_per_month", {"start": "01.11.2015", "end": "31.12.2015"}, "pdf")
    assert "Nouveaux contacts par mois" in pdf_text(data)
    assert report_csv(rs, "contacts.duplicates", {})[1][0][0] == "Contact"
