"""Files the product generates or receives (documents, report runs, import reject files, bank files),
stored where every worker and host sees them: in the database (the default).

    from coulisses.files import store, read

    stored = store(session, pdf_bytes, "facture-F2026-0001.pdf", "application/pdf", purpose="invoice")
    data = read(session, stored.id)          # the same bytes, checked against their SHA-256

A stored file never changes: a corrected document is a new file. ``coulisses.web`` serves one with
``send_stored(file)``.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from coulisses import CoulissesError, NotFoundError
from coulisses.db import Base, UTCDateTime, current_actor, utcnow

MAX_NAME = 200


class StoredFile(Base):
    """A file kept by Coulisses. ``data`` is loaded only when read."""

    __tablename__ = "core_file"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(80), default="")
    plugin: Mapped[str] = mapped_column(String(80), default="")
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_operator.id", ondelete="SET NULL"),
                                                      nullable=True)

    def __str__(self) -> str:
        return self.name


class FileIntegrityError(CoulissesError):
    """A stored file does not match its recorded hash any more."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(session: Session, data: bytes, name: str, content_type: str, *, purpose: str = "",
          plugin: str = "") -> StoredFile:
    """Keep ``data`` (bytes) under ``name``; returns the stored file (flushed, with its id)."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("store() takes bytes")
    safe_name = "".join(c for c in name if c.isprintable() and c not in '/\\"')[:MAX_NAME] or "file"
    stored = StoredFile(name=safe_name, content_type=content_type, size=len(data), sha256=digest(bytes(data)),
                        purpose=purpose, plugin=plugin, data=bytes(data), created_by_id=current_actor().operator_id)
    session.add(stored)
    session.flush()
    return stored


def get(session: Session, file_id: int) -> StoredFile:
    stored = session.get(StoredFile, file_id)
    if stored is None:
        raise NotFoundError(f"file {file_id} not found")
    return stored


def read(session: Session, ref: int | StoredFile) -> bytes:
    """The bytes of a stored file, checked against the hash recorded when it was stored."""
    stored = ref if isinstance(ref, StoredFile) else get(session, ref)
    data = stored.data
    if digest(data) != stored.sha256:
        raise FileIntegrityError(f"stored file {stored.id} ({stored.name}) does not match its SHA-256")
    return data
