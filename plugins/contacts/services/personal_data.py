"""Personal data: anonymising a contact, and the batch that purges inactive contacts.

``anonymise(session, contact)`` (the sheet's "Anonymiser" action, the batch): keeps what statistics
need — the type and kind, the role, customer/prospect dates, the country, city and postal code of
the addresses, the links' existence — and clears everything that identifies a person: names become
"ANONYME" (a structure's name too), civility, birth date, function, e-mail, phones, fax, IBAN,
administrative number, reference code, type-specific extra fields, address lines, department and
region; the internet account is deleted; notes are emptied ("(anonymisé)"); preferred seats,
marketing alerts, consents and ticketing sends are deleted. ``anonymised_at`` records when, the
audit columns (``updated_by``) by whom; a note records it on the sheet too. Anonymising twice is
refused.

``purge(session, months=36, simulate=False)`` (CLI ``coulisses contacts purge``, weekly task
``contacts.personal_data``): a contact is inactive when neither the contact itself (``updated_at``)
nor its last purchase (``last_purchase_at``) moved during the last ``months`` months
(``CONTACTS_INACTIVITY_MONTHS``, 36 by default). Inactive **prospects** are deleted — unless another
plugin's rows reference them (``contacts_references`` outside the contacts plugin), or another
plugin vetoes the deletion (``contacts_contact_deleting``): then they are anonymised. Inactive
**customers** are anonymised (their sales must stay whole). Already anonymised contacts are left
alone. ``simulate=True`` only reports what would be done.

Nothing is lost by a default: the weekly task (``purge_task``) only *simulates* and reports what it
would do until an administrator turns the purge on (``CONTACTS_PURGE_ENABLED``, environment
``COULISSES_CONTACTS_PURGE_ENABLED=true``; off by default). The CLI command and the REST endpoint are
explicit actions of an administrator and are not affected by the setting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import calendar
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from coulisses import ConflictError
from coulisses.db import current_actor, metadata, utcnow
from coulisses.i18n import _, format_date, local_time

from plugins.contacts.models import (
    Address,
    Consent,
    Contact,
    InternetAccount,
    MarketingAlert,
    Note,
    PreferredSeat,
    TicketingSend,
)
from plugins.contacts.registry import Registry, get_registry

ANONYMOUS = "ANONYME"
DEFAULT_MONTHS = 36


def anonymise(session: Session, contact: Contact) -> Contact:
    """Anonymise ``contact`` (see the module docstring). Returns it."""
    if contact.anonymised_at is not None:
        raise ConflictError(_("Le contact %(number)s est déjà anonymisé (le %(date)s)", number=contact.number,
                              date=format_date(contact.anonymised_at)))
    _anonymise_ids(session, [contact.id])
    session.expire(contact)
    return contact


def _anonymise_ids(session: Session, ids: list[int]) -> None:
    now = utcnow()
    # the note is written in the language of whoever anonymises (the operator, the task's deployment)
    note = _("Contact anonymisé le %(date)s (données personnelles)", date=format_date(now))
    operator = current_actor().operator_id
    from plugins.contacts import events

    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        events.anonymised(session, session.scalars(select(Contact.number).where(Contact.id.in_(chunk))
                                                   .order_by(Contact.id)).all())
        session.execute(update(Contact).where(Contact.id.in_(chunk)).values(
            civility=None, last_name=ANONYMOUS, first_name="",
            structure_name="", birth_date=None, function=None, email=None, mobile_phone=None,
            phone=None, fax=None, iban=None, administrative_number=None, reference_code=None, extra={},
            search_last="anonyme", search_first="", search_email=None, phonetic_name="",
            sort_last="anonyme", sort_first="",
            anonymised_at=now, updated_at=now, updated_by_id=operator,
        ).execution_options(synchronize_session=False))
        # structures keep "ANONYME" as their name
        session.execute(update(Contact).where(Contact.id.in_(chunk), Contact.kind == "structure").values(
            structure_name=ANONYMOUS, last_name="").execution_options(synchronize_session=False))
        session.execute(update(Address).where(Address.contact_id.in_(chunk)).values(
            line1="", line2="", line3="", department=None, region=None, updated_at=now, updated_by_id=operator,
        ).execution_options(synchronize_session=False))
        session.execute(update(Note).where(Note.contact_id.in_(chunk)).values(
            text=_("(anonymisé)"), updated_at=now, updated_by_id=operator).execution_options(synchronize_session=False))
        for model in (InternetAccount, PreferredSeat, MarketingAlert, Consent, TicketingSend):
            session.execute(delete(model).where(model.contact_id.in_(chunk)).execution_options(
                synchronize_session=False))
        session.execute(Note.__table__.insert(), [
            {"contact_id": cid, "text": note,
             "created_at": now, "updated_at": now, "created_by_id": operator, "updated_by_id": operator}
            for cid in chunk])
    session.flush()


@dataclass
class PurgeReport:
    months: int
    simulate: bool
    cutoff: datetime
    examined: int = 0
    deleted: list[int] = field(default_factory=list)  # contact numbers
    anonymised: list[int] = field(default_factory=list)
    kept_referenced: list[int] = field(default_factory=list)  # prospects anonymised instead of deleted

    def as_dict(self) -> dict:
        return {"months": self.months, "simulate": self.simulate, "cutoff": self.cutoff.isoformat(),
                "examined": self.examined, "deleted": len(self.deleted), "anonymised": len(self.anonymised),
                "prospects_anonymised_because_referenced": len(self.kept_referenced),
                "deleted_numbers": self.deleted[:1000], "anonymised_numbers": self.anonymised[:1000]}


def inactivity_months(config: dict | None = None) -> int:
    registry_config = (config if config is not None else get_registry().config) or {}
    try:
        return int(registry_config.get("CONTACTS_INACTIVITY_MONTHS", DEFAULT_MONTHS))
    except (TypeError, ValueError):
        return DEFAULT_MONTHS


def purge_enabled(config: dict | None = None) -> bool:
    """Whether the weekly task really purges (``CONTACTS_PURGE_ENABLED``, off by default)."""
    value = ((config if config is not None else get_registry().config) or {}).get("CONTACTS_PURGE_ENABLED", False)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def purge_task(session: Session, *, registry: Registry | None = None, now: datetime | None = None) -> dict:
    """The weekly task ``contacts.personal_data``: purges when ``CONTACTS_PURGE_ENABLED`` is on, else
    only simulates (nothing changed) and says so in its report."""
    registry = registry or get_registry()
    enabled = purge_enabled(registry.config)
    report = purge(session, registry=registry, simulate=not enabled, now=now)  # the runner commits
    result = report.as_dict()
    result["enabled"] = enabled
    if not enabled:
        result["message"] = str(_("Purge désactivée (CONTACTS_PURGE_ENABLED) : simulation, rien n'a été "
                                  "modifié."))
    return result


def cutoff_for(months: int, now: datetime | None = None) -> datetime:
    """``months`` calendar months before ``now``, on the deployment's calendar (Europe/Paris), same
    wall-clock time: 31 March → 28 (29) February; the result is in UTC (a DST change in between moves
    the UTC hour, not the Paris one)."""
    local = local_time(now or utcnow())
    year, month = divmod(local.month - 1 - months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    naive = local.replace(tzinfo=None, year=year, month=month, day=day)
    return naive.replace(tzinfo=local.tzinfo).astimezone(timezone.utc)


def _foreign_reference_condition(session: Session, registry: Registry):
    """SQL: the contact is referenced by another plugin's rows."""
    conds = []
    for ref in registry.references:
        if ref.table.startswith("contacts_"):
            continue
        from plugins.contacts.services.duplicates import table_named

        try:
            table = table_named(session, ref.table)
        except ConflictError:
            continue
        conds.append(exists().where(table.c[ref.column] == Contact.id))
    return or_(*conds) if conds else None


def purge(session: Session, months: int | None = None, *, simulate: bool = False, now: datetime | None = None,
          registry: Registry | None = None, batch: int = 1000) -> PurgeReport:
    """Delete inactive prospects and anonymise inactive customers (see the module docstring)."""
    registry = registry or get_registry()
    months = inactivity_months(registry.config) if months is None else int(months)
    if months < 1:
        raise ValueError("months must be at least 1")
    cutoff = cutoff_for(months, now)
    report = PurgeReport(months=months, simulate=simulate, cutoff=cutoff)
    inactive = and_(Contact.anonymised_at.is_(None), Contact.updated_at < cutoff,
                    or_(Contact.last_purchase_at.is_(None), Contact.last_purchase_at < cutoff))
    referenced = _foreign_reference_condition(session, registry)
    cols = [Contact.id, Contact.number, Contact.customer_since]
    if referenced is not None:
        cols.append(referenced.label("referenced"))
    rows = session.execute(select(*cols).where(inactive).order_by(Contact.id)).all()
    report.examined = len(rows)
    to_delete, to_anonymise = [], []
    for row in rows:
        if row.customer_since is not None:
            to_anonymise.append(row)
            report.anonymised.append(row.number)
        elif referenced is not None and row.referenced:
            to_anonymise.append(row)
            report.anonymised.append(row.number)
            report.kept_referenced.append(row.number)
        else:
            to_delete.append(row)
    if simulate:
        report.deleted = [r.number for r in to_delete]
        return report
    vetoed = []
    for i in range(0, len(to_delete), batch):
        for row in to_delete[i:i + batch]:
            contact = session.get(Contact, row.id)
            try:
                registry.call("contacts_contact_deleting", session=session, contact=contact)
            except ConflictError:
                vetoed.append(row)
                continue
            session.delete(contact)
            report.deleted.append(row.number)
        session.flush()
    for row in vetoed:
        report.anonymised.append(row.number)
        report.kept_referenced.append(row.number)
    _anonymise_ids(session, [r.id for r in to_anonymise + vetoed])
    return report
