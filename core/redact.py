"""Keeping secrets out of logs and error text, as a second line behind never printing them.

Every secret the host handles (config ``Secret`` values, decrypted credentials, delivery targets, API
keys at creation) is registered here; a logging filter and ``redact()`` replace any occurrence.

A busy host registers tens of thousands of secrets and checks every log line, so the registry is
bounded and indexed rather than a set copied and sorted per line:

* it keeps the ``MAX_SECRETS`` most recently registered; each use registers a secret again (``ctx.secret``,
  every delivery), so the ones in use stay and memory stops growing;
* each secret is indexed by ``STRIDE`` consecutive windows of ``WINDOW`` characters, placed where they
  collide least with other secrets' windows (so secrets sharing a prefix or a tail, like one service's
  webhook URLs, do not pile up in one bucket). Any occurrence in a text then covers one of them at a
  position that is a multiple of ``STRIDE``, so a line is checked with one dictionary lookup every
  ``STRIDE`` characters, whatever the number of secrets (the lookups run in C: ``map`` and ``any``).
  Only a line with a hit pays for more: a substring test per candidate. Secrets shorter than
  ``WINDOW + STRIDE - 1`` are indexed by their first window and checked at every position (few exist:
  tokens and keys are long).

An Aho-Corasick automaton (``pyahocorasick``) would scan in one C pass too, but adds a compiled
dependency for what the window index does within a few microseconds per line (bench/redaction.py).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

MIN_LENGTH = 8  # shorter values would redact ordinary words
WINDOW = MIN_LENGTH
STRIDE = 4
MAX_SECRETS = 50_000
MASK = "***"

Bucket = str | tuple[str, ...]  # one secret (the usual case, no extra object) or several sharing a window


class SecretIndex:
    """The registered secrets (bounded, most recent kept) and their windows; safe across threads."""

    def __init__(self, capacity: int = MAX_SECRETS) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, int] = OrderedDict()  # secret -> offset of its first window
        # Readers never lock: a bucket is replaced, never changed in place, and a lookup is atomic.
        self._long: dict[str, Bucket] = {}
        self._short: dict[str, Bucket] = {}

    def __len__(self) -> int:
        return len(self._recent)

    def add(self, secret: str) -> None:
        with self._lock:
            if secret in self._recent:
                self._recent.move_to_end(secret)
                return
            offset = self._least_crowded(secret)
            self._recent[secret] = offset
            table, windows = self._windows(secret, offset)
            for window in windows:
                bucket = table.get(window)
                table[window] = secret if bucket is None else (*_members(bucket), secret)
            while len(self._recent) > self.capacity:
                self._forget(*self._recent.popitem(last=False))

    def _forget(self, secret: str, offset: int) -> None:
        table, windows = self._windows(secret, offset)
        for window in windows:
            rest = tuple(s for s in _members(table.get(window, ())) if s != secret)
            if not rest:
                table.pop(window, None)
            else:
                table[window] = rest[0] if len(rest) == 1 else rest

    def _least_crowded(self, secret: str) -> int:
        """The first offset of the ``STRIDE`` consecutive windows already shared with the fewest secrets
        (the tail-most on a tie)."""
        last = len(secret) - WINDOW - STRIDE + 1
        if last < 0:
            return 0
        load = [len(_members(self._long.get(secret[o:o + WINDOW], ()))) for o in range(len(secret) - WINDOW + 1)]
        return min(range(last, -1, -1), key=lambda start: sum(load[start:start + STRIDE]))

    def _windows(self, secret: str, offset: int) -> tuple[dict[str, Bucket], set[str]]:
        if len(secret) - WINDOW >= STRIDE - 1:
            return self._long, {secret[o:o + WINDOW] for o in range(offset, offset + STRIDE)}
        return self._short, {secret[:WINDOW]}

    def found_in(self, text: str) -> set[str]:
        """The registered secrets that occur in ``text``."""
        positions = len(text) - WINDOW + 1
        if positions <= 0:
            return set()
        found: set[str] = set()
        for table, stride in ((self._long, STRIDE), (self._short, 1)):
            if not table or not any(map(table.__contains__, _windows_of(text, positions, stride))):
                continue
            for window in set(_windows_of(text, positions, stride)):
                found.update(s for s in _members(table.get(window, ())) if s in text)
        return found

    def redact(self, text: str) -> str:
        for secret in sorted(self.found_in(text), key=len, reverse=True):  # the few found, not all known
            text = text.replace(secret, MASK)
        return text


def _members(bucket: Bucket) -> tuple[str, ...]:
    return (bucket,) if isinstance(bucket, str) else bucket


def _windows_of(text: str, positions: int, stride: int) -> map[str]:
    return map(text.__getitem__, map(slice, range(0, positions, stride), range(WINDOW, positions + WINDOW, stride)))


_index = SecretIndex()


def register_secret(value: str | None) -> None:
    if value and len(value) >= MIN_LENGTH:
        _index.add(value)


def registered_count() -> int:
    """How many secrets are indexed now (at most ``MAX_SECRETS``)."""
    return len(_index)


def redact(text: str) -> str:
    return _index.redact(text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets replaced by ``***`` (the host's registry, or ``index``)."""

    def __init__(self, index: SecretIndex | None = None) -> None:
        super().__init__()
        self.index = index if index is not None else _index

    def filter(self, record: logging.LogRecord) -> bool:
        if len(self.index):
            message = record.getMessage()
            cleaned = self.index.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.index.redact(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
