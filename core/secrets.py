"""Secrets at rest: encrypted with keys from ``INTELLECTRA_SECRET_KEYS`` (cryptography's MultiFernet).

The first key encrypts, every key decrypts, so keys rotate: add a new key in front, run
``intellectra-integrations secrets rotate``, then drop the old key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.errors import SecretsError

log = logging.getLogger("intellectra.secrets")


class SecretBox:
    """Encrypts and decrypts small secrets; never logs or prints what it holds."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretsError(
                "No encryption key: set INTELLECTRA_SECRET_KEYS to one or more Fernet keys "
                "(generate one with `intellectra-integrations secrets generate-key`).",
                code="secret_keys_missing",
            )
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise SecretsError(
                "INTELLECTRA_SECRET_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes); "
                "generate one with `intellectra-integrations secrets generate-key`.",
                code="secret_keys_invalid",
            ) from exc
        self.key_count = len(keys)

    @classmethod
    def from_env_value(cls, value: str | None, *, allow_throwaway_key: bool) -> SecretBox:
        """The keys in ``value``; with none and ``allow_throwaway_key`` (tests), one that dies with the process."""
        keys = [k for k in (value or "").split(",") if k.strip()]
        if not keys and allow_throwaway_key:
            log.warning(
                "INTELLECTRA_SECRET_KEYS is not set: using a throwaway key. "
                "Secrets stored now cannot be read after a restart. Never do this in production."
            )
            keys = [Fernet.generate_key().decode()]
        return cls(keys)

    def __repr__(self) -> str:
        return f"<SecretBox keys={self.key_count}>"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretsError(
                "A stored secret cannot be decrypted with the configured INTELLECTRA_SECRET_KEYS; "
                "restore the key that encrypted it (keep old keys after new ones until `secrets rotate` ran).",
                code="secret_undecryptable",
            ) from exc

    def encrypt_json(self, value: Mapping[str, Any]) -> str:
        return self.encrypt(json.dumps(dict(value), separators=(",", ":")))

    def decrypt_json(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        loaded = json.loads(self.decrypt(token))
        return dict(loaded) if isinstance(loaded, dict) else {}

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the first key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretsError("A stored secret cannot be decrypted with any configured key.",
                               code="secret_undecryptable") from exc
