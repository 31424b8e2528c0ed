"""The platform's access to connected accounts: its Connect application, and taking that access away.

Used by the OAuth endpoint (``POST /oauth/deauthorize``), the account dashboard's disconnect button and the
control API, so all three deauthorize the same way.
"""

from __future__ import annotations

from typing import Any

from .events import NO_ORIGIN, Origin, emit
from .state import Sandbox


def application(sandbox: Sandbox) -> dict[str, Any]:
    """The ``application`` object carried by ``account.application.*`` events."""
    return {"id": sandbox.client_id, "name": sandbox.platform_name, "object": "application"}


def deauthorize(sandbox: Sandbox, account_id: str, *, origin: Origin = NO_ORIGIN) -> bool:
    """Remove the platform's access in every mode, revoke its tokens, emit one event per mode removed."""
    with sandbox.lock:
        modes = [mode for mode in (False, True) if (account_id, mode) in sandbox.connections]
        for mode in modes:
            del sandbox.connections[(account_id, mode)]
        for stored in sandbox.tokens.values():
            if stored.account == account_id:
                stored.revoked = True
        for mode in modes:
            emit(
                sandbox,
                "account.application.deauthorized",
                application(sandbox),
                account=account_id,
                livemode=mode,
                origin=origin,
            )
    return bool(modes)
