"""The sales plugin's documents (when the reports plugin is enabled): the order summary, the
print-at-home tickets (A4, one ticket per page, barcode and QR code drawn by reportlab) and a generic
receipt (numbered ``R<year>-00001``). Registered by ``reports_documents`` in ``hooks.py``; each is
generated once and stored by the reports plugin (a reprint gives the same bytes)."""
from __future__ import annotations

from decimal import Decimal

from coulisses.i18n import _, _l, format_datetime

from plugins.reports.registry import DocumentType, Recipient
from plugins.sales.models import Order


def _load(session, ref: str) -> Order:
    from coulisses import NotFoundError
    from plugins.sales.services.orders import get_order

    try:
        return get_order(session, int(str(ref).strip()))
    except ValueError:
        raise NotFoundError(_("Dossier %(number)s introuvable", number=ref)) from None


def _ref(order: Order) -> str:
    return str(order.number)


def _label(order: Order) -> str:
    return _("Dossier %(number)s", number=order.number)


def _recipient(session, order: Order) -> Recipient:
    contact = order.payer or order.buyer
    return Recipient(email=contact.email or (order.buyer.email if order.buyer else None), contact_id=contact.id,
                     locale=getattr(contact, "language", None), name=contact.display_name)


def _lines(ctx, order: Order):
    from plugins.sales.services.catalogue import performance_label

    rows = [[_("Séance"), _("Catégorie"), _("Tarif"), _("Qté"), _("Montant")]]
    for line in order.lines:
        live = [t for t in order.tickets if t.line_id == line.id]
        amount = sum((t.amount for t in live), Decimal("0.00"))
        rows.append([ctx.text(performance_label(line.performance), "cell"), line.category.label, line.tariff.label,
                     str(line.quantity), ctx.money(amount)])
    rows.append([_("Total"), "", "", "", ctx.money(order.total)])
    return ctx.table(rows, [0.42, 0.14, 0.2, 0.06, 0.16], numeric=(3, 4), total_row=True)


def _payments(ctx, order: Order):
    rows = [[_("Date"), _("Mode de règlement"), _("Référence"), _("Montant")]]
    for p in order.payments:
        rows.append([ctx.datetime(p.at), p.payment_mode.label, p.reference or "", ctx.money(p.amount)])
    rows.append([_("Réglé"), "", "", ctx.money(order.paid)])
    return ctx.table(rows, [0.25, 0.3, 0.25, 0.18], numeric=(3,), total_row=True)


def build_summary(ctx, order: Order):
    from reportlab.platypus import Spacer

    from plugins.sales.services.detail import buyer_label

    from sqlalchemy.orm import object_session

    session = object_session(order)
    story = [ctx.text(_("Acheteur : %(who)s", who=buyer_label(session, order))),
             ctx.text(_("État : %(state)s — créé le %(when)s", state=order.state_label, when=ctx.datetime(order.created_at))),
             Spacer(1, 8), _lines(ctx, order), Spacer(1, 8)]
    if order.payments:
        story += [ctx.text(_("Règlements"), "h2"), _payments(ctx, order), Spacer(1, 6)]
    story.append(ctx.text(_("Solde restant dû : %(amount)s", amount=ctx.money(order.balance)), "h2"))
    story += _blocks(ctx, session, order)
    return story


def _blocks(ctx, session, order: Order) -> list:
    """What other plugins add to the order summary (``sales_order_blocks`` with ``document=True``): the
    waiting account's instalment schedule…"""
    from reportlab.platypus import Spacer

    from plugins.sales.services.detail import order_blocks

    story = []
    for block in order_blocks(session, order, document=True):
        story += [Spacer(1, 8), ctx.text(str(block.title), "h2")]
        story += [ctx.text(f"{k} : {v}") for k, v in block.facts]
        if block.rows:
            width = 0.98 / max(len(block.columns), 1)
            story += [Spacer(1, 4), ctx.table([[str(c) for c in block.columns]] + [[str(c) for c in r] for r in block.rows],
                                              [width] * len(block.columns), numeric=tuple(block.numeric))]
    return story


def ticket_codes(barcode: str):
    """The ticket's barcode (Code 128, with its digits) and QR code side by side: a reportlab drawing."""
    from reportlab.graphics.barcode import createBarcodeDrawing
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib.units import mm

    bars = createBarcodeDrawing("Code128", value=barcode, barHeight=18 * mm, barWidth=0.42 * mm, humanReadable=True)
    qr = createBarcodeDrawing("QR", value=barcode, width=34 * mm, height=34 * mm)
    drawing = Drawing(bars.width + 45 * mm, 36 * mm)
    bars.translate(0, 8 * mm)
    qr.translate(bars.width + 10 * mm, 0)
    drawing.add(bars)
    drawing.add(qr)
    return drawing


def build_tickets(ctx, order: Order):
    from reportlab.platypus import PageBreak, Spacer

    story = []
    live = [t for t in order.tickets if t.state in ("paid", "printed")]
    if not live:
        return [ctx.text(_("Aucun billet imprimable dans ce dossier (réglez-le d'abord)."))]
    for i, ticket in enumerate(live):
        if i:
            story.append(PageBreak())
        perf = ticket.performance
        place = " - ".join(x for x in (ticket.area.name if ticket.area else "",
                                       ticket.seat.label if ticket.seat else _("Placement libre")) if x)
        holder = ticket.attendee or order.buyer
        story += [ctx.text(perf.event.title, "title"), ctx.text(format_datetime(perf.starts_at, weekday=True), "h2"),
                  ctx.text(perf.venue.name),
                  Spacer(1, 6),
                  ctx.table([[_("Place"), _("Catégorie"), _("Tarif"), _("Prix")],
                             [place, ticket.category.label, ticket.tariff.label, ctx.money(ticket.price + ticket.fees)]],
                            [0.35, 0.2, 0.25, 0.15], numeric=(3,)),
                  Spacer(1, 6), ctx.text(_("Au nom de : %(name)s", name=holder.display_name)),
                  ctx.text(_("Dossier %(number)s — billet %(index)s / %(count)s", number=order.number, index=i + 1,
                             count=len(live)), "small"),
                  Spacer(1, 14), ticket_codes(ticket.barcode), Spacer(1, 10),
                  ctx.text(_("Billet à imprimer et à présenter à l'entrée. Un seul passage par code-barres."), "small")]
    return story


def build_receipt(ctx, order: Order):
    from reportlab.platypus import Spacer

    from plugins.sales.services.detail import buyer_label

    from sqlalchemy.orm import object_session

    session = object_session(order)
    return [ctx.text(_("Reçu de %(who)s pour le dossier %(number)s", who=buyer_label(session, order), number=order.number)),
            Spacer(1, 8), _payments(ctx, order) if order.payments else ctx.text(_("Aucun règlement.")), Spacer(1, 8),
            ctx.text(_("Total du dossier : %(total)s — réglé : %(paid)s — solde : %(balance)s", total=ctx.money(order.total),
                       paid=ctx.money(order.paid), balance=ctx.money(order.balance)))]


def document_types() -> list[DocumentType]:
    common = {"load": _load, "object_ref": _ref, "object_label": _label, "recipient": _recipient}
    return [
        DocumentType(code="sales.order_summary", title=_l("Récapitulatif de commande"), permission="sales.view",
                     build=build_summary, **common),
        DocumentType(code="sales.ticket", title=_l("Billets à imprimer"), permission="sales.print", build=build_tickets,
                     **common),
        DocumentType(code="sales.receipt", title=_l("Reçu"), permission="sales.view", build=build_receipt,
                     numbering="sales.receipt", number_format="R{year}-{number:05d}", **common),
    ]


def order_actions(order: Order) -> list:
    """The order detail's links to the documents (when the reports plugin is enabled)."""
    from plugins.sales.registry import OrderAction, get_registry

    pm = get_registry().pm
    if pm is None or pm.get_plugin("reports") is None:
        return []
    base = "/admin/reports_documents/object?type={}&ref=" + str(order.number)
    actions = [OrderAction("reports_summary", _("Récapitulatif (PDF, e-mail)"), url=base.format("sales.order_summary"),
                           permission="reports.documents", position=80),
               OrderAction("reports_receipt", _("Reçu"), url=base.format("sales.receipt"),
                           permission="reports.documents", position=82)]
    if any(t.state in ("paid", "printed") for t in order.tickets):
        actions.append(OrderAction("reports_tickets", _("Billets à imprimer (PDF)"), url=base.format("sales.ticket"),
                                   permission="sales.print", position=81))
    return actions
