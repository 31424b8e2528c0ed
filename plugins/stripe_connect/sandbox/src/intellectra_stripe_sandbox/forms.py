"""Stripe's bracket notation (``metadata[k]=v``, ``line_items[0][price]=p``, ``expand[]=x``) to nested data.

The stripe library form-encodes every v1 request (query string for GET, body for POST) this way, so the
sandbox must rebuild the nested dicts and lists exactly as Stripe does before it can validate parameters.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """A key whose brackets cannot be parsed, or a key used both as a value and as a hash."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


def split_key(key: str) -> list[str]:
    """``a[b][0][]`` → ``["a", "b", "0", ""]``; raises FormError on unbalanced brackets."""
    head, bracket, rest = key.partition("[")
    if not head:
        raise FormError(f"Invalid parameter name: {key}", key)
    if not bracket:
        return [head]
    rest = "[" + rest
    parts = [head]
    pos = 0
    while pos < len(rest):
        match = _SEGMENT.match(rest, pos)
        if match is None:
            raise FormError(f"Invalid parameter name: {key}", key)
        parts.append(match.group(1))
        pos = match.end()
    return parts


def parse_pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Build the nested parameters; dicts whose keys are all indexes become lists (in index order)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        path = split_key(key)
        node: dict[str, Any] = root
        for depth, segment in enumerate(path[:-1]):
            if segment == "":
                segment = _next_index(node, path[depth + 1])
            child = node.get(segment)
            if child is None:
                child = {}
                node[segment] = child
            elif not isinstance(child, dict):
                raise FormError(f"Invalid hash: {_render(path[: depth + 1])}", _render(path[: depth + 1]))
            node = child
        last = path[-1]
        if last == "":
            last = str(_next_append(node))
        if isinstance(node.get(last), dict):
            raise FormError(f"Invalid hash: {_render(path)}", _render(path))
        node[last] = value
    parsed: dict[str, Any] = _listify(root)
    return parsed


def parse_query(raw: str | bytes) -> dict[str, Any]:
    """Parse a urlencoded string (query string or form body) into nested parameters."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return parse_pairs(parse_qsl(text, keep_blank_values=True))


def _next_append(node: dict[str, Any]) -> int:
    indexes = [int(k) for k in node if k.isdigit()]
    return max(indexes) + 1 if indexes else 0


def _next_index(node: dict[str, Any], following: str) -> str:
    """For ``a[][x]``: reuse the last element unless it already has ``x`` (then start a new one)."""
    indexes = [int(k) for k in node if k.isdigit()]
    if indexes:
        last = node[str(max(indexes))]
        if isinstance(last, dict) and following not in last:
            return str(max(indexes))
    return str(_next_append(node))


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _render(path: list[str]) -> str:
    return path[0] + "".join(f"[{p}]" for p in path[1:])
