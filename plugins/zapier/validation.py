"""Turning request bodies into attrs objects with cattrs, with errors Zapier can show a user.

Errors come back as ``{"error": {"code": "invalid_input", "message", "fields": {name: problem}}}``:
the message lists every problem in one sentence (Zapier shows it), ``fields`` lets a client mark them.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.preconf.json import make_converter
from starlette.requests import Request

from core import ValidationFailed

T = TypeVar("T")
converter = make_converter(forbid_extra_keys=True)
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class InvalidInput(ValidationFailed):
    """400 with the problems per field, besides the one-line message."""

    code = "invalid_input"

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields

    def to_json(self) -> dict[str, object]:
        body = super().to_json()
        body["error"]["fields"] = self.fields  # type: ignore[index]
        return body


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}``."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep to parse
        raise ValidationFailed(f"The request body is not valid JSON ({exc.args[0]}); send a JSON object.",
                               code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("The request body must be a JSON object.", code="invalid_json")
    return data


class FieldProblem(ValueError):
    """Raised by input validators so the problem is reported against its field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def check_email(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    """An attrs validator: a plausible email address (the host app decides whether it exists)."""
    if not EMAIL_RE.fullmatch(value or ""):
        raise FieldProblem(attribute.name, f"{value!r} is not an email address")


def check_not_blank(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value.strip():
        raise FieldProblem(attribute.name, "must not be empty")


def structure(data: dict[str, Any], cls: type[T], *, what: str) -> T:
    """``cls`` from ``data`` or :class:`InvalidInput` naming every wrong field."""
    known = {f.name for f in attrs.fields(cls)}  # type: ignore[arg-type]
    fields = {name: f"unknown field; use {', '.join(sorted(known))}" for name in sorted(set(data) - known)}
    if not fields:
        try:
            return converter.structure(data, cls)
        except FieldProblem as exc:
            fields = {exc.field: exc.problem}
        except cattrs.ClassValidationError as exc:
            fields = {sub.field: sub.problem for sub in exc.exceptions if isinstance(sub, FieldProblem)}
            for line in [] if fields else cattrs.transform_error(exc, path="", format_exception=_describe):
                text, _, where = line.rpartition(" @ ")
                fields[where.lstrip(".") or "input"] = text
        except (ValueError, TypeError) as exc:
            fields = {"input": str(exc)}
    summary = "; ".join(f"{name} {problem}" for name, problem in fields.items())
    raise InvalidInput(f"Check the {what}: {summary}.", fields)


def _describe(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "is required"
    if isinstance(exc, ValueError | TypeError) and str(exc):
        text = str(exc)
        if text.startswith("invalid literal") or "could not convert" in text:
            return f"must be of type {getattr(type_, '__name__', type_)}"
        return text
    return cattrs.v.format_exception(exc, type_)
