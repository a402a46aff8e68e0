"""The REST API fuzzed from its own OpenAPI document (schemathesis): never a 5xx, never an answer the
document does not describe (status, content type, headers, body schema).

Every built-in plugin is enabled, with its demo data (small), so that the operations read and change
real rows; every operation of the document is fuzzed (the endpoints a new plugin adds are picked up
without changing this test), with valid and invalid data, and with path parameters that name
existing rows. Generation is derandomized: a run is reproducible. ``COULISSES_FUZZ_EXAMPLES`` sets the
number of examples per operation and kind (default 10; the issue's full run is about 10,000 requests).
"""
from __future__ import annotations

import os
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

EXAMPLES = int(os.environ.get("COULISSES_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
EXISTING_IDS = (1, 2, 3, 5, 8)  # rows the demo data creates (ids and numbers start at 1)


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


def toward_existing_rows(node):
    """Every integer schema ``S`` of the document becomes ``anyOf: [{enum: EXISTING_IDS in S's range}, S]``:
    the same values are valid (answers are checked against the same document), but ids and numbers in
    paths, queries and bodies now often name the demo's rows, so requests reach past "not found"."""
    if isinstance(node, list):
        return [toward_existing_rows(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: toward_existing_rows(value) for key, value in node.items()}
    if node.get("type") == "integer":
        low, high = node.get("minimum", 0), node.get("maximum", 2**63)
        values = [v for v in EXISTING_IDS if low <= v <= high]
        if values:
            return {"anyOf": [{"type": "integer", "enum": values}, node]}
    return node


def strategies_of(operation):
    return st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))


def test_the_api_never_answers_5xx_nor_anything_its_document_does_not_say(fuzzed):
    app, auth, document = fuzzed
    schema = schemathesis.openapi.from_dict(toward_existing_rows(document))
    operations = [result.ok() for result in schema.get_all_operations()]
    routes = app.extensions["coulisses"].api.routes
    assert len(operations) == sum(len(route.methods) for route in routes) > 50
    failures: dict[tuple[str, str], str] = {}

    for operation in operations:
        @given(case=strategies_of(operation))
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def fuzz(case):
            try:
                response = case.call(app=app, headers=auth)
            except Exception as exc:  # noqa: BLE001 - an exception the app let out is a 500
                failures.setdefault((operation.label, type(exc).__name__), f"{exc!r}\n{case.as_curl_command()}")
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as group:
                for failure in group.exceptions:
                    failures.setdefault((operation.label, f"{failure.title} ({response.status_code})"),
                                        f"{failure.message[:600]}\n{response.text[:300]}\n{case.as_curl_command()}")

        fuzz()

    report = "\n\n".join(f"{label} — {kind}\n{detail}" for (label, kind), detail in sorted(failures.items()))
    assert not failures, f"{len(failures)} kinds of failure:\n\n{report}"
