"""Bulk writing of contacts with SQLAlchemy Core (the importer, the demo data, the benchmark).

The ORM is bypassed for speed, so what the mapper events do is done here: the normalised search
columns (``normalize.search_columns``), the audit columns and the defaults. Everything runs inside
the caller's transaction:

- ``take_numbers(session, count)``: a block of contact numbers from the gapless sequence
  (``contacts.contact``) — one locked update for the whole block, given back if the transaction
  rolls back, never reused once committed;
- ``reserve_ids(session, table, count)``: primary keys taken before the insert, so that addresses
  and links can be inserted with their contact's id without a ``RETURNING`` round trip (PostgreSQL:
  from the column's own sequence; SQLite: above ``max(id)`` under the write lock);
- ``insert_contacts(session, rows)``: contacts (and their main address) in one executemany each.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any, Iterable

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from coulisses.db import Sequence, begin_write, current_actor, ensure_sequence, utcnow

from plugins.contacts.models import Address, Contact, ContactLink
from plugins.contacts.services.normalize import normalize, normalize_email, phonetic_fr, sort_key

SEQUENCE = "contacts.contact"

CONTACT_DEFAULTS: dict[str, Any] = {
    "number": None, "type_code": "individual", "kind": "individual", "role": "public", "civility": None,
    "last_name": "", "first_name": "", "structure_name": "", "birth_date": None, "function": None,
    "language": "fr", "email": None, "mobile_phone": None, "phone": None, "fax": None, "valid": True,
    "invalid_reason": None, "customer_since": None, "last_purchase_at": None, "anonymised_at": None,
    "administrative_number": None, "reference_code": None, "iban": None, "ambassador": False,
}
ADDRESS_DEFAULTS: dict[str, Any] = {
    "usage": "main", "line1": "", "line2": "", "line3": "", "postal_code": "", "city": "", "country": "FR",
    "department": None, "region": None,
}


def take_numbers(session: Session, count: int) -> int:
    """Take ``count`` consecutive contact numbers; returns the first. The sequence row stays locked
    until the transaction ends (gapless: a rollback gives the block back)."""
    if count <= 0:
        raise ValueError("count must be positive")
    begin_write(session)
    stmt = (update(Sequence).where(Sequence.name == SEQUENCE)
            .values(next_value=Sequence.next_value + count).returning(Sequence.next_value))
    value = session.execute(stmt).scalar()
    if value is None:
        ensure_sequence(session, SEQUENCE, 1)
        value = session.execute(stmt).scalar()
    return int(value) - count


def reserve_ids(session: Session, table, count: int) -> list[int]:
    """``count`` primary keys for ``table`` that nobody else will use."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count})
        return [int(r[0]) for r in rows]
    begin_write(session)
    top = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar()
    return list(range(int(top) + 1, int(top) + 1 + count))


@lru_cache(maxsize=200_000)
def name_columns(kind: str, name: str) -> tuple[str, str, str]:
    """``(search_last, phonetic_name, sort_last)`` of a last name / structure name (cached: names repeat)."""
    return normalize(name), phonetic_fr(name)[:60], sort_key(name)


@lru_cache(maxsize=50_000)
def first_name_columns(first_name: str) -> tuple[str, str]:
    """``(search_first, sort_first)`` of a first name."""
    return normalize(first_name), sort_key(first_name)


def search_values(kind: str, last_name: str, first_name: str, structure_name: str,
                  email: str | None) -> dict[str, Any]:
    """The same values as ``normalize.search_columns`` (a test keeps them equal), with caches."""
    name = structure_name if kind == "structure" else last_name
    search_last, phonetic, sort_last = name_columns(kind, name or "")
    search_first, sort_first = first_name_columns(first_name or "") if kind != "structure" else ("", "")
    return {"search_last": search_last, "search_first": search_first,
            "search_email": normalize_email(email), "phonetic_name": phonetic,
            "sort_last": sort_last, "sort_first": sort_first}


def insert_contacts(session: Session, rows: list[dict[str, Any]], *, now: datetime | None = None,
                    operator_id: int | None = ..., address_key: str = "address") -> list[int]:
    """Insert contacts (dicts of ``Contact`` columns, ``number`` required; ``extra`` optional) and,
    when ``row[address_key]`` is a dict, their main address. Returns the new ids, in order.
    ``row["search"]``, when there, is ``search_values`` of the row, computed beforehand."""
    if not rows:
        return []
    now = now or utcnow()
    if operator_id is ...:
        operator_id = current_actor().operator_id
    ids = reserve_ids(session, Contact.__table__, len(rows))
    audit = {"created_at": now, "updated_at": now, "created_by_id": operator_id, "updated_by_id": operator_id}
    contacts, addresses = [], []
    for contact_id, row in zip(ids, rows):
        values = {**CONTACT_DEFAULTS, **{k: v for k, v in row.items() if k in CONTACT_DEFAULTS}}
        if values["number"] is None:
            raise ValueError("insert_contacts: every row needs its number")
        values.update(row.get("search") or search_values(values["kind"], values["last_name"], values["first_name"],
                                                         values["structure_name"], values["email"]))
        values.update(audit)
        values["id"] = contact_id
        values["extra"] = row.get("extra") or {}
        contacts.append(values)
        address = row.get(address_key)
        if address:
            a = {**ADDRESS_DEFAULTS, **{k: v for k, v in address.items() if k in ADDRESS_DEFAULTS}}
            a.update(audit)
            a["contact_id"] = contact_id
            a["search_city"] = _city(a["city"])
            addresses.append(a)
    executemany(session, Contact.__table__, contacts)
    if addresses:
        executemany(session, Address.__table__, addresses)
    return ids


def executemany(session: Session, table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` many rows (dicts with the same keys) with the driver's own ``executemany``.

    SQLAlchemy's per-row parameter processing costs more than the insert itself at a million rows;
    here each column's bind processor (dates and booleans on SQLite, JSON…) is applied only where
    the column has one, and computed once for values shared by every row (the audit columns).
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    keys = list(rows[0])
    if dialect.name == "postgresql":
        _copy(conn, table, keys, rows)
        return
    sql = str(insert(table).compile(dialect=dialect, column_keys=keys))
    positional = dialect.positional
    if positional:
        # compiled positional statements list their parameters in order
        compiled = insert(table).compile(dialect=dialect, column_keys=keys)
        keys = list(compiled.positiontup)
        sql = str(compiled)
    processors = []
    first = rows[0]
    for key in keys:
        proc = table.c[key].type._cached_bind_processor(dialect)
        if proc is None:
            continue
        shared = all(row[key] is first[key] for row in rows[:50]) and key in _SHARED_COLUMNS
        processors.append((key, proc, shared, proc(first[key]) if shared and first[key] is not None else None))
    if positional:
        getter = itemgetter(*keys) if len(keys) > 1 else (lambda row, k=keys[0]: (row[k],))
        where = [(keys.index(key), proc, shared, value) for key, proc, shared, value in processors]
        out = []
        for row in rows:
            values = getter(row)
            if where:
                values = list(values)
                for i, proc, shared, value in where:
                    if shared:
                        values[i] = value
                    elif values[i] is not None:
                        values[i] = proc(values[i])
                values = tuple(values)
            out.append(values)
        conn.exec_driver_sql(sql, out)
        return
    out = []
    for row in rows:
        if processors:
            row = dict(row)
            for key, proc, shared, value in processors:
                if shared:
                    row[key] = value
                elif row[key] is not None:
                    row[key] = proc(row[key])
        out.append(row)
    conn.exec_driver_sql(sql, out)


def _copy(conn, table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY … FROM STDIN`` (psycopg 3), an order of magnitude faster than INSERTs."""
    import json

    from sqlalchemy import JSON

    json_at = [i for i, k in enumerate(keys) if isinstance(table.c[k].type, JSON)]
    getter = itemgetter(*keys) if len(keys) > 1 else (lambda row, k=keys[0]: (row[k],))
    cursor = conn.connection.driver_connection.cursor()
    columns = ", ".join(f'"{k}"' for k in keys)
    with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = getter(row)
            if json_at:
                values = list(values)
                for i in json_at:
                    values[i] = json.dumps(values[i])
            copy.write_row(values)


_SHARED_COLUMNS = {"created_at", "updated_at", "created_by_id", "updated_by_id"}


@lru_cache(maxsize=50_000)
def _city(city: str) -> str:
    return normalize(city)


def insert_links(session: Session, links: Iterable[tuple[int, str, int]], *, now: datetime | None = None) -> int:
    """Insert links ``(from_id, kind, to_id)`` as they are (the caller validated them; roles are the
    caller's to set)."""
    now = now or utcnow()
    operator_id = current_actor().operator_id
    rows = [{"from_contact_id": a, "kind": kind, "to_contact_id": b, "start_date": None, "end_date": None,
             "comment": None, "created_at": now, "updated_at": now, "created_by_id": operator_id,
             "updated_by_id": operator_id} for a, kind, b in links]
    if rows:
        session.execute(insert(ContactLink.__table__), rows)
    return len(rows)
