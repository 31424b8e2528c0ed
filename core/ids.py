"""Identifiers and tokens: prefixed so a human can tell what an id names."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid


def new_id(prefix: str) -> str:
    """``prefix_`` + the time in ns (hex) + 11 random hex chars: unique, safe in URLs, and sorted by
    creation time, so "order by id" is creation order (like a ULID, without another dependency)."""
    return f"{prefix}_{time.time_ns():015x}{uuid.uuid4().hex[:11]}"


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A secret credential (bearer token, API key, connect state)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def token_hash(token: str) -> str:
    """SHA-256 hex: credentials are stored only as this, and looked up by it.

    A fast hash is right here (unlike passwords): the tokens are 256 random bits, so there is
    nothing to brute-force, and lookups happen on every API request.
    """
    return hashlib.sha256(token.encode()).hexdigest()
