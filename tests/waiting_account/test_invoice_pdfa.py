"""The invoice PDF is a Factur-X e-invoice in a strictly conforming PDF/A-3b: checked clause by clause
(tests/reports/pdfa_check.py), the XML read back from the attachment and checked against the Factur-X
EN 16931 schema by the factur-x library, the legal mentions read back from the text."""
from __future__ import annotations

import io

import facturx
import pdfplumber
import pikepdf
from lxml import etree

from plugins.waiting_account.services import invoices
from tests.reports.pdfa_check import embedded_files, violations
from tests.waiting_account.conftest import sell_on_account

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


def _invoice_pdf(db, catalogue, buyer, structure, seats=2):
    from plugins.reports.services.documents import generate, reprint

    order = sell_on_account(db, catalogue, buyer, structure, seats)
    invoice = invoices.invoice_orders(db, structure, [order])
    document = generate(db, "waiting_account.invoice", invoice.number)
    db.commit()
    return invoice, reprint(db, document)


def test_the_invoice_pdf_is_a_strictly_conforming_pdf_a_3b_factur_x(db, catalogue, buyer, structure,
                                                                   invoice_range, identity):
    invoice, data = _invoice_pdf(db, catalogue, buyer, structure)
    assert violations(data) == []
    # the Factur-X part: the XML attached as factur-x.xml, relationship Data (or Alternative), text/xml
    [(name, (relationship, mime, xml))] = embedded_files(data).items()
    assert (name, relationship, mime) == ("factur-x.xml", "/Data", "/text/xml")
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"
    tree = etree.fromstring(xml)
    assert tree.findtext("{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}ExchangedDocument/"
                         f"{RAM}ID") == invoice.number
    assert tree.findtext(f".//{RAM}GrandTotalAmount") == str(invoice.total)
    assert tree.findtext(f".//{RAM}BuyerTradeParty/{RAM}Name") == "UNIVERSITY PARIS"
    # the Factur-X XMP (as the factur-x library writes it) in the PDF/A metadata
    with pikepdf.open(io.BytesIO(data)) as pdf:
        xmp = etree.fromstring(pdf.Root.Metadata.read_bytes())
        info = pdf.docinfo
        assert str(info.Title) == f"Facture {invoice.number}" and str(info.Author) == "Opéra de Lyon"
    fx = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
    assert [xmp.findtext(f".//{fx}{k}") for k in ("DocumentType", "DocumentFileName", "ConformanceLevel")] == \
        ["INVOICE", "factur-x.xml", "EN 16931"]
    assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}part") == "3"
    assert xmp.findtext(".//{http://www.aiim.org/pdfa/ns/id/}conformance") == "B"
    # the legal mentions, read back from the text drawn in the embedded fonts
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    for expected in (f"Facture {invoice.number}", "Opéra de Lyon", "UNIVERSITY PARIS", "220,00", "Pénalités de retard",
                     "Indemnité forfaitaire pour frais de recouvrement : 40 €", "date d'échéance", "Net à payer",
                     "Factur-X"):
        assert expected in text, expected


def test_a_credit_note_is_pdf_a_3b_too(db, catalogue, buyer, structure, invoice_range, identity):
    from plugins.reports.services.documents import generate, reprint

    invoice, _data = _invoice_pdf(db, catalogue, buyer, structure)
    cancellation = invoices.cancel_invoice(db, invoice)
    db.commit()
    data = reprint(db, generate(db, "waiting_account.invoice", cancellation.number))
    assert violations(data) == []
    _name, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
