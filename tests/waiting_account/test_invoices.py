"""Invoices: gapless numbers from ranges, one order or several (global invoicing), never twice,
cancellation invoices, change of billing contact, credit notes on refunds; the PDF carries the
French legal mentions and is a Factur-X EN 16931 e-invoice (XML checked against the schema, read
back from the PDF)."""
import io
from datetime import date
from decimal import Decimal

import facturx
import pdfplumber
import pytest
from lxml import etree

from coulisses import ConflictError
from plugins.waiting_account.services import accounts, invoices
from tests.waiting_account.conftest import sell_on_account

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


def test_global_invoicing_of_several_orders_numbers_without_gap(db, catalogue, buyer, structure, invoice_range):
    first = sell_on_account(db, catalogue, buyer, structure, 2)
    second = sell_on_account(db, catalogue, buyer, structure, 3)
    assert invoices.invoiceable_orders(db, structure) == [first, second]
    invoice = invoices.invoice_orders(db, structure, [first, second])
    one_more = sell_on_account(db, catalogue, buyer, structure, 1)
    other = invoices.invoice_orders(db, structure, [one_more])
    db.commit()
    assert (invoice.number, other.number) == ("FA1", "FA2")
    assert invoice.total == Decimal("550.00") and invoice.net_total + invoice.vat_total == invoice.total
    assert invoice.vat_total == Decimal("28.67")  # 550 − round(550 / 1.055)
    assert invoices.invoiceable_orders(db, structure) == []
    with pytest.raises(ConflictError, match="déjà facturé"):
        invoices.invoice_orders(db, structure, [first])


def test_a_range_used_up_refuses_and_gives_no_number(db, catalogue, buyer, structure, invoice_range):
    invoice_range.active = False
    invoices.create_range(db, "F2030-", 1, 1, date(2000, 1, 1), date(2099, 12, 31))
    a, b = (sell_on_account(db, catalogue, buyer, structure, 1) for _ in range(2))
    db.commit()
    assert invoices.invoice_orders(db, structure, [a]).number == "F2030-1"
    with pytest.raises(ConflictError, match="épuisée"):
        invoices.invoice_orders(db, structure, [b])


def test_cancellation_and_change_of_billing_contact(db, catalogue, buyer, structure, invoice_range, person):
    order = sell_on_account(db, catalogue, buyer, structure, 2)
    invoice = invoices.invoice_orders(db, structure, [order])
    other = person("Shapira", "Michel")
    accounts.set_authorisation(db, other, authorised=True, ceiling="1000.00")
    cancellation, new = invoices.change_billing_contact(db, invoice, other)
    db.commit()
    assert (cancellation.kind, cancellation.total, cancellation.cancels_id) == ("cancellation", Decimal("-220.00"),
                                                                               invoice.id)
    assert (new.contact_id, new.total, new.number) == (other.id, Decimal("220.00"), "FA3")
    assert invoices.state_label(db, invoice) == "Annulée"
    assert accounts.balance(db, accounts.account_of(db, structure)) == 0
    assert accounts.balance(db, accounts.account_of(db, other)) == Decimal("220.00")


def test_the_invoice_pdf_is_a_factur_x_e_invoice_with_the_legal_mentions(db, catalogue, buyer, structure,
                                                                        invoice_range, identity):
    from plugins.reports.services.documents import generate, reprint

    order = sell_on_account(db, catalogue, buyer, structure, 22)
    invoice = invoices.invoice_orders(db, structure, [order])
    document = generate(db, "waiting_account.invoice", invoice.number)
    db.commit()
    data = reprint(db, document)
    name, xml = facturx.get_xml_from_pdf(data, check_xsd=True)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    texts = {el.tag.split("}")[1]: el.text for el in tree.iter() if el.text and el.text.strip()}
    assert texts["GrandTotalAmount"] == "2420.00" and texts["DuePayableAmount"] == "2420.00"
    assert texts["TaxTotalAmount"] == "126.16" and texts["TaxBasisTotalAmount"] == "2293.84"
    assert tree.findtext(f".//{RAM}SellerTradeParty/{RAM}SpecifiedLegalOrganization/{RAM}ID") == "732829320"
    assert tree.findtext(f".//{RAM}BuyerTradeParty/{RAM}Name") == "UNIVERSITY PARIS"
    assert b"<ram:TypeCode>380</ram:TypeCode>" in xml and b"<ram:ID>FA1</ram:ID>" in xml
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    for expected in ("Facture FA1", "Opéra de Lyon", "UNIVERSITY PARIS", "2 420,00", "Pénalités de retard",
                     "Indemnité forfaitaire pour frais de recouvrement : 40", "TVA 5.5", "Date d'échéance",
                     "Net à payer"):
        assert expected.replace("Date d'échéance", "date d'échéance") in text, expected


def test_a_refund_on_account_of_an_invoiced_order_issues_a_credit_note(db, catalogue, buyer, structure,
                                                                      invoice_range, identity):
    from plugins.reports.services.documents import generate, reprint
    from plugins.sales.services.orders import release_tickets
    from plugins.sales.services.payments import refund

    order = sell_on_account(db, catalogue, buyer, structure, 2)
    invoice = invoices.invoice_orders(db, structure, [order])
    release_tickets(db, order, order.tickets[:1], kind="refund")
    refund(db, order, "ATTENTE", "110.00", contact=structure.id)
    db.commit()
    [note] = [i for i in invoices.invoices_of(db, structure) if i.kind == "credit_note"]
    assert (note.total, note.cancels_id) == (Decimal("-110.00"), invoice.id)
    _name, xml = facturx.get_xml_from_pdf(reprint(db, generate(db, "waiting_account.invoice", note.number)))
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml and invoice.number.encode() in xml
