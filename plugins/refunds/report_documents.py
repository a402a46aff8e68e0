"""The refunds plugin's document (when the reports plugin is enabled): the refund receipt of a settled
cancellation basket ("Reçu de remboursement", numbered ``RB<year>-00001``), referenced by the basket's
operation number. Registered by ``reports_documents``; generated after commit by the job
``refunds.receipt`` that settling enqueues, and stored by the reports plugin (a reprint gives the same
bytes). A waiting account's credit note is its own plugin's (through ``refunds_refund_done``)."""
from __future__ import annotations

from decimal import Decimal

from coulisses.i18n import _, _l

from plugins.refunds.models import CancellationBasket

RECEIPT = "refunds.refund_receipt"


def _load(session, ref: str) -> CancellationBasket:
    from coulisses import NotFoundError
    from plugins.refunds.services.baskets import basket_by_operation

    try:
        basket = basket_by_operation(session, int(str(ref).strip()))
    except ValueError:
        raise NotFoundError(_("Panier d'annulation introuvable : %(ref)s", ref=ref)) from None
    if basket.state != "settled":
        raise NotFoundError(_("Panier d'annulation introuvable : Ordre %(ref)s", ref=ref))
    return basket


def _ref(basket: CancellationBasket) -> str:
    return str(basket.number)


def _label(basket: CancellationBasket) -> str:
    return _("Ordre %(number)s", number=basket.number)


def _recipient(session, basket: CancellationBasket):
    from plugins.reports.registry import Recipient

    contact = basket.contact
    if contact is None:
        return Recipient()
    return Recipient(email=contact.email or None, contact_id=contact.id, locale=getattr(contact, "language", None),
                     name=contact.display_name)


def build_receipt(ctx, basket: CancellationBasket):
    from reportlab.platypus import Spacer

    summary = basket.summary or {}
    rows = [[_("Dossier"), _("Remboursé"), _("Mode")]]
    for refund in summary.get("refunds", []):
        rows.append([str(refund["order"]), ctx.money(Decimal(refund["amount"])), refund["mode"]])
    story = [ctx.text(_("Remboursement — Ordre %(number)s", number=basket.number), "h2"),
             ctx.text(_("Contact : %(who)s", who=basket.contact.display_name if basket.contact else "—")),
             ctx.text(_("Dossiers : %(orders)s", orders=", ".join(str(o) for o in summary.get("orders", [])))),
             ctx.text(_("Billets annulés : %(barcodes)s", barcodes=", ".join(summary.get("tickets", []))), "small"),
             Spacer(1, 8)]
    if summary.get("refunds"):
        story.append(ctx.table(rows, [0.3, 0.35, 0.3], numeric=(1,)))
    story += [Spacer(1, 8),
              ctx.text(_("Remboursé : %(amount)s", amount=ctx.money(Decimal(summary.get("refunded", "0"))))),
              ctx.text(_("Frais retenus : %(amount)s", amount=ctx.money(Decimal(summary.get("kept", "0")))))]
    if summary.get("exchange_order"):
        story.append(ctx.text(_("Échange : dossier %(number)s (%(amount)s)", number=summary["exchange_order"],
                                amount=ctx.money(Decimal(summary.get("sold", "0"))))))
    return story


def document_types() -> list:
    from plugins.reports.registry import DocumentType

    return [DocumentType(code=RECEIPT, title=_l("Reçu de remboursement"), permission="refunds.refund",
                         load=_load, object_ref=_ref, object_label=_label, build=build_receipt, recipient=_recipient,
                         numbering="refunds.receipt", number_format="RB{year}-{number:05d}")]


def generate_receipt_job(session, job) -> dict:
    """The job ``refunds.receipt``: the refund receipt of a settled basket, stored by reports."""
    from plugins.reports.services import documents

    document = documents.generate(session, RECEIPT, str(job.payload["operation"]))
    return {"document": document.id, "number": document.number}
