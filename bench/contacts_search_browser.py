"""The quick-search autocomplete as the operator feels it: keystroke to list shown, in Chromium.

``contacts.search.browser`` (issue 17): the contacts of ``contacts_search`` (``QUICK`` 50,000 or
``FULL`` 1,000,000, the same generator, seed and queries: name prefix, "Name, F", contact number,
e-mail prefix), a live server (the app in production mode, werkzeug's threaded server in a thread, as
the browser tests use), and headless Chromium (Debian's ``/usr/bin/chromium`` driven by Playwright)
logged in as an administrator on the quick search screen. Each query is typed into the quick search
box at an operator's pace (``TYPING_DELAY_MS`` between keys, so the earlier keys' requests are sent and
then cancelled, as in real use); the time measured runs from the ``keydown`` of the last key to the
animation frame that paints the list of that query (the autocomplete's own ``shown`` query: a list of
an earlier prefix does not count). The box is emptied between queries.

Records: ``p95_ms`` (target 100 ms at 1,000,000 contacts) and ``p50_ms``; beside them the p50/p95
of the last key's request alone (the browser's Resource Timing of ``GET /api/v1/contacts?q=``), the
part of the time the server and the network take, the debounce and the rendering being the rest.
"""
from __future__ import annotations

import logging
import random
import threading

from sqlalchemy.orm import Session

from coulisses.testing import CHROMIUM, CHROMIUM_ARGS

from bench.common import Context, record, summary
from bench.contacts_search import BENCH_PASSWORD, app_with_operator, make_queries, populate

QUICK = 50_000
FULL = 1_000_000
PER_KIND = {True: 10, False: 50}  # queries of each kind (quick, full), after WARMUP untimed ones
WARMUP = 5
TYPING_DELAY_MS = 120  # between two keys: about 8 characters a second
DEBOUNCE_MS = 50  # what contacts.js waits for (recorded with the figures)
SEED = 17

# In the page: when the list of the query typed is painted, how long after the last key.
PROBE = """() => {
  const box = document.getElementById("quick-search");
  const ac = box.coulissesAutocomplete;
  const state = { lastKey: 0, done: {}, waiting: {} };
  box.addEventListener("keydown", () => { state.lastKey = performance.now(); }, true);
  new MutationObserver(() => {
    const q = ac.shown;
    if (q === null || ac.list.classList.contains("d-none") || q !== box.value.trim() || q in state.done) { return; }
    const since = state.lastKey;
    state.done[q] = null;
    requestAnimationFrame(() => {
      const request = performance.getEntriesByType("resource").filter(
        (e) => e.name.indexOf("/api/v1/contacts?") >= 0 && new URL(e.name).searchParams.get("q") === q).pop();
      state.done[q] = { shown_ms: performance.now() - since, request_ms: request ? request.duration : null };
      (state.waiting[q] || []).forEach((resolve) => resolve(state.done[q]));
    });
  }).observe(ac.list, { attributes: true, childList: true });
  window.benchShown = (q) => new Promise((resolve, reject) => {
    if (state.done[q]) { resolve(state.done[q]); return; }
    (state.waiting[q] = state.waiting[q] || []).push(resolve);
    setTimeout(() => reject(new Error("no list for " + q + " after 10 s")), 10000);
  });
  window.benchForget = () => { state.done = {}; state.waiting = {}; performance.clearResourceTimings(); };
}"""


class LiveServer:
    """The app served on a free port in a thread (werkzeug's threaded server)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the dev server's access log (not the app's)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def series(session: Session, quick: bool) -> list[str]:
    """The queries typed, kinds interleaved (the warm-up ones first)."""
    queries = make_queries(session, random.Random(SEED))
    kinds = ("prefix", "name_first", "number", "email")
    count = PER_KIND[quick]
    out = [queries[kind][i] for i in range(WARMUP) for kind in kinds][:WARMUP]
    out += [queries[kind][WARMUP + i] for i in range(count) for kind in kinds]
    return [q for q in out if len(q.strip()) >= 2]


def type_and_wait(page, box, query: str) -> dict:
    page.evaluate("() => window.benchForget()")
    box.fill("")
    box.press_sequentially(query, delay=TYPING_DELAY_MS)
    return page.evaluate("(q) => window.benchShown(q)", query.strip())


def measure(url: str, queries: list[str]) -> tuple[list[float], list[float]]:
    from playwright.sync_api import expect, sync_playwright

    shown, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}).new_page()
        page.goto(url + "/login")
        page.fill("#login", "bench")
        page.fill("#password", BENCH_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(url + "/admin/")
        page.goto(url + "/admin/contacts/")
        page.wait_for_load_state()
        box = page.locator("#quick-search")
        expect(box).to_be_focused()
        page.evaluate(PROBE)
        for i, query in enumerate(queries):
            result = type_and_wait(page, box, query)
            if i < WARMUP:
                continue
            shown.append(result["shown_ms"])
            if result["request_ms"] is not None:
                requests.append(result["request_ms"])
        browser.close()
    return shown, requests


def run(ctx: Context) -> list[dict]:
    size = QUICK if ctx.quick else FULL
    populate(ctx, size)
    app, _token = app_with_operator(ctx, env="production")
    engine = ctx.engine()
    with Session(engine) as session:
        queries = series(session, ctx.quick)
    engine.dispose()
    with LiveServer(app) as server:
        shown, requests = measure(server.url, queries)
    s = summary(shown)
    r = summary(requests) if requests else {"p50_ms": None, "p95_ms": None}
    print(f"   keystroke to list shown {s}; the last key's request {r} ({len(shown)} queries)", flush=True)
    common = {"queries": len(shown), "debounce_ms": DEBOUNCE_MS, "typing_delay_ms": TYPING_DELAY_MS,
              "browser": "headless Chromium"}
    return [
        record("contacts.search.browser", ctx.database, size, "p95_ms", s["p95_ms"], 100,
               baseline="the last key's HTTP request p95 (Resource Timing)", baseline_value=r["p95_ms"], **common),
        record("contacts.search.browser", ctx.database, size, "p50_ms", s["p50_ms"], None,
               baseline="the last key's HTTP request p50 (Resource Timing)", baseline_value=r["p50_ms"], **common),
    ]
