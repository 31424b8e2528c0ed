"""Slack for Intellectra: post new sales and disputes to a channel through an incoming webhook.

A third-party plugin: it imports only ``core``'s public API and is found through its entry point
(``[project.entry-points."intellectra.integrations"] slack = "intellectra_slack"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx
from core import (
    Capability,
    Connected,
    ConnectError,
    ConnectionState,
    ConnectionStatus,
    DomainEvent,
    Field,
    IntegrationContext,
    IntegrationInfo,
    hookimpl,
)

__version__ = "0.1.0"


@attrs.frozen(kw_only=True)
class SlackConfig:
    """``[plugins.slack.config]`` in registry.toml; every key is optional."""

    allow_loopback_urls: bool = False
    """Development only: also accept http://127.0.0.1/... receivers that stand in for Slack."""
    test_message: str = "Intellectra is connected: new sales and disputes will be posted here."


@hookimpl
def integration_info() -> IntegrationInfo:
    return IntegrationInfo(
        name="slack",
        title="Slack",
        description="Post new sales and disputes to a Slack channel.",
        requires_host="2.*",
        config=SlackConfig,
        capabilities={Capability.CONNECT, Capability.STATUS, Capability.DOMAIN_EVENTS},
        connect_fields=[Field(
            name="webhook_url", label="Incoming webhook URL", type="url", secret=True, required=True,
            help="In Slack, add the Incoming WebHooks app to a channel and paste its URL here.")],
        observes={"purchase.completed", "dispute.opened"},
    )


SLACK_URL = re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[A-Za-z0-9_-]+")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_webhook_url(url: str, config: SlackConfig) -> str:
    """Accept Slack's URL shape (and loopback in development); never echo the URL, it is a secret."""
    url = url.strip()
    parts = urlsplit(url)
    if SLACK_URL.fullmatch(url) or (config.allow_loopback_urls and parts.scheme in ("http", "https")
                                    and parts.hostname in LOOPBACK):
        return url
    raise ConnectError("That is not a Slack incoming-webhook URL. In Slack, add the Incoming WebHooks app "
                       "to your channel and paste the URL it shows (https://hooks.slack.com/services/...).",
                       code="slack_url_invalid")


@hookimpl
def connect(ctx: IntegrationContext, form: Mapping[str, str]) -> Connected:
    url = check_webhook_url(form["webhook_url"], ctx.config)
    try:
        answer = ctx.http.post(url, json={"text": ctx.config.test_message})
    except httpx.HTTPError as exc:
        raise ConnectError(f"Could not reach Slack ({type(exc).__name__}); check your network and try again.",
                           code="slack_unreachable") from exc
    if answer.status_code != 200:
        raise ConnectError(f"Slack refused the test message (HTTP {answer.status_code}: {answer.text[:60]}). "
                           "The webhook may have been removed or its channel archived: create a new one in "
                           "Slack and paste its URL.", code="slack_refused")
    return Connected(secrets={"webhook_url": url}, data={"test_message_at": ctx.now().isoformat()})


@hookimpl
def status(ctx: IntegrationContext) -> ConnectionStatus:
    """Answer from the host's delivery records (no call to Slack, so ``refresh`` changes nothing)."""
    last = next(iter(ctx.deliveries.recent(limit=1)), None)
    if last is None:
        return ConnectionStatus(state=ConnectionState.CONNECTED,
                                reason="Connected; nothing posted since the test message.")
    what = f"({last.event_type}, {last.created_at:%d %b %Y %H:%M} UTC)" if last.created_at else f"({last.event_type})"
    if last.status == "delivered":
        return ConnectionStatus(state=ConnectionState.CONNECTED, reason=f"Last message {what} posted to Slack.")
    if last.status == "pending" and last.attempts == 0:
        return ConnectionStatus(state=ConnectionState.CONNECTED, reason=f"A message {what} is on its way to Slack.")
    return ConnectionStatus(state=ConnectionState.ERROR, reason=(
        f"Slack did not accept the last message {what}: HTTP {last.last_status_code or 'no answer'}. If the "
        "webhook was removed or its channel archived, reconnect with a new webhook URL."))


@hookimpl
def disconnect(ctx: IntegrationContext) -> None:
    """Slack webhooks cannot be revoked from outside Slack: say goodbye; the host forgets the URL."""
    if ctx.has_secret("webhook_url"):
        try:
            ctx.http.post(ctx.secret("webhook_url"), json={"text": "Intellectra was disconnected from this channel."})
        except httpx.HTTPError:
            ctx.log.info("Slack did not answer the goodbye message; disconnecting anyway")


def money(amount: int, currency: str) -> str:
    """4900, "usd" -> "$49.00"; zero-decimal currencies keep their amount; unknown ones get a code."""
    code = currency.lower()
    value = f"{amount:,}" if code in {"jpy", "krw", "vnd", "clp", "isk", "ugx"} else f"{amount / 100:,.2f}"
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(code)
    return f"{symbol}{value}" if symbol else f"{value} {code.upper()}"


def escape(text: str) -> str:
    """Slack reads &, < and > as markup; creators' offer titles must show as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MESSAGES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "purchase.completed": lambda d: (
        f"New sale: {escape(d['offer_title'] or 'an offer')} — {money(d['amount'], d['currency'])} "
        f"from {escape(d['buyer_email'] or 'a buyer')}"),
    "dispute.opened": lambda d: (
        f"Dispute opened: {money(d['amount'], d['currency'])} (reason: {escape(d['reason'] or 'none given')}). "
        f"Respond from your {escape(d['provider']).title()} dashboard before the deadline."),
}


@hookimpl
def on_domain_event(ctx: IntegrationContext, event: DomainEvent) -> None:
    ctx.deliver(to=ctx.secret("webhook_url"), json={"text": MESSAGES[event.type](event.data)},
                event_type=event.type)
