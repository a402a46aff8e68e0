"""Documents (order summaries, tickets, receipts, invoices…): generated once, stored (the PDF and its
SHA-256, the object, the operator, the time) and never regenerated differently — reprinting reads the
stored bytes; a corrected document is a new document that replaces the previous one.

    doc = generate(session, "sales.receipt", "959")       # the first time: drawn, numbered, stored
    generate(session, "sales.receipt", "959") is doc       # afterwards: the same document
    data = reprint(session, doc)                           # the same bytes
    fixed = generate(session, "sales.receipt", "959", correct=True)   # a new document
"""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import NotFoundError
from coulisses import files as cfiles
from coulisses.db import current_actor, next_number, utcnow
from coulisses.i18n import _, current_locale, local_time

from plugins.reports.models import Document
from plugins.reports.registry import DocumentType, Recipient, get_registry
from plugins.reports.render.documents import render_document
from plugins.reports.services.identity import identity_view


def latest(session: Session, type_code: str, ref: str) -> Document | None:
    """The newest document of this type for this object (the one a reprint gives)."""
    return session.scalar(select(Document).where(Document.type_code == type_code, Document.object_ref == str(ref))
                          .order_by(Document.id.desc()).limit(1))


def generate(session: Session, type_code: str, ref: str, *, correct: bool = False,
             can: Callable[[str], bool] | None = None) -> Document:
    """The document of ``ref`` as ``type_code``: the stored one if there is one (unless ``correct``:
    then a new one, numbered anew, replacing it). ``NotFoundError`` for an unknown type or object."""
    doc_type = get_registry().document(type_code)
    if can is not None and not can(doc_type.permission):
        raise PermissionError(doc_type.permission)
    obj = doc_type.load(session, str(ref))
    ref = doc_type.object_ref(obj)
    previous = latest(session, type_code, ref)
    if previous is not None and not correct:
        return previous
    number = None
    now = utcnow()
    if doc_type.numbering:
        value = next_number(session, doc_type.numbering)
        number = doc_type.number_format.format(number=value, year=local_time(now).year)
    actor = current_actor()
    recipient = doc_type.recipient(session, obj) if doc_type.recipient is not None else Recipient()
    finish = (lambda pdf: doc_type.finish(session, obj, pdf)) if doc_type.finish is not None else None
    data = render_document(doc_type, obj, number=number, identity=identity_view(session),
                           generated_by=actor.login or "", generated_at=now, locale=current_locale(), finish=finish)
    slug = type_code.split(".", 1)[-1].replace("_", "-")
    name = f"{slug}-{number or ref}{'-' + str(now.strftime('%Y%m%d%H%M%S')) if correct else ''}.pdf"
    stored = cfiles.store(session, data, name, "application/pdf", purpose=f"document:{type_code}", plugin="reports")
    document = Document(type_code=type_code, object_ref=ref, object_label=str(doc_type.object_label(obj))[:200],
                        number=number, file_id=stored.id, sha256=stored.sha256, locale=current_locale(),
                        replaces_id=previous.id if previous is not None else None,
                        contact_id=recipient.contact_id, created_at=now, created_by_id=actor.operator_id,
                        created_by_login=actor.login or "")
    session.add(document)
    session.flush()
    return document


def get_document(session: Session, document_id: int) -> Document:
    document = session.get(Document, document_id)
    if document is None:
        raise NotFoundError(_("Document %(id)s introuvable", id=document_id))
    return document


def reprint(session: Session, document: Document | int) -> bytes:
    """The stored bytes of a document (checked against its SHA-256)."""
    if isinstance(document, int):
        document = get_document(session, document)
    return cfiles.read(session, document.file_id)


def documents_for(session: Session, type_code: str | None = None, ref: str | None = None,
                  limit: int = 100) -> list[Document]:
    stmt = select(Document).order_by(Document.id.desc()).limit(limit)
    if type_code:
        stmt = stmt.where(Document.type_code == type_code)
    if ref:
        stmt = stmt.where(Document.object_ref == str(ref))
    return list(session.scalars(stmt))


def recipient_of(session: Session, document: Document) -> Recipient:
    """Who the document goes to by e-mail (the address proposed on the screen, editable)."""
    doc_type: DocumentType = get_registry().document(document.type_code)
    if doc_type.recipient is None:
        return Recipient()
    try:
        return doc_type.recipient(session, doc_type.load(session, document.object_ref))
    except NotFoundError:
        return Recipient()
