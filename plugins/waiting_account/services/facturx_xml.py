"""Factur-X (EN 16931 profile): the Cross Industry Invoice XML of an invoice, checked against the
Factur-X schema and embedded in the invoice's PDF by the ``factur-x`` library.

Amounts: our invoice lines are all taxes included (ticket prices); the XML carries net amounts: the
invoice's net total is rounded once from the total, the VAT is the difference (so that the grand
total is exactly what the customer owes), and the lines' net amounts add up to the net total (the
rounding remainder on the last line). Cancellation invoices and credit notes are type 381 with
positive amounts and a reference to the invoice they correct.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from lxml import etree
from sqlalchemy.orm import Session

from coulisses.i18n import _

from plugins.waiting_account.models import Invoice

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}
CENT = Decimal("0.01")
EXEMPTION = "TVA non applicable, art. 293 B du CGI"


def _el(parent, tag: str, text=None, **attrs):
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", **attrs)
    if text is not None:
        node.text = str(text)
    return node


def _amount(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _date(parent, tag: str, day, kind: str = "udt") -> None:
    holder = _el(parent, tag)
    _el(holder, f"{kind}:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _tax(parent, rate: Decimal, *, basis: Decimal | None = None, vat: Decimal | None = None) -> None:
    node = _el(parent, "ram:ApplicableTradeTax")
    if vat is not None:
        _el(node, "ram:CalculatedAmount", _amount(vat))
    _el(node, "ram:TypeCode", "VAT")
    if rate == 0 and basis is not None:
        _el(node, "ram:ExemptionReason", EXEMPTION)
    if basis is not None:
        _el(node, "ram:BasisAmount", _amount(basis))
    _el(node, "ram:CategoryCode", "E" if rate == 0 else "S")
    if rate == 0 and basis is not None:
        _el(node, "ram:ExemptionReasonCode", "VATEX-FR-FRANCHISE")
    _el(node, "ram:RateApplicablePercent", str(rate.normalize()) if rate else "0")


def _party(parent, tag: str, name: str, *, postal: dict, legal_id: str = "", vat: str = "", email: str = ""):
    party = _el(parent, tag)
    _el(party, "ram:Name", name[:200])
    if legal_id:
        org = _el(party, "ram:SpecifiedLegalOrganization")
        _el(org, "ram:ID", legal_id, schemeID="0002")
    address = _el(party, "ram:PostalTradeAddress")
    if postal.get("postal_code"):
        _el(address, "ram:PostcodeCode", postal["postal_code"])
    for tag_name, line in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), postal.get("lines", [])):
        _el(address, tag_name, line)
    if postal.get("city"):
        _el(address, "ram:CityName", postal["city"])
    _el(address, "ram:CountryID", postal.get("country") or "FR")
    if email:
        uri = _el(party, "ram:URIUniversalCommunication")
        _el(uri, "ram:URIID", email, schemeID="EM")
    if vat:
        reg = _el(party, "ram:SpecifiedTaxRegistration")
        _el(reg, "ram:ID", vat.replace(" ", ""), schemeID="VA")
    return party


def _seller_postal(identity) -> dict:
    lines = [x.strip() for x in (identity.address or "").splitlines() if x.strip()]
    postal = {"lines": lines[:1], "country": "FR"}
    if len(lines) > 1:
        last = lines[-1].split(" ", 1)
        if len(last) == 2 and last[0].isdigit():
            postal.update(postal_code=last[0], city=last[1])
        postal["lines"] = lines[:-1][:3]
    return postal


def net_lines(invoice: Invoice) -> tuple[list[Decimal], Decimal, Decimal]:
    """(net amount of each line, net total, VAT), positive for a correcting invoice."""
    sign = -1 if invoice.kind != "invoice" else 1
    rate = Decimal(invoice.lines[0].vat_rate) if invoice.lines else Decimal("0")
    gross = [line.amount * sign for line in invoice.lines]
    total = sum(gross, Decimal("0.00"))
    basis = (total / (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP) if rate else total
    nets = [(g / (1 + rate / 100)).quantize(CENT, rounding=ROUND_HALF_UP) if rate else g for g in gross]
    if nets:
        nets[-1] += basis - sum(nets, Decimal("0.00"))
    return nets, basis, total - basis


def build_xml(session: Session, invoice: Invoice) -> bytes:
    """The CII XML (Factur-X EN 16931) of ``invoice``."""
    from plugins.reports.services.identity import identity_view
    from coulisses.i18n import currency

    identity = identity_view(session)
    sign = -1 if invoice.kind != "invoice" else 1
    rate = Decimal(invoice.lines[0].vat_rate) if invoice.lines else Decimal("0")
    nets, basis, vat = net_lines(invoice)
    code = currency()
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", "urn:cen.eu:en16931:2017")
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", "380" if invoice.kind == "invoice" else "381")
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    for subject, text in (("PMD", _("Pénalités de retard : trois fois le taux d'intérêt légal.")),
                          ("PMT", _("Indemnité forfaitaire pour frais de recouvrement : 40 €.")),
                          ("AAB", _("Pas d'escompte pour paiement anticipé."))):
        note = _el(document, "ram:IncludedNote")
        _el(note, "ram:Content", text)
        _el(note, "ram:SubjectCode", subject)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for i, (line, net) in enumerate(zip(invoice.lines, nets), start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(i))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.label[:300])
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        price = (net / line.quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", str(price))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", str(line.quantity), unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        _tax(settlement, rate)
        _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount", _amount(net))
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", identity.name or _("Organisation"), postal=_seller_postal(identity),
           legal_id=(identity.siren or (identity.siret or "")[:9]).replace(" ", ""), vat=identity.vat_number or "",
           email=identity.email or "")
    buyer = invoice.buyer or {}
    _party(agreement, "ram:BuyerTradeParty", buyer.get("name", ""), email=buyer.get("email", ""),
           postal={"lines": buyer.get("address", []), "postal_code": buyer.get("postal_code", ""),
                   "city": buyer.get("city", ""), "country": buyer.get("country", "FR")})
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", code)
    if identity.iban:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", "58")
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", identity.iban.replace(" ", ""))
    _tax(settlement, rate, basis=basis, vat=vat)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _date(terms, "ram:DueDateDateTime", invoice.due_date)
    sums = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    total = basis + vat
    prepaid = invoice.prepaid * sign
    _el(sums, "ram:LineTotalAmount", _amount(basis))
    _el(sums, "ram:TaxBasisTotalAmount", _amount(basis))
    _el(sums, "ram:TaxTotalAmount", _amount(vat), currencyID=code)
    _el(sums, "ram:GrandTotalAmount", _amount(total))
    if prepaid:
        _el(sums, "ram:TotalPrepaidAmount", _amount(prepaid))
    _el(sums, "ram:DuePayableAmount", _amount(total - prepaid))
    if invoice.cancels_id is not None:
        cancelled = session.get(Invoice, invoice.cancels_id)
        ref = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(ref, "ram:IssuerAssignedID", cancelled.number)
        _date(ref, "ram:FormattedIssueDateTime", cancelled.issue_date, "qdt")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def identity_name(session: Session) -> str:
    from plugins.reports.services.identity import identity_view

    return identity_view(session).name or ""


def embed(session: Session, invoice: Invoice, pdf: bytes) -> bytes:
    """The invoice PDF made a Factur-X e-invoice: the XML checked against the EN 16931 schema and
    attached (``factur-x.xml``, relationship Data) with the Factur-X XMP metadata. The document type
    is ``pdfa``: the renderer then makes the whole PDF/A-3b (its metadata agreeing with the XMP this
    writes, the Factur-X extension schema kept; ``plugins.reports.render.pdfa``). The schematron
    check of the factur-x library needs a Saxon server: not run here."""
    import facturx

    xml = build_xml(session, invoice)
    return facturx.generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True,
                                        pdf_metadata={"author": identity_name(session),
                                                      "keywords": "Factur-X", "title": invoice.number,
                                                      "subject": f"Factur-X {invoice.number}"}, lang="fr-FR")
