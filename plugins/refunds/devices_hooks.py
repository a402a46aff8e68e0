"""The refunds plugin with the devices plugin (optional): a scanner at a point of sale feeds the
open cancellation basket of that place of work, a cash refund opens the cash drawer there, and a
settled basket prints its refund receipt on the receipt printer there.

Both run inside the business transaction; the drawer is opened through the devices plugin's jobs
(after commit), never from here directly.
"""
from __future__ import annotations

from sqlalchemy import select

from coulisses.i18n import _

from plugins.refunds.models import CancellationBasket, RefundPayout
from plugins.sales.models import PointOfSale


def scan_received(session, scan) -> None:
    """A barcode scanned at ``scan.location_code`` (a point of sale's code) goes into the newest open
    cancellation basket of that point of sale, if there is one and nobody used the scan: one ticket,
    or with "Plage" on, the first then the last ticket of a range (``baskets.add_scanned``)."""
    from plugins.refunds.services import baskets

    if scan.consumed_by:
        return
    pos = session.scalar(select(PointOfSale).where(PointOfSale.code == scan.location_code))
    if pos is None:
        return
    basket = session.scalar(select(CancellationBasket).where(CancellationBasket.point_of_sale_id == pos.id,
                                                             CancellationBasket.state == "open")
                            .order_by(CancellationBasket.id.desc()).limit(1))
    if basket is None:
        return
    baskets.add_scanned(session, basket, scan.code)
    scan.consumed_by = "refunds"
    session.flush()


def _device(session, basket, kind: str):
    """The active device of ``kind`` at the basket's point of sale, or None."""
    from coulisses import NotFoundError
    from plugins.devices.services.config import find_device

    pos = session.get(PointOfSale, basket.point_of_sale_id) if basket and basket.point_of_sale_id else None
    if pos is None:
        return None
    try:
        return find_device(session, pos.code, kind)
    except NotFoundError:
        return None


def open_drawer(session, payout, mode_type: str) -> None:
    """A cash refund being paid out opens the cash drawer of the basket's point of sale (when one is
    configured there)."""
    from plugins.devices.services.jobs import submit

    if mode_type != "cash" or payout.basket_id is None:
        return
    drawer = _device(session, session.get(CancellationBasket, payout.basket_id), "cash_drawer")
    if drawer is None:
        return
    submit(session, drawer, "open_drawer", {}, reference=f"refunds.payout:{payout.id}")


def receipt_lines(session, basket, operation, columns: int = 42) -> list:
    """The refund receipt of a settled basket, as the receipt printer's lines (``print_receipt``):
    the operation, the orders and their cancelled tickets, each refund by mode (a terminal's one said
    pending), the fees kept, the exchange, the total refunded."""
    from coulisses.i18n import format_datetime, format_money
    from plugins.devices.box_office import fit_line
    from plugins.sales.models import PaymentMode
    from plugins.sales.services.common import money

    summary = basket.summary or {}
    rule = {"text": "-" * columns}
    pos = session.get(PointOfSale, basket.point_of_sale_id) if basket.point_of_sale_id else None
    lines: list = [{"text": _("REMBOURSEMENT"), "bold": True, "width": 2, "height": 2, "align": "center"},
                   {"text": _("Ordre %(number)s", number=operation.number), "align": "center"},
                   {"text": format_datetime(basket.settled_at or operation.created_at), "align": "center"}]
    if pos is not None:
        lines.append({"text": pos.label, "align": "center"})
    lines.append(rule)
    tickets = summary.get("tickets") or []
    for number in summary.get("orders") or []:
        count = sum(1 for bt in basket.tickets if bt.order is not None and bt.order.number == number)
        lines.append(fit_line(_("Dossier %(number)s", number=number),
                              _("%(num)s billet(s) annulé(s)", num=count), columns))
    if not summary.get("orders") and tickets:
        lines.append(_("%(num)s billet(s) annulé(s)", num=len(tickets)))
    labels = {m.code: m.label for m in session.query(PaymentMode)}
    for refund in summary.get("refunds") or []:
        label = labels.get(refund["mode"], refund["mode"])
        if refund.get("pending"):
            label = _("%(mode)s (terminal)", mode=label)
        lines.append(fit_line(label, format_money(-money(refund["amount"])), columns))
    kept = money(summary.get("kept") or "0")
    if kept:
        lines.append(fit_line(_("Frais retenus"), format_money(kept), columns))
    sold = money(summary.get("sold") or "0")
    if sold and summary.get("exchange_order"):
        lines.append(fit_line(_("Échange : dossier %(number)s", number=summary["exchange_order"]),
                              format_money(sold), columns))
    lines.append(rule)
    lines.append({"text": fit_line(_("Total remboursé"), format_money(money(summary.get("refunded") or "0")),
                                   columns), "bold": True})
    return lines


def print_receipt(session, basket, operation) -> None:
    """``refunds_refund_done``: the refund receipt on the receipt printer of the basket's point of
    sale (a job recorded in the settlement's transaction, printed after commit; a failed print never
    undoes the refund: it waits on the till to be retried). No receipt printer there: nothing."""
    from plugins.devices.services.jobs import submit

    printer = _device(session, basket, "receipt_printer")
    if printer is None:
        return
    columns = int((printer.settings or {}).get("columns") or 42)
    submit(session, printer, "print_receipt", {"lines": receipt_lines(session, basket, operation, columns),
                                               "open_drawer": False},
           reference=f"refunds.basket:{basket.id}")


def paid_out_later(session, payment) -> bool:
    """A refund this plugin pays out: the drawer opens at the payout (``open_drawer``), not before."""
    if payment.amount >= 0:
        return False
    return session.scalar(select(RefundPayout.id).where(RefundPayout.payment_id == payment.id)) is not None
