"""Browser tests: a live Coulisses server in a thread and real headless Chromium (Debian's package)
driven by Playwright. ``live_server(plugins=[...])`` starts the app on a free port."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from coulisses.testing import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class _InFlight:
    """WSGI wrapper counting the requests being served, so that teardown waits for the last one (a
    request still running when the test ends would otherwise hold a transaction open while the
    database is dropped)."""

    def __init__(self, app):
        self.app = app
        self.count = 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.count += 1
        try:
            yield from self.app(environ, start_response)
        finally:
            with self.idle:
                self.count -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout=30):
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout=timeout)


@pytest.fixture
def live_server(make_app):
    servers = []

    def start(plugins=(), **config):
        app = make_app(plugins, **config)
        counted = _InFlight(app)
        server = make_server("127.0.0.1", 0, counted, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, counted))
        app.config["LIVE_URL"] = f"http://127.0.0.1:{server.server_port}"
        return app

    yield start
    for server, counted in servers:
        server.shutdown()
        assert counted.wait_idle(), "a request of the live server was still running 30 s after the test"
        server.server_close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def browser_login(page, base_url: str, login_name: str, password: str):
    page.goto(base_url + "/login")
    page.fill("#login", login_name)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(base_url + "/admin/")
