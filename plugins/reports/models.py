"""The reports plugin's tables: the organisation identity, generated documents (stored, never
regenerated differently), report runs (background runs and their files), favourites (saved parameter
sets, optionally scheduled and sent by e-mail) and the e-mails sent with a document."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coulisses.db import Base, UTCDateTime, utcnow
from coulisses.files import StoredFile

RUN_STATES = ("pending", "running", "done", "failed")
SCHEDULES = ("", "daily", "weekly", "monthly")


class Identity(Base):
    """The organisation as its documents name it (one row, id 1): the identity screen."""

    __tablename__ = "reports_identity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    legal_form: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    siren: Mapped[str] = mapped_column(String(9), default="")
    siret: Mapped[str] = mapped_column(String(14), default="")
    vat_number: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    iban: Mapped[str] = mapped_column(String(34), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    bank_name: Mapped[str] = mapped_column(String(120), default="")
    invoice_mentions: Mapped[str] = mapped_column(Text, default="")
    footer: Mapped[str] = mapped_column(Text, default="")
    logo_file_id: Mapped[int | None] = mapped_column(ForeignKey("core_file.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                      nullable=True)


class Document(Base):
    """A generated document: its type, the object it renders, its number when numbered, the stored
    PDF and its SHA-256, who generated it and when. Reprinting reads the stored bytes; a corrected
    document is a new row (``replaces_id``)."""

    __tablename__ = "reports_document"
    __table_args__ = (
        Index("ix_reports_document_object", "type_code", "object_ref", "id"),
        UniqueConstraint("type_code", "number", name="number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type_code: Mapped[str] = mapped_column(String(80))
    object_ref: Mapped[str] = mapped_column(String(80))
    object_label: Mapped[str] = mapped_column(String(200), default="")
    number: Mapped[str | None] = mapped_column(String(40), nullable=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("core_file.id", ondelete="RESTRICT"))
    sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("reports_document.id", ondelete="RESTRICT"),
                                                    nullable=True)
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the recipient, when a contact
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                      nullable=True)
    created_by_login: Mapped[str] = mapped_column(String(80), default="")

    file: Mapped[StoredFile] = relationship()
    sends: Mapped[list["DocumentSend"]] = relationship(back_populates="document", order_by="DocumentSend.id",
                                                       viewonly=True)


class DocumentSend(Base):
    """A document sent by e-mail: queued (the outbox job), then sent or failed."""

    __tablename__ = "reports_document_send"
    __table_args__ = (Index("ix_reports_document_send_document", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("reports_document.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sent
    job_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_login: Mapped[str] = mapped_column(String(80), default="")

    document: Mapped[Document] = relationship(back_populates="sends")


class Run(Base):
    """A report run in the background (or scheduled): its parameters, its progress (on the outbox
    job), its file when done, the reason when it failed."""

    __tablename__ = "reports_run"
    __table_args__ = (Index("ix_reports_run_operator", "operator_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_code: Mapped[str] = mapped_column(String(80))
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    format: Mapped[str] = mapped_column(String(8))
    options_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(12), default="pending")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    expected_rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("core_file.id", ondelete="SET NULL"), nullable=True)
    job_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    favourite_id: Mapped[int | None] = mapped_column(ForeignKey("reports_favourite.id", ondelete="SET NULL"),
                                                     nullable=True)
    locale: Mapped[str] = mapped_column(String(10), default="fr")
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                    nullable=True)
    operator_login: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    file: Mapped[StoredFile | None] = relationship()

    @property
    def params(self) -> dict:
        return json.loads(self.params_json or "{}")

    @property
    def options(self) -> dict:
        return json.loads(self.options_json or "{}")


class Favourite(Base):
    """An operator's saved parameter set for a report; with a schedule, sent by e-mail (daily, weekly
    on Mondays, monthly on the 1st) to ``recipients`` (comma-separated addresses)."""

    __tablename__ = "reports_favourite"
    __table_args__ = (UniqueConstraint("operator_id", "report_code", "name", name="name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("core_operator.id", ondelete="CASCADE"))
    report_code: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120))
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    format: Mapped[str] = mapped_column(String(8), default="pdf")
    schedule: Mapped[str] = mapped_column(String(10), default="")
    recipients: Mapped[str] = mapped_column(Text, default="")
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def params(self) -> dict:
        return json.loads(self.params_json or "{}")
