"""The enabled set lives in the database (core_plugin), seeded from the configuration the first
time; disabling is refused while a dependant is enabled, and never drops data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import PluginError
from coulisses import db as cdb
from coulisses import plugins as cplugins
from tests.conftest import PASSWORD, login
from tests.platform.conftest import make_plugin


@pytest.fixture
def graph(register_plugin):
    register_plugin(make_plugin("tp_base", version="1.2"))
    register_plugin(make_plugin("tp_top", depends=["tp_base"]))
    register_plugin(make_plugin("tp_loner"))
    return cplugins.discover()


@pytest.fixture
def core_session(database_url):
    engine = cdb.make_engine(database_url)
    cdb.metadata.create_all(engine, tables=cdb.tables_of(["core"]))
    with Session(engine) as s:
        yield s
    engine.dispose()


def enabled_in_db(session) -> dict[str, str]:
    session.expire_all()
    return {row.name: row.state for row in session.scalars(select(cplugins.PluginState))}


def test_record_enabled_records_the_plugin_and_its_dependencies(graph, core_session):
    before = datetime.now(timezone.utc)
    changed = cplugins.record_enabled(core_session, graph, ["tp_top"], by="cli:ops")
    core_session.commit()
    assert changed == ["tp_base", "tp_top"]
    rows = {r.name: r for r in core_session.scalars(select(cplugins.PluginState))}
    assert set(rows) == {"tp_base", "tp_top"}
    assert rows["tp_base"].version == "1.2"
    assert rows["tp_base"].state == "enabled"
    assert rows["tp_top"].changed_by == "cli:ops"
    assert before - timedelta(seconds=1) <= rows["tp_top"].changed_at <= datetime.now(timezone.utc)
    # enabling again changes nothing
    assert cplugins.record_enabled(core_session, graph, ["tp_top"], by="cli:ops") == []


def test_disabling_is_refused_while_a_dependant_is_enabled(graph, core_session):
    cplugins.record_enabled(core_session, graph, ["tp_top", "tp_loner"], by="t")
    core_session.commit()
    with pytest.raises(PluginError) as excinfo:
        cplugins.record_disabled(core_session, graph, "tp_base", by="t")
    assert str(excinfo.value) == "plugin « tp_base » : ne peut pas être désactivé : « tp_top » en dépend(ent)"
    core_session.rollback()
    assert enabled_in_db(core_session) == {"tp_base": "enabled", "tp_top": "enabled", "tp_loner": "enabled"}
    # once the dependant is disabled, it can go
    cplugins.record_disabled(core_session, graph, "tp_top", by="t")
    cplugins.record_disabled(core_session, graph, "tp_base", by="t")
    core_session.commit()
    assert enabled_in_db(core_session) == {"tp_base": "disabled", "tp_top": "disabled", "tp_loner": "enabled"}
    with pytest.raises(PluginError, match="« tp_base » : n'est pas activé"):
        cplugins.record_disabled(core_session, graph, "tp_base", by="t")
    # re-enabling the dependant brings its dependency back
    assert cplugins.record_enabled(core_session, graph, ["tp_top"], by="t") == ["tp_base", "tp_top"]


def test_the_configuration_seeds_the_set_only_the_first_time(graph, make_app, database_url):
    app = make_app(plugins=["tp_top"])  # nothing recorded yet: the PLUGINS setting decides
    assert app.extensions["coulisses"].order == ["tp_base", "tp_top"]
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        cplugins.record_enabled(s, graph, ["tp_loner"], by="t")
        s.commit()
    engine.dispose()
    # now the database decides, whatever the configuration says
    app = make_app(plugins=["tp_top"], schema=False)
    assert app.extensions["coulisses"].order == ["tp_loner"]


def test_coulisses_plugins_seeds_the_recorded_set_at_the_first_upgrade(graph, cli, database_url):
    result = cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_top, tp_loner"})
    assert result.exit_code == 0, result.output
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        assert enabled_in_db(s) == {"tp_base": "enabled", "tp_top": "enabled", "tp_loner": "enabled"}
        # a later upgrade with another seed keeps the recorded set
        assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_base"}).exit_code == 0
        assert enabled_in_db(s) == {"tp_base": "enabled", "tp_top": "enabled", "tp_loner": "enabled"}
    engine.dispose()


def test_disabling_keeps_the_data_and_reenabling_finds_it(keep_plugin, cli, make_app, database_url):
    from tp_keep.models import KeptItem

    assert cli("db", "upgrade", env={"COULISSES_PLUGINS": "tp_keep"}).exit_code == 0
    assert cli("operators", "create", "boss", "--role", "administrator", "--password", PASSWORD).exit_code == 0
    engine = cdb.make_engine(database_url)
    with Session(engine) as s:
        s.add_all([KeptItem(label="Première"), KeptItem(label="Seconde")])
        s.commit()

    def list_page(client):
        return client.get("/admin/tp_keep_item/")

    app = make_app(plugins=[], schema=False)
    assert app.extensions["coulisses"].order == ["tp_base", "tp_keep"]
    client = app.test_client()
    login(client, "boss")
    page = list_page(client).get_data(as_text=True)
    assert "Première" in page and "Seconde" in page

    result = cli("plugins", "disable", "tp_keep")
    assert result.exit_code == 0, result.output
    assert "ses données sont conservées" in result.output
    app = make_app(plugins=[], schema=False)
    assert app.extensions["coulisses"].order == ["tp_base"]
    client = app.test_client()
    login(client, "boss")
    assert list_page(client).status_code == 404
    with Session(engine) as s:
        assert sorted(s.scalars(select(KeptItem.label))) == ["Première", "Seconde"]

    result = cli("plugins", "enable", "tp_keep")
    assert result.exit_code == 0, result.output
    app = make_app(plugins=[], schema=False)
    assert app.extensions["coulisses"].order == ["tp_base", "tp_keep"]
    client = app.test_client()
    login(client, "boss")
    page = list_page(client).get_data(as_text=True)
    assert "Première" in page and "Seconde" in page
    engine.dispose()


def test_without_a_seed_the_first_set_is_the_builtin_plugins(tmp_path, monkeypatch):
    """No COULISSES_PLUGINS: every built-in plugin, not a third-party one that happens to be installed."""
    from tests.platform.test_packaging import builtin_plugin_names

    site = tmp_path / "site"
    info = site / "third_party-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: third-party\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[coulisses.plugins]\ntp_third = tp_third_mod\n")
    (site / "tp_third_mod.py").write_text(
        "import coulisses\nMANIFEST = coulisses.Manifest(name='tp_third', version='1.0', label='Third')\n")
    monkeypatch.syspath_prepend(str(site))
    infos = cplugins.discover()
    assert infos["tp_third"].error is None
    assert sorted(cplugins.requested_plugins(None, infos, None)) == builtin_plugin_names()
    assert cplugins.requested_plugins(None, infos, ["tp_third"]) == ["tp_third"]
