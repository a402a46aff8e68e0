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


# --------------------------------------------------------------------------- behind a reverse proxy


def _login_through(client, headers, *, referer=True, origin=None, base="https://billetterie.example:8443"):
    """Log in as a browser behind the proxy: GET the page, POST the form with the proxy's headers."""
    page = client.get("/login", headers=headers)
    token = csrf_token_of(page.get_data(as_text=True))
    sent = dict(headers)
    if referer:
        sent["Referer"] = f"{base}/login"
    if origin:
        sent["Origin"] = origin
    return client.post("/login", data={"login": "marie", "password": PASSWORD, "csrf_token": token},
                       headers=sent)


# nginx listening on 8443 with ``proxy_set_header Host $host;`` (no port) and X-Forwarded-Proto https
HOST_WITHOUT_PORT = {"Host": "billetterie.example", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


@pytest.mark.parametrize("proxies", [0, 1])
def test_a_proxy_passing_host_without_its_port_lets_operators_log_in(make_app, make_operator, proxies):
    app = make_app([], PROXY_COUNT=proxies)
    make_operator("marie", roles=["supervisor"])
    client = app.test_client()
    response = _login_through(client, HOST_WITHOUT_PORT, origin="https://billetterie.example:8443")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get("/admin/", headers=HOST_WITHOUT_PORT).status_code == 200


def test_an_https_login_without_a_referer_works(make_app, make_operator):
    app = make_app([], PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])
    client = app.test_client()
    response = _login_through(client, HOST_WITHOUT_PORT, referer=False)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_proxy_passing_host_with_its_port_checks_the_port(make_app, make_operator):
    app = make_app([], PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])
    headers = {"Host": "billetterie.example:8443", "X-Forwarded-Proto": "https"}
    assert _login_through(app.test_client(), headers).status_code == 302
    other_port = _login_through(app.test_client(), headers, base="https://billetterie.example:9443")
    assert other_port.status_code == 400


def test_a_proxy_that_does_not_pass_the_host_gets_a_message_that_says_what_is_wrong(make_app, make_operator):
    app = make_app([], PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])
    # proxy_pass http://127.0.0.1:8000; without proxy_set_header Host: the app sees its own address
    headers = {"Host": "127.0.0.1:8000", "X-Forwarded-Proto": "https"}
    response = _login_through(app.test_client(), headers, origin="https://billetterie.example")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "https://billetterie.example" in page and "https://127.0.0.1:8000" in page
    assert "docs/deploy/nginx.conf" in page


def test_a_form_from_another_site_is_still_refused(make_app, make_operator):
    app = make_app([])
    make_operator("marie", roles=["supervisor"])
    response = _login_through(app.test_client(), {}, origin="https://evil.example", base="https://evil.example")
    assert response.status_code == 400
    assert "https://evil.example" in response.get_data(as_text=True)
    # and an HTTPS request never comes from an http:// page
    https = {"Host": "billetterie.example", "X-Forwarded-Proto": "https"}
    app2 = make_app([], PROXY_COUNT=1, schema=False)
    downgraded = _login_through(app2.test_client(), https, origin="http://billetterie.example")
    assert downgraded.status_code == 400


def test_without_the_token_the_form_is_refused_whatever_the_headers(make_app, make_operator):
    app = make_app([], PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])
    client = app.test_client()
    client.get("/login", headers=HOST_WITHOUT_PORT)
    response = client.post("/login", data={"login": "marie", "password": PASSWORD},
                           headers={**HOST_WITHOUT_PORT, "Origin": "https://billetterie.example"})
    assert response.status_code == 400
    assert "Ce formulaire a expiré" in response.get_data(as_text=True)


def test_the_documented_nginx_configuration_lets_operators_log_in(make_app, make_operator):
    """docs/deploy/nginx.conf: the headers it sets, as nginx fills them for a browser on port 8443."""
    import re
    from pathlib import Path

    conf = (Path(__file__).resolve().parents[2] / "docs" / "deploy" / "nginx.conf").read_text()
    variables = {"$http_host": "billetterie.example.org:8443", "$host": "billetterie.example.org",
                 "$scheme": "https", "$proxy_add_x_forwarded_for": "203.0.113.7",
                 "$request_id": "0123456789abcdef0123456789abcdef"}
    headers = {}
    for name, value in re.findall(r"^\s*proxy_set_header\s+(\S+)\s+(\S+?);", conf, re.M):
        if value.startswith("$"):
            headers[name] = variables[value]
    assert {"Host", "X-Forwarded-Proto", "X-Forwarded-For"} <= set(headers)
    app = make_app([], PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])
    client = app.test_client()
    response = _login_through(client, headers, base="https://billetterie.example.org:8443",
                              origin="https://billetterie.example.org:8443")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/") or "https://billetterie.example.org:8443" in response.headers["Location"]
    assert "Secure" in response.headers.get("Set-Cookie", "")
    assert response.headers["X-Request-Id"] == "0123456789abcdef0123456789abcdef"


# --------------------------------------------------------------------------- configuration file


def test_settings_come_from_the_file_and_the_environment_wins(tmp_path, monkeypatch):
    from coulisses.web.app import load_config

    conf = tmp_path / "coulisses.toml"
    conf.write_text('env = "development"\nlocale = "es"\ncurrency = "CHF"\nproxy_count = 1\nhttps = true\n'
                    'plugins = ["contacts", "sales"]\n')
    monkeypatch.setenv("COULISSES_CONFIG", str(conf))
    monkeypatch.setenv("COULISSES_CURRENCY", "EUR")
    monkeypatch.setenv("COULISSES_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("COULISSES_ENV", "COULISSES_LOCALE", "COULISSES_PROXY_COUNT", "COULISSES_HTTPS", "COULISSES_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    cfg = load_config()
    assert (cfg["ENV"], cfg["LOCALE"], cfg["CURRENCY"]) == ("development", "es", "EUR")
    assert cfg["PROXY_COUNT"] == 1 and cfg["HTTPS"] is True and cfg["PLUGINS"] == "contacts,sales"


def test_the_instance_file_is_read_without_coulisses_config(tmp_path, monkeypatch):
    from coulisses.web.app import load_config

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "coulisses.toml").write_text('ENV = "development"\nCOULISSES_TIMEZONE = "Europe/Madrid"\n')
    monkeypatch.delenv("COULISSES_CONFIG", raising=False)
    monkeypatch.delenv("COULISSES_ENV", raising=False)
    monkeypatch.delenv("COULISSES_TIMEZONE", raising=False)
    monkeypatch.setenv("COULISSES_INSTANCE_PATH", str(instance))
    cfg = load_config()
    assert cfg["ENV"] == "development" and cfg["TIMEZONE"] == "Europe/Madrid"


def test_a_plugin_setting_from_a_table_of_the_file(cli, register_plugin, upgraded, tmp_path):  # noqa: F811
    from tests.platform.test_config_and_proxy import _plugin_reading_its_setting

    seen = []
    register_plugin(_plugin_reading_its_setting(seen))
    conf = tmp_path / "c.toml"
    conf.write_text("[tp_conf]\nmonths = 18\n")
    cli("plugins", "enable", "tp_conf")
    result = cli("tasks", "run", "tp_conf.purge", env={"COULISSES_CONFIG": str(conf)})
    assert result.output.strip() == "tp_conf.purge : months=18"
    result = cli("tasks", "run", "tp_conf.purge", env={"COULISSES_CONFIG": str(conf), "COULISSES_TP_CONF_MONTHS": "6"})
    assert result.output.strip() == "tp_conf.purge : months=6"
    assert seen == [18, 6]


def test_config_check_prints_the_settings_their_source_and_masks_the_secrets(cli, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text(f'secret_key = "{STRONG_KEY}"\nlocale = "en"\n'
                    'database_url = "postgresql+psycopg://coulisses:S3cret-pw@db.example:5432/coulisses"\n'
                    '[reports]\nsmtp_password = "mail-pw"\n')
    result = cli("config", "check", env={"COULISSES_CONFIG": str(conf), "COULISSES_ENV": "production",
                                         "COULISSES_LOCALE": "es", "COULISSES_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    out = result.output
    assert STRONG_KEY not in out and "S3cret-pw" not in out and "mail-pw" not in out
    lines = {line.split("=")[0].strip(): line for line in out.splitlines() if " = " in line}
    assert "********" in lines["SECRET_KEY"] and str(conf) in lines["SECRET_KEY"]
    assert "db.example" in lines["DATABASE_URL"] and "***" in lines["DATABASE_URL"]
    assert lines["LOCALE"].split("=")[1].split()[0] == "es" and "COULISSES_LOCALE" in lines["LOCALE"]
    assert "********" in lines["REPORTS_SMTP_PASSWORD"]
    # the command speaks the deployment's language (COULISSES_LOCALE, here Spanish)
    assert "[valor por defecto]" in lines["CURRENCY"]
    assert "La configuración es correcta." in out


def test_config_check_refuses_bad_settings_with_the_reasons(cli, tmp_path):
    conf = tmp_path / "c.toml"
    conf.write_text('secret_key = "changeme"\nsesion_idle_minutes = 10\n')
    result = cli("config", "check", env={"COULISSES_CONFIG": str(conf), "COULISSES_ENV": "production"})
    assert result.exit_code == 1
    assert "Configuration refusée" in result.output
    assert "valeur d'exemple" in result.output
    assert "sesion_idle_minutes" in result.output
    assert "Traceback" not in result.output
    for env, reason in (({"COULISSES_CONFIG": str(tmp_path / "missing.toml")}, "n'existe pas"),
                        ({"COULISSES_LOGIN_LOCK_MINUTES": "soon"}, "COULISSES_LOGIN_LOCK_MINUTES"),
                        ({"COULISSES_ENV": "production"}, "COULISSES_SECRET_KEY manque")):
        result = cli("config", "check", env=env)
        assert result.exit_code == 1, result.output
        assert reason in result.output
    broken = tmp_path / "broken.toml"
    broken.write_text("locale = \n")
    result = cli("config", "check", env={"COULISSES_CONFIG": str(broken)})
    assert result.exit_code == 1 and "illisible" in result.output


# --------------------------------------------------------------------------- systemd and PostgreSQL

import os  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
VENV = Path(sys.executable).parent.parent


def _unit(name: str) -> str:
    return (DEPLOY / name).read_text().replace("/opt/coulisses/venv", str(VENV))


def _exec_start(unit: str) -> list[str]:
    text = unit.replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


def _clean_env(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COULISSES_")}
    env.update(values)
    return env


UNITS = ("coulisses-web.service", "coulisses-worker.service", "coulisses-tasks.service", "coulisses-tasks.timer")


def test_the_web_examples_run_gunicorn_with_threads_for_the_waiting_screens():
    """Long polling (the agents' jobs, the screens' scans) holds a thread: the unit and the container
    run gunicorn's gthread workers, and the operator's guide says so."""
    args = _exec_start(_unit("coulisses-web.service"))
    assert args[args.index("--worker-class") + 1] == "gthread" and int(args[args.index("--threads") + 1]) >= 8
    entrypoint = (DEPLOY / "container-entrypoint.sh").read_text()
    assert '--worker-class gthread --threads "${COULISSES_WEB_THREADS:-8}"' in entrypoint
    assert "--worker-class gthread --threads 8" in (DEPLOY.parent / "operator-guide.md").read_text()


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_the_systemd_units_are_valid(tmp_path):
    for name in UNITS:
        (tmp_path / name).write_text(_unit(name))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *[str(tmp_path / n) for n in UNITS]],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "coulisses-tasks.service" not in result.stderr  # the timer finds its service


def test_the_commands_of_the_systemd_units_run_with_the_configuration_file(tmp_path, database_url):
    conf = tmp_path / "coulisses.toml"
    conf.write_text(f'env = "production"\nsecret_key = "{STRONG_KEY}"\ndatabase_url = "{database_url}"\n'
                    f'instance_path = "{tmp_path / "instance"}"\nplugins = ""\n')
    env = _clean_env(COULISSES_CONFIG=str(conf))

    def run(args):
        return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)

    assert run([str(VENV / "bin" / "coulisses"), "db", "upgrade"]).returncode == 0
    assert "coulisses.web.app:create_app()" in _exec_start(_unit("coulisses-web.service"))
    tasks = run(_exec_start(_unit("coulisses-tasks.service")))
    assert tasks.returncode == 0, tasks.stdout + tasks.stderr
    worker = run(_exec_start(_unit("coulisses-worker.service")) + ["--once"])
    assert worker.returncode == 0, worker.stdout + worker.stderr
    check = run([str(VENV / "bin" / "coulisses"), "config", "check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert STRONG_KEY not in check.stdout


PG_ADMIN = os.environ.get("COULISSES_TEST_DATABASE_URL", "")


@pytest.mark.skipif(not PG_ADMIN.startswith("postgresql") or not shutil.which("psql"),
                    reason="needs COULISSES_TEST_DATABASE_URL on PostgreSQL and psql")
def test_the_documented_postgresql_roles_run_coulisses_with_least_privileges(tmp_path):
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ProgrammingError

    suffix = uuid.uuid4().hex[:8]
    names = {"coulisses_owner": f"cq_owner_{suffix}", "coulisses_app": f"cq_app_{suffix}",
             "coulisses": f"cq_db_{suffix}"}
    sql = (DEPLOY / "postgresql.sql").read_text()
    for old in ("coulisses_owner", "coulisses_app"):
        sql = sql.replace(old, names[old])
    sql = sql.replace("DATABASE coulisses ", f"DATABASE {names['coulisses']} ").replace(
        "\\connect coulisses", f"\\connect {names['coulisses']}")
    (tmp_path / "roles.sql").write_text(sql)
    admin = make_url(PG_ADMIN)
    psql = ["psql", "-h", admin.host or "127.0.0.1", "-p", str(admin.port or 5432), "-U", admin.username or "postgres",
            "-d", admin.database or "postgres", "-v", "owner_password=owner-pw", "-v", "app_password=app-pw",
            "-f", str(tmp_path / "roles.sql")]
    result = subprocess.run(psql, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    def url(role, password):
        return admin.set(username=role, password=password, database=names["coulisses"]).render_as_string(
            hide_password=False)

    owner_url, app_url = url(names["coulisses_owner"], "owner-pw"), url(names["coulisses_app"], "app-pw")
    try:
        env = _clean_env(COULISSES_ENV="production", COULISSES_SECRET_KEY=STRONG_KEY,
                         COULISSES_INSTANCE_PATH=str(tmp_path / "instance"), COULISSES_PLUGINS="contacts,sales")
        upgrade = subprocess.run([str(VENV / "bin" / "coulisses"), "db", "upgrade"], capture_output=True, text=True,
                                 timeout=300, env={**env, "COULISSES_DATABASE_URL": owner_url})
        assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
        created = subprocess.run([str(VENV / "bin" / "coulisses"), "operators", "create", "marie", "--role",
                                  "supervisor", "--password", PASSWORD], capture_output=True, text=True,
                                 timeout=120, env={**env, "COULISSES_DATABASE_URL": app_url})
        assert created.returncode == 0, created.stdout + created.stderr
        from coulisses.web.app import create_app

        app = create_app({"ENV": "testing", "DATABASE_URL": app_url, "INSTANCE_PATH": str(tmp_path / "instance"),
                          "WTF_CSRF_ENABLED": True})
        client = app.test_client()
        assert login(client, "marie").status_code == 302  # the web app runs as the application role
        assert client.get("/admin/").status_code == 200
        with app.app_context():
            from coulisses.web.extensions import db

            db.engine.dispose()
        engine = create_engine(app_url)
        try:
            with engine.begin() as conn:
                assert conn.execute(text("SELECT count(*) FROM core_operator")).scalar() == 1
                conn.execute(text("SELECT * FROM contacts_contact FOR UPDATE"))
            for ddl in ("CREATE TABLE intruder (id int)", "DROP TABLE core_setting",
                        "ALTER TABLE core_operator ADD COLUMN x int"):
                with pytest.raises(ProgrammingError), engine.begin() as conn:
                    conn.execute(text(ddl))
        finally:
            engine.dispose()
        # the guide's backup (any role that reads every table) and restore (the owner, as db upgrade)
        def coulisses_cmd(*args, url):
            return subprocess.run([str(VENV / "bin" / "coulisses"), *args], capture_output=True, text=True,
                                  timeout=300, env={**env, "COULISSES_DATABASE_URL": url})

        archive = tmp_path / "nightly.tar.gz"
        saved = coulisses_cmd("backup", "-o", str(archive), url=app_url)
        assert saved.returncode == 0, saved.stdout + saved.stderr
        restored = coulisses_cmd("restore", "--force", str(archive), url=owner_url)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        engine = create_engine(app_url)
        try:  # the restored tables are the application role's to use again
            with engine.begin() as conn:
                assert conn.execute(text("SELECT login FROM core_operator")).scalars().all() == ["marie"]
                conn.execute(text("UPDATE core_operator SET full_name = 'Marie' WHERE login = 'marie'"))
        finally:
            engine.dispose()
    finally:
        cleanup = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with cleanup.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS {names["coulisses"]} WITH (FORCE)'))
            for role in (names["coulisses_app"], names["coulisses_owner"]):
                conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        cleanup.dispose()


# --------------------------------------------------------------------------- observing

import io  # noqa: E402
import json  # noqa: E402


def test_one_text_log_line_per_request_with_its_id(make_app, make_operator):
    stream = io.StringIO()
    app = make_app([], LOG_STREAM=stream)
    make_operator("marie", roles=["supervisor"])
    client = app.test_client()
    login(client, "marie")
    response = client.get("/admin/", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    line = next(line for line in stream.getvalue().splitlines() if "[abc-123]" in line)
    assert "INFO coulisses.request [abc-123] GET /admin/ 200" in line
    assert "operator=marie" in line and "ms " in line
    generated = client.get("/login", headers={"X-Request-Id": "bad id; rm -rf"}).headers["X-Request-Id"]
    assert len(generated) == 32 and generated != "bad id; rm -rf"


def test_json_logs_failed_logins_with_the_address_and_errors_with_their_traceback(make_app, make_operator):
    stream = io.StringIO()
    app = make_app([], LOG_STREAM=stream, LOG_FORMAT="json", PROXY_COUNT=1)
    make_operator("marie", roles=["supervisor"])

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"login": "marie", "password": "wrong", "csrf_token": csrf_token_of(
        page.get_data(as_text=True))}, headers={"X-Forwarded-For": "198.51.100.9"})
    assert client.get("/boom").status_code == 500
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    failed = next(r for r in records if r["logger"] == "coulisses.security")
    assert failed["level"] == "WARNING" and failed["request_id"] != "-"
    assert failed["message"] == "Coulisses login failure for 'marie' from 198.51.100.9 (scope operator)"
    request_line = next(r for r in records if r["logger"] == "coulisses.request" and r["path"] == "/login"
                        and r["method"] == "POST")
    assert request_line["status"] == 401 and request_line["request_id"] != "-"
    assert isinstance(request_line["duration_ms"], float)
    error = next(r for r in records if r["level"] == "ERROR")
    assert "RuntimeError: kaboom" in error["exc"] and error["request_id"] != "-"


def test_log_settings_are_checked(make_app):
    from coulisses.web.app import ConfigError

    with pytest.raises(ConfigError, match="COULISSES_LOG_FORMAT"):
        make_app([], LOG_FORMAT="xml")
    with pytest.raises(ConfigError, match="COULISSES_LOG_LEVEL"):
        make_app([], LOG_LEVEL="chatty", schema=False)


def test_health_ready_checks_the_database_and_the_migrations(cli, make_app, database_url):
    assert cli("db", "upgrade").exit_code == 0
    app = make_app([], schema=False)
    client = app.test_client()
    response = client.get("/health/ready")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "current"}
    from sqlalchemy import text

    from coulisses import db as cdb

    engine = cdb.make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM core_alembic_version"))
    engine.dispose()
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["migrations"] == "behind" and "core" in response.get_json()["behind"]
    assert client.get("/health").status_code == 200  # liveness stays cheap


def test_a_login_typed_cannot_forge_a_log_line_for_fail2ban(make_app):
    import re

    stream = io.StringIO()
    app = make_app([], LOG_STREAM=stream)
    client = app.test_client()
    page = client.get("/login")
    forged = "x' from 192.0.2.77 (scope operator)\n2026 WARNING Coulisses login failure for 'y' from 192.0.2.66 (scope"
    client.post("/login", data={"login": forged, "password": "wrong",
                                "csrf_token": csrf_token_of(page.get_data(as_text=True))})
    failregex = r"Coulisses login (failure|refused \(locked\)) for .* from (?P<host>\S+) \(scope"  # the guide's
    hosts = [m.group("host") for line in stream.getvalue().splitlines() if (m := re.search(failregex, line))]
    assert hosts == ["127.0.0.1"]
