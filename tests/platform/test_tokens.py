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


# --------------------------------------------------------------------------- the token cache


def _token_reads(app, client, headers, path="/api/v1/openapi.json"):
    """The answer's status and how many statements read the token table while answering."""
    reads = []
    with app.app_context():
        from coulisses.web.extensions import db

        engine = db.engine

    def count(conn, cursor, statement, *args):
        if "core_api_token" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        status = client.get(path, headers=headers).status_code
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return status, len(reads)


def test_a_token_is_looked_up_once_then_served_from_the_process_cache(app, make_operator, token_for):
    make_operator("reader", roles=["readonly"])
    headers = {"Authorization": f"Bearer {token_for('reader')}"}
    client = app.test_client()
    assert _token_reads(app, client, headers) == (200, 1)
    assert _token_reads(app, client, headers) == (200, 0)
    # a bearer GET leaves no session cookie behind
    assert "Set-Cookie" not in client.get("/api/v1/openapi.json", headers=headers).headers


def test_a_revoked_token_is_refused_at_once_although_its_lookup_was_cached(app, make_operator, token_for):
    make_operator("reader", roles=["readonly"])
    headers = {"Authorization": f"Bearer {token_for('reader')}"}
    client = app.test_client()
    assert _token_reads(app, client, headers) == (200, 1)
    assert _token_reads(app, client, headers) == (200, 0)  # cached
    with app_session(app) as s:
        security.revoke_tokens(s, security.get_operator(s, "reader"))
        s.commit()
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 401


def test_a_deactivated_operator_or_a_role_taken_away_takes_effect_at_once(app, make_operator, token_for):
    make_operator("chef", roles=["supervisor"])
    make_operator("reader", roles=["readonly"])
    chef = {"Authorization": f"Bearer {token_for('chef')}"}
    reader = {"Authorization": f"Bearer {token_for('reader')}"}
    client = app.test_client()
    assert client.get("/api/v1/openapi.json", headers=reader).status_code == 200
    assert client.get("/api/v1/openapi.json", headers=chef).status_code == 200
    with app_session(app) as s:  # the roles changed: the cached permissions go
        op = security.get_operator(s, "reader")
        op.roles = []
        s.commit()
    assert client.get("/api/v1/openapi.json", headers=reader).status_code == 403
    with app_session(app) as s:  # deactivated with the ORM as the administration screen does it
        security.set_active(s, security.get_operator(s, "chef"), False)
        s.commit()
    assert client.get("/api/v1/openapi.json", headers=chef).status_code == 401


def test_a_bulk_update_empties_the_cache_too(app, make_operator, token_for):
    make_operator("reader", roles=["readonly"])
    headers = {"Authorization": f"Bearer {token_for('reader')}"}
    client = app.test_client()
    assert _token_reads(app, client, headers) == (200, 1)
    with app_session(app) as s:
        s.execute(update(security.Operator).where(security.Operator.login == "reader").values(active=False))
        s.commit()
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 401


def test_a_lookup_read_before_a_change_committed_is_not_kept(app, make_operator, token_for):
    """A request that began its transaction before a revocation was committed must not put what it
    read into the cache (else the revoked token would be served from the cache until it expires)."""
    make_operator("reader", roles=["readonly"])
    token = token_for("reader")
    with app_session(app) as slow:
        slow.scalar(select(security.Operator.id).limit(1))  # its transaction has begun
        with app_session(app) as s:
            security.revoke_tokens(s, security.get_operator(s, "reader"))
            s.commit()
        security.identity_for_token(slow, token)
        key = security._cache_key(slow, security._token_hash(token))
        assert security.token_cache.get(key) is None
    client = app.test_client()
    assert client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_the_cache_can_be_turned_off(make_app, make_operator, token_for):
    app = make_app([], TOKEN_CACHE_SECONDS=0)
    make_operator("reader", roles=["readonly"])
    headers = {"Authorization": f"Bearer {token_for('reader')}"}
    client = app.test_client()
    assert _token_reads(app, client, headers) == (200, 1)
    assert _token_reads(app, client, headers) == (200, 1)
