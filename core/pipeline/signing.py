"""Standard Webhooks headers for an outgoing delivery, made by the ``standardwebhooks`` library.

``webhook-id`` is the delivery id (stable across retries, so receivers can deduplicate);
``webhook-timestamp`` is the wall-clock time of this attempt — receivers compare it with their own
clock, so it is never the host's (possibly simulated) clock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import UTC, datetime
from math import floor

from standardwebhooks import Webhook

from core.secrets import SecretBox

CACHE_SIZE = 1024


class Signer:
    """Signs bodies; decrypted secrets are cached by ciphertext (one decryption per subscription)."""

    def __init__(self, secrets: SecretBox) -> None:
        self._secrets = secrets
        self._cache: OrderedDict[str, Webhook] = OrderedDict()
        self._lock = threading.Lock()

    def headers(self, delivery_id: str, body: str, encrypted_secret: str | None,
                now: datetime | None = None) -> dict[str, str]:
        when = now or datetime.now(UTC)
        headers = {"content-type": "application/json", "webhook-id": delivery_id,
                   "webhook-timestamp": str(floor(when.timestamp()))}
        if encrypted_secret:
            headers["webhook-signature"] = self._webhook(encrypted_secret).sign(delivery_id, when, body)
        return headers

    def _webhook(self, encrypted_secret: str) -> Webhook:
        with self._lock:
            found = self._cache.get(encrypted_secret)
            if found is not None:
                self._cache.move_to_end(encrypted_secret)
                return found
        webhook = Webhook(self._secrets.decrypt(encrypted_secret))
        with self._lock:
            self._cache[encrypted_secret] = webhook
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return webhook
