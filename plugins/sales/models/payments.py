"""The tables of payments that complete later and of deferred work: ``PendingPayment`` (a payment
by a mode that completes later — a payment terminal, an online payment — until its outcome is
known) and ``ContactIndicatorRefresh`` (the contacts whose indicators a job will recompute).

A pending payment is *not* a money record: the order's ``paid`` does not count it. It changes state
(``pending`` → ``completed`` | ``failed`` | ``unknown`` → ``completed`` | ``failed``) and, once
completed, names the immutable ``Payment`` written then.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import Base, Money, UTCDateTime, utcnow
from coulisses.i18n import _l

from plugins.sales.models.orders import Operation, Order, Payment, _states_check
from plugins.sales.models.settings import PaymentMode

PENDING_STATES = ("pending", "unknown", "completed", "failed")
PENDING_OPEN_STATES = ("pending", "unknown")  # they hold part of the balance: no second payment for it
PENDING_STATE_LABELS = {"pending": _l("En attente"), "unknown": _l("Issue inconnue"), "completed": _l("Abouti"),
                        "failed": _l("Échoué")}


class PendingPayment(Base):
    """A payment (``amount > 0``) or refund (``amount < 0``) whose outcome comes later."""

    __tablename__ = "sales_pending_payment"
    __table_args__ = (
        Index("ix_sales_pending_payment_order", "order_id"),
        Index("ix_sales_pending_payment_state", "state", "created_at"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint(_states_check("state", PENDING_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"))
    payment_mode_id: Mapped[int] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                   nullable=True)
    reference: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    operation_id: Mapped[int] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("sales_payment.id", ondelete="RESTRICT"),
                                                   nullable=True)  # once completed
    message: Mapped[str] = mapped_column(Text, default="")  # what the device or the operator said
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)
    point_of_sale_id: Mapped[int | None] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"),
                                                         nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                       nullable=True)
    resolved_by_operator: Mapped[bool] = mapped_column(Boolean, default=False)  # a person decided

    order: Mapped[Order] = relationship()
    payment_mode: Mapped[PaymentMode] = relationship()
    operation: Mapped[Operation] = relationship()
    payment: Mapped[Payment | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.state in PENDING_OPEN_STATES

    @property
    def state_label(self) -> str:
        return str(PENDING_STATE_LABELS.get(self.state, self.state))


class ContactIndicatorRefresh(Base):
    """A contact whose indicators must be recomputed after a sale. ``queued``: a job is waiting for
    it (further sales coalesce into that job). The row is locked by each sale touching it and by the
    job, so a sale committed while the job runs is never missed (see ``services.deferred``)."""

    __tablename__ = "sales_contact_refresh"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"), primary_key=True)
    queued: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
