"""The refunds plugin with the devices plugin (optional): a scanner at a point of sale feeds the
open cancellation basket of that place of work, and a cash refund opens the cash drawer there.

Both run inside the business transaction; the drawer is opened through the devices plugin's jobs
(after commit), never from here directly.
"""
from __future__ import annotations

from sqlalchemy import select

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


def open_drawer(session, payout, mode_type: str) -> None:
    """A cash refund being paid out opens the cash drawer of the basket's point of sale (when one is
    configured there)."""
    from coulisses import NotFoundError
    from plugins.devices.services.config import find_device
    from plugins.devices.services.jobs import submit

    if mode_type != "cash" or payout.basket_id is None:
        return
    basket = session.get(CancellationBasket, payout.basket_id)
    pos = session.get(PointOfSale, basket.point_of_sale_id) if basket and basket.point_of_sale_id else None
    if pos is None:
        return
    try:
        drawer = find_device(session, pos.code, "cash_drawer")
    except NotFoundError:
        return
    submit(session, drawer, "open_drawer", {}, reference=f"refunds.payout:{payout.id}")


def paid_out_later(session, payment) -> bool:
    """A refund this plugin pays out: the drawer opens at the payout (``open_drawer``), not before."""
    if payment.amount >= 0:
        return False
    return session.scalar(select(RefundPayout.id).where(RefundPayout.payment_id == payment.id)) is not None
