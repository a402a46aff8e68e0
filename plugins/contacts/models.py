"""The contacts plugin's tables (all prefixed ``contacts_``).

Search columns
--------------
``Contact.search_last`` / ``search_first`` / ``search_email`` hold the names and the e-mail
normalised by ``plugins.contacts.services.normalize.normalize``: accents removed (unidecode),
lower case, every run of non-alphanumeric characters (hyphen, apostrophe, comma…) turned into one
space. ``search_last`` is the individual's last name or the structure's name. They are filled
automatically on every ORM insert/update (mapper events below); code that inserts rows with Core
(the importer) computes them with ``normalize.search_columns(...)``.

Indexes for the quick search (1,000,000 rows, SQLite and PostgreSQL)
--------------------------------------------------------------------
- ``ix_contacts_contact_search_name`` on ``(search_last, search_first)``: prefix search is a range
  ``search_last >= 'dup' AND search_last < 'duq'`` (never ``LIKE``, whose index use depends on the
  collation and the database), so both databases walk the btree; "Dupont, j" adds
  ``search_first >= 'j' AND search_first < 'k'`` on the same index; results come out already sorted
  by ``(search_last, search_first, id)`` (the index ends with ``id``, so ``LIMIT`` stops early).
  On PostgreSQL the search columns use the "C" collation, so ranges and order are byte order as on
  SQLite, whatever the database's locale.
- ``ix_contacts_contact_search_first`` on ``(search_first, search_last)``: "celine" finds first names.
- ``ix_contacts_contact_search_email`` on ``search_email``: e-mail prefix search.
- ``ix_contacts_contact_sort_name`` on ``(sort_last, sort_first, number)``: the display order of
  every contact list (``normalize.sort_key``: accents and case ignored, a space before a hyphen,
  "DUPONT SADIER" before "DUPONT-ROUGIER"). A last-name prefix without a separator ("dup") is the
  same range on ``sort_last`` as on ``search_last``, so the quick search walks this index in
  display order and stops at ``LIMIT``.
- ``uq_contacts_contact_number``: the contact number (exact).
- ``*`` wildcards ("*pont" = contains "pont", since completion adds an implicit trailing ``*``):
  on PostgreSQL a GIN trigram index ``ix_contacts_contact_search_last_trgm`` (extension ``pg_trgm``,
  a trusted extension since PostgreSQL 13, created by the migration and by ``create_all``) serves
  ``search_last LIKE '%pont%'`` (on SQLite the same index is declared empty, ``WHERE 0``). On SQLite the
  wildcard uses the FTS5 trigram table ``contacts_contact_trigram`` (``TRIGRAM_TABLE`` below, kept in
  sync by triggers, created by the migration contacts_0004) for a run of 3 characters or more.
- ``search_name``, ``search_first`` and ``search_email`` end with ``valid``: a quick search's probe
  and capped count read the index alone; on PostgreSQL ``sort_name`` includes ``id`` and ``valid``
  (index-only walks of the display order).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from coulisses.db import AuditMixin, Base, UTCDateTime, utcnow
from coulisses.i18n import _l, local_time

KINDS = ("individual", "structure")

# Link kinds: (from kind, to kind). "A child_of B": A is the child, B the parent.
LINK_KINDS = {
    "child_of": ("individual", "individual"),
    "relay_of": ("individual", "structure"),
    "member_of": ("individual", "structure"),
    "subsidiary_of": ("structure", "structure"),
}

ROLES = ("public", "child", "relay", "member", "subsidiary")
ADDRESS_USAGES = ("main", "delivery", "billing")
CONSENT_CHANNELS = ("email", "sms", "post", "phone")
DUPLICATE_STATUSES = ("open", "merged", "false_positive")

# What a person reads for each code (lazy: translated when shown, in the reader's language).
KIND_LABELS = {"individual": _l("Individuel"), "structure": _l("Structure")}
ROLE_LABELS = {"public": _l("Public"), "child": _l("Enfant"), "relay": _l("Relais"), "member": _l("Membre"),
               "subsidiary": _l("Filiale")}
STATUS_LABELS = {"customer": _l("Client"), "prospect": _l("Prospect")}
ADDRESS_USAGE_LABELS = {"main": _l("Principale"), "delivery": _l("Livraison"), "billing": _l("Facturation")}
CONSENT_CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("SMS"), "post": _l("Courrier"), "phone": _l("Téléphone")}
DUPLICATE_STATUS_LABELS = {"open": _l("À traiter"), "merged": _l("Fusionnée"), "false_positive": _l("Faux doublon")}


TRIGRAM_INDEX = "ix_contacts_contact_search_last_trgm"


def _search_string(length: int):
    """A normalised (ASCII) search column: byte order on PostgreSQL whatever the database's
    collation, so that range queries and ``ORDER BY`` agree with SQLite's."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


def display_name_of(kind: str, structure_name: str, last_name: str, first_name: str) -> str:
    """``Contact.display_name`` from the columns (for the lists that read columns, not objects)."""
    if kind == "structure":
        return structure_name
    if first_name:
        return f"{last_name}, {first_name}"
    return last_name


class Contact(AuditMixin, Base):
    """A contact: an individual (natural person) or a structure (legal person), of a registered type."""

    __tablename__ = "contacts_contact"
    __table_args__ = (
        # ``valid`` closes each search index: a quick search's probe and its capped count read the
        # index alone (contacts_0004)
        Index("ix_contacts_contact_search_name", "search_last", "search_first", "id", "valid"),
        Index("ix_contacts_contact_search_first", "search_first", "search_last", "id", "valid"),
        Index("ix_contacts_contact_search_email", "search_email", "valid"),
        # PostgreSQL: ``id`` and ``valid`` included, so that walking the display order and testing
        # the names reads the index alone (an index-only scan; SQLite's index holds the rowid and
        # reads the table only for the rows that pass)
        Index("ix_contacts_contact_sort_name", "sort_last", "sort_first", "number",
              postgresql_include=["id", "valid"]),
        Index("ix_contacts_contact_phonetic", "phonetic_name"),
        Index("ix_contacts_contact_type", "type_code"),
        Index("ix_contacts_contact_mobile", "mobile_phone"),
        Index("ix_contacts_contact_phone", "phone"),
        Index("ix_contacts_contact_reference", "reference_code"),
        Index("ix_contacts_contact_admin_number", "administrative_number"),
        # PostgreSQL: the trigram index of '*' wildcard searches, created by create_trigram_index()
        # (the operator class is qualified with pg_trgm's schema, wherever it was installed).
        # SQLite has no trigram index: there it is an empty partial index (WHERE 0), so that the
        # declared schema is the same on both.
        Index(
            TRIGRAM_INDEX,
            "search_last",
            postgresql_using="gin",
            postgresql_ops={"search_last": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ).ddl_if(callable_=lambda ddl, target, bind, **kw: bind.dialect.name != "postgresql"),
        CheckConstraint("kind IN ('individual', 'structure')", name="kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    type_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(12))
    role: Mapped[str] = mapped_column(String(12), default="public")

    civility: Mapped[str | None] = mapped_column(String(12), nullable=True)
    last_name: Mapped[str] = mapped_column(String(120), default="")
    first_name: Mapped[str] = mapped_column(String(120), default="")
    structure_name: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    function: Mapped[str | None] = mapped_column(String(120), nullable=True)
    language: Mapped[str] = mapped_column(String(5), default="fr")

    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    mobile_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164
    fax: Mapped[str | None] = mapped_column(String(20), nullable=True)  # E.164

    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    invalid_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None: prospect
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    administrative_number: Mapped[str | None] = mapped_column(String(40), nullable=True)  # SIRET…
    reference_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    iban: Mapped[str | None] = mapped_column(String(34), nullable=True)  # compact, upper case
    ambassador: Mapped[bool] = mapped_column(Boolean, default=False)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # fields of the contact's type

    # Filled from the columns above by the mapper events at the end of this module.
    search_last: Mapped[str] = mapped_column(_search_string(200), default="")
    search_first: Mapped[str] = mapped_column(_search_string(120), default="")
    search_email: Mapped[str | None] = mapped_column(_search_string(254), nullable=True)
    phonetic_name: Mapped[str] = mapped_column(String(60), default="")
    # The display order (``normalize.sort_key``: a space before a hyphen, "DUPONT SADIER" before
    # "DUPONT-ROUGIER"): every list and search result of contacts is ordered by
    # ``(sort_last, sort_first, number)``.
    sort_last: Mapped[str] = mapped_column(_search_string(200), default="")
    sort_first: Mapped[str] = mapped_column(_search_string(120), default="")

    addresses: Mapped[list["Address"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True,
        order_by="Address.id")
    internet_account: Mapped["InternetAccount | None"] = relationship(
        back_populates="contact", cascade="all, delete-orphan", passive_deletes=True, uselist=False)

    # ------------------------------------------------------------------ derived

    @property
    def is_customer(self) -> bool:
        return self.customer_since is not None

    @property
    def status(self) -> str:
        """``customer`` or ``prospect``."""
        return "customer" if self.customer_since is not None else "prospect"

    @property
    def display_name(self) -> str:
        """``SHAPIRA, Michel`` for an individual, the name for a structure."""
        return display_name_of(self.kind, self.structure_name, self.last_name, self.first_name)

    @property
    def main_address(self) -> "Address | None":
        for address in self.addresses:
            if address.usage == "main":
                return address
        return None

    def age(self, today: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        today = today or local_time(utcnow()).date()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def __str__(self) -> str:
        return f"{self.display_name} [{self.number}]"


class ContactLink(AuditMixin, Base):
    """A typed, dated link ``from_contact --kind--> to_contact`` (see ``LINK_KINDS``).

    ``child_of``: individual → its parent individual; ``relay_of`` / ``member_of``: individual →
    structure; ``subsidiary_of``: structure → its parent structure. Seen from the other side it
    reads "has child", "has relay", "has member", "has subsidiary".
    """

    __tablename__ = "contacts_link"
    __table_args__ = (
        Index("ix_contacts_link_from", "from_contact_id", "kind"),
        Index("ix_contacts_link_to", "to_contact_id", "kind"),
        CheckConstraint("from_contact_id <> to_contact_id", name="not_self"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    to_contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    comment: Mapped[str | None] = mapped_column(String(200), nullable=True)

    from_contact: Mapped[Contact] = relationship(foreign_keys=[from_contact_id])
    to_contact: Mapped[Contact] = relationship(foreign_keys=[to_contact_id])

    def is_active(self, on: date | None = None) -> bool:
        on = on or local_time(utcnow()).date()
        return (self.start_date is None or self.start_date <= on) and (self.end_date is None or on <= self.end_date)


class Address(AuditMixin, Base):
    """An entry of the contact's address book: one ``main`` address, any delivery/billing ones."""

    __tablename__ = "contacts_address"
    __table_args__ = (
        Index("ix_contacts_address_contact", "contact_id", "usage"),
        Index("ix_contacts_address_postal_code", "postal_code"),
        Index("ix_contacts_address_city", "search_city"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    usage: Mapped[str] = mapped_column(String(12), default="main")
    line1: Mapped[str] = mapped_column(String(200), default="")
    line2: Mapped[str] = mapped_column(String(200), default="")
    line3: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="FR")  # ISO 3166-1 alpha-2
    department: Mapped[str | None] = mapped_column(String(80), nullable=True)
    region: Mapped[str | None] = mapped_column(String(80), nullable=True)
    search_city: Mapped[str] = mapped_column(String(120), default="")  # normalised city

    contact: Mapped[Contact] = relationship(back_populates="addresses")

    @property
    def street_lines(self) -> list[str]:
        return [line for line in (self.line1, self.line2, self.line3) if line]


class InternetAccount(AuditMixin, Base):
    """A customer's login to the ticket shop (not an operator). ``updated_at``/``updated_by_id`` of
    the audit mixin are the seed's "last update date / operator of the account"."""

    __tablename__ = "contacts_internet_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_contact.id", ondelete="CASCADE"), unique=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    contact: Mapped[Contact] = relationship(back_populates="internet_account")


class Criterion(AuditMixin, Base):
    """A manual classification value defined by the organisation, grouped in lists; each applies to
    individuals, structures or both (``applies_to``)."""

    __tablename__ = "contacts_criterion"
    __table_args__ = (CheckConstraint("applies_to IN ('individual', 'structure', 'both')", name="applies_to"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(120), default="")  # the list it belongs to
    applies_to: Mapped[str] = mapped_column(String(12), default="both")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    def __str__(self) -> str:
        return self.label


class ContactCriterion(Base):
    __tablename__ = "contacts_contact_criterion"
    __table_args__ = (Index("ix_contacts_contact_criterion_criterion", "criterion_id"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_contact.id", ondelete="CASCADE"), primary_key=True)
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_criterion.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)

    criterion: Mapped[Criterion] = relationship(lazy="joined")


class Note(AuditMixin, Base):
    """A free note on the contact, dated and signed by the operator (audit columns)."""

    __tablename__ = "contacts_note"
    __table_args__ = (Index("ix_contacts_note_contact", "contact_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)


class PreferredSeat(AuditMixin, Base):
    """The seat the contact prefers (to place them in a season ticket, for example)."""

    __tablename__ = "contacts_preferred_seat"
    __table_args__ = (Index("ix_contacts_preferred_seat_contact", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    venue: Mapped[str] = mapped_column(String(120), default="")
    area: Mapped[str] = mapped_column(String(80), default="")  # block / floor / section
    row: Mapped[str] = mapped_column(String(20), default="")
    seat: Mapped[str] = mapped_column(String(20), default="")
    comment: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Consent(AuditMixin, Base):
    """The contact's opt-in (or opt-out) for one communication channel (Marketing tab)."""

    __tablename__ = "contacts_consent"
    __table_args__ = (UniqueConstraint("contact_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(12))  # email | sms | post | phone
    opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(60), default="")  # box office, web, import…


class MarketingAlert(AuditMixin, Base):
    """An advantage reserved for the contact (the sheet's "Alertes marketing" table): type, offer,
    internal ticketing information, recipients, availability."""

    __tablename__ = "contacts_marketing_alert"
    __table_args__ = (Index("ix_contacts_marketing_alert_contact", "contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(80), default="")  # "Grand public"
    offer: Mapped[str] = mapped_column(String(200), default="")
    internal_info: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[str] = mapped_column(String(200), default="")
    availability: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IndicatorValue(Base):
    """The last computed value of one indicator for one contact, and its level."""

    __tablename__ = "contacts_indicator_value"
    __table_args__ = (
        UniqueConstraint("contact_id", "code"),
        Index("ix_contacts_indicator_value_code_level", "code", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    value_text: Mapped[str | None] = mapped_column(String(60), nullable=True)  # a decimal, as text
    level: Mapped[str] = mapped_column(String(40), default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def value(self) -> Decimal | None:
        if self.value_text is None:
            return None
        try:
            return Decimal(self.value_text)
        except InvalidOperation:
            return None


class TicketingSend(Base):
    """One entry of "Liste des envois billetterie": an e-mail, an SMS, a campaign sent to the contact."""

    __tablename__ = "contacts_ticketing_send"
    __table_args__ = (Index("ix_contacts_ticketing_send_contact", "contact_id", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))  # email | sms | post | campaign
    subject: Mapped[str] = mapped_column(String(200), default="")
    campaign: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="sent")
    reference: Mapped[str] = mapped_column(String(120), default="")
    source: Mapped[str] = mapped_column(String(40), default="")  # the plugin that sent it
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)


class DuplicatePair(Base):
    """Two contacts that look like the same person (``contact_a_id < contact_b_id``)."""

    __tablename__ = "contacts_duplicate_pair"
    __table_args__ = (
        UniqueConstraint("contact_a_id", "contact_b_id"),
        Index("ix_contacts_duplicate_pair_status", "status"),
        Index("ix_contacts_duplicate_pair_b", "contact_b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_a_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    contact_b_id: Mapped[int] = mapped_column(ForeignKey("contacts_contact.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(300), default="")
    score: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_operator.id", ondelete="SET NULL"), nullable=True)

    contact_a: Mapped[Contact] = relationship(foreign_keys=[contact_a_id])
    contact_b: Mapped[Contact] = relationship(foreign_keys=[contact_b_id])


class MergeLog(AuditMixin, Base):
    """The audit trail of a merge: which contact was merged into which head, the field choices, a
    snapshot of the merged contact and the references moved (per table)."""

    __tablename__ = "contacts_merge_log"
    __table_args__ = (Index("ix_contacts_merge_log_head", "head_contact_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    head_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_contact.id", ondelete="SET NULL"), nullable=True)
    head_number: Mapped[int] = mapped_column(BigInteger)
    merged_number: Mapped[int] = mapped_column(BigInteger)
    choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --------------------------------------------------------------------------- search columns


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _contact_search_columns(mapper, connection, target: Contact) -> None:
    from plugins.contacts.services.normalize import search_columns

    for key, value in search_columns(target.kind, target.last_name, target.first_name,
                                     target.structure_name, target.email).items():
        if getattr(target, key) != value:
            setattr(target, key, value)


@event.listens_for(Address, "before_insert")
@event.listens_for(Address, "before_update")
def _address_search_columns(mapper, connection, target: Address) -> None:
    from plugins.contacts.services.normalize import normalize

    target.search_city = normalize(target.city)


def create_trigram_index(connection) -> None:
    """PostgreSQL: install pg_trgm if needed (a trusted extension since PostgreSQL 13, so the
    database owner may) and create the trigram index on ``search_last`` with the operator class
    qualified by the extension's schema (so it works whatever the ``search_path``)."""
    connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema = connection.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'").scalar()
    connection.exec_driver_sql(
        f'CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON contacts_contact '
        f'USING gin (search_last "{schema}".gin_trgm_ops)')


# SQLite: the trigram table of '*' wildcard searches, an FTS5 table (``tokenize='trigram'``) over
# ``contacts_contact.search_last`` with the contacts table as its content (no copy of the names),
# kept in sync by triggers on every insert, update of the name and delete, whatever writes the row
# (the ORM, the importer's Core inserts, a merge, a purge, SQL by hand). ``rebuild`` fills it again
# from the contacts table (the migration contacts_0004 does it once).
# A later migration that rebuilds ``contacts_contact`` with ``batch_alter_table`` (SQLite copies the
# table, which drops its triggers) must call ``create_trigram_search`` again.
TRIGRAM_TABLE = "contacts_contact_trigram"
TRIGRAM_TRIGGERS = {
    "contacts_contact_trigram_insert": (
        "AFTER INSERT ON contacts_contact BEGIN "
        f"INSERT INTO {TRIGRAM_TABLE} (rowid, search_last) VALUES (new.id, new.search_last); END"),
    "contacts_contact_trigram_delete": (
        "AFTER DELETE ON contacts_contact BEGIN "
        f"INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}, rowid, search_last) "
        "VALUES ('delete', old.id, old.search_last); END"),
    "contacts_contact_trigram_update": (
        "AFTER UPDATE OF search_last ON contacts_contact BEGIN "
        f"INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}, rowid, search_last) "
        "VALUES ('delete', old.id, old.search_last); "
        f"INSERT INTO {TRIGRAM_TABLE} (rowid, search_last) VALUES (new.id, new.search_last); END"),
}
# The tables SQLite makes for it: not in the models, left out of the schema comparison.
Base.metadata.info.setdefault("unmanaged_tables", set()).update(
    {TRIGRAM_TABLE, *(f"{TRIGRAM_TABLE}_{part}" for part in ("data", "idx", "docsize", "config", "content"))})


def trigram_table():
    """The trigram table as a Core selectable (``rowid``, ``search_last``)."""
    from sqlalchemy import column, table

    return table(TRIGRAM_TABLE, column("rowid", Integer), column("search_last", String))


def create_trigram_search(connection, rebuild: bool = False) -> None:
    """SQLite: create the trigram table and its triggers if missing; ``rebuild``: fill it again
    from ``contacts_contact`` (every contact's ``search_last``)."""
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TRIGRAM_TABLE} USING fts5(search_last, "
        "content='contacts_contact', content_rowid='id', tokenize='trigram')")
    for name, body in TRIGRAM_TRIGGERS.items():
        connection.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    if rebuild:
        rebuild_trigram_search(connection)


def rebuild_trigram_search(connection) -> None:
    """SQLite: fill the trigram table again from the contacts table (after a bulk load that went
    around the triggers, or to repair it); elsewhere nothing."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}) VALUES ('rebuild')")


def drop_trigram_search(connection) -> None:
    for name in TRIGRAM_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {TRIGRAM_TABLE}")


@event.listens_for(Contact.__table__, "after_create")
def _after_create_contact(target, connection, **kw) -> None:
    if connection.dialect.name == "postgresql":
        create_trigram_index(connection)
    elif connection.dialect.name == "sqlite":
        create_trigram_search(connection)


@event.listens_for(Contact.__table__, "before_drop")
def _before_drop_contact(target, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        drop_trigram_search(connection)


class RetiredNumber(Base):
    """The number of a deleted contact: never given to anyone again (an import with explicit
    numbers is refused it). Numbers the counter jumped over were never given out and stay free."""

    __tablename__ = "contacts_retired_number"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(Session, "before_flush")
def _retire_deleted_numbers(session, flush_context, instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, Contact) and obj.number is not None:
            session.add(RetiredNumber(number=obj.number))
