"""The order's life after the sale screen: its delivery ("Livraison billets"), the documents it will
produce ("Envoi documents"), and the till's day (``TillSession`` and its ``TillCount`` per payment
mode).

A reservation's expiry ("pose d'option") is a column of the order (``Order.option_expires_at``) and
its default a column of the point of sale (``PointOfSale.option_hours``); whether a point of sale
sells only through an open till is ``PointOfSale.requires_open_till``, enforced on every new
operation by ``check_new_operations`` (a ``before_flush`` listener, as the immutability guard).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses import ConflictError

from coulisses.db import Base, Money, UTCDateTime, utcnow
from coulisses.i18n import _, _l

from plugins.sales.models.orders import Operation, OperationEntry, Order, _states_check
from plugins.sales.models.settings import PaymentMode, PointOfSale

DOCUMENT_TYPES = ("sales.order_summary", "sales.ticket", "sales.receipt")
DOCUMENT_TYPE_LABELS = {"sales.order_summary": _l("Récapitulatif de commande"), "sales.ticket": _l("Billets"),
                        "sales.receipt": _l("Reçu")}
DOCUMENT_SENDS = ("email", "print")
DOCUMENT_SEND_LABELS = {"email": _l("E-mail"), "print": _l("Impression")}
DOCUMENT_STATES = ("planned", "queued", "ready", "sent", "failed")
DOCUMENT_STATE_LABELS = {"planned": _l("prévu"), "queued": _l("en cours"), "ready": _l("prêt à imprimer"),
                         "sent": _l("envoyé"), "failed": _l("échec")}
TILL_STATES = ("open", "closed")
TILL_STATE_LABELS = {"open": _l("ouverte"), "closed": _l("fermée")}


class OrderDelivery(Base):
    """"Livraison billets": who receives the tickets and documents of an order, where, and whether
    they are printed at once. The delivery *mode* is the order's own ``delivery_mode``."""

    __tablename__ = "sales_order_delivery"

    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts_contact.id", ondelete="RESTRICT"),
                                                   nullable=True)
    address: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    immediate_print: Mapped[bool] = mapped_column(Boolean, default=True)
    # the operator added or removed documents: the defaults of the delivery mode no longer apply
    documents_customised: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    contact = relationship("Contact", foreign_keys=[contact_id])


class OrderDocument(Base):
    """"Envoi documents": one document an order will produce once settled (a document type of the
    sales plugin, how many copies, sent by e-mail or printed), then its outcome: ``document_id`` is
    the reports plugin's stored document (no foreign key: the reports plugin is optional)."""

    __tablename__ = "sales_order_document"
    __table_args__ = (
        Index("ix_sales_order_document_order", "order_id", "id"),
        CheckConstraint(_states_check("send", DOCUMENT_SENDS), name="send"),
        CheckConstraint(_states_check("state", DOCUMENT_STATES), name="state"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    type_code: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    send: Mapped[str] = mapped_column(String(10), default="print")
    state: Mapped[str] = mapped_column(String(10), default="planned")
    document_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TillSession(Base):
    """A cash desk session ("caisse") of an operator at a point of sale: opened with a float, closed
    with the cash counted per payment mode. ``open_marker`` is 1 while open and NULL once closed: the
    unique constraint allows one open session per point of sale and operator on every database."""

    __tablename__ = "sales_till_session"
    __table_args__ = (
        UniqueConstraint("point_of_sale_id", "operator_id", "open_marker", name="uq_sales_till_session_one_open"),
        Index("ix_sales_till_session_opened", "point_of_sale_id", "opened_at"),
        CheckConstraint(_states_check("state", TILL_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    point_of_sale_id: Mapped[int] = mapped_column(ForeignKey("sales_point_of_sale.id", ondelete="RESTRICT"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="RESTRICT"))
    operator_login: Mapped[str] = mapped_column(String(80), default="")
    state: Mapped[str] = mapped_column(String(10), default="open")
    open_marker: Mapped[int | None] = mapped_column(Integer, nullable=True, default=1)
    opening_float: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                     nullable=True)
    difference: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    point_of_sale: Mapped[PointOfSale] = relationship()
    counts: Mapped[list["TillCount"]] = relationship(back_populates="session", order_by="TillCount.id")

    @property
    def state_label(self) -> str:
        return str(TILL_STATE_LABELS.get(self.state, self.state))


class TillCount(Base):
    """What was counted for one payment mode when a till closed, against what was expected."""

    __tablename__ = "sales_till_count"
    __table_args__ = (UniqueConstraint("session_id", "payment_mode_id", name="uq_sales_till_count_one_per_mode"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sales_till_session.id", ondelete="CASCADE"))
    payment_mode_id: Mapped[int] = mapped_column(ForeignKey("sales_payment_mode.id", ondelete="RESTRICT"))
    expected: Mapped[Decimal] = mapped_column(Money)
    counted: Mapped[Decimal] = mapped_column(Money)
    difference: Mapped[Decimal] = mapped_column(Money)

    session: Mapped[TillSession] = relationship(back_populates="counts")
    payment_mode: Mapped[PaymentMode] = relationship()


# --------------------------------------------------------------------------- the open-till rule


@event.listens_for(Session, "before_flush")
def check_new_operations(session: Session, flush_context, instances) -> None:
    """Refuse an operator's operation — a new number, or an entry joining a basket's — at a point of
    sale that ``requires_open_till`` when their till is not open there (``services.till``).
    Operations without an operator (periodic tasks) pass."""
    new_ops = [o for o in session.new if isinstance(o, (Operation, OperationEntry)) and o.operator_id is not None
               and o.point_of_sale_id is not None]
    if not new_ops:
        return
    with session.no_autoflush:
        for pos_id, operator_id in sorted({(o.point_of_sale_id, o.operator_id) for o in new_ops}):
            pos = session.get(PointOfSale, pos_id)
            if pos is None or not pos.requires_open_till:
                continue
            open_id = session.scalar(select(TillSession.id).where(
                TillSession.point_of_sale_id == pos_id, TillSession.operator_id == operator_id,
                TillSession.state == "open"))
            if open_id is None:
                raise ConflictError(_("Votre caisse n'est pas ouverte au point de vente %(pos)s : ouvrez-la "
                                      "(Ventes › Caisse) avant toute opération", pos=pos.label))
