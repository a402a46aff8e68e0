"""The host's fixtures (``coulisses.testing``), with an ``app`` that has this plugin enabled."""
import importlib.metadata

import pytest

pytest_plugins = ["coulisses.testing"]


def pytest_sessionstart(session):
    if not importlib.metadata.entry_points(group="coulisses.plugins", name="patrons"):
        pytest.exit("coulisses-patrons is not installed: run `pip install -e .` in examples/coulisses-patrons "
                    "(in the virtualenv where Coulisses is installed) first", returncode=4)


@pytest.fixture
def app(make_app):
    """An app with the patrons plugin enabled (``make_operator``, ``client_for`` … use this one)."""
    return make_app(["patrons"])


@pytest.fixture(autouse=True)
def _forget_contacts_registry():
    """The contacts registry an app installs at startup must not leak into the next test."""
    yield
