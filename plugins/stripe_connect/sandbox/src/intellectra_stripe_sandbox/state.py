"""The sandbox's in-memory world: configuration, clock, every stored object, and one lock around them.

One ``Sandbox`` per app instance; handlers, HTML pages, the control API and the webhook sender all go through
it, holding ``sandbox.lock`` (re-entrant) while they read or change state.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from attrs import define, field

from . import ids
from .errors import StripeError, resource_missing
from .objects import build
from .webhooks import DeliveryAttempt, WebhookEndpoint, WebhookSender

DEFAULT_API_VERSION = "2026-10-28.endive"
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (60.0, 300.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0)
OAUTH_CODE_TTL = 300
ACCOUNT_LINK_TTL = 300


@define
class Stored:
    """An API object with the scope it lives in: the connected account (None = platform) and the mode."""

    kind: str
    obj: dict[str, Any]
    account: str | None
    livemode: bool


@define
class Connection:
    account: str
    livemode: bool
    created: int
    scope: str
    source: str  # "oauth" or "api" (created by the platform)


@define
class AuthorizeRequest:
    id: str
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    stripe_landing: str
    prefill: dict[str, Any]
    created: int
    email: str | None = None


@define
class OAuthCode:
    code: str
    account: str
    scope: str
    created: int
    used: bool = False
    tokens: list[str] = field(factory=list)


@define
class Token:
    token: str
    kind: str  # "access" | "refresh"
    account: str
    livemode: bool
    scope: str
    revoked: bool = False


@define
class AccountLink:
    token: str
    account: str
    livemode: bool
    type: str
    refresh_url: str | None
    return_url: str | None
    created: int
    expires_at: int
    used: bool = False


@define
class OnboardingSession:
    id: str
    account: str
    livemode: bool
    return_url: str | None
    done: bool = False


@define
class RequestRecord:
    id: str
    method: str
    path: str
    stripe_version: str | None
    stripe_account: str | None
    idempotency_key: str | None
    status: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "stripe_version": self.stripe_version,
            "stripe_account": self.stripe_account,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
        }


class Sandbox:
    """State and configuration of one sandbox.

    ``webhook_endpoints`` are Connect endpoints ``(url, "whsec_…")``; ``clock`` returns unix time (default
    ``time.time``); ``retry_schedule`` is the delays in seconds between failed webhook attempts.
    """

    def __init__(
        self,
        *,
        secret_key: str,
        client_id: str,
        redirect_uris: Sequence[str],
        webhook_endpoints: Iterable[tuple[str, str]] = (),
        live_secret_key: str | None = None,
        clock: Callable[[], float] | None = None,
        retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE,
        api_version: str = DEFAULT_API_VERSION,
        platform_name: str = "Sandbox platform",
        webhook_timeout: float = 5.0,
    ) -> None:
        if not secret_key.startswith("sk_test_"):
            raise ValueError("secret_key must be a test-mode key (sk_test_...)")
        if live_secret_key is not None and not live_secret_key.startswith("sk_live_"):
            raise ValueError("live_secret_key must start with sk_live_")
        if not client_id.startswith("ca_"):
            raise ValueError("client_id must start with ca_")
        self.secret_key = secret_key
        self.live_secret_key = live_secret_key
        self.client_id = client_id
        self.redirect_uris = list(redirect_uris)
        self.retry_schedule = tuple(retry_schedule)
        self.api_version = api_version
        self.platform_name = platform_name
        self.webhook_timeout = webhook_timeout
        self._clock = clock or time.time
        self.clock_offset = 0.0
        self.lock = threading.RLock()
        self.platform_id = ids.new_id("acct", 16)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.account_modes: dict[str, bool] = {}  # account id -> livemode it was created in
        self.connections: dict[tuple[str, bool], Connection] = {}
        self.authorize_requests: dict[str, AuthorizeRequest] = {}
        self.codes: dict[str, OAuthCode] = {}
        self.tokens: dict[str, Token] = {}
        self.account_links: dict[str, AccountLink] = {}
        self.onboarding: dict[str, OnboardingSession] = {}
        self.objects: dict[str, Stored] = {}
        self.events: list[Stored] = []
        self.session_extras: dict[str, dict[str, Any]] = {}  # checkout session id -> items, intent data
        self.endpoints: list[WebhookEndpoint] = []
        self.attempts: list[DeliveryAttempt] = []
        self.idempotency: dict[tuple[str, str | None, str], tuple[dict[str, Any], int, Any]] = {}
        self.requests: deque[RequestRecord] = deque(maxlen=500)
        self.sender = WebhookSender(self)
        for url, secret in webhook_endpoints:
            self.add_webhook_endpoint(url, secret)

    # -- clock -------------------------------------------------------------------------------------------
    def now_float(self) -> float:
        """Stripe's idea of now: the injected clock plus the offset set through the control API."""
        return self._clock() + self.clock_offset

    def now(self) -> int:
        return int(self.now_float())

    # -- keys ------------------------------------------------------------------------------------------------
    def key_mode(self, key: str) -> bool | None:
        """The mode of a platform secret key (False = test, True = live), None if it is not ours."""
        if key == self.secret_key:
            return False
        if self.live_secret_key is not None and key == self.live_secret_key:
            return True
        return None

    def publishable_key(self, livemode: bool) -> str:
        return ("pk_live_" if livemode else "pk_test_") + self.secret_key[len("sk_test_") :]

    # -- webhooks --------------------------------------------------------------------------------------------
    def add_webhook_endpoint(self, url: str, secret: str, *, connect: bool = True) -> WebhookEndpoint:
        """Register an endpoint (``connect=True``: receives connected accounts' events, as a Connect endpoint)."""
        if not secret.startswith("whsec_"):
            raise ValueError("webhook signing secrets start with whsec_")
        endpoint = WebhookEndpoint(id=ids.new_id("we", 24), url=url, secret=secret, connect=connect)
        with self.lock:
            self.endpoints.append(endpoint)
        return endpoint

    def remove_webhook_endpoint(self, endpoint_id: str) -> None:
        with self.lock:
            self.endpoints = [e for e in self.endpoints if e.id != endpoint_id]

    def close(self) -> None:
        """Stop the webhook sender's threads (pending retries are dropped)."""
        self.sender.stop()

    # -- generic objects -------------------------------------------------------------------------------------
    def store(self, kind: str, obj: dict[str, Any], account: str | None, livemode: bool) -> dict[str, Any]:
        with self.lock:
            self.objects[obj["id"]] = Stored(kind=kind, obj=obj, account=account, livemode=livemode)
        return obj

    def find(self, kind: str, object_id: str) -> Stored | None:
        with self.lock:
            stored = self.objects.get(object_id)
            return stored if stored is not None and stored.kind == kind else None

    def lookup(
        self,
        kind: str,
        object_id: str,
        *,
        account: str | None,
        livemode: bool,
        param: str | None = "id",
        status: int = 404,
    ) -> dict[str, Any]:
        """The object if it is visible to the caller, else Stripe's "No such …" error (with its mode hint)."""
        with self.lock:
            stored = self.objects.get(object_id)
            if stored is None or stored.kind != kind or stored.account != account:
                error = resource_missing(kind, object_id, param)
                error.status = status
                raise error
            if stored.livemode != livemode:
                other, used = ("live", "test") if stored.livemode else ("test", "live")
                raise StripeError(
                    f"No such {kind}: '{object_id}'; a similar object exists in {other} mode, but a {used} "
                    "mode key was used to make this request.",
                    status=status,
                    code="resource_missing",
                    param=param,
                )
            return stored.obj

    def scope_of(self, object_id: str) -> Stored:
        with self.lock:
            return self.objects[object_id]

    # -- accounts --------------------------------------------------------------------------------------------
    def is_connected(self, account_id: str, livemode: bool) -> bool:
        with self.lock:
            return (account_id, livemode) in self.connections

    def connect(self, account_id: str, livemode: bool, *, scope: str, source: str) -> Connection:
        with self.lock:
            connection = Connection(account_id, livemode, self.now(), scope, source)
            self.connections[(account_id, livemode)] = connection
            return connection

    def platform_account(self) -> dict[str, Any]:
        """The platform's own account (what ``GET /v1/account`` returns without ``Stripe-Account``)."""
        account = build(
            "account",
            id=self.platform_id,
            email="platform@example.com",
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            created=int(self._clock()) - 86400 * 365,
            type="standard",
        )
        account["business_profile"]["name"] = self.platform_name
        account["requirements"].update(currently_due=[], eventually_due=[], disabled_reason=None)
        account["settings"]["dashboard"]["display_name"] = self.platform_name
        account["external_accounts"]["url"] = f"/v1/accounts/{self.platform_id}/external_accounts"
        return account

    def snapshot(self, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(obj)
