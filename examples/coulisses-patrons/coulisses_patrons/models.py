"""The plugin's tables; each name starts with the plugin's name (``patrons_``)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coulisses.db import AuditMixin, Base, Money


class Patronage(AuditMixin, Base):
    """A sponsorship pledge: a donor promised an amount on a date."""

    __tablename__ = "patrons_patronage"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    pledged_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    def __str__(self) -> str:
        return f"{self.donor_name} ({self.amount})"
