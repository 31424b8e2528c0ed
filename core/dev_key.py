"""The development encryption key ``serve --sandbox`` keeps in a file beside its database.

The sandbox needs no ``INTELLECTRA_SECRET_KEYS``, yet what a demo stores (OAuth tokens, signing
secrets) must stay readable after a restart and by the other commands (``connections status``,
``events list``). So the sandbox writes a key once to ``<database>.dev-key`` (mode 0600) and reuses
it, and the CLI reads it when no key is configured. It is never used by ``serve`` without
``--sandbox``, and never when ``INTELLECTRA_SECRET_KEYS`` is set.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from core.errors import SecretsError

log = logging.getLogger("intellectra.secrets")

DEV_KEY_SUFFIX = ".dev-key"
DEFAULT_DEV_KEY_FILE = Path("intellectra" + DEV_KEY_SUFFIX)


def dev_key_path(database_url: str) -> Path:
    """Beside a SQLite file (``intellectra.db`` → ``intellectra.dev-key``); else in the working directory."""
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database).with_suffix(DEV_KEY_SUFFIX)
    return DEFAULT_DEV_KEY_FILE


def read_dev_key(path: Path) -> str | None:
    """The key in ``path``, or None when there is no such file."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"The development key file {path} cannot be read ({exc.__class__.__name__}); "
                           "fix its permissions or delete it (what the demo stored is then unreadable).",
                           code="dev_key_unreadable") from exc
    try:
        Fernet(key.encode())
    except ValueError as exc:
        raise SecretsError(f"The development key file {path} does not hold a Fernet key; delete it and start "
                           "`serve --sandbox` again (what the demo stored is then unreadable).",
                           code="dev_key_invalid") from exc
    return key


def ensure_dev_key(path: Path) -> str:
    """The key in ``path``, written there first (owner-only, never overwritten) when there is none."""
    existing = read_dev_key(path)
    if existing is not None:
        return existing
    key = Fernet.generate_key().decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return read_dev_key(path) or key
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    log.info("INTELLECTRA_SECRET_KEYS is not set: serve --sandbox keeps a development key in %s. "
                "Never use it in production.", path)
    return key
