"""Stripe-looking object ids (``acct_1Pga…``): a prefix and random base62, as the real API issues them."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_part(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    """``new_id("acct", 16)`` → ``acct_1aB…``; the leading ``1`` mirrors Stripe's id format."""
    return f"{prefix}_1{random_part(length - 1)}"


def mode_id(prefix: str, livemode: bool, length: int = 58) -> str:
    """Ids that carry the mode, like ``cs_test_…`` / ``cs_live_…`` for Checkout Sessions."""
    return f"{prefix}_{'live' if livemode else 'test'}_{random_part(length)}"
