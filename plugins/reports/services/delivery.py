"""E-mail delivery: documents and scheduled reports leave through the outbox (after commit, retried),
to the SMTP server configured by environment variables (docs/operator-guide.md):

``COULISSES_REPORTS_SMTP_HOST`` (localhost), ``…_SMTP_PORT`` (25), ``…_SMTP_USER``,
``…_SMTP_PASSWORD``, ``…_SMTP_SECURITY`` (``none``, ``starttls`` or ``ssl``), ``…_SMTP_TIMEOUT`` (30 s),
``COULISSES_REPORTS_MAIL_FROM``, ``COULISSES_REPORTS_MAIL_REPLY_TO``.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.orm import Session

from coulisses import InvalidError
from coulisses import files as cfiles
from coulisses.config import current_config
from coulisses.db import current_actor, utcnow
from coulisses.i18n import _
from coulisses.outbox import Job, Park, enqueue

from plugins.reports.models import Document, DocumentSend


def smtp_settings() -> dict:
    cfg = current_config()
    return {"host": cfg.get("REPORTS_SMTP_HOST") or "localhost", "port": int(cfg.get("REPORTS_SMTP_PORT") or 25),
            "user": cfg.get("REPORTS_SMTP_USER") or "", "password": cfg.get("REPORTS_SMTP_PASSWORD") or "",
            "security": (cfg.get("REPORTS_SMTP_SECURITY") or "none").lower(),
            "timeout": int(cfg.get("REPORTS_SMTP_TIMEOUT") or 30),
            "from": cfg.get("REPORTS_MAIL_FROM") or "billetterie@localhost",
            "reply_to": cfg.get("REPORTS_MAIL_REPLY_TO") or ""}


def send_mail(to: list[str], subject: str, body: str, attachments: list[tuple[str, bytes, str]] = ()) -> str:
    """Hand one message to the SMTP server; returns its Message-ID. Raises on failure (the outbox
    retries)."""
    settings = smtp_settings()
    msg = EmailMessage()
    msg["From"] = settings["from"]
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain=settings["from"].split("@")[-1] or "coulisses")
    if settings["reply_to"]:
        msg["Reply-To"] = settings["reply_to"]
    msg.set_content(body)
    for name, data, content_type in attachments:
        maintype, _sep, subtype = content_type.split(";")[0].partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if settings["security"] == "ssl":
        client = smtplib.SMTP_SSL(settings["host"], settings["port"], timeout=settings["timeout"],
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings["host"], settings["port"], timeout=settings["timeout"])
    with client:
        if settings["security"] == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings["user"]:
            client.login(settings["user"], settings["password"])
        client.send_message(msg)
    return msg["Message-ID"]


def check_address(address: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email((address or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise InvalidError(_("Adresse e-mail invalide"), {"to": _("Adresse e-mail invalide : %(address)s",
                                                                   address=address or "")}) from None


def queue_document(session: Session, document: Document, to: str, *, subject: str | None = None,
                   message: str | None = None) -> DocumentSend:
    """Queue the e-mail of ``document`` (the PDF attached) to ``to``; it leaves after commit."""
    address = check_address(to)
    subject = (subject or "").strip() or document.object_label or document.type_code
    send = DocumentSend(document_id=document.id, recipient=address, subject=subject[:200],
                        created_by_login=current_actor().login or "")
    session.add(send)
    session.flush()
    job = enqueue(session, "reports.send_document", {"send": send.id, "message": message or ""})
    send.job_id = job.id
    session.flush()
    return send


def send_document_job(session: Session, job: Job):
    """The outbox job ``reports.send_document``: the mail with the stored PDF; then the send is
    recorded (``reports_document_sent``: the contact's "Envois" history)."""
    send = session.get(DocumentSend, job.payload["send"])
    if send is None:
        raise Park("document send not found")
    if send.state == "sent":
        return {"already_sent": True}
    document = send.document
    data = cfiles.read(session, document.file_id)
    body = job.payload.get("message") or _("Bonjour,\n\nVeuillez trouver ci-joint : %(what)s.\n\nCordialement,",
                                           what=send.subject)
    message_id = send_mail([send.recipient], send.subject, body, [(document.file.name, data, "application/pdf")])
    send.state, send.sent_at = "sent", utcnow()
    session.flush()
    from coulisses.registry import current_manager

    pm = current_manager()
    if pm is not None and hasattr(pm.hook, "reports_document_sent"):
        pm.hook.reports_document_sent(session=session, document=document, recipient=send.recipient,
                                      contact_id=document.contact_id)
    return {"to": send.recipient, "message_id": message_id}
