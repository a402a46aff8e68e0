"""The REST API fuzzed from its own OpenAPI document (schemathesis): never a 5xx, never an answer the
document does not describe (status, content type, headers, body schema).

Every built-in plugin is enabled, with its demo data (small), so that the operations read and change
real rows; every operation of the document is fuzzed (the endpoints a new plugin adds are picked up
without changing this test): valid requests, invalid ones, and valid ones whose integers (path, query,
body) name rows of the demo data — reads first, deletions last. Generation is derandomized: a run is
reproducible. ``COULISSES_FUZZ_EXAMPLES`` sets the number of requests per operation (default 15, about
900 requests; the issue's full run was about 10,000: ``COULISSES_FUZZ_EXAMPLES=170``);
``COULISSES_FUZZ_REPORT=1`` prints the statuses answered per operation (how deep the requests went).
"""
from __future__ import annotations

import copy
import os
from collections import Counter
from importlib.metadata import entry_points

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from coulisses.demo import load_demo
from tests.conftest import app_session

EXAMPLES = int(os.environ.get("COULISSES_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


def builtin_plugins() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="coulisses.plugins")
                  if ep.dist is not None and ep.dist.name == "coulisses")


@pytest.fixture
def fuzzed(make_app, make_operator, token_for):
    app = make_app(builtin_plugins())
    with app_session(app) as session:
        load_demo(session, app.extensions["coulisses"].pm, "small", echo=lambda _message: None)
    make_operator("fuzz", roles=["administrator"])
    auth = {"Authorization": f"Bearer {token_for('fuzz')}"}
    document = app.test_client().get("/api/v1/openapi.json", headers=auth).get_json()
    return app, auth, document


def existing_values(app) -> list[int]:
    """Integers that name rows of the demo data, whatever the plugins: the first ids, and the smallest
    and largest values of every integer column named ``number`` (contacts, orders…)."""
    from sqlalchemy import Integer, func, select

    from coulisses import db as cdb
    from coulisses.web.extensions import db

    values = {1, 2, 3, 5}
    with app.app_context():
        for table in cdb.tables_of(["core", *app.extensions["coulisses"].order]):
            column = table.columns.get("number")
            if column is not None and isinstance(column.type, Integer):
                values.update(v for v in db.session.execute(select(func.min(column), func.max(column))).one()
                              if v is not None)
    return sorted(values)


def _inline(node, components):
    if isinstance(node, list):
        return [_inline(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(components[node["$ref"].rsplit("/", 1)[1]], components)
    return {key: _inline(value, components) for key, value in node.items()}


def _existing_only(node, values):
    if isinstance(node, list):
        return [_existing_only(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "integer":
        low, high = node.get("minimum", -(2**63)), node.get("maximum", 2**63)
        chosen = [v for v in values if low <= v <= high]
        if chosen:
            return {"type": "integer", "enum": chosen}
    return {key: _existing_only(value, values) for key, value in node.items()}


def naming_existing_rows(document: dict, values: list[int]) -> dict:
    """The document with every integer of a request (path, query, body) restricted to ``values``:
    requests generated from it name the demo's rows, so they reach past "not found". Responses keep
    their schemas (the request side is inlined, the components are left as they are)."""
    document = copy.deepcopy(document)
    components = document["components"]["schemas"]
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _existing_only(_inline(parameter["schema"], components), values)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                content["schema"] = _existing_only(_inline(content["schema"], components), values)
    return document


def test_the_api_never_answers_5xx_nor_anything_its_document_does_not_say(fuzzed):
    app, auth, document = fuzzed
    schema = schemathesis.openapi.from_dict(document)
    # reads first, deletions last: the rows the demo data made are read and changed before they go
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (order.get(op.method.upper(), 1), op.label))
    existing = schemathesis.openapi.from_dict(naming_existing_rows(document, existing_values(app)))
    naming = {op.label: op for op in (result.ok() for result in existing.get_all_operations())}
    routes = app.extensions["coulisses"].api.routes
    assert len(operations) == sum(len(route.methods) for route in routes) > 50
    failures: dict[tuple[str, str], str] = {}
    answers: Counter = Counter()  # (operation, status): how deep the requests went (COULISSES_FUZZ_REPORT=1)

    for operation in operations:
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE),
                             naming[operation.label].as_strategy(GenerationMode.POSITIVE))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            try:
                response = case.call(app=app, headers=auth)
            except Exception as exc:  # noqa: BLE001 - an exception the app let out is a 500
                failures.setdefault((operation.label, type(exc).__name__), f"{exc!r}\n{case.as_curl_command()}")
                return
            answers[(operation.label, response.status_code)] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                for failure in group.exceptions:
                    failures.setdefault((operation.label, f"{failure.title} ({response.status_code})"),
                                        f"{failure.message[:600]}\n{response.text[:300]}\n{case.as_curl_command()}")

        fuzz()

    if os.environ.get("COULISSES_FUZZ_REPORT"):
        print("\n".join(f"{label}: {status} × {n}" for (label, status), n in sorted(answers.items())))
    report = "\n\n".join(f"{label} — {kind}\n{detail}" for (label, kind), detail in sorted(failures.items()))
    assert not failures, f"{len(failures)} kinds of failure:\n\n{report}"
