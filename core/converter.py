"""One cattrs converter for JSON and rows, and the error formatting that names key paths."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import cattrs
from cattrs.preconf.json import make_converter

from core.secrets_type import Secret

T = TypeVar("T")


def _build() -> cattrs.Converter:
    conv = make_converter(forbid_extra_keys=True)

    def unstructure_dt(value: datetime) -> str:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def structure_dt(value: Any, _: type) -> datetime:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    conv.register_unstructure_hook(datetime, unstructure_dt)
    conv.register_structure_hook(datetime, structure_dt)

    def structure_secret(value: Any, _: type) -> Secret:
        if isinstance(value, Secret):
            return value
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return Secret(value)

    conv.register_structure_hook(Secret, structure_secret)
    conv.register_unstructure_hook(Secret, lambda s: "***")
    return conv


converter: cattrs.Converter = _build()
"""The host's converter: attrs models ⇄ JSON-able data; unknown keys are errors."""


def format_errors(exc: BaseException, path: str) -> list[str]:
    """Turn a cattrs structuring error into ``key.path: what is wrong`` lines."""
    lines: list[str] = []
    if isinstance(exc, cattrs.ClassValidationError) and not _has_nested_paths(exc):
        # attrs validators fail the whole __init__; their message names the attribute ('x' must be ...).
        for sub in exc.exceptions:
            match = _ATTRS_MESSAGE.match(str(sub))
            if match:
                lines.append(f"{path}.{match['name']}: {match['rest']}" + (f" (got {match['got']})"
                                                                            if match["got"] else ""))
        if lines:
            return lines
    if isinstance(exc, cattrs.ClassValidationError | cattrs.IterableValidationError | cattrs.BaseValidationError):
        for message in cattrs.transform_error(exc, path=path, format_exception=_format_exception):
            text, _, where = message.rpartition(" @ ")
            lines.append(f"{where}: {text}" if where else message)
        return lines
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return [f"{path}: unknown key(s) {', '.join(sorted(exc.extra_fields))}"]
    return [f"{path}: {exc}"]


_ATTRS_MESSAGE = re.compile(r"^'(?P<name>\w+)' (?P<rest>must .*?)(?:: (?P<got>[^:]*))?$")


def _has_nested_paths(exc: cattrs.ClassValidationError) -> bool:
    return any(getattr(sub, "__notes__", None) for sub in exc.exceptions)


def _format_exception(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key(s) {', '.join(sorted(exc.extra_fields))}; remove or correct them"
    if isinstance(exc, KeyError):
        return "required key is missing"
    if isinstance(exc, ValueError | TypeError) and str(exc):
        name = getattr(type_, "__name__", str(type_))
        text = str(exc)
        if text.startswith("invalid literal") or "could not convert" in text:
            return f"expected {name}, got an invalid value"
        return text
    return cattrs.v.format_exception(exc, type_)
