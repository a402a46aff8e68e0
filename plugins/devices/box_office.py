"""The devices of a point of sale at work in the sales plugin's box office (when sales is enabled).

- Tickets marked printed (``sales_tickets_printed``: the "Imprimer" action of the order detail, or the
  automatic printing below) become a ``print_ticket`` job for the point of sale's ticket printer.
- Tickets to print after a sale (``sales_after_tickets_to_print``, after commit): the ones handed over
  the counter and not printed yet are marked printed (which queues their print job).
- A cash payment or refund (``sales_after_payment_completed``) opens the point of sale's cash drawer;
  a refund paid out by the refunds plugin opens it there (``refunds_payout``), not twice.
- The customer display shows the order's total, then what is left to pay, then a thank-you.
- A ticket scanned at a point of sale (``devices_scan_received``, after the other plugins: the refunds
  plugin's open cancellation basket goes first) takes its order up into the newest open sales basket
  there, as the sales screen's "Code-barres" field does (a keyboard-wedge scanner types into it).

Nothing here talks to a device: jobs are recorded and run after commit. A device missing at the point
of sale is silently skipped; a device that fails leaves the sale as it is (the job is failed, shown
on the till and in "Travaux", retried by an operator). After-commit events may be delivered twice:
the drawer is opened once per payment, tickets already printed are not printed again.
"""
from __future__ import annotations

from sqlalchemy import select

from coulisses import NotFoundError
from coulisses.i18n import format_datetime, format_money
from plugins.devices.i18n import _
from plugins.devices.models import DeviceJob

DISPLAY_WIDTH = 20


def _device(session, pos_id, kind: str):
    from plugins.devices.services.config import find_device
    from plugins.sales.models import PointOfSale

    pos = session.get(PointOfSale, pos_id) if pos_id else None
    if pos is None:
        return None
    try:
        return find_device(session, pos.code, kind)
    except NotFoundError:
        return None


def _submit_once(session, device, operation: str, payload: dict, reference: str):
    """Submit unless a job with this reference exists already (a second delivery of an event)."""
    from plugins.devices.services.jobs import submit

    if session.scalar(select(DeviceJob.id).where(DeviceJob.reference == reference, DeviceJob.operation == operation)
                      .limit(1)) is not None:
        return None
    return submit(session, device, operation, payload, reference=reference)


# --------------------------------------------------------------------------- tickets


def ticket_layout(ticket) -> dict:
    """A ticket as the ticket printer's elements (BOCA FGL): show, date, venue, place, tariff, price,
    bar code. Dots at 300 dpi on a 2×5.5" ticket."""
    perf = ticket.performance
    when = format_datetime(perf.starts_at, weekday=True)  # in the deployment's time zone
    price = format_money(ticket.price + ticket.fees)
    if ticket.seat is not None:
        place = _("Rang %(row)s place %(number)s", row=ticket.seat.row, number=ticket.seat.number)
    else:
        place = _("Placement libre")
    elements = [
        {"type": "box", "row": 10, "col": 10, "height": 560, "width": 1580},
        {"type": "text", "row": 40, "col": 40, "text": perf.event.title[:40], "font": 3},
        {"type": "text", "row": 110, "col": 40, "text": f"{when} — {perf.venue.name}"[:60], "font": 2},
        {"type": "text", "row": 170, "col": 40, "text": f"{ticket.category.label} — {place}"[:60], "font": 2},
        {"type": "text", "row": 230, "col": 40, "text": f"{ticket.tariff.label} {price}"[:60], "font": 2},
        {"type": "text", "row": 290, "col": 40, "text": _("Dossier %(number)s", number=ticket.order.number), "font": 1},
        {"type": "barcode", "row": 360, "col": 40, "data": ticket.barcode, "symbology": "code128"},
    ]
    return {"elements": elements, "cut": True}


def tickets_printed(session, order, tickets) -> None:
    """``sales_tickets_printed`` (inside the transaction): queue a print job for the ticket printer of
    the point of sale that printed them (the ``print`` operation just recorded)."""
    from plugins.sales.models import OperationEntry

    pos_id = session.scalar(select(OperationEntry.point_of_sale_id)
                            .where(OperationEntry.order_id == order.id, OperationEntry.kind == "print")
                            .order_by(OperationEntry.id.desc()).limit(1))
    printer = _device(session, pos_id, "ticket_printer")
    if printer is None or not tickets:
        return
    from plugins.devices.services.jobs import submit

    submit(session, printer, "print_ticket", {"tickets": [ticket_layout(t) for t in tickets]},
           reference=f"sales.order:{order.number}")


def after_tickets_to_print(session, order, tickets, operation) -> None:
    """After a sale: the tickets handed over the counter and not printed yet are marked printed at
    the operation's point of sale (which queues their print job), when it has a ticket printer."""
    from plugins.sales.services.orders import mark_printed

    pos_id = operation.point_of_sale_id if operation is not None else order.point_of_sale_id
    if _device(session, pos_id, "ticket_printer") is None:
        return
    todo = [t for t in tickets if t.delivery_mode == "handed" and t.print_state != "printed"
            and t.state not in ("reserved", "cancelled")]
    if todo:
        mark_printed(session, todo, point_of_sale=pos_id)


# --------------------------------------------------------------------------- cash drawer


def _paid_out_later(session, payment) -> bool:
    """Another plugin opens the drawer for this payment at a later step (``devices_cash_paid_out_later``:
    the refunds plugin, at the payout)."""
    from plugins.sales.registry import get_registry

    return bool(get_registry().pm.hook.devices_cash_paid_out_later(session=session, payment=payment))


def after_payment_completed(session, order, payment, operation) -> None:
    """A cash payment or refund opens the cash drawer of its point of sale (once per payment)."""
    from plugins.sales.models import PaymentMode

    mode = session.get(PaymentMode, payment.payment_mode_id)
    if mode is not None and mode.type_code == "cash" and not _paid_out_later(session, payment):
        drawer = _device(session, payment.point_of_sale_id or getattr(operation, "point_of_sale_id", None),
                         "cash_drawer")
        if drawer is not None:
            _submit_once(session, drawer, "open_drawer", {}, f"sales.payment:{payment.id}")
    show_order(session, order, operation)


# --------------------------------------------------------------------------- customer display


def fit_line(left: str, right: str, width: int = DISPLAY_WIDTH) -> str:
    """``left`` and ``right`` on one line of ``width`` characters, ``right`` flush right (the customer
    display's lines, a receipt's amounts; spaces for the no-break spaces of amounts)."""
    right = right.replace("\xa0", " ").replace("\u202f", " ")
    room = width - len(right) - 1
    return f"{left[:max(room, 0)]:<{max(room, 0)}} {right}"[:width]


def display_lines(order) -> list[str]:
    """Two lines of 20 characters: the total, then what is left to pay (or a thank-you)."""
    total = fit_line(_("Total"), format_money(order.total))
    if order.balance <= 0:
        return [total, _("Merci !")[:DISPLAY_WIDTH]]
    return [total, fit_line(_("Reste"), format_money(order.balance))]


def show_order(session, order, operation, lines: list[str] | None = None) -> None:
    """Show the order's total and what is left to pay (or ``lines``) on the point of sale's display."""
    pos_id = operation.point_of_sale_id if operation is not None else order.point_of_sale_id
    display = _device(session, pos_id, "display")
    if display is None:
        return
    from plugins.devices.services.jobs import submit

    submit(session, display, "show", {"lines": lines or display_lines(order)}, reference=f"sales.order:{order.number}")


def show_pending(session, order, payment, operation) -> None:
    """A payment started on the terminal: the display says so, with the amount."""
    show_order(session, order, operation, [fit_line(_("Total"), format_money(order.total)),
                                           fit_line(_("Terminal"), format_money(abs(payment.amount)))])


# --------------------------------------------------------------------------- scanner


def scan_received(session, scan) -> None:
    """A code scanned at ``scan.location_code`` (a point of sale's code) that no other plugin used:
    when it is a ticket's barcode and that point of sale has an open sales basket, the ticket's order
    is taken up into the newest one (``sales.services.baskets.take_up_scanned``), and the scan is
    marked used by ``sales``. An unknown code, no basket open there, or an order the basket cannot
    take (cancelled, taken up elsewhere) leaves the scan unused, the basket unchanged."""
    from coulisses import CoulissesError
    from plugins.sales.models import Basket, PointOfSale
    from plugins.sales.services import baskets

    if scan.consumed_by:
        return
    pos = session.scalar(select(PointOfSale).where(PointOfSale.code == scan.location_code))
    if pos is None:
        return
    basket = session.scalar(select(Basket).where(Basket.point_of_sale_id == pos.id, Basket.state == "open")
                            .order_by(Basket.updated_at.desc(), Basket.id.desc()).limit(1))
    if basket is None:
        return
    try:
        with session.begin_nested():
            baskets.take_up_scanned(session, basket, scan.code)
    except CoulissesError:
        return
    scan.consumed_by = "sales"
    session.flush()
