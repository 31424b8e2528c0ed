"""Builds API objects from Stripe's own example objects, so every response has Stripe's exact field set.

``fixtures.json`` holds a copy of the handful of objects the sandbox serves, taken from stripe/openapi's
``fixtures3.json`` (MIT); the package never reads outside the repository at run time.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _fixtures() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("fixtures.json").read_text(encoding="utf-8")
    loaded: dict[str, dict[str, Any]] = json.loads(text)["resources"]
    return loaded


def fixture(object_type: str) -> dict[str, Any]:
    """A fresh deep copy of Stripe's example object of that type (e.g. ``"checkout.session"``)."""
    return copy.deepcopy(_fixtures()[object_type])


def build(object_type: str, **values: Any) -> dict[str, Any]:
    """The example object with ``values`` set on top; unknown keys are a bug, so they raise."""
    obj = fixture(object_type)
    for key, value in values.items():
        if key not in obj:
            raise KeyError(f"{object_type} has no field {key!r}")
        obj[key] = value
    return obj


def empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


def nulls(template: dict[str, Any]) -> dict[str, Any]:
    """The same keys with every leaf set to None (for address-like sub-objects in the examples)."""
    return {k: nulls(v) if isinstance(v, dict) else None for k, v in template.items()}
