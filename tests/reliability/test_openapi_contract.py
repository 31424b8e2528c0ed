"""Schemathesis over the tenant API's own ``/openapi.json``: generated requests (valid and invalid) from a
signed-in tenant never get a 5xx, and every answer matches the schema the document promises.

The example count is small on purpose (``INTELLECTRA_RELIABILITY_FUZZ_EXAMPLES``); the point is that
each operation meets generated input at all, not an exhaustive search.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from harness import sizes
from harness.arena import Arena
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def operations(arena: Arena) -> list[Any]:
    """The tenant API's operations (``/api/...``) from the arena's own OpenAPI document."""
    schema = schemathesis.openapi.from_url(f"{arena.url}/openapi.json").include(path_regex=r"^/api/")
    schema.config.generation.update(allow_x00=False)  # NUL bytes: test_a_nul_byte_in_a_filter_is_never_a_5xx
    return [result.ok() for result in schema.get_all_operations()]


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance,
          response_headers_conformance]


def test_the_tenant_api_answers_generated_requests_as_documented(arena: Arena) -> None:
    found = operations(arena)
    assert len(found) >= 8, [op.label for op in found]
    headers = {**arena.a.bearer, "X-API-Key": arena.a.api_key}
    for operation in found:

        @given(case=operation.as_strategy())
        @settings(max_examples=max(5, sizes.FUZZ_EXAMPLES // 5), deadline=None,
                  suppress_health_check=list(HealthCheck))
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(base_url=arena.url, headers=headers, checks=CHECKS)

        answers_as_documented()


NUL_FILTERS = [("/api/events", "type"), ("/api/subscriptions", "integration"), ("/api/api-keys", "integration"),
               ("/api/deliveries", "status")]


@pytest.mark.parametrize(("path", "name"), NUL_FILTERS, ids=[f"{p}?{n}" for p, n in NUL_FILTERS])
def test_a_nul_byte_in_a_filter_is_never_a_5xx(arena: Arena, path: str, name: str,
                                                request: pytest.FixtureRequest) -> None:
    answer = arena.http.get(arena.url + path, params={name: "zapier\x00"}, headers=arena.a.bearer)

    assert answer.status_code < 500, answer.text[:300]
