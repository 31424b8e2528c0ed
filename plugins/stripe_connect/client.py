"""The one place that builds a Stripe client, and turns Stripe's failures into messages a creator can act on.

Every call goes through the official ``stripe`` library with the API version pinned, so a Stripe-side
default version change never changes the shapes this plugin reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
import stripe

from core import ConnectError, IntegrationContext, IntellectraError

from .config import StripeConnectConfig

STRIPE_API_VERSION = "2026-10-28.endive"
"""The Stripe API version every request is pinned to (the ``stripe`` 16.1.0 library's own)."""

OUTAGE_MESSAGE = ("Stripe could not be reached just now, so nothing was changed. Try again in a few minutes; "
                  "https://status.stripe.com shows whether Stripe has an outage.")


CONNECT_TIMEOUT_SECONDS = 5.0


def make_client(ctx: IntegrationContext) -> stripe.StripeClient:
    """A client for the platform key, pointed at ``api_base`` / ``connect_base``, version pinned.

    Every request goes through ``ctx.http``, the host's guarded client: it reaches public addresses
    only (the sandbox on loopback only where the host allows loopback), and its connections are
    reused from one call to the next. Every request has a timeout and a retry limit (the stripe
    library's default is 80 s, which held a worker's handler past its claim on the event).
    """
    config: StripeConnectConfig = ctx.config
    timeout = config.request_timeout_seconds
    return stripe.StripeClient(
        config.secret_key.reveal(),
        client_id=config.client_id,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": config.api_base.rstrip("/"), "connect": config.connect_base.rstrip("/")},
        max_network_retries=config.max_network_retries,
        http_client=HttpxForStripe(ctx.http, timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS,
                                                                                          timeout))),
    )


class HttpxForStripe(stripe.HTTPClient):
    """The stripe library's HTTP client interface on an ``httpx.Client`` the plugin is given.

    stripe's own ``HTTPXClient`` builds its httpx clients itself and takes neither a client nor a
    transport, so the host's guarded client could not be handed to it; stripe documents subclassing
    ``stripe.HTTPClient`` for exactly this (``request``, ``request_stream``, ``close``).
    """

    name = "httpx-given"

    def __init__(self, http: httpx.Client, *, timeout: httpx.Timeout) -> None:
        super().__init__()
        self._http, self._timeout = http, timeout

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
                _usage: list[str] | None = None) -> tuple[str, int, Mapping[str, str]]:
        try:
            response = self._http.request(method, url, headers=headers, content=post_data or None,
                                          timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise _connection_error(exc) from exc
        return response.text, response.status_code, response.headers

    def request_stream(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
                       _usage: list[str] | None = None) -> tuple[Iterable[bytes], int, Mapping[str, str]]:
        try:
            request = self._http.build_request(method, url, headers=headers, content=post_data or None,
                                               timeout=self._timeout)
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _connection_error(exc) from exc
        return response.iter_bytes(), response.status_code, response.headers

    def close(self) -> None:
        """Nothing to close: the client belongs to the host."""


def _connection_error(exc: httpx.HTTPError) -> stripe.APIConnectionError:
    """What stripe raises for a network failure (retried within ``max_network_retries``); the cause,
    e.g. an address the host refuses, stays in the message for the log."""
    message = f"Could not reach Stripe ({type(exc).__name__}: {exc})."
    return stripe.APIConnectionError(message, should_retry=True)  # type: ignore[no-untyped-call]  # stripe's own


def on_account(account_id: str) -> stripe.RequestOptions:
    """Request options for a call made on the connected account (``Stripe-Account``), version pinned."""
    return {"stripe_account": account_id, "stripe_version": STRIPE_API_VERSION}


def platform() -> stripe.RequestOptions:
    """Request options for a call on the platform itself, version pinned."""
    return {"stripe_version": STRIPE_API_VERSION}


def is_revoked(exc: BaseException) -> bool:
    """Stripe says the platform no longer has access to the account (deauthorized, grant revoked)."""
    if isinstance(exc, stripe.PermissionError):
        return True
    return isinstance(exc, stripe.InvalidRequestError) and exc.code == "account_invalid"


@contextmanager
def stripe_errors(doing: str, error: type[IntellectraError] = ConnectError) -> Iterator[None]:
    """Translate Stripe failures while ``doing`` something into ``error`` with a clear message.

    The message never carries the request's key: Stripe's own messages mask keys, and ours name none.
    """
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise error(OUTAGE_MESSAGE, code="stripe_unavailable", http_status=503) from exc
    except stripe.APIError as exc:
        raise error(f"Stripe had an internal error while {doing}; nothing was changed. Try again in a few "
                    "minutes.", code="stripe_unavailable", http_status=503) from exc
    except stripe.AuthenticationError as exc:
        raise error(f"Stripe refused the platform's API key while {doing}. The site operator must check "
                    "STRIPE_SECRET_KEY.", code="stripe_auth_failed", http_status=502) from exc
    except stripe.StripeError as exc:
        message = exc.user_message or type(exc).__name__
        raise error(f"Stripe refused {doing}: {message}", code="stripe_refused",
                    http_status=502) from exc
