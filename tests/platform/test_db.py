"""The data layer: Money, UTC datetimes, naming convention, audit, row locking, gapless numbers.
Everything here runs on SQLite and on PostgreSQL."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, String, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses import db as cdb
from coulisses import security
from coulisses.db import Actor, AuditMixin, Base, Money, UTCDateTime, acting_as


class Purse(Base):
    __tablename__ = "testing_purse"
    __plugin__ = "testing"
    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    when: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Note(AuditMixin, Base):
    __tablename__ = "testing_note"
    __plugin__ = "testing"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(80))


class Counter(Base):
    __tablename__ = "testing_counter"
    __plugin__ = "testing"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


TEST_TABLES = [Purse.__table__, Note.__table__, Counter.__table__]


@pytest.fixture
def engine(database_url):
    engine = cdb.make_engine(database_url)
    cdb.metadata.create_all(engine, tables=cdb.tables_of(["core"]) + TEST_TABLES)
    yield engine
    engine.dispose()


# --------------------------------------------------------------------------- money

cents = st.integers(min_value=-(10**17), max_value=10**17)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minor=cents)
def test_money_round_trip_is_exact(engine, minor):
    amount = Decimal(minor).scaleb(-2)
    with Session(engine) as s:
        purse = Purse(amount=amount)
        s.add(purse)
        s.commit()
        pid = purse.id
    with Session(engine) as s:
        back = s.get(Purse, pid).amount
        raw = s.execute(text("SELECT amount FROM testing_purse WHERE id = :id"), {"id": pid}).scalar()
    assert back == amount
    assert isinstance(back, Decimal)
    assert back.as_tuple().exponent == -2  # always shown with its cents
    assert raw == minor and isinstance(raw, int)  # integer minor units in the database


def test_money_reads_back_with_two_places_and_compares_in_queries(engine):
    with Session(engine) as s:
        s.add_all([Purse(amount=Decimal("2420")), Purse(amount=12), Purse(amount="0.10"), Purse(amount=None)])
        s.commit()
        assert [str(a) for a in s.scalars(select(Purse.amount).order_by(Purse.id))] == [
            "2420.00", "12.00", "0.10", "None"]
        assert s.scalar(select(Purse.id).where(Purse.amount == Decimal("0.1"))) == 3
        assert s.scalar(select(Purse.id).where(Purse.amount > Decimal("100"))) == 1


def test_money_refuses_float(engine):
    with pytest.raises(TypeError, match="never a float"):
        cdb.to_money(12.5)
    with Session(engine) as s:
        s.add(Purse(amount=12.5))
        with pytest.raises(StatementError) as excinfo:
            s.flush()
        assert isinstance(excinfo.value.orig, TypeError)
        s.rollback()
        assert s.scalar(select(Purse.id)) is None


def test_money_refuses_more_decimal_places_than_the_currency(engine):
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        cdb.to_money(Decimal("1.005"))
    with pytest.raises(ValueError, match="not an amount"):
        cdb.to_money("12,50")
    with Session(engine) as s:
        s.add(Purse(amount=Decimal("19.999")))
        with pytest.raises(StatementError) as excinfo:
            s.flush()
        assert isinstance(excinfo.value.orig, ValueError)
    assert cdb.to_money(Decimal("1.50")) == Decimal("1.50")
    assert cdb.to_money(Decimal("1.500")) == Decimal("1.50")  # trailing zero is not a third place


# --------------------------------------------------------------------------- time


def test_utc_datetime_returns_aware_utc(engine):
    paris = datetime(2015, 9, 28, 17, 3, 0, tzinfo=ZoneInfo("Europe/Paris"))
    with Session(engine) as s:
        s.add(Purse(when=paris))
        s.commit()
    with Session(engine) as s:
        back = s.scalar(select(Purse.when))
    assert back == paris
    assert back.utcoffset() == timedelta(0)
    assert (back.hour, back.minute) == (15, 3)


def test_utc_datetime_refuses_naive(engine):
    with Session(engine) as s:
        s.add(Purse(when=datetime(2015, 9, 28, 17, 3)))
        with pytest.raises(StatementError) as excinfo:
            s.flush()
        assert isinstance(excinfo.value.orig, ValueError)
        assert "naive" in str(excinfo.value.orig)


# --------------------------------------------------------------------------- naming


def test_constraint_names_follow_the_convention(engine):
    insp = inspect(engine)
    assert insp.get_pk_constraint("core_api_token")["name"] == "pk_core_api_token"
    assert [fk["name"] for fk in insp.get_foreign_keys("core_api_token")] == [
        "fk_core_api_token_operator_id_core_operator"]
    assert "uq_core_api_token_token_hash" in [u["name"] for u in insp.get_unique_constraints("core_api_token")]
    assert "ix_core_api_token_operator_id" in [i["name"] for i in insp.get_indexes("core_api_token")]
    assert "uq_core_idempotency_key_operator_id_key" in [
        u["name"] for u in insp.get_unique_constraints("core_idempotency_key")]


def test_builtin_plugin_tables_are_tagged_and_named_by_convention():
    from coulisses import plugins as cplugins
    from tests.platform.test_packaging import builtin_plugin_names

    infos = cplugins.discover()  # imports each plugin's models
    for name in builtin_plugin_names():
        assert infos[name].error is None, infos[name].error
        for table in cdb.tables_of([name]):
            assert table.info["plugin"] == name
            assert table.name.startswith(f"{name}_")
            assert table.primary_key.name == f"pk_{table.name}"
            for fk in table.foreign_key_constraints:
                assert fk.name.startswith(f"fk_{table.name}_"), fk.name
    for table in cdb.metadata.tables.values():
        assert table.info.get("plugin"), table.name
    assert Purse.__table__.info["plugin"] == "testing"
    assert security.Operator.__table__.info["plugin"] == "core"


# --------------------------------------------------------------------------- audit


def test_audit_fields_come_from_the_actor(engine):
    with Session(engine) as s:
        marie = security.create_operator(s, "marie", "correct horse battery")
        paul = security.create_operator(s, "paul", "correct horse battery")
        s.commit()
        marie_id, paul_id = marie.id, paul.id
    before = datetime.now(timezone.utc)
    with acting_as(Actor(marie_id, "marie")), Session(engine) as s:
        note = Note(text="Appeler le client")
        s.add(note)
        s.commit()
        nid = note.id
    with Session(engine) as s:
        note = s.get(Note, nid)
        assert (note.created_by_id, note.updated_by_id) == (marie_id, marie_id)
        assert before - timedelta(seconds=1) <= note.created_at <= datetime.now(timezone.utc)
        created_at = note.created_at
    time.sleep(0.01)
    with acting_as(Actor(paul_id, "paul")), Session(engine) as s:
        s.get(Note, nid).text = "Client rappelé"
        s.commit()
    with Session(engine) as s:
        note = s.get(Note, nid)
        assert note.created_by_id == marie_id
        assert note.updated_by_id == paul_id
        assert note.created_at == created_at
        assert note.updated_at > created_at
    # outside any actor (a script): nobody, not the last one
    with Session(engine) as s:
        s.add(Note(text="Import"))
        s.commit()
        assert s.scalar(select(Note.created_by_id).where(Note.text == "Import")) is None
    assert cdb.current_actor() == Actor()


# --------------------------------------------------------------------------- locking


def test_lock_rows_makes_a_second_transaction_wait_for_the_first(engine):
    with Session(engine) as s:
        s.add(Counter(id=1, value=1))
        s.commit()
    locked = threading.Event()
    seen = {}
    hold = 0.5

    def first():
        with Session(engine) as s:
            row = cdb.lock_rows(s, select(Counter).where(Counter.id == 1)).scalar_one()
            locked.set()
            time.sleep(hold)
            row.value = row.value + 1
            seen["first_commits"] = time.monotonic()
            s.commit()

    def second():
        assert locked.wait(5)
        with Session(engine) as s:
            row = cdb.lock_rows(s, select(Counter).where(Counter.id == 1)).scalar_one()
            seen["second_reads"] = time.monotonic()
            seen["value"] = row.value
            row.value = row.value + 1
            s.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen["second_reads"] >= seen["first_commits"], "the second transaction did not wait for the lock"
    assert seen["value"] == 2, "the second transaction did not see the first one's commit"
    with Session(engine) as s:
        assert s.get(Counter, 1).value == 3  # no lost update


# --------------------------------------------------------------------------- gapless numbers


def test_two_hundred_concurrent_takers_get_consecutive_numbers(engine):
    def take(_):
        with Session(engine) as s:
            number = cdb.next_number(s, "testing.order")
            s.commit()
            return number

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(take, range(200)))
    assert sorted(numbers) == list(range(1, 201))
    with Session(engine) as s:
        assert cdb.peek_number(s, "testing.order") == 201


def test_a_rolled_back_take_gives_the_number_back(engine):
    with Session(engine) as s:
        assert cdb.next_number(s, "testing.invoice", start=1000) == 1000
        s.commit()
        assert cdb.next_number(s, "testing.invoice") == 1001
        s.rollback()
        assert cdb.next_number(s, "testing.invoice") == 1001
        assert cdb.next_number(s, "testing.invoice") == 1002
        s.commit()
        assert cdb.next_number(s, "testing.other") == 1  # counters are independent
        s.commit()


def test_sequence_floor_after_an_import(engine):
    with Session(engine) as s:
        cdb.set_sequence_floor(s, "testing.contact", 5000)
        s.commit()
        assert cdb.next_number(s, "testing.contact") == 5000
        cdb.set_sequence_floor(s, "testing.contact", 10)  # never goes back
        assert cdb.next_number(s, "testing.contact") == 5001
        s.commit()


def test_sqlite_is_opened_with_wal_and_foreign_keys(engine, is_postgres):
    if is_postgres:
        assert engine.dialect.driver == "psycopg"
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_clock_dates_records_within_its_block_only():
    from datetime import datetime, timezone

    past = datetime(2015, 9, 28, 15, 3, tzinfo=timezone.utc)
    with cdb.clock(lambda: past):
        assert cdb.utcnow() == past
    assert cdb.utcnow() > past


def test_begin_write_takes_the_sqlite_lock_once_per_transaction(session, is_postgres):
    from sqlalchemy import event as sa_event

    cdb.metadata.create_all(session.get_bind(), tables=cdb.tables_of(["core"]))
    statements = []

    def seen(conn, cursor, statement, *args):
        if "core_write_lock" in statement:
            statements.append(statement)

    engine = session.get_bind()
    sa_event.listen(engine, "before_cursor_execute", seen)
    try:
        cdb.begin_write(session)
        cdb.begin_write(session)
        cdb.next_number(session, "test.once")
        session.commit()
        cdb.begin_write(session)  # a new transaction takes it again
        session.rollback()
    finally:
        sa_event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == (0 if is_postgres else 2)


@pytest.mark.parametrize("text, amount", [("1 500,50", "1500.50"), ("1500.50", "1500.50"), ("1\u202f500,50 €", "1500.50"),
                                          ("12", "12.00"), ("", None), ("  ", None), ("-3,5", "-3.50")])
def test_parse_money_reads_amounts_as_people_type_them(text, amount):
    from coulisses.db import parse_money

    assert parse_money(text) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize("text", ["1,500.50", "12,345", "abc", "1e3", "NaN", "Infinity", "--1"])
def test_parse_money_refuses_what_is_not_an_exact_amount(text):
    from coulisses.db import parse_money

    with pytest.raises(ValueError):
        parse_money(text)
