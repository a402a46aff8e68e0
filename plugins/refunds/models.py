"""The refunds plugin's tables (all prefixed ``refunds_``).

``RefundCause`` — the configurable list of causes ("Échange", "Séance annulée", "Convenance
personnelle"…); a cause may carry a cancellation fee the organisation keeps: ``fee_kind`` ``none``,
``fixed`` (per order), ``per_ticket`` or ``percent`` (of the tickets' price), ``fee_value``.

``CancellationBasket`` — the "Échange - annulation" basket: exactly one sales operation ("Ordre 1271",
taken when the basket opens), a contact, a state (``open``, ``held``, ``settled``, ``abandoned``), who
asked (``public`` / ``organiser``), the cause, whether the simple fees are refunded, a fee override.
``BasketTicket`` — a ticket to cancel (unique per basket; the ticket itself is cancelled once only:
the order row is locked and the ticket's state checked when the basket is settled).
``ExchangeLine`` — what is sold in exchange (a product kind of the registry: performances now).
``RefundPayout`` — one refund paid out by one mode on one order: recorded (``pending``) in the
settling transaction together with the refund payment, then paid out (``done``) in a second one; a
payout interrupted between the two is completed from the order and never paid twice.
``PerformanceCancellation`` — a cancelled performance's batch refund (simulation, run, report).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import AuditMixin, Base, Money, UTCDateTime, utcnow
from coulisses.i18n import _l

FEE_KINDS = ("none", "fixed", "per_ticket", "percent")
FEE_KIND_LABELS = {"none": _l("Aucuns frais"), "fixed": _l("Montant fixe par dossier"),
                   "per_ticket": _l("Montant par billet"), "percent": _l("Pourcentage du prix")}
BASKET_STATES = ("open", "held", "settled", "abandoned")
BASKET_STATE_LABELS = {"open": _l("En cours"), "held": _l("En attente"), "settled": _l("Réglé"),
                       "abandoned": _l("Abandonné")}
REQUESTERS = ("public", "organiser")
REQUESTER_LABELS = {"public": _l("le public"), "organiser": _l("l'organisateur")}
PAYOUT_STATES = ("pending", "done")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


# The causes the plugin installs (services.causes.install_defaults), by code: their labels are shown in
# the reader's language as long as the organisation has not renamed them; its own causes stay as typed.
BUILTIN_CAUSE_LABELS = {
    "EXCHANGE": _l("Échange"),
    "CUSTOMER": _l("Convenance personnelle"),
    "CANCELLED": _l("Séance annulée"),
    "POSTPONED": _l("Séance reportée"),
    "GESTURE": _l("Geste commercial"),
}
_builtin_wordings: dict[str, frozenset[str]] = {}


def _wordings(code: str) -> frozenset[str]:
    """Every wording the plugin ever installs for a built-in cause (French, English, Spanish)."""
    found = _builtin_wordings.get(code)
    if found is None:
        from coulisses.i18n import LANGUAGES, message_id, use_locale

        label = BUILTIN_CAUSE_LABELS[code]
        texts = {message_id(label)}
        for language in LANGUAGES:
            with use_locale(language):
                texts.add(str(label))
        found = _builtin_wordings[code] = frozenset(texts)
    return found


class RefundCause(AuditMixin, Base):
    """A cause of cancellation, chosen in the basket ("Cause : Échange")."""

    __tablename__ = "refunds_cause"
    __table_args__ = (CheckConstraint(_in("fee_kind", FEE_KINDS), name="fee_kind"),
                      CheckConstraint("fee_value >= 0", name="fee_value_positive"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    fee_kind: Mapped[str] = mapped_column(String(12), default="none")
    fee_value: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))  # percent: 10.00 = 10 %
    exchange: Mapped[bool] = mapped_column(Boolean, default=False)  # the cause of an exchange
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def display_label(self) -> str:
        """The label as the reader reads it: a built-in cause still worded as installed, in the current
        language; any other (an organisation's own, or a renamed one) as typed."""
        if self.code in BUILTIN_CAUSE_LABELS and self.label in _wordings(self.code):
            return str(BUILTIN_CAUSE_LABELS[self.code])
        return self.label

    def __str__(self) -> str:
        return self.display_label


class CancellationBasket(AuditMixin, Base):
    """The cancellation basket: one operation, its tickets to cancel and what is sold in exchange."""

    __tablename__ = "refunds_basket"
    __table_args__ = (CheckConstraint(_in("state", BASKET_STATES), name="state"),
                      CheckConstraint(_in("requested_by", REQUESTERS), name="requested_by"),
                      Index("ix_refunds_basket_state", "state", "point_of_sale_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"), unique=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                   nullable=True)
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)
    state: Mapped[str] = mapped_column(String(12), default="open")
    requested_by: Mapped[str] = mapped_column(String(12), default="public")
    cause_id: Mapped[int | None] = mapped_column(ForeignKey("refunds_cause.id", ondelete="RESTRICT"), nullable=True)
    refund_fees: Mapped[bool] = mapped_column(Boolean, default=True)  # "Rembourser les frais simples"
    fee_override: Mapped[Decimal | None] = mapped_column(Money, nullable=True)  # the cause's fee, by hand
    delivery_mode: Mapped[str] = mapped_column(String(16), default="handed")
    # "Livraison billets" of the exchange's new tickets beyond the mode (empty: the contact's), as the
    # sell screen's: applied to the exchange order when the basket is settled
    delivery_email: Mapped[str] = mapped_column(String(200), default="")
    delivery_address: Mapped[str] = mapped_column(Text, default="")
    immediate_print: Mapped[bool] = mapped_column(Boolean, default=True)
    # "Plage": the scans (workstation scanner, or the "Code-barres" field) come in pairs, the first and
    # the last ticket of a range; ``scan_range_first``: the first one scanned, waiting for the last
    scan_range: Mapped[bool] = mapped_column(Boolean, default=False)
    scan_range_first: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    exchange_order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"),
                                                          nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # what settling did

    operation = relationship("Operation")
    contact = relationship("Contact")
    cause: Mapped[RefundCause | None] = relationship()
    tickets: Mapped[list["BasketTicket"]] = relationship(back_populates="basket", order_by="BasketTicket.id",
                                                         cascade="all, delete-orphan")
    exchange_lines: Mapped[list["ExchangeLine"]] = relationship(back_populates="basket", order_by="ExchangeLine.id",
                                                                cascade="all, delete-orphan")

    @property
    def number(self) -> int:
        return self.operation.number


class BasketTicket(Base):
    """A ticket taken into the basket to be cancelled."""

    __tablename__ = "refunds_basket_ticket"
    __table_args__ = (UniqueConstraint("basket_id", "ticket_id"),
                      Index("ix_refunds_basket_ticket_ticket", "ticket_id"),
                      Index("ix_refunds_basket_ticket_order", "order_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    basket_id: Mapped[int] = mapped_column(ForeignKey("refunds_basket.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("sales_ticket.id", ondelete="RESTRICT"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"))
    self_exchange: Mapped[bool] = mapped_column(Boolean, default=False)  # taken back by AUTO-ÉCHANGE

    basket: Mapped[CancellationBasket] = relationship(back_populates="tickets")
    ticket = relationship("Ticket")
    order = relationship("Order")


class ExchangeLine(Base):
    """What is sold in exchange: ``quantity`` of a product of ``kind`` (``performance``: a
    performance, category and tariff, with seats for a seated venue)."""

    __tablename__ = "refunds_exchange_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    basket_id: Mapped[int] = mapped_column(ForeignKey("refunds_basket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40), default="performance")
    performance_id: Mapped[int | None] = mapped_column(ForeignKey("sales_performance.id", ondelete="RESTRICT"),
                                                       nullable=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="RESTRICT"),
                                                    nullable=True)
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("sales_tariff.id", ondelete="RESTRICT"), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    seats: Mapped[list[int]] = mapped_column(JSON, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # another product kind's own fields

    basket: Mapped[CancellationBasket] = relationship(back_populates="exchange_lines")
    performance = relationship("Performance")
    category = relationship("SeatCategory")
    tariff = relationship("Tariff")


class RefundPayout(Base):
    """One refund by one mode on one order: its payment (negative) is recorded when the basket is
    settled (``pending``); paying it out (the cash drawer, the card terminal, the bank transfer, the
    waiting account) happens next and marks it ``done`` — once, under a row lock."""

    __tablename__ = "refunds_payout"
    __table_args__ = (CheckConstraint(_in("state", PAYOUT_STATES), name="state"),
                      CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_refunds_payout_order", "order_id", "state"),
                      Index("ix_refunds_payout_basket", "basket_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    basket_id: Mapped[int | None] = mapped_column(ForeignKey("refunds_basket.id", ondelete="RESTRICT"), nullable=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("sales_payment.id", ondelete="RESTRICT"), unique=True)
    payment_mode_id: Mapped[int] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paid_out_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                       nullable=True)

    payment = relationship("Payment")
    payment_mode = relationship("PaymentMode")
    order = relationship("Order")


class PerformanceCancellation(AuditMixin, Base):
    """A cancelled performance refunded in one batch: the chosen mode and cause, progress, the report."""

    __tablename__ = "refunds_performance_cancellation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="RESTRICT"), unique=True)
    cause_id: Mapped[int | None] = mapped_column(ForeignKey("refunds_cause.id", ondelete="RESTRICT"), nullable=True)
    fallback_mode_id: Mapped[int | None] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"),
                                                         nullable=True)  # when the original mode cannot refund
    state: Mapped[str] = mapped_column(String(12), default="new")  # new, running, done
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    performance = relationship("Performance")
