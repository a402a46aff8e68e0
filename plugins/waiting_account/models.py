"""The waiting account's tables.

- ``Account``: one per contact — may pay on account (``authorised``) and the maximum outstanding
  (``ceiling``, "encours maximum"). What the contact owes is the sum of its movements.
- ``Movement``: immutable. ``amount > 0`` a debit (a sale on account, a failed direct debit put
  back), ``amount < 0`` a credit (a settlement, a refund on account, a direct debit collected).
  ``balance_after`` is the running balance, never negative, never above the ceiling at the time
  (the account row is locked while it is written).
- ``Instalment`` ("échéance"): the schedule of a debit; states ``open``, ``sent`` (in a direct debit
  file), ``paid``, ``failed`` (with the bank's return reason). ``Allocation`` (immutable) says which
  credit paid how much of which instalment: an instalment's paid amount is the sum of its allocations.
- ``InvoiceRange`` / ``Invoice`` / ``InvoiceLine``: gapless numbers per range (``coulisses.db.next_number``);
  an issued invoice never changes (a cancellation invoice corrects it).
- ``Mandate`` / ``DebitBatch``: SEPA direct debit mandates and the pain.008 files sent to the bank.
- ``Receipt``: the record of a settlement (its document is drawn by the reports plugin).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses.db import AuditMixin, Base, Money, UTCDateTime, utcnow

from plugins.contacts.models import Contact


class Account(AuditMixin, Base):
    """A contact's waiting account: authorisation and maximum outstanding."""

    __tablename__ = "waiting_account_account"
    __table_args__ = (CheckConstraint("ceiling >= 0", name="ceiling_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"), unique=True)
    authorised: Mapped[bool] = mapped_column(Boolean, default=False)
    ceiling: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    note: Mapped[str] = mapped_column(String(200), default="")

    contact: Mapped[Contact] = relationship()


MOVEMENT_KINDS = ("sale", "refund", "settlement", "debit_collected", "debit_failed", "credit_note")


class Movement(Base):
    """One movement of a waiting account, immutable (see the module docstring)."""

    __tablename__ = "waiting_account_movement"
    __table_args__ = (
        Index("ix_waiting_account_movement_account", "account_id", "id"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_account.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Money)
    balance_after: Mapped[Decimal] = mapped_column(Money)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True,
                                                 index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("sales_payment.id", ondelete="RESTRICT"),
                                                   nullable=True)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"),
                                                     nullable=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("waiting_account_invoice.id", ondelete="RESTRICT"),
                                                   nullable=True)
    payment_mode_id: Mapped[int | None] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"),
                                                        nullable=True)
    reference: Mapped[str] = mapped_column(String(120), default="")  # cheque number and bank, transfer ref…
    override_reason: Mapped[str] = mapped_column(String(200), default="")  # a supervisor's override
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)

    account: Mapped[Account] = relationship()


INSTALMENT_STATES = ("open", "sent", "paid", "failed")


class Instalment(Base):
    """One due date of a debit's schedule. ``state`` changes (open → sent → paid | failed → open…);
    the amounts never do."""

    __tablename__ = "waiting_account_instalment"
    __table_args__ = (
        Index("ix_waiting_account_instalment_account", "account_id", "state", "due_date"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("state IN ('open', 'sent', 'paid', 'failed')", name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_account.id", ondelete="RESTRICT"))
    movement_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_movement.id", ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(10), default="open")
    return_reason: Mapped[str] = mapped_column(String(200), default="")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("waiting_account_debit_batch.id", ondelete="RESTRICT"),
                                                 nullable=True)
    presentations: Mapped[int] = mapped_column(Integer, default=0)

    movement: Mapped[Movement] = relationship()


class Allocation(Base):
    """``amount`` of a credit movement paid instalment ``instalment_id`` (immutable)."""

    __tablename__ = "waiting_account_allocation"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_movement.id", ondelete="RESTRICT"),
                                             index=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_instalment.id", ondelete="RESTRICT"),
                                               index=True)
    amount: Mapped[Decimal] = mapped_column(Money)


class InvoiceRange(AuditMixin, Base):
    """A range of invoice numbers: ``prefix`` + a number from ``first_number`` to ``last_number``,
    usable from ``valid_from`` to ``valid_until`` (inclusive)."""

    __tablename__ = "waiting_account_invoice_range"
    __table_args__ = (CheckConstraint("last_number >= first_number", name="bounds"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(20))
    first_number: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return f"{self.prefix}{self.first_number}–{self.prefix}{self.last_number}"


class Invoice(Base):
    """An issued invoice (``kind`` ``invoice``), cancellation invoice (``cancellation``, negative
    total, ``cancels_id`` the invoice it cancels) or credit note (``credit_note``, negative,
    ``cancels_id`` the invoice it refers to). Immutable once issued."""

    __tablename__ = "waiting_account_invoice"
    __table_args__ = (CheckConstraint("kind IN ('invoice', 'cancellation', 'credit_note')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    range_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_invoice_range.id", ondelete="RESTRICT"))
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="invoice")
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_account.id", ondelete="RESTRICT"))
    cancels_id: Mapped[int | None] = mapped_column(ForeignKey("waiting_account_invoice.id", ondelete="RESTRICT"),
                                                   nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Money)  # all taxes included
    net_total: Mapped[Decimal] = mapped_column(Money)
    vat_total: Mapped[Decimal] = mapped_column(Money)
    prepaid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))  # paid otherwise, deducted
    buyer: Mapped[dict] = mapped_column(JSON, default=dict)  # the billing contact as printed
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)

    lines: Mapped[list["InvoiceLine"]] = relationship(order_by="InvoiceLine.id")
    contact: Mapped[Contact] = relationship()


class InvoiceLine(Base):
    __tablename__ = "waiting_account_invoice_line"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_invoice.id", ondelete="RESTRICT"),
                                            index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id", ondelete="RESTRICT"), nullable=True,
                                                 index=True)
    label: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money)  # all taxes included
    amount: Mapped[Decimal] = mapped_column(Money)  # all taxes included
    vat_rate: Mapped[str] = mapped_column(String(8), default="0")  # percent, e.g. "5.5"


class Mandate(AuditMixin, Base):
    """A SEPA direct debit mandate signed by a contact."""

    __tablename__ = "waiting_account_mandate"
    __table_args__ = (CheckConstraint("kind IN ('OOFF', 'RCUR')", name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"), index=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    signed_on: Mapped[date] = mapped_column(Date)
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    holder: Mapped[str] = mapped_column(String(70))
    kind: Mapped[str] = mapped_column(String(4), default="RCUR")  # one-off or recurrent
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # first collection sent

    contact: Mapped[Contact] = relationship()


class DebitBatch(Base):
    """A SEPA direct debit file (pain.008) for one collection date."""

    __tablename__ = "waiting_account_debit_batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_date: Mapped[date] = mapped_column(Date)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(Money)
    file_id: Mapped[int] = mapped_column(ForeignKey("core_file.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)


class Receipt(Base):
    """A settlement's receipt: what was received, how, and where it went."""

    __tablename__ = "waiting_account_receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("waiting_account_account.id", ondelete="RESTRICT"))
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("waiting_account_movement.id", ondelete="RESTRICT"),
                                                    nullable=True)
    payment_mode_id: Mapped[int] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)  # what was received
    to_account: Mapped[Decimal] = mapped_column(Money)
    to_credit: Mapped[Decimal] = mapped_column(Money)  # the overpayment put on the credit balance
    reference: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)


# --------------------------------------------------------------------------- immutability

IMMUTABLE = (Movement, Allocation, Invoice, InvoiceLine, Receipt)


class ImmutableRecordError(RuntimeError):
    """A movement, allocation, invoice or receipt was changed or deleted: record a correction."""


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, IMMUTABLE):
            raise ImmutableRecordError(f"{type(obj).__name__} {obj.id} is immutable: it cannot be deleted")
    for obj in session.dirty:
        if isinstance(obj, IMMUTABLE) and session.is_modified(obj, include_collections=False):
            raise ImmutableRecordError(f"{type(obj).__name__} {obj.id} is immutable: record a correction instead")
