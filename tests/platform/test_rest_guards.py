"""The REST base never answers 500 for bad input, and a duplicate or a stuck transaction gets a clear
answer: body size and nesting limits, control characters, integers beyond 64 bits, path parameters
out of range, 405 with Allow, Idempotency-Key bounds and concurrent duplicates, the lock timeout
("busy, try again") — on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from flask import current_app
from marshmallow import Schema
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from coulisses import ConflictError, NotFoundError, Permission
from coulisses import db as cdb
from coulisses.db import Base, lock_rows
from coulisses.web.schemas import Id, Int, SafeString
from tests.conftest import app_session
from tests.platform.conftest import make_plugin


class Stock(Base):
    __tablename__ = "tp_guard_stock"
    __plugin__ = "tp_guard"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    left: Mapped[int] = mapped_column(Integer)


class SellSchema(Schema):
    item = Id(required=True)
    quantity = Int(1, 10, load_default=1)
    note = SafeString(max_length=200, multiline=True, load_default="")


class StockSchema(Schema):
    item = Int()
    left = Int()


def _signal(name):
    callback = current_app.config.get(name)
    if callback is not None:
        callback()


def api_routes(api):
    from coulisses.web.extensions import db

    @api.route("/tp_guard/items/<int:item_id>/sell", methods=["POST"], permission="tp_guard.sell", body=SellSchema,
               response=StockSchema, status=201, idempotent=True, summary="Sell one item")
    def sell(item_id, body):
        _signal("TP_BEFORE_LOCK")
        item = lock_rows(db.session, select(Stock).where(Stock.id == item_id)).scalar()
        if item is None:
            raise NotFoundError(f"no item {item_id}")
        if item.left < body["quantity"]:
            raise ConflictError("sold out")
        item.left -= body["quantity"]
        db.session.flush()
        _signal("TP_AFTER_SALE")
        return {"item": item.id, "left": item.left}

    @api.route("/tp_guard/items/<int:item_id>", permission="tp_guard.sell", response=StockSchema,
               summary="One item")
    def get_item(item_id):
        item = db.session.get(Stock, item_id)
        if item is None:
            raise NotFoundError(f"no item {item_id}")
        return {"item": item.id, "left": item.left}

    @api.route("/tp_guard/labels/<label>", permission="tp_guard.sell", response=StockSchema, summary="By label")
    def by_label(label):
        item = db.session.scalar(select(Stock).where(Stock.label == label))
        if item is None:
            raise NotFoundError(f"no item {label}")
        return {"item": item.id, "left": item.left}


@pytest.fixture
def guard_app(make_app, register_plugin, make_operator):
    register_plugin(make_plugin("tp_guard", hooks={
        "coulisses_permissions": lambda: [Permission("tp_guard.sell", "Sell items", ("operator",))],
        "coulisses_api_routes": api_routes,
    }))
    app = make_app(plugins=["tp_guard"], LOCK_TIMEOUT=0.5)
    make_operator("seller", roles=["operator"])
    with app_session(app) as s:
        s.add_all([Stock(id=1, label="Programme", left=1), Stock(id=2, label="Affiche", left=5)])
        s.commit()
    return app


@pytest.fixture
def seller(guard_app, token_for):
    return {"Authorization": f"Bearer {token_for('seller')}"}


def left(app, item_id=1) -> int:
    with app_session(app) as s:
        return s.get(Stock, item_id).left


# --------------------------------------------------------------------------- bodies


def test_a_body_beyond_the_limit_is_a_json_413(make_app, register_plugin, make_operator, token_for):
    register_plugin(make_plugin("tp_guard", hooks={
        "coulisses_permissions": lambda: [Permission("tp_guard.sell", "Sell items", ("operator",))],
        "coulisses_api_routes": api_routes,
    }))
    app = make_app(plugins=["tp_guard"], MAX_BODY_BYTES=4096)
    make_operator("seller", roles=["operator"])
    headers = {"Authorization": f"Bearer {token_for('seller')}"}
    response = app.test_client().post("/api/v1/tp_guard/items/1/sell", headers=headers,
                                      json={"item": 1, "note": "x" * 5000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


def test_the_default_body_limit_is_one_mebibyte(guard_app, seller):
    response = guard_app.test_client().post("/api/v1/tp_guard/items/1/sell", headers=seller,
                                            json={"item": 1, "note": "x" * (1024 * 1024)})
    assert response.status_code == 413
    assert left(guard_app) == 1


def test_a_deeply_nested_document_is_a_422_not_a_recursion_error(guard_app, seller):
    client = guard_app.test_client()
    deep = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/tp_guard/items/1/sell", headers=seller, data=deep,
                           content_type="application/json")
    assert response.status_code == 422
    assert "_body" in response.get_json()["error"]["fields"]
    # 32 levels are fine for the parser (the schema then refuses the shape)
    nested = {"item": 1, "note": "", "x": [[[[1]]]]}
    assert client.post("/api/v1/tp_guard/items/1/sell", headers=seller, json=nested).status_code == 422


@pytest.mark.parametrize("body, field", [
    ('{"item": 1, "note": "a\\u0000b"}', "note"),
    ('{"item": 1, "note": "\\ud800"}', "note"),
    ('{"item": 1, "note": "bell\\u0007"}', "note"),
    ('{"item": 1, "extra": {"deep": ["ok", "\\u001b[31m"]}}', "extra.deep.1"),
    ('{"item": 1, "k\\u0000": 1}', "k\ufffd"),
    ('{"item": 9223372036854775808}', "item"),
    ('{"item": 1, "quantity": 1e400}', "quantity"),
])
def test_control_characters_lone_surrogates_and_huge_numbers_are_refused_naming_the_field(guard_app, seller, body,
                                                                                         field):
    response = guard_app.test_client().post("/api/v1/tp_guard/items/1/sell", headers=seller, data=body,
                                            content_type="application/json")
    assert response.status_code == 422, response.get_data(as_text=True)
    fields = response.get_json()["error"]["fields"]
    assert any(name == field or name.startswith(field) for name in fields), fields
    assert left(guard_app) == 1


def test_nan_is_not_json(guard_app, seller):
    response = guard_app.test_client().post("/api/v1/tp_guard/items/1/sell", headers=seller,
                                            data='{"item": 1, "quantity": NaN}', content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("quantity, accepted", [(1, True), (1.5, False), (1.0, False), ("1", False), (True, False),
                                                (11, False), (0, False)])
def test_quantities_are_whole_numbers_within_their_range(guard_app, seller, quantity, accepted):
    response = guard_app.test_client().post("/api/v1/tp_guard/items/2/sell", headers=seller,
                                            json={"item": 2, "quantity": quantity})
    assert response.status_code == (201 if accepted else 422), response.get_data(as_text=True)
    if not accepted:
        assert "quantity" in response.get_json()["error"]["fields"]
    assert left(guard_app, 2) == (4 if accepted else 5)


def test_a_tab_is_text_in_a_multiline_field(guard_app, seller):
    response = guard_app.test_client().post("/api/v1/tp_guard/items/2/sell", headers=seller,
                                            json={"item": 2, "note": "line 1\n\tline 2\r\n"})
    assert response.status_code == 201


# --------------------------------------------------------------------------- path, query, methods


@pytest.mark.parametrize("path", ["/api/v1/tp_guard/items/9223372036854775808",
                                  "/api/v1/tp_guard/items/99999999999999999999999",
                                  f"/api/v1/tp_guard/items/{2**31}"])
def test_a_path_integer_beyond_its_range_is_a_422_naming_it(guard_app, seller, path):
    response = guard_app.test_client().get(path, headers=seller)
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["item_id"]


def test_a_path_integer_within_its_range_that_names_nothing_is_a_404(guard_app, seller):
    # a row id fits 32 bits (``<int:…_id>``); a number people read (``<int:number>``), 53
    response = guard_app.test_client().get(f"/api/v1/tp_guard/items/{2**31 - 1}", headers=seller)
    assert response.status_code == 404


def test_a_text_path_parameter_with_a_control_character_is_a_422(guard_app, seller):
    client = guard_app.test_client()
    assert client.get("/api/v1/tp_guard/labels/Pro%00gramme", headers=seller).status_code == 422
    assert client.get("/api/v1/tp_guard/labels/" + "x" * 201, headers=seller).status_code == 422
    assert client.get("/api/v1/tp_guard/labels/Affiche", headers=seller).get_json() == {"item": 2, "left": 5}


def test_a_wrong_method_is_a_405_with_allow_and_a_json_body(guard_app, seller):
    response = guard_app.test_client().delete("/api/v1/tp_guard/items/1", headers=seller)
    assert response.status_code == 405
    assert response.is_json and response.get_json()["error"]["code"] == "method_not_allowed"
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "HEAD", "OPTIONS"}


# --------------------------------------------------------------------------- idempotency


def test_an_idempotency_key_longer_than_its_maximum_is_a_422_naming_the_header(guard_app, seller):
    client = guard_app.test_client()
    long_key = "k" * 201
    for _ in range(2):
        response = client.post("/api/v1/tp_guard/items/2/sell", headers={**seller, "Idempotency-Key": long_key},
                               json={"item": 2})
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    assert left(guard_app, 2) == 5
    longest = "k" * 200
    first = client.post("/api/v1/tp_guard/items/2/sell", headers={**seller, "Idempotency-Key": longest},
                        json={"item": 2})
    again = client.post("/api/v1/tp_guard/items/2/sell", headers={**seller, "Idempotency-Key": longest},
                        json={"item": 2})
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert left(guard_app, 2) == 4
    for bad in ("", "caf\u00e9", "a\tb"):
        response = client.post("/api/v1/tp_guard/items/2/sell", headers={**seller, "Idempotency-Key": bad},
                               json={"item": 2})
        assert response.status_code == 422, bad


def run_together(app, seller, key, item_id):
    """Two identical requests with one Idempotency-Key: A sells and waits until B has passed the
    replay check and entered the view; then A commits while B waits for the lock A holds."""
    a_sold, b_entered = threading.Event(), threading.Event()

    def before_lock():
        if threading.current_thread().name == "B":
            b_entered.set()

    def after_sale():
        if threading.current_thread().name == "A":
            a_sold.set()
            assert b_entered.wait(10)

    app.config.update(TP_BEFORE_LOCK=before_lock, TP_AFTER_SALE=after_sale, )
    answers = {}

    def send(name):
        answers[name] = app.test_client().post(f"/api/v1/tp_guard/items/{item_id}/sell", json={"item": item_id},
                                               headers={**seller, "Idempotency-Key": key})

    a = threading.Thread(target=send, args=("A",), name="A")
    a.start()
    assert a_sold.wait(10)
    b = threading.Thread(target=send, args=("B",), name="B")
    b.start()
    a.join(20)
    b.join(20)
    return answers["A"], answers["B"]


def test_a_concurrent_duplicate_that_meets_the_conflict_the_first_caused_gets_the_replay(make_app, register_plugin,
                                                                                        make_operator, token_for):
    register_plugin(make_plugin("tp_guard", hooks={
        "coulisses_permissions": lambda: [Permission("tp_guard.sell", "Sell items", ("operator",))],
        "coulisses_api_routes": api_routes,
    }))
    app = make_app(plugins=["tp_guard"])  # the default lock timeout: B waits for A's commit
    make_operator("seller", roles=["operator"])
    seller = {"Authorization": f"Bearer {token_for('seller')}"}
    with app_session(app) as s:
        s.add_all([Stock(id=1, label="Programme", left=1), Stock(id=2, label="Affiche", left=5)])
        s.commit()

    # the last item: B finds it sold out (409 without the replay)
    first, duplicate = run_together(app, seller, "last-one", 1)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert duplicate.status_code == 201, duplicate.get_json()
    assert duplicate.headers["Idempotent-Replayed"] == "true"
    assert duplicate.get_json() == first.get_json() == {"item": 1, "left": 0}
    assert left(app, 1) == 0
    # enough items: B sells again, then meets A's stored key, and its own sale is rolled back
    first, duplicate = run_together(app, seller, "plenty", 2)
    assert (first.status_code, duplicate.status_code) == (201, 201)
    assert duplicate.headers["Idempotent-Replayed"] == "true" and duplicate.get_json() == {"item": 2, "left": 4}
    assert left(app, 2) == 4


# --------------------------------------------------------------------------- lock timeout


@pytest.fixture
def held_lock(guard_app, database_url):
    """A second connection holding the lock on item 1 (PostgreSQL: FOR UPDATE; SQLite: the write lock)."""
    engine = cdb.make_engine(database_url)
    session = Session(engine)
    lock_rows(session, select(Stock).where(Stock.id == 1)).scalar()
    yield session
    session.rollback()
    session.close()
    engine.dispose()


def test_a_stuck_transaction_answers_busy_try_again_with_retry_after(guard_app, seller, held_lock):
    client = guard_app.test_client()
    response = client.post("/api/v1/tp_guard/items/1/sell", json={"item": 1},
                           headers={**seller, "Idempotency-Key": "k1", "Accept-Language": "en"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"] == {
        "code": "busy", "message": "Another operation is changing the same data: try again in a moment."}
    response = client.post("/api/v1/tp_guard/items/1/sell", json={"item": 1},
                           headers={**seller, "Idempotency-Key": "k1", "Accept-Language": "es"})
    assert response.status_code == 503 and "vuelva a intentarlo" in response.get_json()["error"]["message"]
    held_lock.rollback()  # the other operator finishes
    response = client.post("/api/v1/tp_guard/items/1/sell", headers={**seller, "Idempotency-Key": "k1"},
                           json={"item": 1})
    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert left(guard_app) == 0


def test_the_lock_timeout_is_configured_and_checked(make_app):
    from coulisses.web.app import ConfigError, load_config

    assert load_config({"ENV": "testing"})["LOCK_TIMEOUT"] == 5.0
    assert load_config({"ENV": "testing", "LOCK_TIMEOUT": "2.5"})["LOCK_TIMEOUT"] == 2.5
    with pytest.raises(ConfigError, match="COULISSES_LOCK_TIMEOUT"):
        load_config({"ENV": "testing", "LOCK_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="COULISSES_MAX_BODY_BYTES"):
        load_config({"ENV": "testing", "MAX_BODY_BYTES": "-1"})


def test_the_service_layer_gets_busy_error_too(guard_app, database_url, held_lock):
    from coulisses import BusyError

    engine = cdb.make_engine(database_url, lock_timeout=0.2)
    with Session(engine) as other, pytest.raises(BusyError):
        lock_rows(other, select(Stock).where(Stock.id == 1)).scalar()
    engine.dispose()
