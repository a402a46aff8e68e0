"""API tokens: the last use is recorded, but reading the API does not write on every request."""
from datetime import timedelta

from sqlalchemy import event, select, update

from coulisses import security
from tests.conftest import app_session


def _last_used(app):
    with app_session(app) as s:
        return s.scalar(select(security.ApiToken.last_used_at))


def test_last_use_is_recorded_at_most_once_a_minute(app, make_operator, token_for):
    make_operator("reader", roles=["readonly"])
    token = token_for("reader")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    first = _last_used(app)
    assert first is not None

    writes = []
    with app.app_context():
        from coulisses.web.extensions import db

        engine = db.engine

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert writes == []  # a second read within the minute writes nothing
    assert _last_used(app) == first

    with app_session(app) as s:  # a minute later, the use is recorded again
        s.execute(update(security.ApiToken).values(last_used_at=first - timedelta(minutes=2)))
        s.commit()
    client.get("/api/v1/openapi.json", headers=headers)
    assert _last_used(app) > first - timedelta(minutes=2)
