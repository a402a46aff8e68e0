"""The plugin's tables; each name starts with the plugin's name (``patrons_``)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import AuditMixin, Base, Money
from plugins.contacts.models import Contact  # a dependency (MANIFEST.depends): its tables exist first


class Patronage(AuditMixin, Base):
    """A sponsorship pledge: a donor promised an amount on a date.

    ``contact`` is the donor's contact of type "patron" when the pledge was recorded against one
    (optional: a pledge may name a donor who is not in the contact repository). Merging two contacts
    moves the pledges to the kept one (``contacts_references`` in ``__init__.py``); deleting the contact
    keeps the pledge and its ``donor_name``.
    """

    __tablename__ = "patrons_patronage"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    pledged_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_contact.id", ondelete="SET NULL"), nullable=True, index=True)

    contact: Mapped[Contact | None] = relationship(Contact)

    @property
    def contact_number(self) -> int | None:
        return self.contact.number if self.contact is not None else None

    def __str__(self) -> str:
        return f"{self.donor_name} ({self.amount})"
