"""Fixtures shared by every test: a database per test (SQLite file, or a PostgreSQL schema when
COULISSES_TEST_DATABASE_URL is set), an app with exactly the plugins a test needs, operators,
logged-in clients, bearer-token clients, throwaway plugins that are always unregistered.

They live in ``coulisses.testing`` so that plugin authors use the same ones
(``pytest_plugins = ["coulisses.testing"]``); importing them here makes them this suite's fixtures,
and keeps ``from tests.conftest import login, PASSWORD`` working.
"""
from __future__ import annotations

from coulisses.testing import *  # noqa: F401,F403 - the fixtures and helpers, see coulisses.testing
from coulisses.testing import (  # noqa: F401 - named for `from tests.conftest import ...`
    PASSWORD,
    PG_URL,
    app_session,
    create_schema,
    csrf_token_of,
    login,
)
