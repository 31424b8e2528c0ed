"""``IntegrationContext`` (``ctx``): what a hook gets from the host besides its arguments.

It carries the plugin's config, the tenant and connection the call is about, decrypted secrets on
demand, an HTTP client, the clock, and *effects* (status changes, deliveries) the host applies in
the same transaction as the rest of the call's results.
"""

from __future__ import annotations

import json as jsonlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import attrs
import httpx

from core.errors import NotConnected
from core.models import Connection, ConnectionState, ConnectionStatus, Tenant
from core.redact import register_secret

if TYPE_CHECKING:
    from datetime import datetime

    from core.host import Host


@attrs.frozen(kw_only=True)
class OutboundDelivery:
    """A delivery a plugin asked for with ``ctx.deliver``; the host's outbox sends and retries it."""

    target_url: str
    body: str
    event_type: str
    secret: str | None = attrs.field(default=None, repr=False)


@attrs.define(kw_only=True)
class Effects:
    """What a hook asked the host to change; applied atomically with the hook's other results."""

    status: ConnectionStatus | None = None
    disconnected_reason: str | None = None
    data_updates: dict[str, Any] = attrs.field(factory=dict)
    deliveries: list[OutboundDelivery] = attrs.field(factory=list)


@attrs.define(kw_only=True)
class IntegrationContext:
    host: Host = attrs.field(repr=False)
    integration: str
    config: Any = attrs.field(repr=False)
    tenant: Tenant | None = None
    connection: Connection | None = None
    base_url: str = ""
    effects: Effects = attrs.field(factory=Effects, repr=False)
    _secrets: dict[str, str] | None = attrs.field(default=None, repr=False, alias="secrets")

    @property
    def clock(self) -> Any:
        return self.host.clock

    def now(self) -> datetime:
        return self.host.clock.now()  # type: ignore[no-any-return]

    @property
    def http(self) -> httpx.Client:
        """The host's HTTP client (``httpx.Client``) for calls to your provider; use it, not one of your own.

        Every connection is checked as it is made: in production it reaches public addresses only, and
        a URL whose host is (or resolves to) a loopback, private, link-local or cloud-metadata address
        fails with ``httpx.ConnectError`` before anything is sent. Development mode (the
        ``allow_loopback_targets`` setting) also allows loopback. Timeouts are 5 s to connect and
        15 s per read; redirects are not followed unless a request asks (and then every hop is
        checked again); proxies from the environment are ignored and no cookies are kept. The client
        is shared by every plugin and site: pass credentials per request (``headers=...``) and never
        change the client's own headers.
        """
        return self.host.http

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"intellectra.plugins.{self.integration}")

    def secret(self, name: str) -> str:
        """A decrypted secret of this connection (stored from ``Connected.secrets``)."""
        if self._secrets is None:
            if self.connection is None:
                raise NotConnected(f"{self.integration} is not connected for this site; connect it first "
                                   "under Settings > Integrations.")
            self._secrets = self.host.connections.secrets_of(self.connection.id)
        if name not in self._secrets:
            raise NotConnected(f"The {self.integration} connection has no stored {name!r}; reconnect it "
                               "under Settings > Integrations.", code="secret_missing")
        value = self._secrets[name]
        register_secret(value)  # from now on, log lines and error texts redact it
        return value

    def has_secret(self, name: str) -> bool:
        try:
            self.secret(name)
        except NotConnected:
            return False
        return True

    def callback_url(self, **params: str) -> str:
        """The absolute URL of ``/integrations/<name>/callback`` with ``params`` (e.g. ``state``)."""
        url = f"{self.base_url.rstrip('/')}/integrations/{self.integration}/callback"
        return f"{url}?{urlencode(params)}" if params else url

    def url_for(self, path: str) -> str:
        """An absolute URL on this host for ``path`` (e.g. your own web route)."""
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    # effects -----------------------------------------------------------------
    def set_status(self, status: ConnectionStatus) -> None:
        """Change the connection's state (applied with the rest of the hook's results)."""
        self.effects.status = status

    def mark_disconnected(self, reason: str) -> None:
        """The provider ended the connection (e.g. the user deauthorized the app there)."""
        self.effects.disconnected_reason = reason

    def update_data(self, **data: Any) -> None:
        """Merge non-secret detail into ``connection.data``."""
        self.effects.data_updates.update(data)

    def deliver(self, *, to: str, json: Mapping[str, Any] | None = None, body: str | None = None,
                event_type: str = "custom", secret: str | None = None) -> None:
        """Queue a POST to ``to`` through the host's outbox (signed if ``secret`` is given, retried)."""
        text = body if body is not None else jsonlib.dumps(dict(json or {}), separators=(",", ":"))
        self.effects.deliveries.append(OutboundDelivery(target_url=to, body=text, event_type=event_type,
                                                        secret=secret))


def default_status_for(state: ConnectionState, reason: str = "") -> ConnectionStatus:
    return ConnectionStatus(state=state, reason=reason)
