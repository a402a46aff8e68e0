"""Fixtures of the contacts plugin's tests: an app with the contacts plugin, a service-layer session
on a schema holding the contacts tables, API clients by role, contact factories."""
from __future__ import annotations

import pytest

from coulisses.db import Actor, acting_as
from tests.conftest import create_schema


@pytest.fixture
def app(make_app):
    return make_app(["contacts"])


@pytest.fixture
def db(database_url, session):
    """A service-layer session on a database holding the host's and the contacts plugin's tables."""
    create_schema(database_url, ["contacts"])
    return session


@pytest.fixture
def operator_id(db):
    """An operator row to act as (audit columns), without the web app."""
    from coulisses import security

    security.sync_roles_and_permissions(db, {})
    op = security.create_operator(db, "guichet1", "correct horse battery", "Guichet 1", ["operator"])
    db.commit()
    with acting_as(Actor(operator_id=op.id, login=op.login)):
        yield op.id


@pytest.fixture
def person(db):
    """``person(last, first, postal_code="75012", **more)``: a quick-created individual."""
    from plugins.contacts.services.contacts import create_quick

    def make(last_name, first_name, postal_code="75012", city="PARIS", country="FR", civility="M", **more):
        return create_quick(db, {"civility": civility, "last_name": last_name, "first_name": first_name,
                                 "country": country, "postal_code": postal_code, "city": city, **more})

    return make


@pytest.fixture
def structure(db):
    from plugins.contacts.services.contacts import create_contact

    def make(name, postal_code="75005", city="PARIS", country="FR", type_code="structure", **more):
        return create_contact(db, {"type_code": type_code, "structure_name": name, **more},
                              address={"country": country, "postal_code": postal_code, "city": city})

    return make


@pytest.fixture
def api(app, make_operator, token_for):
    """``api(role="operator")`` → a test client whose requests carry a bearer token of an operator
    with that role: ``api().get("/api/v1/contacts?q=dup")``."""
    made = {}

    def factory(role="operator"):
        if role not in made:
            login = f"api_{role}"
            make_operator(login, roles=[role])
            made[role] = token_for(login)
        token = made[role]
        client = app.test_client()

        class Client:
            def _call(self, method, url, **kw):
                headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
                return getattr(client, method)(url, headers=headers, **kw)

            def get(self, url, **kw):
                return self._call("get", url, **kw)

            def post(self, url, **kw):
                return self._call("post", url, **kw)

            def patch(self, url, **kw):
                return self._call("patch", url, **kw)

            def put(self, url, **kw):
                return self._call("put", url, **kw)

            def delete(self, url, **kw):
                return self._call("delete", url, **kw)

        return Client()

    return factory
