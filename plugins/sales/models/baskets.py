"""Baskets and the operation's entries: ``Basket`` ("panier", one numbered operation, "Ordre 1271")
and its operation's entries (``OperationEntry`` in ``models/orders.py``).

An ``Operation`` is one number of the gapless journal. A stand-alone service call (a sale through
the REST API without a basket, a print) writes its own operation; a basket opens one operation and
every service called with ``operation=`` joins it: each call adds an ``OperationEntry`` (its kind,
the order it touched, the amount it moved, its details) to that one operation. An operation's
entries are its history; an order's history is the entries that name it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import Base, UTCDateTime, utcnow
from coulisses.i18n import lazy_pgettext

from plugins.sales.models.orders import Operation, _states_check
from plugins.sales.models.settings import PointOfSale

BASKET_STATES = ("open", "held", "settled", "abandoned")
BASKET_STATE_LABELS = {"open": lazy_pgettext("basket", "En cours"), "held": lazy_pgettext("basket", "En attente"),
                       "settled": lazy_pgettext("basket", "Terminé"), "abandoned": lazy_pgettext("basket", "Abandonné")}


class Basket(Base):
    """A sales basket: exactly one operation (``operation_id``, its number is the basket's "Ordre"),
    whatever it reserves, sells, cancels and pays across orders. ``state``: ``open`` (an operator
    works in it), ``held`` (METTRE EN ATTENTE: any operator of the point of sale may resume it),
    ``settled`` (done), ``abandoned`` (ABANDONNER ORDRE: what it reserved was released; the
    operation stays in the journal, so the numbering has no gap)."""

    __tablename__ = "sales_basket"
    __table_args__ = (
        Index("ix_sales_basket_pos_state", "point_of_sale_id", "state"),
        CheckConstraint(_states_check("state", BASKET_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("sales_operation.id", ondelete="RESTRICT"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                   nullable=True)
    point_of_sale_id: Mapped[int] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)  # who works in it now
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                   nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # settled or abandoned
    note: Mapped[str] = mapped_column(String(200), default="")

    operation: Mapped[Operation] = relationship()
    point_of_sale: Mapped[PointOfSale] = relationship()
    contact = relationship("Contact")

    @property
    def number(self) -> int:
        return self.operation.number

    @property
    def state_label(self) -> str:
        return str(BASKET_STATE_LABELS.get(self.state, self.state))

    def __str__(self) -> str:
        return str(self.operation)
