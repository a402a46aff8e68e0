"""The sales plugin's figures on ``/metrics`` (the host's ``coulisses_metrics`` hook), read from the
database at each scrape with a few aggregate queries.

Why read at scrape time rather than count the after-commit events in the process: the figures are
then those of the whole deployment (every web worker, the CLI, the worker, the imports), the same
after a restart, and right whichever process answers the scrape; the rows they count are never
deleted (orders, tickets, payments are kept; corrections are new rows), so the ``_total`` counters
only grow, as Prometheus expects. An in-process counter would count only what that process did
since it started. The queries are a handful of ``COUNT``/``SUM … GROUP BY`` on indexed or small
tables; a scraper calls them every 15 to 60 seconds.

- ``coulisses_sales_orders_created_total`` and ``coulisses_sales_orders{state}``;
- ``coulisses_sales_tickets_sold_total`` (tickets ever paid, cancelled later or not) and
  ``coulisses_sales_tickets{state}``;
- ``coulisses_sales_paid_amount_total{mode}`` and ``coulisses_sales_refunded_amount_total{mode}``:
  payments and refunds by payment mode, in the deployment's currency (the two entries of a change of
  payer, which cancel out, are left out);
- ``coulisses_sales_tills_open{point_of_sale}``: the tills open now, per active point of sale.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coulisses.metrics import Metric

from plugins.sales.models import ORDER_STATES, TICKET_STATES, Order, Payment, PaymentMode, PointOfSale, Ticket
from plugins.sales.models.lifecycle import TillSession


def metrics(session: Session) -> list[Metric]:
    orders = dict(session.execute(select(Order.state, func.count()).group_by(Order.state)).all())
    tickets = dict(session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)).all())
    sold = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.sold_at.is_not(None)))
    found = [
        Metric("coulisses_sales_orders_created_total", "counter", "Orders created (sold or reserved).",
               [({}, sum(orders.values()))]),
        Metric("coulisses_sales_orders", "gauge", "Orders by state.",
               [({"state": state}, orders.get(state, 0)) for state in ORDER_STATES]),
        Metric("coulisses_sales_tickets_sold_total", "counter", "Tickets sold (paid), cancelled since or not.",
               [({}, sold or 0)]),
        Metric("coulisses_sales_tickets", "gauge", "Tickets by state.",
               [({"state": state}, tickets.get(state, 0)) for state in TICKET_STATES]),
    ]
    modes = dict(session.execute(select(PaymentMode.id, PaymentMode.code)).all())
    paid: dict[str, float] = {code: 0.0 for code in modes.values()}
    refunded: dict[str, float] = {code: 0.0 for code in modes.values()}
    for target, sign in ((paid, Payment.amount > 0), (refunded, Payment.amount < 0)):
        rows = session.execute(select(Payment.payment_mode_id, func.sum(Payment.amount))
                               .where(Payment.correction_of_id.is_(None), sign).group_by(Payment.payment_mode_id))
        for mode_id, total in rows:
            code = modes.get(mode_id, str(mode_id))
            target[code] = target.get(code, 0.0) + abs(float(total or 0))
    found.append(Metric("coulisses_sales_paid_amount_total", "counter",
                        "Amount paid, by payment mode (in the deployment's currency).",
                        [({"mode": code}, value) for code, value in sorted(paid.items())]))
    found.append(Metric("coulisses_sales_refunded_amount_total", "counter",
                        "Amount refunded, by payment mode (in the deployment's currency).",
                        [({"mode": code}, value) for code, value in sorted(refunded.items())]))
    open_tills = dict(session.execute(select(TillSession.point_of_sale_id, func.count())
                                      .where(TillSession.state == "open").group_by(TillSession.point_of_sale_id)).all())
    points = session.execute(select(PointOfSale.id, PointOfSale.code, PointOfSale.active)).all()
    found.append(Metric("coulisses_sales_tills_open", "gauge", "Tills open now, by point of sale.",
                        [({"point_of_sale": code}, open_tills.get(pid, 0)) for pid, code, active in
                         sorted(points, key=lambda p: p[1]) if active or open_tills.get(pid)]))
    return found
