"""Fuzzing of every endpoint in the OpenAPI schema: never a 500, always the documented shape."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.http.app import create_app
from service.settings import ServiceSettings

# The schema does not depend on an index, so the operations can be listed at collection time. Invalid
# (negative) inputs only exist for query parameters: every string is a valid post path.
_PATHS = create_app(ServiceSettings(index_dir=Path("unused"))).openapi()["paths"]
OPERATIONS = [
    (path, method.upper(), mode)
    for path, methods in _PATHS.items() for method, spec in methods.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or any(p["in"] == "query" for p in spec.get("parameters", []))
]
EXAMPLES = 40  # per operation and mode: keeps the whole run to seconds on two cores


@pytest.fixture(scope="session")
def api_schema(index_dir):  # type: ignore[no-untyped-def]
    """The app's own schema, called in-process (schemathesis runs the lifespan, so the index is loaded)."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(ServiceSettings(index_dir=index_dir)))


@pytest.mark.parametrize(("path", "method", "mode"), OPERATIONS)
def test_no_input_makes_a_server_error_or_breaks_the_response_schema(api_schema, path, method, mode):
    @given(case=api_schema[path][method].as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck), database=None)
    def fuzz(case):  # type: ignore[no-untyped-def]
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    fuzz()
