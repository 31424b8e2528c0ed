"""Per-endpoint allow-lists of parameters, checked the way Stripe checks them.

Stripe rejects any parameter it does not know (``parameter_unknown`` naming the full bracket path), a missing
required one (``parameter_missing``), a bad integer or enum value, and an empty string for a parameter that
cannot be unset. A sandbox that accepted more than Stripe would let plugin bugs through, so every endpoint
declares its parameters here as a small schema tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import StripeError, missing_parameter, unknown_parameter


def join(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if path else str(key)


def _empty_error(path: str) -> StripeError:
    return StripeError(
        f"You passed an empty string for '{path}'. We assume empty values are an attempt to unset a "
        f"parameter; however '{path}' cannot be unset. You should remove '{path}' from your request or "
        "supply a non-empty value.",
        code="parameter_invalid_empty",
        param=path,
    )


class Spec:
    """A parameter's type; ``check`` returns the converted value or raises StripeError."""

    def __init__(self, *, unsettable: bool = True) -> None:
        self.unsettable = unsettable

    def check(self, value: Any, path: str) -> Any:
        if value == "":
            if not self.unsettable:
                raise _empty_error(path)
            return None
        return self.convert(value, path)

    def convert(self, value: Any, path: str) -> Any:
        return value


class Str(Spec):
    def __init__(self, *, max_length: int | None = None, unsettable: bool = True) -> None:
        super().__init__(unsettable=unsettable)
        self.max_length = max_length

    def convert(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise StripeError(f"Invalid string: {_show(value)}", param=path)
        if self.max_length is not None and len(value) > self.max_length:
            raise StripeError(
                f"Invalid string: {value[:20]}...; must be at most {self.max_length} characters",
                param=path,
            )
        return value


class Int(Spec):
    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, unsettable: bool = True):
        super().__init__(unsettable=unsettable)
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
            raise StripeError(f"Invalid integer: {_show(value)}", code="parameter_invalid_integer", param=path)
        number = int(value)
        if self.minimum is not None and number < self.minimum:
            raise StripeError(f"This value must be greater than or equal to {self.minimum}.", param=path)
        if self.maximum is not None and number > self.maximum:
            raise StripeError(f"This value must be less than or equal to {self.maximum}.", param=path)
        return number


class Decimal(Spec):
    def convert(self, value: Any, path: str) -> Any:
        if not isinstance(value, str) or not re.fullmatch(r"-?\d+(\.\d+)?", value):
            raise StripeError(f"Invalid decimal: {_show(value)}", param=path)
        return float(value)


class Bool(Spec):
    def convert(self, value: Any, path: str) -> Any:
        if value in ("true", "false"):
            return value == "true"
        raise StripeError(f"Invalid boolean: {_show(value)}", param=path)


class Enum(Spec):
    def __init__(self, *choices: str, unsettable: bool = False) -> None:
        super().__init__(unsettable=unsettable)
        self.choices = choices

    def convert(self, value: Any, path: str) -> Any:
        if value not in self.choices:
            name = re.sub(r".*\[([^\]]*)\]$", r"\1", path)
            options = (
                ", ".join(self.choices[:-1]) + f", or {self.choices[-1]}"
                if len(self.choices) > 2
                else " or ".join(self.choices)
            )
            raise StripeError(f"Invalid {name}: must be one of {options}", param=path)
        return value


class Obj(Spec):
    """A hash with a fixed set of keys; ``required`` keys must be present."""

    def __init__(self, fields: Mapping[str, Spec], *, required: Iterable[str] = (), unsettable: bool = True) -> None:
        super().__init__(unsettable=unsettable)
        self.fields = dict(fields)
        self.required = tuple(required)

    def convert(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise StripeError(f"Invalid hash: {_show(value)}" if path else "Invalid request", param=path)
        out: dict[str, Any] = {}
        for key, item in value.items():
            spec = self.fields.get(key)
            if spec is None:
                raise unknown_parameter(join(path, key))
            out[key] = spec.check(item, join(path, key))
        for key in self.required:
            if out.get(key) is None:
                raise missing_parameter(join(path, key))
        return out


class Arr(Spec):
    def __init__(self, item: Spec, *, max_items: int | None = None, unsettable: bool = True) -> None:
        super().__init__(unsettable=unsettable)
        self.item = item
        self.max_items = max_items

    def convert(self, value: Any, path: str) -> Any:
        if isinstance(value, dict):  # sparse indexes such as items[1] alone
            raise StripeError(f"Invalid array: {path}", param=path)
        if not isinstance(value, list):
            raise StripeError(f"Invalid array: {_show(value)}", param=path)
        if self.max_items is not None and len(value) > self.max_items:
            raise StripeError(f"Invalid array: at most {self.max_items} items are allowed", param=path)
        return [self.item.check(v, join(path, i)) for i, v in enumerate(value)]


class Metadata(Spec):
    """Stripe metadata: up to 50 keys, keys up to 40 characters, values up to 500; "" removes a key."""

    def convert(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise StripeError(f"Invalid hash: {_show(value)}", param=path)
        if len(value) > 50:
            raise StripeError("Metadata can have a maximum of 50 keys.", param=path)
        for key, item in value.items():
            if len(key) > 40:
                raise StripeError(
                    f"Metadata keys can have a maximum length of 40 characters: {key}", param=join(path, key)
                )
            if not isinstance(item, str):
                raise StripeError(f"Invalid string: {_show(item)}", param=join(path, key))
            if len(item) > 500:
                raise StripeError("Metadata values can have a maximum length of 500 characters.", param=join(path, key))
        return dict(value)


class Free(Spec):
    """A sub-tree the sandbox stores without modelling (e.g. ``individual``): any shape is accepted."""


def _show(value: Any) -> str:
    return value if isinstance(value, str) else type(value).__name__


EXPAND = Arr(Str())


def validate(params: dict[str, Any], schema: Obj) -> dict[str, Any]:
    """Check a whole request against its endpoint schema; ``expand`` is accepted everywhere, as in Stripe."""
    fields = dict(schema.fields)
    fields.setdefault("expand", EXPAND)
    result: dict[str, Any] = Obj(fields, required=schema.required).convert(params, "")
    return result


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Apply a metadata update: None (``metadata=""``) clears all, ``key=""`` removes one key."""
    if update is None:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
