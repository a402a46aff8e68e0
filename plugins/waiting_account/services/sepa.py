"""SEPA direct debit ("prélèvement") of waiting accounts: mandates (IBAN and BIC checked by
``schwifty``), the instalments due gathered into a pain.008 file (built and checked against the
schema by ``sepaxml``) for a collection date, stored with the host's files; then the bank's answer:
collected (the instalments are paid) or failed (with the return reason — presented again in a later
file, or settled another way from the account screen).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import ConflictError, InvalidError, NotFoundError
from coulisses import files as cfiles
from coulisses.db import current_actor, get_setting, set_setting, utcnow
from coulisses.i18n import _, format_money

from plugins.waiting_account.models import Account, DebitBatch, Instalment, Mandate
from plugins.waiting_account.services import accounts, schedule
from plugins.waiting_account.services.accounts import ZERO

SETTING_CREDITOR_ID = "waiting_account.sepa_creditor_id"
DUE_STATES = ("open",)


def check_iban_bic(iban: str, bic: str) -> tuple[str, str, dict]:
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    errors = {}
    clean_iban = clean_bic = ""
    try:
        clean_iban = IBAN(iban or "").compact
    except (SchwiftyException, ValueError):
        errors["iban"] = _("IBAN invalide")
    try:
        clean_bic = BIC(bic or "").compact
    except (SchwiftyException, ValueError):
        errors["bic"] = _("BIC invalide")
    return clean_iban, clean_bic, errors


def set_creditor_id(session: Session, creditor_id: str) -> str:
    """The organisation's SEPA creditor identifier (ICS, e.g. ``FR72ZZZ123456``)."""
    from stdnum.iso7064 import mod_97_10

    value = (creditor_id or "").replace(" ", "").upper()
    # the ICS check digits: ISO 7064 mod 97-10 over the national identifier, the country and "00"
    ok = len(value) >= 8 and value[:2].isalpha() and value[2:4].isdigit()
    if ok:
        national = value[7:]
        ok = mod_97_10.is_valid(national + value[:2] + value[2:4]) if national.isalnum() else False
    if not ok:
        raise InvalidError(_("Identifiant créancier SEPA invalide"), {"creditor_id": _("Identifiant créancier SEPA invalide")})
    set_setting(session, SETTING_CREDITOR_ID, value)
    return value


def create_mandate(session: Session, contact: Any, *, reference: str, signed_on: date, iban: str, bic: str,
                   holder: str = "", kind: str = "RCUR") -> Mandate:
    contact = accounts.get_contact(session, contact)
    reference = (reference or "").strip()
    iban, bic, errors = check_iban_bic(iban, bic)
    if not reference or len(reference) > 35:
        errors["reference"] = _("Référence unique de mandat requise (35 caractères au plus)")
    if not isinstance(signed_on, date) or signed_on > utcnow().date():
        errors["signed_on"] = _("Date de signature passée requise")
    if kind not in ("OOFF", "RCUR"):
        errors["kind"] = _("Ponctuel ou récurrent")
    if errors:
        raise InvalidError(_("Mandat invalide"), errors)
    if session.scalar(select(Mandate.id).where(Mandate.reference == reference)) is not None:
        raise ConflictError(_("La référence de mandat %(ref)s existe déjà", ref=reference))
    mandate = Mandate(contact_id=contact.id, reference=reference, signed_on=signed_on, iban=iban, bic=bic,
                      holder=(holder or contact.display_name)[:70], kind=kind)
    session.add(mandate)
    session.flush()
    return mandate


def active_mandate(session: Session, contact_id: int) -> Mandate | None:
    return session.scalar(select(Mandate).where(Mandate.contact_id == contact_id, Mandate.active.is_(True))
                          .order_by(Mandate.id.desc()))


def due_instalments(session: Session, collection_date: date) -> list[tuple[Instalment, Any, Mandate]]:
    """Open instalments due by ``collection_date`` of contacts with an active mandate (what is
    left on each)."""
    out = []
    rows = session.execute(select(Instalment, Account.contact_id).join(Account, Account.id == Instalment.account_id)
                           .where(Instalment.state.in_(DUE_STATES), Instalment.due_date <= collection_date)
                           .order_by(Instalment.due_date, Instalment.id)).all()
    paid = schedule.paid_of(session, [i.id for i, _ in rows])
    for instalment, contact_id in rows:
        mandate = active_mandate(session, contact_id)
        left = instalment.amount - paid.get(instalment.id, ZERO)
        if mandate is not None and left > 0:
            out.append((instalment, left, mandate))
    return out


def prepare_debit(session: Session, collection_date: date) -> DebitBatch:
    """The pain.008 file of the instalments due by ``collection_date``; they become ``sent``."""
    from sepaxml import SepaDD

    from plugins.reports.services.identity import identity_view

    creditor_id = get_setting(session, SETTING_CREDITOR_ID)
    identity = identity_view(session)
    if not creditor_id or not identity.iban or not identity.bic:
        raise ConflictError(_("Renseignez l'identifiant créancier SEPA, l'IBAN et le BIC de l'organisme"))
    due = due_instalments(session, collection_date)
    if not due:
        raise ConflictError(_("Aucune échéance à prélever au %(day)s", day=collection_date.isoformat()))
    sepa = SepaDD({"name": identity.name[:70] or "Creditor", "IBAN": identity.iban.replace(" ", ""),
                   "BIC": identity.bic.replace(" ", ""), "batch": True, "creditor_id": creditor_id,
                   "currency": "EUR", "instrument": "CORE"}, schema="pain.008.001.02", clean=True)
    message_id = sepa.msg_id[:35]  # the file's message id (GrpHdr/MsgId), unique
    total = ZERO
    for instalment, left, mandate in due:
        sequence = "OOFF" if mandate.kind == "OOFF" else ("FRST" if mandate.used_at is None else "RCUR")
        sepa.add_payment({"name": mandate.holder, "IBAN": mandate.iban, "BIC": mandate.bic,
                          "amount": int(left * 100), "type": sequence, "collection_date": collection_date,
                          "mandate_id": mandate.reference, "mandate_date": mandate.signed_on,
                          "description": _("Échéance %(position)s du dossier %(order)s", position=instalment.position,
                                           order=instalment.order_id or ""),
                          "endtoend_id": f"WA{instalment.id}P{instalment.presentations + 1}"})
        total += left
    data = sepa.export(validate=True)
    stored = cfiles.store(session, data, f"prelevement-{collection_date.isoformat()}-{message_id}.xml",
                          "application/xml", purpose="waiting_account:pain.008", plugin="waiting_account")
    batch = DebitBatch(collection_date=collection_date, message_id=message_id, count=len(due), total=total,
                       file_id=stored.id, operator_id=current_actor().operator_id)
    session.add(batch)
    session.flush()
    now = utcnow()
    for instalment, _left, mandate in due:
        instalment.state, instalment.batch_id = "sent", batch.id
        instalment.presentations += 1
        instalment.return_reason = ""
        if mandate.used_at is None:
            mandate.used_at = now
    session.flush()
    return batch


def get_batch(session: Session, batch_id: int) -> DebitBatch:
    batch = session.get(DebitBatch, batch_id)
    if batch is None:
        raise NotFoundError(_("Remise de prélèvements %(id)s introuvable", id=batch_id))
    return batch


def record_collected(session: Session, batch: DebitBatch | int, *, except_ids: list[int] = ()) -> int:
    """The bank collected the batch's instalments (all but ``except_ids``): each is paid by a
    ``debit_collected`` movement."""
    from plugins.sales.services.journal import record_operation
    from plugins.waiting_account import events

    batch = get_batch(session, batch) if isinstance(batch, int) else batch
    done = 0
    for instalment in list(session.scalars(select(Instalment).where(Instalment.batch_id == batch.id,
                                                                    Instalment.state == "sent"))):
        if instalment.id in except_ids:
            continue
        account = accounts.lock_account(session, session.get(Account, instalment.account_id).contact_id)
        left = instalment.amount - schedule.paid_of(session, [instalment.id]).get(instalment.id, ZERO)
        if left <= 0:
            instalment.state = "paid"
            continue
        operation = record_operation(session, "waiting_account_debit", amount=left,
                                     details={"batch": batch.message_id, "instalment": instalment.id})
        movement = accounts.add_movement(session, account, "debit_collected", -left, order_id=instalment.order_id,
                                         operation_id=operation.id, reference=batch.message_id)
        schedule.allocate(session, account, movement, left, only=[instalment.id])
        events.account_settled(session, account, via="direct_debit", amount=left, to_account=left, to_credit=ZERO,
                               reference=batch.message_id)
        done += 1
    session.flush()
    return done


def record_failed(session: Session, instalment: Instalment | int, reason: str) -> Instalment:
    """The bank returned a debit (``reason``: the R-transaction code and text, e.g. "AM04 Provision
    insuffisante"): the instalment is ``failed``, still owed."""
    instalment = session.get(Instalment, instalment) if isinstance(instalment, int) else instalment
    if instalment is None:
        raise NotFoundError(_("Échéance introuvable"))
    if not (reason or "").strip():
        raise InvalidError(_("Motif du rejet requis"), {"reason": _("Indiquez le motif du rejet")})
    if instalment.state != "sent":
        raise ConflictError(_("Seule une échéance envoyée à la banque peut être rejetée"))
    instalment.state, instalment.return_reason = "failed", reason.strip()[:200]
    session.flush()
    return instalment


def present_again(session: Session, instalment: Instalment | int) -> Instalment:
    """A failed instalment goes into the next direct debit file."""
    instalment = session.get(Instalment, instalment) if isinstance(instalment, int) else instalment
    if instalment is None or instalment.state != "failed":
        raise ConflictError(_("Seule une échéance rejetée peut être représentée"))
    instalment.state = "open"
    session.flush()
    return instalment


def describe_batch(batch: DebitBatch) -> str:
    return _("Remise du %(day)s : %(count)s prélèvement(s), %(total)s", day=batch.collection_date.isoformat(),
             count=batch.count, total=format_money(batch.total))
