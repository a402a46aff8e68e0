"""The sales plugin's tables (all prefixed ``sales_``).

Catalogue
---------
``Season`` ("2015/2016") · ``Venue`` (seated or not) with its ``Area``s ("Balcon") and, when seated,
its ``Seat``s (area, row, number) · ``SeatCategory`` ("Cat 1") · ``Event`` ("Joyaux") ·
``Performance`` (an event at a venue, a moment in UTC, a season, a total capacity, on sale or not) ·
``PerformanceQuota`` (the capacity of one category at one performance) · ``Audience`` ("Contact
occasionnel") and ``Tariff`` ("Plein tarif"; shown "Contact occasionnel - Plein tarif") · ``Price``
(performance × category × tariff → amount) · ``Fee`` (simple fees added to each ticket, refundable or
not) · ``SalesChannel`` (box office, internet, partners) and ``PointOfSale`` ("Guichet").

Orders
------
``Order`` (dossier, gapless ``number``) → ``OrderLine`` (performance / category / tariff, quantity,
unit price and fees) → ``Ticket`` (11-digit ``barcode``, seat or area, attendee, state, delivery and
print state). ``SeatBooking`` holds "this seat is taken at this performance": its primary key
(performance, seat) makes a seat sold twice impossible on every database; the row is deleted when
the ticket is cancelled. ``Operation`` is the immutable journal ("Ordre 1271"): every change of an
order is one operation (number, kind, operator, point of sale, time, amount, details).
``OrderDelivery`` ("Livraison billets": contact, address, e-mail, immediate print) and
``OrderDocument`` ("Envoi documents") of an order; ``TillSession`` (a cash desk session per point of
sale and operator) and its ``TillCount``s per payment mode (module ``lifecycle``).
``PaymentMode`` (configured by the organisation, each of a registered type: cash, card…) →
``Payment`` (immutable; positive = payment, negative = refund). ``CreditMovement`` (immutable):
a contact's credit balance ("solde avoir") is the sum of its movements and never negative.

Counters and what they must equal (checked by ``services.orders.check_order`` and the invariant
tests):
- ``Performance.taken`` = non-cancelled tickets of the performance;
  ``PerformanceQuota.taken`` = non-cancelled tickets of the performance in that category; both
  ``<= capacity`` (check constraints) and only changed under ``lock_rows`` of the quota rows;
- ``Order.total`` = Σ over its tickets of (price + fees) when not cancelled, ``retained`` when
  cancelled (fees kept by a refund); ``Order.paid`` = Σ ``Payment.amount`` (refunds negative);
  balance = ``total − paid`` (= total − payments + refunds), never stored;
- ``CreditMovement.balance_after`` = the running sum of the contact's movements, ``>= 0``.

Immutability: operations, payments and credit movements refuse ORM updates and deletes (a
``before_flush`` guard in ``models.orders``); corrections are new records.

Modules: ``catalogue`` (seasons, venues, areas, seats, categories, events, performances, quotas,
audiences, tariffs, prices, fees), ``settings`` (channels, points of sale, operators' points of sale,
payment modes), ``orders`` (orders, lines, tickets, seat bookings, operations, payments, credit
movements, the states and the immutability guard), ``payments`` (pending payments, the contacts
whose indicators a job recomputes). Every name is re-exported here: import from
``plugins.sales.models``; importing it imports every table.
"""
from __future__ import annotations

from plugins.sales.models.settings import OperatorPointOfSale, PaymentMode, PointOfSale, SalesChannel
from plugins.sales.models.catalogue import (
    Area,
    Audience,
    Event,
    Fee,
    Performance,
    PerformanceQuota,
    Price,
    Seat,
    SeatCategory,
    Season,
    Tariff,
    Venue,
)
from plugins.sales.models.orders import (
    ACTIVE_TICKET_STATES,
    DELIVERY_MODE_LABELS,
    DELIVERY_MODES,
    IMMUTABLE,
    ORDER_STATE_LABELS,
    ORDER_STATES,
    PRINT_STATE_LABELS,
    PRINT_STATES,
    TICKET_STATE_LABELS,
    TICKET_STATES,
    TICKET_TYPE_LABELS,
    TICKET_TYPES,
    CreditMovement,
    ImmutableRecordError,
    Operation,
    OperationEntry,
    Order,
    OrderLine,
    Payment,
    SeatBooking,
    Ticket,
)
from plugins.sales.models.baskets import BASKET_STATE_LABELS, BASKET_STATES, Basket
from plugins.sales.models.lifecycle import (
    DOCUMENT_SEND_LABELS,
    DOCUMENT_SENDS,
    DOCUMENT_STATE_LABELS,
    DOCUMENT_STATES,
    DOCUMENT_TYPE_LABELS,
    DOCUMENT_TYPES,
    TILL_STATE_LABELS,
    TILL_STATES,
    OrderDelivery,
    OrderDocument,
    TillCount,
    TillSession,
)
from plugins.sales.models.orders import _refuse_changes_to_money_records, _states_check  # noqa: F401
from plugins.sales.models.payments import (
    PENDING_OPEN_STATES,
    PENDING_STATE_LABELS,
    PENDING_STATES,
    ContactIndicatorRefresh,
    PendingPayment,
)

__all__ = [
    # catalogue
    "Season", "Venue", "Area", "SeatCategory", "Seat", "Event", "Performance", "PerformanceQuota", "Audience",
    "Tariff", "Price", "Fee",
    # settings
    "SalesChannel", "PointOfSale", "OperatorPointOfSale", "PaymentMode",
    # orders
    "ORDER_STATES", "ORDER_STATE_LABELS", "TICKET_STATES", "TICKET_STATE_LABELS", "ACTIVE_TICKET_STATES",
    "DELIVERY_MODES", "DELIVERY_MODE_LABELS", "PRINT_STATES", "PRINT_STATE_LABELS", "TICKET_TYPES",
    "TICKET_TYPE_LABELS", "Order", "OrderLine", "Ticket", "SeatBooking", "Operation", "OperationEntry", "Payment", "CreditMovement",
    "IMMUTABLE", "ImmutableRecordError",
    # payments that complete later, deferred work
    "PendingPayment", "PENDING_STATES", "PENDING_OPEN_STATES", "PENDING_STATE_LABELS", "ContactIndicatorRefresh",
    # baskets
    "BASKET_STATES", "BASKET_STATE_LABELS", "Basket",
    # lifecycle: delivery, documents, tills
    "OrderDelivery", "OrderDocument", "TillSession", "TillCount", "DOCUMENT_TYPES", "DOCUMENT_TYPE_LABELS",
    "DOCUMENT_SENDS", "DOCUMENT_SEND_LABELS", "DOCUMENT_STATES", "DOCUMENT_STATE_LABELS", "TILL_STATES",
    "TILL_STATE_LABELS",
]
