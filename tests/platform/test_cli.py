"""The `coulisses` command: database, plugins, operators, tokens, demo administrator, tasks."""
from __future__ import annotations

import hashlib
import json
import re

import click
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from coulisses import db as cdb
from coulisses import security
from coulisses.tasks import Task
from tests.conftest import PASSWORD, login
from tests.platform.conftest import make_plugin


@pytest.fixture
def engine(database_url):
    engine = cdb.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def upgraded(cli):
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    return result


def core_line(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("core "))


def test_db_upgrade_then_current_is_up_to_date(cli):
    assert "en retard ou non installé" in core_line(cli("db", "current").output)
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Base de données à jour : core")
    current = cli("db", "current")
    assert current.exit_code == 0
    assert re.match(r"core\s+core_\d{4}\s+à jour$", core_line(current.output))
    # upgrading again is harmless
    again = cli("db", "upgrade")
    assert again.exit_code == 0, again.output
    assert "à jour" in core_line(cli("db", "current").output)


def test_db_upgrade_creates_the_default_roles(cli, upgraded, engine):
    with Session(engine) as s:
        roles = {r.code: r for r in s.scalars(select(security.Role))}
    assert set(roles) == {"administrator", "supervisor", "operator", "readonly"}
    assert "core.plugins.view" in roles["supervisor"].permission_codes
    assert "core.operators.manage" not in roles["supervisor"].permission_codes
    assert "core.operators.manage" in roles["administrator"].permission_codes


@pytest.fixture
def small_graph(register_plugin):
    register_plugin(make_plugin("tp_base", version="1.2", description="The base of everything"))
    register_plugin(make_plugin("tp_top", version="0.3", depends=["tp_base"], description="On top"))


def test_plugins_list_table(cli, small_graph, upgraded):
    assert cli("plugins", "enable", "tp_base").exit_code == 0
    result = cli("plugins", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NOM", "VERSION", "ÉTAT", "DÉPEND", "DE", "DESCRIPTION"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["tp_base"].split()[:4] == ["tp_base", "1.2", "activé", "-"]
    assert rows["tp_base"].endswith("The base of everything")
    assert rows["tp_top"].split()[:4] == ["tp_top", "0.3", "désactivé", "tp_base"]
    # the state in the reader's words (the code stays in --json)
    spanish = cli("plugins", "list", env={"COULISSES_LOCALE": "es"}).output.splitlines()
    assert next(line for line in spanish if line.startswith("tp_top")).split()[:3] == ["tp_top", "0.3", "desactivado"]
    # columns are aligned: every row's VERSION starts where the header's does
    col = lines[0].index("VERSION")
    assert all(line[col - 2:col] == "  " and line[col] != " " for line in lines[1:])


def test_plugins_list_json(cli, small_graph, upgraded):
    cli("plugins", "enable", "tp_top")
    result = cli("plugins", "list", "--json")
    assert result.exit_code == 0
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert rows["tp_top"]["state"] == "enabled"
    assert rows["tp_top"]["depends"] == ["tp_base"]
    assert rows["tp_top"]["version"] == "0.3"
    assert rows["tp_base"]["state"] == "enabled"  # pulled in
    assert rows["tp_base"]["description"] == "The base of everything"
    assert rows["tp_top"]["changed_by"].startswith("cli")


def test_plugins_enable_and_disable(cli, small_graph, upgraded):
    result = cli("plugins", "enable", "tp_top")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Activés : tp_base, tp_top.")
    assert cli("plugins", "enable", "tp_top").output.strip() == "tp_top est déjà activé."

    refused = cli("plugins", "disable", "tp_base")
    assert refused.exit_code == 1
    assert refused.output.strip() == "Erreur : plugin « tp_base » : ne peut pas être désactivé : « tp_top » en dépend(ent)"
    states = {r["name"]: r["state"] for r in json.loads(cli("plugins", "list", "--json").output)}
    assert states["tp_base"] == states["tp_top"] == "enabled"

    assert cli("plugins", "disable", "tp_top").exit_code == 0
    assert cli("plugins", "disable", "tp_base").exit_code == 0
    states = {r["name"]: r["state"] for r in json.loads(cli("plugins", "list", "--json").output)}
    assert states["tp_base"] == states["tp_top"] == "disabled"
    again = cli("plugins", "disable", "tp_base")
    assert again.exit_code == 1
    assert "plugin « tp_base » : n'est pas activé" in again.output


def test_plugins_enable_before_the_database_exists(cli, small_graph):
    result = cli("plugins", "enable", "tp_base")
    assert result.exit_code == 1
    assert "lancez d'abord `coulisses db upgrade`" in result.output


def test_plugins_enable_unknown(cli, upgraded):
    result = cli("plugins", "enable", "tp_nothing")
    assert result.exit_code == 1
    assert "plugin « tp_nothing » : n'est pas installé" in result.output


def test_operators_create_and_log_in(cli, upgraded, make_app, engine):
    result = cli("operators", "create", "marie", "--full-name", "Marie Curie", "--role", "supervisor",
                 "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Opérateur marie créé avec le rôle supervisor."
    with Session(engine) as s:
        op = security.get_operator(s, "marie")
        assert op.full_name == "Marie Curie"
        assert [r.code for r in op.roles] == ["supervisor"]
        assert op.password_hash.startswith("scrypt:")
        assert PASSWORD not in op.password_hash
    app = make_app(schema=False)
    client = app.test_client()
    assert login(client, "marie").status_code == 302
    assert "Marie Curie" in client.get("/admin/").get_data(as_text=True)


def test_operators_create_prompts_for_the_password(cli, upgraded, engine):
    result = cli("operators", "create", "paul", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input
    with Session(engine) as s:
        op = security.get_operator(s, "paul")
        assert [r.code for r in op.roles] == ["operator"]
        assert security.authenticate(s, "paul", PASSWORD) is not None


def test_operators_create_refusals(cli, upgraded):
    short = cli("operators", "create", "paul", "--password", "short")
    assert short.exit_code == 1
    assert "au moins 10 caractères" in short.output
    assert cli("operators", "create", "paul", "--password", PASSWORD).exit_code == 0
    twice = cli("operators", "create", "paul", "--password", PASSWORD)
    assert twice.exit_code == 1
    assert "a déjà l'identifiant" in twice.output
    role = cli("operators", "create", "anne", "--role", "cashier", "--password", PASSWORD)
    assert role.exit_code == 1
    assert "rôle inconnu : cashier" in role.output


def test_set_password(cli, upgraded, make_app):
    cli("operators", "create", "paul", "--password", PASSWORD)
    result = cli("operators", "set-password", "paul", "--password", "a brand new secret")
    assert result.exit_code == 0, result.output
    assert "Mot de passe de paul modifié." in result.output
    app = make_app(schema=False)
    assert login(app.test_client(), "paul").status_code == 401
    assert login(app.test_client(), "paul", "a brand new secret").status_code == 302
    unknown = cli("operators", "set-password", "nobody", "--password", "a brand new secret")
    assert unknown.exit_code == 1
    assert "aucun opérateur n'a l'identifiant « nobody »" in unknown.output


def test_token_works_as_bearer_and_only_its_hash_is_stored(cli, upgraded, make_app, engine):
    cli("operators", "create", "robot", "--role", "readonly", "--password", PASSWORD)
    result = cli("operators", "token", "robot", "--label", "ticketing site")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("cou_") and len(token) > 30
    app = make_app(schema=False)
    client = app.test_client()
    assert client.get("/api/v1/openapi.json").status_code == 401
    response = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")
    assert client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    with Session(engine) as s:
        row = s.scalar(select(security.ApiToken))
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert row.label == "ticketing site"
        assert row.last_used_at is not None
        stored = " ".join(str(getattr(row, c.key)) for c in security.ApiToken.__table__.columns)
        assert token not in stored
        assert len(row.hint) < len(token) - 20
    unknown = cli("operators", "token", "nobody")
    assert unknown.exit_code == 1
    assert "aucun opérateur n'a l'identifiant « nobody »" in unknown.output


def test_demo_admin_prints_the_same_password_twice(cli, upgraded, make_app):
    first = cli("demo", "admin")
    assert first.exit_code == 0, first.output
    m = re.search(r"identifiant : (\S+)\s+mot de passe : (\S+)", first.output)
    assert m, first.output
    login_name, password = m.groups()
    second = cli("demo", "admin")
    assert re.search(r"identifiant : (\S+)\s+mot de passe : (\S+)", second.output).groups() == (login_name, password)
    app = make_app(schema=False)
    client = app.test_client()
    assert login(client, login_name, password).status_code == 302
    assert client.get("/admin/core_operator/").status_code == 200  # an administrator


def test_tasks_list_and_run(cli, register_plugin, upgraded, engine):
    runs = []

    def purge(session):
        cdb.set_setting(session, "tp_tasks.purged", "yes")
        runs.append("purge")
        return "3 purged"

    register_plugin(make_plugin("tp_tasks", hooks={"coulisses_periodic_tasks": lambda: [
        Task("tp_tasks.purge", "nightly", purge, "Purge old things"),
        Task("tp_tasks.sync", "hourly", lambda session: runs.append("sync")),
    ]}))
    assert cli("plugins", "enable", "tp_tasks").exit_code == 0
    listed = cli("tasks", "list")
    assert listed.exit_code == 0, listed.output
    lines = [line.split() for line in listed.output.splitlines()]
    # the host's own task (webhooks' retention) first, then the plugin's
    assert lines == [["core.webhooks.purge", "nightly", "jamais"], ["tp_tasks.purge", "nightly", "jamais"],
                     ["tp_tasks.sync", "hourly", "jamais"]]

    result = cli("tasks", "run", "tp_tasks.purge")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "tp_tasks.purge : 3 purged"
    assert runs == ["purge"]
    with Session(engine) as s:
        assert cdb.get_setting(s, "tp_tasks.purged") == "yes"
    lines = [line.split() for line in cli("tasks", "list").output.splitlines()]
    assert lines[1][2] != "jamais" and lines[2][2] == "jamais"

    due = cli("tasks", "run", "--due")
    assert due.output.strip().splitlines() == ["core.webhooks.purge : {'deleted_changes': 0}", "tp_tasks.sync : fait"]
    assert runs == ["purge", "sync"]
    assert cli("tasks", "run", "--due").output.strip() == "Rien à exécuter."

    unknown = cli("tasks", "run", "tp_tasks.nothing")
    assert unknown.exit_code == 1
    assert "tâche inconnue : tp_tasks.nothing" in unknown.output


def test_tasks_of_a_disabled_plugin_are_not_listed(cli, register_plugin, upgraded):
    register_plugin(make_plugin("tp_tasks", hooks={"coulisses_periodic_tasks": lambda: [
        Task("tp_tasks.purge", "nightly", lambda session: None)]}))
    assert [line.split()[0] for line in cli("tasks", "list").output.splitlines()] == ["core.webhooks.purge"]


def test_demo_load_runs_each_plugin_once_in_load_order(cli, register_plugin, upgraded):
    loaded = []
    register_plugin(make_plugin("tp_b", depends=["tp_a"], hooks={
        "coulisses_demo_data": lambda session, size: loaded.append(("tp_b", size))}))
    register_plugin(make_plugin("tp_a", hooks={
        "coulisses_demo_data": lambda session, size: loaded.append(("tp_a", size))}))
    cli("plugins", "enable", "tp_b")
    result = cli("demo", "load", "--size", "small")
    assert result.exit_code == 0, result.output
    assert loaded == [("tp_a", "small"), ("tp_b", "small")]
    assert "Données de démonstration chargées : tp_a, tp_b." in result.output
    again = cli("demo", "load")
    assert loaded == [("tp_a", "small"), ("tp_b", "small")]
    assert "rien de nouveau à charger" in again.output


def test_a_plugin_command_runs_in_the_app_context(cli, register_plugin, upgraded):
    @click.command("tp-count-operators")
    def count_operators():
        from coulisses.web.extensions import db

        n = len(list(db.session.scalars(select(security.Operator))))
        click.echo(f"{n} operator(s)")

    register_plugin(make_plugin("tp_cmd", hooks={"coulisses_cli_commands": lambda: [count_operators]}))
    cli("plugins", "enable", "tp_cmd")
    cli("operators", "create", "paul", "--password", PASSWORD)
    result = cli("tp-count-operators")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 operator(s)"


def test_an_uninstalled_plugin_is_listed_and_can_be_disabled(cli, register_plugin, upgraded, make_app):
    from coulisses import PluginError
    from coulisses import plugins as cplugins

    register_plugin(make_plugin("tp_gone"))
    assert cli("plugins", "enable", "tp_gone").exit_code == 0
    cplugins.unregister("tp_gone")  # its distribution was uninstalled
    with pytest.raises(PluginError, match="plugin « tp_gone » : n'est pas installé"):
        make_app(schema=False)
    listed = cli("plugins", "list")
    row = next(line for line in listed.output.splitlines() if line.startswith("tp_gone"))
    assert row.split()[:3] == ["tp_gone", "1.0", "absent"]
    assert "désactivez-le ou installez-le de nouveau" in row
    assert cli("plugins", "disable", "tp_gone").exit_code == 0
    assert make_app(schema=False).extensions["coulisses"].order == []


def test_a_plugin_without_migrations_for_its_tables_is_not_enabled(cli, register_plugin, upgraded):
    from tests.platform.test_migrations import Orphan  # noqa: F401 - declares tp_orphan_item

    register_plugin(make_plugin("tp_orphan"))
    result = cli("plugins", "enable", "tp_orphan")
    assert result.exit_code == 1
    assert "plugin « tp_orphan » : n'a pas de migration pour ses tables (tp_orphan_item)" in result.output
    states = {r["name"]: r["state"] for r in json.loads(cli("plugins", "list", "--json").output)}
    assert states["tp_orphan"] == "disabled"


def test_a_failing_hook_is_reported_with_the_plugin_name(cli, register_plugin, upgraded):
    def tasks():
        raise RuntimeError("the configuration is incomplete")

    register_plugin(make_plugin("tp_bad_tasks", hooks={"coulisses_periodic_tasks": tasks}))
    message = ("Erreur : plugin « tp_bad_tasks » : coulisses_periodic_tasks a échoué : "
               "RuntimeError: the configuration is incomplete")
    refused = cli("plugins", "enable", "tp_bad_tasks")  # enabling builds the registries: refused at once
    assert refused.exit_code == 1
    assert refused.output.strip() == message
    result = cli("tasks", "list", env={"COULISSES_PLUGINS": "tp_bad_tasks"})
    assert result.exit_code == 1
    assert result.output.strip() == message


def test_install_defaults_runs_once_per_plugin_in_the_organisation_language(cli, register_plugin, upgraded, engine):
    from coulisses.i18n import current_locale

    calls = []
    register_plugin(make_plugin("tp_defaults", hooks={
        "coulisses_install_defaults": lambda session: calls.append(current_locale())}))
    result = cli("plugins", "enable", "tp_defaults", env={"COULISSES_LOCALE": "es"})
    assert result.exit_code == 0, result.output
    assert calls == ["es"]
    result = cli("db", "upgrade")
    assert result.exit_code == 0 and calls == ["es"]  # never again: what the organisation changed stays
    with Session(engine) as s:
        assert cdb.get_setting(s, "defaults.tp_defaults")


def test_a_new_organisation_sells_through_the_api_without_demo_data(cli, database_url, tmp_path):
    """`db upgrade` on an empty database installs what selling needs: no `demo load` required."""
    from datetime import datetime, timedelta, timezone

    from coulisses.web.app import create_app
    from coulisses.web.extensions import db
    from plugins.sales.services import catalogue

    result = cli("db", "upgrade", env={"COULISSES_PLUGINS": "contacts,sales"})
    assert result.exit_code == 0, result.output
    assert "réglages par défaut installés pour sales" in result.output
    assert cli("operators", "create", "chef", "--role", "administrator", "--password", PASSWORD).exit_code == 0
    app = create_app({"ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "i")})
    with app.app_context():
        s = db.session
        venue = catalogue.create_venue(s, "SALLE", "Grande salle")
        cat = catalogue.create_category(s, "C1", "Cat 1")
        event = catalogue.create_event(s, "JOY", "Joyaux")
        perf = catalogue.create_performance(s, event, venue, datetime.now(timezone.utc) + timedelta(days=30),
                                            quotas={cat: 10})
        tariff = catalogue.create_tariff(s, "PT", "Plein tarif")
        catalogue.set_price(s, perf, cat, tariff, "25.00")
        s.commit()
        ids = perf.id, cat.id, tariff.id
    token = cli("operators", "token", "chef").output.strip().split()[-1]
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    buyer = api.post("/api/v1/contacts", headers=auth, json={
        "civility": "MME", "last_name": "Akoka", "first_name": "Viviane", "postal_code": "75006", "city": "Paris",
        "country": "FR"})
    assert buyer.status_code == 201, buyer.get_json()
    sold = api.post("/api/v1/orders", headers=auth, json={
        "action": "sell", "buyer": buyer.get_json()["number"],
        "lines": [{"performance": ids[0], "category": ids[1], "tariff": ids[2], "quantity": 2}],
        "payments": [{"mode": "CASH", "amount": "50.00"}]})
    assert sold.status_code == 201, sold.get_json()
    assert sold.get_json()["balance"] == "0.00"


@pytest.mark.parametrize("lang, expected", [
    ("fr", {"current": "à jour", "header": ["NOM", "VERSION", "ÉTAT", "DÉPEND", "DE", "DESCRIPTION"],
            "nothing": "Rien à exécuter.", "token": "Erreur : aucun opérateur n'a l'identifiant « nobody »",
            "usage": "Erreur : nommez les plugins (core pour le cœur), ou donnez --all"}),
    ("en", {"current": "up to date", "header": ["NAME", "VERSION", "STATE", "DEPENDS", "ON", "DESCRIPTION"],
            "nothing": "Nothing to run.", "token": "Error: no operator has the login 'nobody'",
            "usage": "Error: name the plugins (core for the host), or give --all"}),
    ("es", {"current": "actualizado", "header": ["NOMBRE", "VERSIÓN", "ESTADO", "DEPENDE", "DE", "DESCRIPCIÓN"],
            "nothing": "Nada que ejecutar.", "token": "Error: ningún operador tiene el usuario «nobody»",
            "usage": "Error: nombre los plugins (core para el núcleo), o indique --all"}),
])
def test_commands_speak_the_deployment_s_language(cli, upgraded, lang, expected):
    """COULISSES_LOCALE chooses the language of what the commands print, their errors included."""
    env = {"COULISSES_LOCALE": lang}
    current = cli("db", "current", env=env)
    assert current.exit_code == 0, current.output
    assert core_line(current.output).split()[2:] == expected["current"].split()
    listed = cli("plugins", "list", env=env)
    assert listed.exit_code == 0 and listed.output.splitlines()[0].split() == expected["header"]
    assert cli("tasks", "run", env=env).output.strip() == expected["nothing"]
    refused = cli("operators", "token", "nobody", env=env)
    assert refused.exit_code == 1 and refused.output.strip() == expected["token"]
    usage = cli("i18n", "check", env=env)  # a click.UsageError: click's frame and our text, one language
    assert usage.exit_code == 2 and usage.output.strip().endswith(expected["usage"])
