"""The sales settings' tables: ``SalesChannel``, ``PointOfSale``, ``OperatorPointOfSale``,
``PaymentMode``.

See the package docstring (``plugins.sales.models``) for the whole model.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import AuditMixin, Base


class SalesChannel(AuditMixin, Base):
    """A sales channel ("filière de vente"): ``box_office``, ``internet``, ``partner``…"""

    __tablename__ = "sales_channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __str__(self) -> str:
        return self.label


class PointOfSale(AuditMixin, Base):
    """A point of sale ("Guichet"), in a channel. ``is_default``: used when none is given;
    ``option_hours``: how long its reservations hold by default; ``requires_open_till``: its sales
    need an open till (``services.till``)."""

    __tablename__ = "sales_point_of_sale"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    channel_id: Mapped[int] = mapped_column(ForeignKey("sales_channel.id", ondelete="RESTRICT"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # a reservation ("pose d'option") made here holds its places this many hours (0: until cancelled)
    option_hours: Mapped[int] = mapped_column(Integer, default=72)
    # sales here need the operator's till to be open (services.till)
    requires_open_till: Mapped[bool] = mapped_column(Boolean, default=False)

    channel: Mapped[SalesChannel] = relationship()

    def __str__(self) -> str:
        return self.label


class OperatorPointOfSale(Base):
    """The point of sale an operator sells from when the screen or the API does not say."""

    __tablename__ = "sales_operator_point_of_sale"

    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="CASCADE"), primary_key=True)
    point_of_sale_id: Mapped[int] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="CASCADE"))


class PaymentMode(AuditMixin, Base):
    """A payment mode the organisation offers ("Espèces", "Carte bancaire", "Solde avoir"…), of a
    registered type (``sales_payment_mode_types``: what the type allows)."""

    __tablename__ = "sales_payment_mode"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    type_code: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the type's own settings

    def __str__(self) -> str:
        return self.label
