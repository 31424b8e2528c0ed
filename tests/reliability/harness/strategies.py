"""Hypothesis strategies: JSON values, registry documents, Stripe signature headers, webhook requests, and a
strategy for any attrs model built from its field types (so a new model is fuzzed without a new test)."""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs
from hypothesis import strategies as st

from harness.stripe_events import checkout_completed, event_bytes, signature_header

KEY = st.text(min_size=0, max_size=12)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
SCALAR = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | FINITE | st.text(max_size=20)
JSON = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY, inner, max_size=4),
                    max_leaves=12)
JSON_OBJECT = st.dictionaries(KEY, JSON, max_size=6)
AWARE = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))

# -- registry documents -----------------------------------------------------------------------------------------
PLUGIN_NAME = st.sampled_from(["stripe_connect", "zapier", "slack", "Bad-Name", "", "x" * 70]) | st.text(max_size=10)
PLUGIN_TABLE = st.fixed_dictionaries({}, optional={
    "module": st.sampled_from(["plugins.stripe_connect", "plugins.zapier"]) | st.text(max_size=10) | JSON,
    "entry_point": st.text(max_size=10) | JSON,
    "enabled": st.booleans() | JSON,
    "config": JSON_OBJECT | JSON,
    "unknown": JSON,
})
REGISTRY = st.fixed_dictionaries({}, optional={
    "autoload": st.booleans() | JSON,
    "plugins": st.dictionaries(PLUGIN_NAME, PLUGIN_TABLE | JSON, max_size=3) | JSON,
    "extra": JSON,
})
STRIPE_CONFIG = st.fixed_dictionaries({}, optional={
    "secret_key": st.sampled_from(["sk_test_abcdefgh123", "sk_live_x", "pk_test_nope", ""]) | JSON,
    "client_id": st.sampled_from(["ca_abc", "nope"]) | JSON,
    "webhook_secrets": st.text(max_size=30) | JSON,
    "application_fee_percent": st.floats(-10, 200) | JSON,
    "api_base": st.sampled_from(["https://api.stripe.com", "ftp://x", "http://127.0.0.1:1"]) | JSON,
    "webhook_tolerance": st.integers(-5, 10_000) | JSON,
    "surprise": JSON,
})

# -- Stripe-Signature headers -----------------------------------------------------------------------------------
HEADER_ITEM = (st.builds(lambda k, v: f"{k}={v}", st.sampled_from(["t", "v1", "v0", "x", "", " t"]),
                         st.text(max_size=70)) | st.text(max_size=20))
HEADER_TEXT = st.lists(HEADER_ITEM, max_size=6).map(",".join) | st.text(max_size=200)


# -- webhook requests -------------------------------------------------------------------------------------------
def event_like(account: str) -> st.SearchStrategy[bytes]:
    """Bodies that look more or less like Stripe events: valid ones, ones with fields of the wrong type or
    size, and plain JSON or bytes."""
    base = checkout_completed(1, account, run="fuzz")
    mutated = st.fixed_dictionaries({}, optional={
        "id": st.text(max_size=300) | JSON, "type": st.text(max_size=220) | JSON,
        "account": st.text(max_size=300) | JSON, "livemode": JSON, "created": JSON, "data": JSON,
    }).map(lambda changes: {**base, **changes})
    return (mutated.map(event_bytes) | JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=400)
            | st.just(event_bytes(base)))


CONTENT_TYPE = st.sampled_from(["application/json", "application/json; charset=utf-8", "application/vnd.x+json",
                                "text/plain", "application/x-www-form-urlencoded", "", "APPLICATION/JSON"])
SIGNATURE_MODE = st.sampled_from(["valid", "valid", "valid", "none", "garbage", "other-secret", "stale", "future"])


def signature_for(mode: str, body: bytes, secret: str, now: int, garbage: str) -> str | None:
    return {"valid": lambda: signature_header(body, secret, now), "none": lambda: None, "garbage": lambda: garbage,
            "other-secret": lambda: signature_header(body, "whsec_other", now),
            "stale": lambda: signature_header(body, secret, now - 3600),
            "future": lambda: signature_header(body, secret, now + 3600)}[mode]()


# -- any attrs model ----------------------------------------------------------------------------------------------
def for_type(tp: Any) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return JSON
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_type(a) for a in args))
    if tp is type(None):
        return st.none()
    if tp is datetime:
        return AWARE
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53) | st.integers(0, 10**6)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is str:
        return st.text(max_size=30)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if isinstance(tp, type) and attrs.has(tp):
        return model(tp)
    if origin in (dict, Mapping, typing.Mapping):
        return st.dictionaries(st.text(max_size=12), for_type(args[1] if args else Any), max_size=4)
    if origin in (list, Sequence, typing.Sequence):
        return st.lists(for_type(args[0] if args else Any), max_size=3)
    if origin in (frozenset, set):
        return st.frozensets(for_type(args[0]), max_size=3)
    raise TypeError(f"no strategy for {tp!r}")


def model(cls: type) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` from its field types; values its validators refuse are skipped."""
    hints = typing.get_type_hints(cls)
    fields = {}
    for field in attrs.fields(cls):
        if field.init:
            pattern = _pattern_strategy(field.validator)
            fields[field.name] = pattern if pattern is not None else for_type(hints[field.name])
    return st.fixed_dictionaries(fields).map(lambda kwargs: _build(cls, kwargs)).filter(lambda v: v is not None)


def _pattern_strategy(validator: Any) -> st.SearchStrategy[str] | None:
    """Strings that match a ``matches_re`` validator (random text almost never would)."""
    for one in [validator, *getattr(validator, "_validators", ())]:
        pattern = getattr(one, "pattern", None)
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True)
    return None


def _build(cls: type, kwargs: dict[str, Any]) -> Any:
    try:
        return cls(**kwargs)
    except (ValueError, TypeError):
        return None
