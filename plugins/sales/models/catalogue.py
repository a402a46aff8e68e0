"""The catalogue's tables: ``Season``, ``Venue``, ``Area``, ``SeatCategory``, ``Seat``, ``Event``,
``Performance``, ``PerformanceQuota``, ``Audience``, ``Tariff``, ``Price``, ``Fee``.

See the package docstring (``plugins.sales.models``) for the whole model and its invariants.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import AuditMixin, Base, Money, UTCDateTime

from plugins.sales.models.settings import SalesChannel


class Season(AuditMixin, Base):
    """A season ("2015/2016"): the period the indicators count in and performances belong to."""

    __tablename__ = "sales_season"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    # False: deactivated (kept for the orders and tickets that refer to it, no longer offered when selling)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.label


class Venue(AuditMixin, Base):
    """A venue ("Grande salle"). ``seated``: tickets are sold with a seat; otherwise by area."""

    __tablename__ = "sales_venue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    seated: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(300), default="")
    # False: deactivated (kept for the orders and tickets that refer to it, no longer offered when selling)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    areas: Mapped[list["Area"]] = relationship(back_populates="venue", order_by="Area.position")

    def __str__(self) -> str:
        return self.name


class Area(AuditMixin, Base):
    """An area of a venue ("Balcon", "Parterre")."""

    __tablename__ = "sales_area"
    __table_args__ = (UniqueConstraint("venue_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("sales_venue.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)

    venue: Mapped[Venue] = relationship(back_populates="areas")

    def __str__(self) -> str:
        return self.name


class SeatCategory(AuditMixin, Base):
    """A seat category ("Cat 1"): what a price depends on besides the tariff."""

    __tablename__ = "sales_seat_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # False: deactivated (kept for the orders and tickets that refer to it, no longer offered when selling)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.label


class Seat(Base):
    """A seat of a seated venue: area, row, number ("Balcon", "B", "51S"); its default category."""

    __tablename__ = "sales_seat"
    __table_args__ = (
        UniqueConstraint("venue_id", "area_id", "row", "number"),
        Index("ix_sales_seat_area", "area_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("sales_venue.id", ondelete="CASCADE"))
    area_id: Mapped[int] = mapped_column(ForeignKey("sales_area.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="SET NULL"),
                                                    nullable=True)
    row: Mapped[str] = mapped_column(String(10), default="")
    number: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)  # order in the area (seat map, best first)
    x: Mapped[int | None] = mapped_column(Integer, nullable=True)  # seat map coordinates, optional
    y: Mapped[int | None] = mapped_column(Integer, nullable=True)

    area: Mapped[Area] = relationship()
    category: Mapped[SeatCategory | None] = relationship()

    @property
    def label(self) -> str:
        return f"{self.row}{self.number}" if self.row and not self.number.startswith(self.row) else self.number

    def __str__(self) -> str:
        return f"{self.area.name if self.area else ''} - {self.label}"


class Event(AuditMixin, Base):
    """An event ("Joyaux"): a show with its performances."""

    __tablename__ = "sales_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    season_id: Mapped[int | None] = mapped_column(ForeignKey("sales_season.id", ondelete="SET NULL"), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    for_children: Mapped[bool] = mapped_column(Boolean, default=False)  # the "children product" indicator
    # False: deactivated (kept for the orders and tickets that refer to it, no longer offered when selling)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    season: Mapped[Season | None] = relationship()
    performances: Mapped[list["Performance"]] = relationship(back_populates="event", order_by="Performance.starts_at")

    def __str__(self) -> str:
        return self.title


class Performance(AuditMixin, Base):
    """A performance ("Joyaux - Lun 02.11.2015 20:15"): an event at a venue at a moment (UTC).

    ``capacity`` is the total number of tickets that may be sold; ``taken`` the tickets that hold
    a place (reserved, paid, printed), kept by the services under the quota rows' lock.
    """

    __tablename__ = "sales_performance"
    __table_args__ = (
        Index("ix_sales_performance_starts", "starts_at"),
        Index("ix_sales_performance_event", "event_id", "starts_at"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("sales_event.id", ondelete="RESTRICT"))
    venue_id: Mapped[int] = mapped_column(ForeignKey("sales_venue.id", ondelete="RESTRICT"))
    season_id: Mapped[int | None] = mapped_column(ForeignKey("sales_season.id", ondelete="SET NULL"), nullable=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    on_sale: Mapped[bool] = mapped_column(Boolean, default=True)

    event: Mapped[Event] = relationship(back_populates="performances")
    venue: Mapped[Venue] = relationship()
    season: Mapped[Season | None] = relationship()
    quotas: Mapped[list["PerformanceQuota"]] = relationship(back_populates="performance",
                                                            order_by="PerformanceQuota.id")

    @property
    def available(self) -> int:
        return self.capacity - self.taken

    def __str__(self) -> str:
        from coulisses.i18n import format_datetime

        return f"{self.event.title if self.event else ''} - {format_datetime(self.starts_at)}"


class PerformanceQuota(Base):
    """The capacity of a seat category at a performance ("Cat 1: 400 places"), and how many are taken.

    A category is on sale at a performance only when it has a quota row. Selling locks these rows
    (``lock_rows``) before checking and moving ``taken``.
    """

    __tablename__ = "sales_performance_quota"
    __table_args__ = (
        UniqueConstraint("performance_id", "category_id"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="RESTRICT"))
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    taken: Mapped[int] = mapped_column(Integer, default=0)

    performance: Mapped[Performance] = relationship(back_populates="quotas")
    category: Mapped[SeatCategory] = relationship()

    @property
    def available(self) -> int:
        return self.capacity - self.taken


class Audience(AuditMixin, Base):
    """An audience ("Contact occasionnel", "Abonné", "Groupe scolaire"): who a tariff is for."""

    __tablename__ = "sales_audience"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # False: deactivated (kept for the orders and tickets that refer to it, no longer offered when selling)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.label


class Tariff(AuditMixin, Base):
    """A tariff ("Plein tarif") of an audience; shown as "Contact occasionnel - Plein tarif"."""

    __tablename__ = "sales_tariff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    audience_id: Mapped[int | None] = mapped_column(ForeignKey("sales_audience.id", ondelete="SET NULL"),
                                                    nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    audience: Mapped[Audience | None] = relationship()

    @property
    def full_label(self) -> str:
        return f"{self.audience.label} - {self.label}" if self.audience else self.label

    def __str__(self) -> str:
        return self.full_label


class Price(Base):
    """The price of a ticket of ``category`` at ``tariff`` for ``performance``."""

    __tablename__ = "sales_price"
    __table_args__ = (
        UniqueConstraint("performance_id", "category_id", "tariff_id"),
        CheckConstraint("amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    performance_id: Mapped[int] = mapped_column(ForeignKey("sales_performance.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("sales_seat_category.id", ondelete="RESTRICT"))
    tariff_id: Mapped[int] = mapped_column(ForeignKey("sales_tariff.id", ondelete="RESTRICT"))
    amount: Mapped[Decimal] = mapped_column(Money)

    performance: Mapped[Performance] = relationship()
    category: Mapped[SeatCategory] = relationship()
    tariff: Mapped[Tariff] = relationship()


class Fee(AuditMixin, Base):
    """Simple fees ("frais simples") added to each ticket: all events or one, all channels or one.

    ``refundable``: a refund may give them back (the refund screen's "Rembourser les frais
    simples"); non-refundable fees are kept by the organisation whatever the operator chooses.
    """

    __tablename__ = "sales_fee"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    amount: Mapped[Decimal] = mapped_column(Money)
    refundable: Mapped[bool] = mapped_column(Boolean, default=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("sales_event.id", ondelete="CASCADE"), nullable=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("sales_channel.id", ondelete="CASCADE"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    event: Mapped[Event | None] = relationship()
    channel: Mapped[SalesChannel | None] = relationship()

    def __str__(self) -> str:
        return self.label
