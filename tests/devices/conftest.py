"""Fixtures of the devices plugin's tests: an app with the devices plugin, simulators (TCP and
pseudo-terminal), devices configured on them, and a service-layer session."""
from __future__ import annotations

import pytest

from coulisses.db import Actor, acting_as
from tests.conftest import app_session, create_schema


@pytest.fixture
def app(make_app):
    return make_app(["devices"])


@pytest.fixture
def db(database_url, session):
    """A service-layer session on a database with the host's and the devices plugin's tables, the
    devices plugin's manager installed (its registry, the outbox's job types)."""
    from coulisses import plugins as cplugins
    from coulisses.registry import use_manager

    create_schema(database_url, ["devices"])
    infos = cplugins.discover()
    pm = cplugins.build_manager(infos, cplugins.resolve(infos, ["devices"]))
    with use_manager(pm), acting_as(Actor(operator_id=None, login="test")):
        yield session


@pytest.fixture
def sims():
    """Start simulators for one test; every one is stopped at the end."""
    started = []

    def start(cls, **kw):
        sim = cls(**kw).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def make_device(session, **kw):
    from plugins.devices.services import config

    data = {"location_code": "Guichet", "name": "Imprimante", "kind": "receipt_printer", "driver": "escpos",
            "via": "agent", "url": "socket://127.0.0.1:9", "role": "principal"}
    data.update(kw)
    device = config.create_device(session, data)
    session.commit()
    return device


__all__ = ["app_session", "make_device"]
