"""Pytest fixtures for Coulisses and its plugins: a pytest plugin integrators can use.

In a plugin's ``tests/conftest.py``::

    pytest_plugins = ["coulisses.testing"]

Then a test asks for what it needs:

- ``database_url``: a fresh, empty database for one test (an SQLite file; a PostgreSQL schema of its
  own when ``COULISSES_TEST_DATABASE_URL`` is set, e.g. ``postgresql+psycopg://postgres@127.0.0.1/test``);
- ``make_app(plugins=[...], **config)``: an app on that database with exactly those plugins (and their
  dependencies), their tables created from the models (``schema=False`` to skip);
- ``app``: the host alone; ``session``: a plain SQLAlchemy session on the test database;
- ``make_operator(login, roles=[...], permissions=[...])``: an operator whose password is ``PASSWORD``;
- ``client_for(login)``: a test client logged in as that operator; ``admin_client``: one logged in as
  an administrator; ``token_for(login)``: an API bearer token;
- ``register_plugin(obj)``: a throwaway plugin (an object with a ``MANIFEST``), always unregistered.

Helpers: ``login(client, login)``, ``csrf_token_of(html)``, ``create_schema(url, plugins)``,
``app_session(app)`` (a context manager yielding ``db.session`` inside the app context),
``assert_migrations_match_models(database_url, plugin)`` (the plugin's migrations create exactly its
models' schema), ``assert_plugin_conforms(app, plugin)`` (every rule of the host a plugin must keep).

``make_app`` and ``app`` are bound to ``database_url``: in one test, ``make_operator``,
``admin_client`` and ``client_for`` work on the app built by the ``app`` fixture; a test that builds its
own app with ``make_app`` should override ``app`` in its conftest (``def app(make_app): return
make_app(["myplugin"])``).
"""
from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses import plugins as cplugins
from coulisses import security

PG_URL = os.environ.get("COULISSES_TEST_DATABASE_URL")
PASSWORD = "correct horse battery"


def _worker_database(url: str | None, worker: str | None) -> str | None:
    """Under pytest-xdist each worker gets a database of its own, next to the one given (``test`` →
    ``test_gw0``), created empty when the worker starts: the tests' schemas live in one database per
    process, as in a serial run (database-wide objects such as the pg_trgm extension are created by the
    first test that needs them and dropped with its schema, which two processes sharing a database
    would race on)."""
    if not url or not worker:
        return url
    base = make_url(url)
    if base.database.endswith(f"_{worker}"):  # a subprocess of the worker (it inherits the worker's URL)
        return url
    name = f"{base.database}_{worker}"
    admin = cdb.make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(PG_URL, os.environ.get("PYTEST_XDIST_WORKER"))
if PG_URL:  # what the worker's subprocesses (a plugin's own test run, the CLI) must use too
    os.environ["COULISSES_TEST_DATABASE_URL"] = PG_URL


def pytest_report_header(config):
    return f"coulisses database: {'postgresql' if PG_URL else 'sqlite'}"


@pytest.fixture
def database_url(tmp_path):
    """A fresh, empty database for one test."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path}/coulisses.db"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = cdb.make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # Every connection of this test is named after its schema, so that teardown can find its leftovers.
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}",
                                              "application_name": f"coulisses-{schema}"})
    yield url.render_as_string(hide_password=False)
    leaked = _end_leftover_transactions(admin, f"coulisses-{schema}")
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    if leaked:
        pytest.fail("a connection was left idle in a transaction (it would block every later migration or "
                    "DDL): " + " | ".join(leaked), pytrace=False)


def _end_leftover_transactions(admin, application_name: str) -> list[str]:
    """Terminate this test's connections still inside a transaction; returns their last queries."""
    with admin.connect() as conn:
        rows = conn.execute(text(
            "SELECT pid, left(query, 200) FROM pg_stat_activity WHERE application_name = :name "
            "AND state IN ('idle in transaction', 'idle in transaction (aborted)')"), {"name": application_name}).all()
        for pid, _query in rows:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    return [query for _pid, query in rows]


@pytest.fixture
def is_postgres():
    return bool(PG_URL)


@pytest.fixture(autouse=True)
def no_process_wide_state():
    """What a command run in-process installs for the whole process (its plugin manager and its
    configuration) must not leak into the next test."""
    yield
    from coulisses.config import install_config
    from coulisses.registry import install_manager

    install_manager(None)
    install_config(None)


@pytest.fixture
def register_plugin():
    """Register throwaway plugins (objects with a MANIFEST); always unregistered after the test."""
    names = []

    def register(plugin):
        cplugins.register(plugin)
        names.append(plugin.MANIFEST.name)
        return plugin

    yield register
    for name in names:
        cplugins.unregister(name)


def create_schema(url: str, plugins: list[str]) -> list[str]:
    """Create the tables of the host and of ``plugins`` (with dependencies); returns the load order."""
    infos = cplugins.discover()
    order = cplugins.resolve(infos, plugins)
    engine = cdb.make_engine(url)
    cdb.metadata.create_all(engine, tables=cdb.tables_of(["core", *order]))
    engine.dispose()
    return order


@pytest.fixture
def make_app(database_url, tmp_path):
    """``make_app(plugins=[...], **config)``: an app on the test database with exactly those plugins."""
    from coulisses.web.app import create_app

    apps = []

    def factory(plugins=(), schema=True, **config):
        plugins = list(plugins)
        if schema:
            create_schema(database_url, plugins)
        cfg = {"ENV": "testing", "DATABASE_URL": database_url, "PLUGINS": ",".join(plugins),
               "INSTANCE_PATH": str(tmp_path / "instance"), "WTF_CSRF_ENABLED": True}
        cfg.update(config)
        app = create_app(cfg)
        apps.append(app)
        return app

    yield factory
    from coulisses.web.extensions import db

    for app in apps:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def app(make_app):
    """The host alone (no plugin)."""
    return make_app([])


@pytest.fixture
def session(database_url):
    """A plain SQLAlchemy session on the test database (service-layer tests)."""
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture
def make_operator(app):
    """``make_operator(login, roles=[...], permissions=[...])``: an operator with PASSWORD.

    ``permissions`` creates a dedicated role holding exactly those permissions.
    """
    from coulisses.web.extensions import db

    def factory(login="op", roles=("operator",), permissions=None, active=True):
        with app.app_context():
            op = security.create_operator(db.session, login, PASSWORD, login.title(), list(roles))
            if permissions is not None:
                role = security.Role(code=f"role_{login}", name=f"Role of {login}")
                role.permissions = [security.RolePermission(permission=p) for p in permissions]
                db.session.add(role)
                op.roles.append(role)
            op.active = active
            db.session.commit()
            return op.id

    return factory


def csrf_token_of(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client, login_name: str, password: str = PASSWORD):
    page = client.get("/login")
    token = csrf_token_of(page.get_data(as_text=True))
    return client.post("/login", data={"login": login_name, "password": password, "csrf_token": token})


@pytest.fixture
def admin_client(app, make_operator):
    """A test client logged in as an administrator."""
    make_operator("boss", roles=["administrator"])
    client = app.test_client()
    response = login(client, "boss")
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def token_for(app):
    """``token_for(login)`` → an API bearer token for an existing operator."""
    from coulisses.web.extensions import db

    def factory(login_name):
        with app.app_context():
            op = security.get_operator(db.session, login_name)
            token = security.issue_token(db.session, op, "test")
            db.session.commit()
            return token

    return factory


def assert_migrations_match_models(url: str, plugin: str) -> None:
    """Migrate an empty database (``url``, e.g. the ``database_url`` fixture) to the heads of the host,
    of ``plugin`` (``"core"`` for the host) and of what it depends on, then assert that ``plugin``'s
    models equal the migrated schema, naming each difference (a column added to a model without its
    migration)::

        def test_my_migrations_match_my_models(database_url):
            assert_migrations_match_models(database_url, "patrons")
    """
    from coulisses import PluginError, migrations, schema_check

    infos = cplugins.discover()
    order = cplugins.resolve(infos, [] if plugin == "core" else [plugin])
    engine = cdb.make_engine(url)
    try:
        with engine.begin() as conn:
            try:
                migrations.upgrade(conn, infos, order)
            except PluginError as exc:
                raise AssertionError(str(exc)) from None
        with engine.connect() as conn:
            differences = migrations.schema_differences(conn, [plugin])
    finally:
        engine.dispose()
    assert not differences, f"{plugin}: the migrated schema differs from the models:\n" + "\n".join(
        f"- {schema_check.describe_difference(d)}" for d in differences)


def assert_plugin_conforms(app, plugin: str, *, public=(), database_url: str | None = None,
                           api_prefixes=None) -> None:
    """Fail, listing every problem, when ``plugin`` (enabled in ``app``) breaks one of the host's rules:
    migrations equal models, permissions declared and used, every screen and route permission-checked
    and closed to anonymous visitors, endpoints under the plugin's prefix, hooks matching a
    specification, every message translated (``coulisses.conformance``)::

        def test_the_plugin_conforms(app):
            assert_plugin_conforms(app, "patrons")
    """
    from coulisses.conformance import assert_plugin_conforms as check

    check(app, plugin, public=public, database_url=database_url, api_prefixes=api_prefixes)


@contextmanager
def app_session(app):
    from coulisses.web.extensions import db

    with app.app_context():
        yield db.session


@pytest.fixture
def client_for(app):
    """``client_for(login)`` → a test client logged in as that (existing) operator."""

    def factory(login_name, password=PASSWORD):
        client = app.test_client()
        response = login(client, login_name, password)
        assert response.status_code == 302, f"{login_name} could not log in: {response.get_data(as_text=True)[:500]}"
        return client

    return factory


__all__ = [
    "PG_URL", "PASSWORD", "pytest_report_header", "database_url", "is_postgres", "register_plugin",
    "create_schema", "make_app", "app", "session", "make_operator", "csrf_token_of", "login",
    "admin_client", "client_for", "token_for", "app_session", "no_process_wide_state",
    "assert_migrations_match_models", "assert_plugin_conforms",
]
