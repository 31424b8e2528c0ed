"""Operator-only endpoints: a bearer token from ``INTELLECTRA_METRICS_TOKEN`` (the operator token).

The token is compared in constant time. Without the setting the endpoints are off (404), so a
deployment that never chose a token exposes nothing.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from core.errors import IntellectraError, NotFound
from core.web.identity import host_of


class OperatorTokenRequired(IntellectraError):
    code = "operator_token_required"
    http_status = 401


def require_operator(request: Request) -> None:
    """Refuse unless the request carries ``Authorization: Bearer <INTELLECTRA_METRICS_TOKEN>``."""
    expected = host_of(request).settings.metrics_token
    if not expected:
        raise NotFound("Operator endpoints are off: set INTELLECTRA_METRICS_TOKEN to turn them on.",
                       code="operator_endpoints_off")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise OperatorTokenRequired("This endpoint is for operators: send `Authorization: Bearer "
                                    "<INTELLECTRA_METRICS_TOKEN>`.")
