"""Identifiers and tokens: prefixed so a human can tell what an id names."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time

_RANDOM_BYTES = 4096


class _Randomness(threading.local):
    """Random bytes from the OS, read 4 KiB at a time per thread.

    ``os.urandom`` for every id let go of the GIL (it may block), and under load getting it back queued
    the thread behind the others: ids are made on the webhook's hot path. A child process after
    ``fork`` starts with an empty buffer, so it never repeats its parent's bytes.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0

    def take(self, count: int) -> bytes:
        if self.offset + count > len(self.buffer):
            self.buffer, self.offset = os.urandom(_RANDOM_BYTES), 0
        chunk = self.buffer[self.offset:self.offset + count]
        self.offset += count
        return chunk


_randomness = _Randomness()


def _forget_randomness() -> None:
    global _randomness
    _randomness = _Randomness()


os.register_at_fork(after_in_child=_forget_randomness)


def new_id(prefix: str) -> str:
    """``prefix_`` + the time in ns (hex) + 11 random hex chars: unique, safe in URLs, and sorted by
    creation time, so "order by id" is creation order (like a ULID, without another dependency)."""
    return f"{prefix}_{time.time_ns():015x}{_randomness.take(6).hex()[:11]}"


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A secret credential (bearer token, API key, connect state)."""
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def token_hash(token: str) -> str:
    """SHA-256 hex: credentials are stored only as this, and looked up by it.

    A fast hash is right here (unlike passwords): the tokens are 256 random bits, so there is
    nothing to brute-force, and lookups happen on every API request.
    """
    return hashlib.sha256(token.encode()).hexdigest()
