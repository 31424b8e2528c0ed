"""Stripe's two error shapes: the API one (``{"error": {...}}``) and the OAuth one (``{"error": "code"}``).

The stripe library picks the exception class from the status code and, for OAuth, from the string ``error``;
so the shape and status must match Stripe's exactly for the plugin's error handling to be exercised.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

DOC_BASE = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error, rendered as Stripe renders it."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        error.update(self.extra)
        return {"error": error}

    def response(self, request_id: str | None = None) -> JSONResponse:
        headers = {"Request-Id": request_id} if request_id else None
        return JSONResponse(self.body(request_id), status_code=self.status, headers=headers)


class OAuthError(Exception):
    """An error from ``connect.stripe.com/oauth/*``: ``{"error": code, "error_description": text}``."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "error_description": self.description}, status_code=self.status)


def unknown_parameter(param: str) -> StripeError:
    return StripeError(f"Received unknown parameter: {param}", code="parameter_unknown", param=param)


def missing_parameter(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", code="parameter_missing", param=param)


def exclusive_parameters(*params: str) -> StripeError:
    return StripeError(
        f"You may only specify one of these parameters: {', '.join(params)}.",
        code="parameters_exclusive",
        param=params[0],
    )


def resource_missing(object_name: str, object_id: str, param: str | None = "id") -> StripeError:
    return StripeError(f"No such {object_name}: '{object_id}'", status=404, code="resource_missing", param=param)


def invalid(message: str, param: str | None, code: str | None = None) -> StripeError:
    return StripeError(message, code=code, param=param)


def mask_key(key: str) -> str:
    """``sk_test_abcdefgh1234`` → ``sk_test_********1234`` as Stripe prints keys in errors."""
    prefix_end = key.find("_", key.find("_") + 1) + 1 if key.count("_") >= 2 else 0
    prefix = key[:prefix_end]
    tail = key[-4:] if len(key) - prefix_end > 4 else ""
    return prefix + "*" * max(len(key) - len(prefix) - len(tail), 0) + tail
