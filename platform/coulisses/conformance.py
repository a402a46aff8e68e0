"""What every plugin owes the host, checked on a running app (as Tryton's ``ModuleTestCase``): a plugin
calls it in its own tests::

    from coulisses.testing import assert_plugin_conforms

    def test_the_plugin_conforms(app):            # app = make_app(["patrons"])
        assert_plugin_conforms(app, "patrons")

``problems(app, plugin)`` returns one sentence per problem (``[]`` when the plugin conforms):

- its migrations create exactly its models' schema (a scratch SQLite database, or ``database_url``);
- every admin view is a secured view naming a permission, every API route names one, and each of them
  is declared (``coulisses_permissions``);
- every permission it declares is used (by a view, a route, or its code and templates);
- an anonymous visitor gets no page of it (a redirect to the login page, 401, 403 or 404), for GET and
  POST, except the URLs listed in ``public``;
- its API routes live under ``/api/v1/<plugin>`` (``/api/v1/<plugin>/…``), its admin endpoints start
  with ``<plugin>_``;
- every hook implementation matches a specification (the start checks it) and no function is named
  like a hook without ``@hookimpl``;
- every message of its package is translated into English and Spanish, and the compiled catalogues are
  up to date.
"""
from __future__ import annotations

import re
import tempfile
from typing import Iterable

from coulisses import plugins as cplugins

ANONYMOUS_OK = (401, 403, 404)


def _url_for_rule(app, rule, method: str) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        values[arg] = 1 if type(converter).__name__ in ("IntegerConverter", "NumberConverter") else "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method, force_external=False)


def _blueprint_names(pm, plugin: str) -> set[str]:
    names = set()
    for impl in cplugins.ordered_impls(pm, "coulisses_blueprints"):
        if impl.plugin_name == plugin:
            for bp in impl.function() or []:
                names.add(bp.name)
    return names


def problems(app, plugin: str, *, public: Iterable[str] = (), database_url: str | None = None,
             api_prefixes: Iterable[str] | None = None) -> list[str]:
    """The ways ``plugin`` (enabled in ``app``) breaks the host's rules; ``[]`` when it conforms.

    ``api_prefixes``: where its API routes may live (default ``/<plugin>``; a built-in plugin that
    owns a resource of the domain, such as sales' ``/orders``, lists its own)."""
    from coulisses import i18n_tools
    from coulisses.web.admin import SecuredView

    state = app.extensions["coulisses"]
    info = state.infos[plugin]
    found: list[str] = []
    public = set(public)

    # --- migrations
    from coulisses.db import tables_of

    if tables_of([plugin]):
        from coulisses.testing import assert_migrations_match_models

        with tempfile.TemporaryDirectory(prefix="coulisses-conformance-") as scratch:
            try:
                assert_migrations_match_models(database_url or f"sqlite:///{scratch}/scratch.db", plugin)
            except AssertionError as exc:
                found.append(f"migrations: {exc}")

    # --- screens and routes name a declared permission
    used: set[str] = set()
    views = [v for v in state.admin._views if str(v.endpoint).startswith(f"{plugin}_")]
    for view in views:
        if not isinstance(view, SecuredView) or not view.permission:
            found.append(f"admin view '{view.endpoint}' checks no permission (use coulisses.web.admin.ModelView "
                         f"or CoulissesBaseView with permission=…)")
            continue
        for code in (view.permission, getattr(view, "permission_edit", None)):
            if code:
                used.add(code)
                if code not in state.permissions:
                    found.append(f"admin view '{view.endpoint}' checks permission '{code}', which no plugin declares")
    routes = [r for r in state.api.routes if r.plugin == plugin]
    for route in routes:
        if not route.permission:
            found.append(f"API route {route.rule} checks no permission")
            continue
        used.add(route.permission)
        if route.permission not in state.permissions:
            found.append(f"API route {route.rule} checks permission '{route.permission}', which no plugin declares")
        prefixes = list(api_prefixes) if api_prefixes is not None else [f"/{plugin}"]
        if not any(route.rule == p or route.rule.startswith(p.rstrip("/") + "/") for p in prefixes):
            found.append(f"API route {route.rule} is not under /api/v1{' or /api/v1'.join(prefixes)}")

    # --- every declared permission is used
    declared = sorted(code for code, d in state.permissions.items() if d.plugin == plugin)
    sources = []
    if info.root is not None:
        for path in info.root.rglob("*"):
            if path.suffix in (".py", ".html", ".js", ".txt") and "tests" not in path.parts and path.is_file():
                sources.append(path.read_text(encoding="utf-8", errors="replace"))
    text = "\n".join(sources)
    for code in declared:
        if not code.startswith(f"{plugin}."):
            found.append(f"permission '{code}' is not named '{plugin}.<action>'")
        if code not in used and text.count(code) < 2:
            found.append(f"permission '{code}' is declared but no screen, route or code of the plugin checks it")

    # --- anonymous visitors get nothing
    endpoints = {f"{v.endpoint}." for v in views} | {f"{bp}." for bp in _blueprint_names(state.pm, plugin)}
    api_endpoints = {f"api.{r.endpoint}" for r in routes}
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)  # a valid CSRF token, and no login
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page)
    form = {"csrf_token": token.group(1)} if token else {}
    for rule in app.url_map.iter_rules():
        mine = rule.endpoint in api_endpoints or any(rule.endpoint.startswith(p) for p in endpoints)
        if not mine or rule.endpoint.endswith(".static"):
            continue
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            url = _url_for_rule(app, rule, method)
            if url in public:
                continue
            response = client.open(url, method=method, data=form if method == "POST" else None)
            status = response.status_code
            if status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location", "")
                if "/login" in location or (status in (301, 308) and location.rstrip("/").endswith(url.rstrip("/"))):
                    continue
            elif status in ANONYMOUS_OK:
                continue
            found.append(f"{method} {url} answers {status} to an anonymous visitor")

    # --- hooks
    known = cplugins.all_hook_names(state.pm)
    found.extend(cplugins.unmarked_hooks(info, known))

    # --- translations
    if info.root is not None:
        extracted = [m for m in i18n_tools.extract(info.root) if m.id]
        if extracted:
            report = i18n_tools.check(info.root)
            for lang, ids in report.missing.items():
                for msgid in ids:
                    found.append(f"message not translated in {lang}: {msgid!r}")
            for lang in report.stale_mo:
                found.append(f"translations/{lang}/LC_MESSAGES/messages.mo is stale: run `coulisses i18n update "
                             f"{plugin}`")
    return list(dict.fromkeys(found))


def assert_plugin_conforms(app, plugin: str, *, public: Iterable[str] = (), database_url: str | None = None,
                           api_prefixes: Iterable[str] | None = None) -> None:
    """Fail, listing every problem, when ``plugin`` breaks one of the host's rules (see the module)."""
    found = problems(app, plugin, public=public, database_url=database_url, api_prefixes=api_prefixes)
    assert not found, f"plugin '{plugin}' does not conform:\n" + "\n".join(f"- {p}" for p in found)
