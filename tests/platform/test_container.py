"""The container image (issue 15): the Dockerfile, its entrypoint and the compose example.

Without a Docker engine the image cannot be built here; what can be checked without one is: every
file the Dockerfile copies exists and nothing it needs is ignored, the compose example's settings
are accepted by `coulisses config check`, and the entrypoint's roles run exactly as in the image
(gunicorn answering /health and /metrics, the upgrade, the tasks stopping on SIGTERM, a command).
Where a Docker engine answers (unless COULISSES_TEST_DOCKER=0), docs/deploy/container-check.sh builds
and starts the real image and checks it.
"""
from __future__ import annotations

import fnmatch
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "docs" / "deploy"
ENTRYPOINT = DEPLOY / "container-entrypoint.sh"
STRONG_KEY = "3f9c1e7a5b2d4c6e8a0b1c3d5e7f9a2b4c6d8e0f1a3b5c7d"
METRICS_TOKEN = "scraper-token-0123456789abcdef"


def dockerfile_instructions():
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    return [(m.group(1).upper(), m.group(2).strip()) for m in
            re.finditer(r"^([A-Z]+)\s+(.*)$", text, re.MULTILINE)]


def ignored(path: str) -> bool:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    parts = Path(path).parts
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(parts[0], p) for p in patterns)


def test_the_dockerfile_copies_files_that_exist_and_are_not_ignored():
    instructions = dockerfile_instructions()
    copies = [args.split() for kind, args in instructions if kind == "COPY" and "--from" not in args]
    assert copies
    for *sources, _target in copies:
        for source in sources:
            assert (REPO / source).exists(), f"the Dockerfile copies {source}, which does not exist"
            assert not ignored(source), f".dockerignore leaves out {source}, which the Dockerfile copies"
    for kept_out in (".venv", "instance", ".git", "tests"):
        assert ignored(kept_out), f".dockerignore should keep {kept_out} out of the image"
    kinds = dict(instructions)
    assert kinds["USER"] == "coulisses"  # never root
    assert kinds["HEALTHCHECK"].endswith('CMD ["/usr/local/bin/coulisses-entrypoint", "healthcheck"]')
    assert "  healthcheck)" in ENTRYPOINT.read_text() and "/health" in ENTRYPOINT.read_text()
    assert "postgresql-client" in next(a for k, a in instructions if k == "RUN" and "apt-get" in a)
    assert "gunicorn" in next(a for k, a in instructions if k == "RUN" and "pip install" in a)
    assert '"/usr/local/bin/coulisses-entrypoint"' in kinds["ENTRYPOINT"]
    assert os.access(ENTRYPOINT, os.X_OK)
    # the official image by default; docs/deploy/build-base-offline.sh's equivalent without Docker Hub
    assert kinds["FROM"] == "${BASE_IMAGE}"
    assert re.match(r"BASE_IMAGE=python:3\.1[1-9]", kinds["ARG"])
    assert os.access(DEPLOY / "build-base-offline.sh", os.X_OK)


def compose():
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_compose_example_runs_postgresql_the_upgrade_then_web_worker_and_tasks():
    services = compose()["services"]
    assert set(services) == {"db", "upgrade", "web", "worker", "tasks"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["upgrade"]["command"] == ["upgrade"]
    assert services["upgrade"]["depends_on"]["db"]["condition"] == "service_healthy"
    for role in ("web", "worker", "tasks"):
        assert services[role]["command"] == [role]
        assert services[role]["depends_on"]["upgrade"]["condition"] == "service_completed_successfully"
        assert services[role]["build"]["dockerfile"] == "Dockerfile"
        assert (DEPLOY / services[role]["build"]["context"] / "Dockerfile").resolve() == REPO / "Dockerfile"
    entrypoint = ENTRYPOINT.read_text()
    for role in ("web)", "worker)", "tasks)", "upgrade)"):
        assert f"  {role}" in entrypoint


def test_the_compose_settings_pass_config_check(cli, database_url):
    environment = dict(compose()["services"]["web"]["environment"])
    values = {"COULISSES_SECRET_KEY": STRONG_KEY, "POSTGRES_PASSWORD": "pw", "COULISSES_METRICS_TOKEN": METRICS_TOKEN}

    def substitute(value):
        return re.sub(r"\$\{(\w+)(:[?-][^}]*)?\}", lambda m: values[m.group(1)], str(value))

    env = {key: substitute(value) for key, value in environment.items()}
    assert env["COULISSES_DATABASE_URL"] == "postgresql+psycopg://coulisses:pw@db:5432/coulisses"
    env["COULISSES_DATABASE_URL"] = database_url  # no host named db here
    result = cli("config", "check", env=env)
    assert result.exit_code == 0, result.output
    assert STRONG_KEY not in result.output and METRICS_TOKEN not in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_line(process, needle: str, deadline: float) -> str:
    seen = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = process.stderr.readline()
        if not line:
            break
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never came:\n{seen}")


def test_the_entrypoint_roles_run_as_in_the_image(tmp_path):
    venv_bin = Path(sys.executable).parent
    port = _free_port()
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "COULISSES_ENV": "production",
           "COULISSES_SECRET_KEY": STRONG_KEY, "COULISSES_INSTANCE_PATH": str(tmp_path / "data"),
           "COULISSES_PLUGINS": "", "COULISSES_BIND": f"127.0.0.1:{port}", "COULISSES_WEB_WORKERS": "2",
           "COULISSES_METRICS_TOKEN": METRICS_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "stale.db").write_text("from an earlier start")

    def run(*args):
        return subprocess.run(["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=300,
                              cwd=tmp_path)

    upgrade = run("upgrade")
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    command = run("coulisses", "worker", "--once")
    assert command.returncode == 0, command.stdout + command.stderr
    web = subprocess.Popen(["sh", str(ENTRYPOINT), "web"], env=env, cwd=tmp_path, stderr=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, text=True)
    try:
        booted = _wait_for_line(web, "Booting worker", time.monotonic() + 120)
        assert f"Listening at: http://127.0.0.1:{port}" in booted
        assert not (tmp_path / "metrics" / "stale.db").exists()  # emptied at start
        base = f"http://127.0.0.1:{port}"
        for _ in range(3):
            with urllib.request.urlopen(f"{base}/health", timeout=30) as response:
                assert response.status == 200
        for _ in range(4):
            with urllib.request.urlopen(f"{base}/login", timeout=30) as response:
                assert response.status == 200
        request = urllib.request.Request(f"{base}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
        # whichever gunicorn worker answered, the four logins of every worker are counted
        assert 'coulisses_http_requests_total{method="GET",status="200"} 4.0' in body
    finally:
        web.terminate()
        web.wait(timeout=90)


def test_the_tasks_role_runs_the_due_tasks_then_stops_on_sigterm(tmp_path):
    """`docker stop` sends SIGTERM to the entrypoint (PID 1 in the container, where a signal without a
    handler is ignored): the loop must end by itself, after the tasks that are running, not be killed."""
    venv_bin = Path(sys.executable).parent
    env = {"PATH": f"{venv_bin}:/usr/bin:/bin", "HOME": str(tmp_path), "COULISSES_ENV": "production",
           "COULISSES_SECRET_KEY": STRONG_KEY, "COULISSES_INSTANCE_PATH": str(tmp_path / "data"),
           "COULISSES_PLUGINS": "", "COULISSES_TASKS_INTERVAL": "3600"}
    upgrade = subprocess.run(["sh", str(ENTRYPOINT), "upgrade"], env=env, capture_output=True, text=True,
                             timeout=300, cwd=tmp_path)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    tasks = subprocess.Popen(["sh", str(ENTRYPOINT), "tasks"], env=env, cwd=tmp_path, stderr=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        seen = _wait_for_line(tasks, "coulisses tasks: ", time.monotonic() + 120)
        assert "coulisses tasks: done, next run in 3600 s" in seen
        tasks.terminate()  # during the hour's sleep
        _out, rest = tasks.communicate(timeout=30)
    finally:
        if tasks.poll() is None:
            tasks.kill()
            tasks.wait()
    assert tasks.returncode == 0, seen + rest
    assert "coulisses tasks: stopped" in rest
    listed = subprocess.run(["coulisses", "tasks", "list"], env=env, capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert "core.webhooks.purge" in listed.stdout and "jamais" not in listed.stdout, listed.stdout + listed.stderr


DOCKER = shutil.which("docker")
NO_BASE_IMAGE = 3  # container-check.sh: the base image is neither here nor pullable


def _engine_missing() -> str:
    """Why the image cannot be built here ('' when a Docker engine answers)."""
    if os.environ.get("COULISSES_TEST_DOCKER") == "0":
        return "COULISSES_TEST_DOCKER=0"
    if not DOCKER:
        return "no docker command (the image is built and started only where a Docker engine runs)"
    if subprocess.run([DOCKER, "info"], capture_output=True, timeout=30).returncode != 0:
        return "no Docker engine answers `docker info` (start dockerd: docs/operator-guide.md, Containers)"
    return ""


@pytest.mark.skipif(bool(_engine_missing()), reason=f"the image is not built: {_engine_missing()}")
def test_the_image_builds_and_starts():
    """docs/deploy/container-check.sh: builds the image, starts upgrade, web, worker and tasks as the
    guide says and checks them (on PostgreSQL when the suite runs on it: a database of its own)."""
    from coulisses import db as cdb
    from coulisses.testing import PG_URL
    from sqlalchemy import make_url, text

    env = dict(os.environ)
    database = None
    if PG_URL:
        database = f"{make_url(PG_URL).database}_container"
        env["CHECK_DATABASE_URL"] = make_url(PG_URL).set(database=database).render_as_string(hide_password=False)
        admin = cdb.make_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        result = subprocess.run(["sh", str(DEPLOY / "container-check.sh")], cwd=REPO, capture_output=True,
                                text=True, timeout=1800, env=env)
    finally:
        if database:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            admin.dispose()
    if result.returncode == NO_BASE_IMAGE:
        pytest.skip(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "container check: ok" in result.stdout
    assert ("PostgreSQL)" if PG_URL else "SQLite)") in result.stdout


@pytest.mark.skipif(not shutil.which("logrotate"), reason="logrotate is not installed")
def test_the_guides_log_rotation_for_the_cron_way_rotates(tmp_path):
    guide = (REPO / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    conf = re.search(r"<<'CONF'\n(.*?)\nCONF\n", guide, re.DOTALL).group(1)
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "tasks.log").write_text("contacts.indicators: done\n")
    (tmp_path / "coulisses").write_text(conf.replace("/var/log/coulisses", str(logs)))
    result = subprocess.run(["logrotate", "--force", "--state", str(tmp_path / "state"), str(tmp_path / "coulisses")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert (logs / "tasks.log.1.gz").exists() and (logs / "tasks.log").read_text() == ""


def test_the_image_installs_every_module_template_catalogue_and_migration(tmp_path):
    """The Dockerfile installs the checkout as a wheel (`pip install /src`), not in editable mode:
    whatever the wheel leaves out would be missing from the image."""
    import zipfile

    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            str(REPO), "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    names = set(zipfile.ZipFile(next(tmp_path.glob("coulisses-*.whl"))).namelist())
    missing = []
    for top, package in ((REPO / "platform" / "coulisses", "coulisses"), (REPO / "plugins", "plugins")):
        for path in top.rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            if path.name in ("SERVICES.md", ".gitkeep"):  # documentation for developers
                continue
            archived = f"{package}/{path.relative_to(top).as_posix()}"
            if archived not in names:
                missing.append(archived)
    assert not missing, f"not in the wheel, so not in the image: {missing}"
