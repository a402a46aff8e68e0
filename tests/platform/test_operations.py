"""Operations (issue 15): defaults that must not hurt, the reverse proxy, the configuration file."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token_of, login  # noqa: F401
from tests.platform.conftest import make_plugin
from tests.platform.test_cli import upgraded  # noqa: F401 - fixture

STRONG_KEY = "3f9c1e7a5b2d4c6e8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d"

# --------------------------------------------------------------------------- demo load


@pytest.fixture
def demo_plugin(register_plugin):
    loaded = []
    register_plugin(make_plugin("tp_demo", hooks={
        "coulisses_demo_data": lambda session, size: loaded.append(size)}))
    return loaded


def test_demo_load_is_refused_on_a_production_instance_unless_forced(cli, upgraded, demo_plugin):  # noqa: F811
    assert cli("plugins", "enable", "tp_demo").exit_code == 0
    refused = cli("demo", "load", env={"COULISSES_ENV": "production"})
    assert refused.exit_code == 1
    assert "COULISSES_ENV=production" in refused.output and "--force" in refused.output
    assert "Traceback" not in refused.output
    assert demo_plugin == []
    forced = cli("demo", "load", "--force", env={"COULISSES_ENV": "production"})
    assert forced.exit_code == 0, forced.output
    assert demo_plugin == ["normal"]


def test_demo_load_never_goes_into_a_database_with_real_data(cli, upgraded, demo_plugin, monkeypatch):  # noqa: F811
    from coulisses import demo

    monkeypatch.setattr(demo, "REAL_DATA_TABLES", ("core_operator",))  # a table the host alone has
    assert cli("plugins", "enable", "tp_demo").exit_code == 0
    assert cli("operators", "create", "marie", "--password", PASSWORD).exit_code == 0
    for args in (("demo", "load"), ("demo", "load", "--force")):
        refused = cli(*args)
        assert refused.exit_code == 1, refused.output
        assert "données réelles (core_operator)" in refused.output
    assert demo_plugin == []


def test_demo_load_again_on_a_demo_database_is_allowed(cli, upgraded, demo_plugin, monkeypatch):  # noqa: F811
    from coulisses import demo

    monkeypatch.setattr(demo, "REAL_DATA_TABLES", ("core_operator",))
    assert cli("plugins", "enable", "tp_demo").exit_code == 0
    assert cli("demo", "load", "--size", "small").exit_code == 0
    assert cli("operators", "create", "marie", "--password", PASSWORD).exit_code == 0  # demo records
    result = cli("demo", "load")
    assert result.exit_code == 0, result.output  # the marker says: a demo database
    assert demo_plugin == ["small"]


def test_the_real_data_tables_exist_in_the_plugins():
    """The guard names tables the built-in plugins really have (a renamed table would disable it)."""
    from coulisses.db import Base
    from coulisses import demo
    import plugins.contacts.models  # noqa: F401
    import plugins.sales.models  # noqa: F401

    assert set(demo.REAL_DATA_TABLES) <= set(Base.metadata.tables)


# --------------------------------------------------------------------------- secret key


@pytest.mark.parametrize("key", ["x", "a" * 64, "changeme", "abc123" * 3, "0123456789abcdef0123456789abcde"])
def test_a_weak_secret_key_is_refused_in_production(make_app, key):
    from coulisses.web.app import ConfigError

    with pytest.raises(ConfigError) as excinfo:
        make_app(ENV="production", SECRET_KEY=key)
    message = str(excinfo.value)
    assert "COULISSES_SECRET_KEY" in message and "\n" not in message
    assert "secrets.token_hex(32)" in message


def test_a_strong_secret_key_is_accepted_and_development_is_not_checked(make_app):
    assert make_app(ENV="production", SECRET_KEY=STRONG_KEY).secret_key == STRONG_KEY
    assert make_app(ENV="development", SECRET_KEY="x", schema=False).secret_key == "x"


def test_a_weak_secret_key_stops_the_server_command_but_not_the_database_commands(cli):
    env = {"COULISSES_ENV": "production", "COULISSES_SECRET_KEY": "short"}
    assert cli("db", "upgrade", env=env).exit_code == 0  # signs nothing
    result = cli("routes", env=env)
    assert result.exit_code == 1
    assert "COULISSES_SECRET_KEY est trop courte (5 caractères, 32 au moins)" in result.output
    assert "Traceback" not in result.output
