"""Every error leaves the web layer as ``{"error": {"code", "message"}}`` with the right status."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import IntellectraError
from core.redact import redact

log = logging.getLogger("intellectra.web")

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
                422: "invalid_request", 429: "rate_limited", 501: "not_implemented", 503: "unavailable"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": redact(message)}}, status_code=status, headers=headers)


async def intellectra_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IntellectraError)
    body = exc.to_json()
    body["error"]["message"] = redact(str(body["error"]["message"]))  # type: ignore[index]
    return JSONResponse(body, status_code=exc.http_status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = STATUS_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code
    return error_response(exc.status_code, code, detail, headers=dict(exc.headers or {}))


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Something went wrong on our side; it was logged. Try again.")


EXCEPTION_HANDLERS = {IntellectraError: intellectra_error, HTTPException: http_error, Exception: server_error}
