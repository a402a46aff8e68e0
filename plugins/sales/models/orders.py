"""The orders' tables: ``Order``, ``OrderLine``, ``Ticket``, ``SeatBooking``, ``Operation``,
``Payment``, ``CreditMovement``; their states; the immutability of the money records (a
``before_flush`` guard refusing ORM updates and deletes of operations, payments and credit movements).

See the package docstring (``plugins.sales.models``) for the whole model and its invariants.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses.db import AuditMixin, Base, Money, UTCDateTime, utcnow
from coulisses.i18n import _, _l

from plugins.sales.models.catalogue import Area, Performance, Seat, SeatCategory, Tariff
from plugins.sales.models.settings import PaymentMode, PointOfSale, SalesChannel

ORDER_STATES = ("reserved", "not_settled", "settled", "cancelled")
ORDER_STATE_LABELS = {"reserved": _l("Réservé"), "not_settled": _l("Non soldé"), "settled": _l("Soldé"),
                      "cancelled": _l("Annulé")}
TICKET_STATES = ("reserved", "paid", "printed", "cancelled")
TICKET_STATE_LABELS = {"reserved": _l("réservé"), "paid": _l("payé"), "printed": _l("imprimé"), "cancelled": _l("annulé")}
ACTIVE_TICKET_STATES = ("reserved", "paid", "printed")  # they hold capacity (and their seat)
DELIVERY_MODES = ("handed", "eticket", "post", "print_at_home")
DELIVERY_MODE_LABELS = {"handed": _l("Remis au contact"), "eticket": _l("E-billet"), "post": _l("Envoi postal"),
                        "print_at_home": _l("Impression à domicile")}
PRINT_STATES = ("not_printed", "printed")
PRINT_STATE_LABELS = {"not_printed": _l("non imprimé"), "printed": _l("imprimé")}
TICKET_TYPES = ("ticket",)
TICKET_TYPE_LABELS = {"ticket": _l("Billet")}


def _states_check(column: str, states: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{s}'" for s in states) + ")"


# --------------------------------------------------------------------------- orders


class Order(AuditMixin, Base):
    """An order ("dossier 959"): a buyer, optionally a payer and the structure a relay buys for,
    lines, tickets, payments; ``total`` and ``paid`` are kept by the services (balance = total − paid).

    Audit: ``created_at/by`` + ``point_of_sale_id`` ("Création 28.09.2015 17:03 par STX_BDD sur
    Guichet"), ``updated_at/by`` + ``updated_point_of_sale_id`` ("Dernière modif …").
    """

    __tablename__ = "sales_order"
    __table_args__ = (
        Index("ix_sales_order_buyer", "buyer_id", "created_at"),
        Index("ix_sales_order_payer", "payer_id"),
        Index("ix_sales_order_structure", "structure_id"),
        Index("ix_sales_order_created", "created_at"),
        Index("ix_sales_order_option_expires", "option_expires_at"),
        CheckConstraint(_states_check("state", ORDER_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"))
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                     nullable=True)  # the structure a relay buys for
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                 nullable=True)  # None: the buyer pays
    state: Mapped[str] = mapped_column(String(16), default="reserved")
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)
    updated_point_of_sale_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"), nullable=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("sales_channel.id", ondelete="RESTRICT"),
                                                   nullable=True)
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    delivery_mode: Mapped[str] = mapped_column(String(16), default="handed")
    note: Mapped[str] = mapped_column(Text, default="")
    # a reservation's expiry ("pose d'option"): its reserved places are released after it (services.reservations)
    option_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    buyer = relationship("Contact", foreign_keys=[buyer_id])
    structure = relationship("Contact", foreign_keys=[structure_id])
    payer = relationship("Contact", foreign_keys=[payer_id])
    point_of_sale: Mapped[PointOfSale | None] = relationship(foreign_keys=[point_of_sale_id])
    updated_point_of_sale: Mapped[PointOfSale | None] = relationship(foreign_keys=[updated_point_of_sale_id])
    channel: Mapped[SalesChannel | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id")
    tickets: Mapped[list["Ticket"]] = relationship(back_populates="order", order_by="Ticket.id",
                                                   viewonly=True)
    payments: Mapped[list["Payment"]] = relationship(back_populates="order", order_by="Payment.id",
                                                     viewonly=True)
    operations: Mapped[list["Operation"]] = relationship(back_populates="order", order_by="Operation.number",
                                                         viewonly=True)

    @property
    def balance(self) -> Decimal:
        """What the buyer still owes (negative: what the organisation owes back)."""
        return self.total - self.paid

    @property
    def paying_contact_id(self) -> int:
        return self.payer_id or self.buyer_id

    @property
    def state_label(self) -> str:
        return str(ORDER_STATE_LABELS.get(self.state, self.state))

    def __str__(self) -> str:
        return _("Dossier %(number)s", number=self.number)


class OrderLine(Base):
    """A line of an order: ``quantity`` tickets of ``category`` at ``tariff`` for ``performance``,
    at ``unit_price`` plus ``unit_fees`` each (as sold; later catalogue changes do not move it)."""

    __tablename__ = "sales_order_line"
    __table_args__ = (
        Index("ix_sales_order_line_order", "order_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="RESTRICT"))
    tariff_id: Mapped[int] = mapped_column(ForeignKey("sales_tariff.id", ondelete="RESTRICT"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    unit_fees: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"),
                                                     nullable=True)

    order: Mapped[Order] = relationship(back_populates="lines")
    performance: Mapped[Performance] = relationship()
    category: Mapped[SeatCategory] = relationship()
    tariff: Mapped[Tariff] = relationship()


class Ticket(Base):
    """A ticket ("Billet"): barcode, seat or area, attendee, state, delivery and print state.

    ``price`` and ``fees`` are what it costs the buyer; ``fees_refundable`` the part of ``fees`` a
    refund may give back; ``retained`` what the organisation keeps once it is cancelled (counted in
    the order's total: fees not refunded). ``performance_id`` / ``category_id`` / ``tariff_id``
    repeat the line's for counting and reports.
    """

    __tablename__ = "sales_ticket"
    __table_args__ = (
        Index("ix_sales_ticket_barcode", "barcode", unique=True),  # lookups and barcode ranges
        Index("ix_sales_ticket_order", "order_id"),
        Index("ix_sales_ticket_attendee", "attendee_id"),
        Index("ix_sales_ticket_performance", "performance_id", "category_id", "state"),
        CheckConstraint(_states_check("state", TICKET_STATES), name="state"),
        CheckConstraint(_states_check("print_state", PRINT_STATES), name="print_state"),
        CheckConstraint(_states_check("delivery_mode", DELIVERY_MODES), name="delivery_mode"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    barcode: Mapped[str] = mapped_column(String(11))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_line.id", ondelete="CASCADE"))
    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="RESTRICT"))
    category_id: Mapped[int] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="RESTRICT"))
    tariff_id: Mapped[int] = mapped_column(ForeignKey("sales_tariff.id", ondelete="RESTRICT"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("sales_seat.id", ondelete="RESTRICT"), nullable=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("sales_area.id", ondelete="RESTRICT"), nullable=True)
    attendee_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                    nullable=True)
    type: Mapped[str] = mapped_column(String(16), default="ticket")
    state: Mapped[str] = mapped_column(String(12), default="reserved")
    delivery_mode: Mapped[str] = mapped_column(String(16), default="handed")
    print_state: Mapped[str] = mapped_column(String(12), default="not_printed")
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal] = mapped_column(Money)
    fees: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    fees_refundable: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    retained: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"),
                                                     nullable=True)  # the operation that created it
    sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancel_operation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"),
                                                            nullable=True)

    order: Mapped[Order] = relationship(back_populates="tickets")
    line: Mapped[OrderLine] = relationship()
    performance: Mapped[Performance] = relationship()
    category: Mapped[SeatCategory] = relationship()
    tariff: Mapped[Tariff] = relationship()
    seat: Mapped[Seat | None] = relationship()
    area: Mapped[Area | None] = relationship()
    attendee = relationship("Contact", foreign_keys=[attendee_id])

    @property
    def amount(self) -> Decimal:
        """What the ticket counts for in the order's total."""
        return self.retained if self.state == "cancelled" else self.price + self.fees

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_TICKET_STATES


class SeatBooking(Base):
    """"This seat is taken at this performance": the primary key makes a double sale impossible on
    every database; deleted when the ticket is cancelled (the seat is free again)."""

    __tablename__ = "sales_seat_booking"

    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="CASCADE"),
                                                primary_key=True)
    seat_id: Mapped[int] = mapped_column(ForeignKey("sales_seat.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sales_ticket.id", ondelete="CASCADE"), unique=True)


class Operation(Base):
    """One change of an order, immutable ("Ordre 1271"): gapless ``number``, ``kind`` (reserve,
    sell, pay, cancel_reservation, print, refund, credit…; other plugins add kinds through
    ``sales_operation_kinds``), who, where, when, the amount it moved and its details."""

    __tablename__ = "sales_operation"
    __table_args__ = (
        Index("ix_sales_operation_order", "order_id", "number"),
        Index("ix_sales_operation_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)
    operator_login: Mapped[str] = mapped_column(String(80), default="")  # as it was then
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("sales_channel.id", ondelete="RESTRICT"),
                                                   nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    order: Mapped[Order | None] = relationship(back_populates="operations")
    point_of_sale: Mapped[PointOfSale | None] = relationship()

    def __str__(self) -> str:
        return _("Ordre %(number)s", number=self.number)


class Payment(Base):
    """A payment (``amount > 0``) or a refund (``amount < 0``) on an order, immutable.

    ``contact_id``: the contact whose money it is (the payer, or the buyer when the order has no
    payer; for a credit-balance payment, whose credit was spent). Cash: ``tendered`` is what was
    handed over and ``change`` what was given back (``amount = tendered − change``). ``details``: the
    fields the operator filled (the type's ``fields_schema``: cheque number and bank…).
    ``correction_of_id``: set on the two correction entries of a change of payer (a reversal with
    the old contact, a replacement with the new one); a payment is *current* while no reversal
    names it.
    """

    __tablename__ = "sales_payment"
    __table_args__ = (
        Index("ix_sales_payment_order", "order_id"),
        Index("ix_sales_payment_contact", "contact_id", "at"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"))
    payment_mode_id: Mapped[int] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    tendered: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    change: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                   nullable=True)
    reference: Mapped[str] = mapped_column(String(120), default="")  # cheque number, card receipt…
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the fields the operator filled
    # a correction entry (changing the payer): the reversal (negative) and the replacement (positive)
    # both name the payment they correct; the original row never changes
    correction_of_id: Mapped[int | None] = mapped_column(ForeignKey("sales_payment.id", ondelete="RESTRICT"),
                                                         nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)

    order: Mapped[Order] = relationship(back_populates="payments")
    payment_mode: Mapped[PaymentMode] = relationship()
    operation: Mapped[Operation] = relationship()

    @property
    def is_refund(self) -> bool:
        return self.amount < 0


class CreditMovement(Base):
    """A movement of a contact's credit balance ("solde avoir"), immutable: credited by refunds or
    by hand (``amount > 0``), spent as a payment mode (``amount < 0``). ``balance_after`` is the
    running balance, never negative (check constraint; the services lock the contact first)."""

    __tablename__ = "sales_credit_movement"
    __table_args__ = (
        Index("ix_sales_credit_movement_contact", "contact_id", "id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    balance_after: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(String(200), default="")
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"),
                                                     nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)

    operation: Mapped[Operation | None] = relationship()
    order: Mapped[Order | None] = relationship()


class OperationEntry(Base):
    """One thing an operation did (immutable): ``kind`` (a registered operation kind), the order it
    touched (None: none, e.g. a credit adjustment or holding a basket), the amount it moved, its
    details, who, where and when."""

    __tablename__ = "sales_operation_entry"
    __table_args__ = (
        Index("ix_sales_operation_entry_order", "order_id", "id"),
        Index("ix_sales_operation_entry_operation", "operation_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)
    operator_login: Mapped[str] = mapped_column(String(80), default="")
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    operation: Mapped[Operation] = relationship()


# --------------------------------------------------------------------------- immutability

IMMUTABLE = (Operation, OperationEntry, Payment, CreditMovement)


class ImmutableRecordError(RuntimeError):
    """An operation, payment or credit movement was changed or deleted: money records are immutable."""


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_money_records(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, IMMUTABLE):
            raise ImmutableRecordError(f"{type(obj).__name__} {obj.id} is immutable: it cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, IMMUTABLE) and session.is_modified(obj, include_collections=False):
            raise ImmutableRecordError(f"{type(obj).__name__} {obj.id} is immutable: record a correction instead")
