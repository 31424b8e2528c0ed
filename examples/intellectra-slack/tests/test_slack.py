"""What the Slack integration does for a creator, as a specification."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from core import CORE_EVENT_TYPES, ConnectError, ConnectionState
from core.testing import free_port

import intellectra_slack
from intellectra_slack import SlackConfig, check_webhook_url, escape, money

SALE = CORE_EVENT_TYPES["purchase.completed"].example
DISPUTE = CORE_EVENT_TYPES["dispute.opened"].example


def run_workers_once(host) -> None:
    asyncio.run(host.pipeline.run_once())


def slack_deliveries(recorder):
    return recorder.deliveries(integration="slack")


def database_bytes(host) -> bytes:
    """The SQLite file (and its write-ahead log) as stored on disk."""
    path = Path(host.settings.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# ---------------------------------------------------------------- connect

def test_connect_posts_a_test_message_and_keeps_the_url_secret(slack_host, site, fake_slack):
    url = fake_slack.webhook_url()
    connection = slack_host.connect(site, "slack", {"webhook_url": url}).connection

    assert connection.state is ConnectionState.CONNECTED
    assert fake_slack.texts() == ["Intellectra is connected: new sales and disputes will be posted here."]
    assert url not in repr(connection) and url not in str(connection.data)
    if slack_host.settings.database_url.startswith("sqlite"):
        assert url.encode() not in database_bytes(slack_host), "the webhook URL is stored encrypted"


def test_production_accepts_only_slack_webhook_urls(make_host, fake_slack):
    production = make_host(plugins={"slack": intellectra_slack})  # default config: production rules
    tenant, _ = production.tenants.create("Ada's Watercolours")
    url = fake_slack.webhook_url()

    with pytest.raises(ConnectError) as refused:
        production.connect(tenant, "slack", {"webhook_url": url})

    assert refused.value.code == "slack_url_invalid"
    assert "https://hooks.slack.com/services/" in refused.value.message and url not in refused.value.message
    assert fake_slack.messages == [] and production.connections.find(tenant.id, "slack") is None


@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "  https://hooks.slack.com/services/TABC/BDEF/secret_token-1  ",
])
def test_slack_shaped_urls_are_accepted(url):
    assert check_webhook_url(url, SlackConfig()) == url.strip()


@pytest.mark.parametrize("url", [
    "http://hooks.slack.com/services/T0/B0/x",         # not https
    "https://hooks.slack.com.evil.example/services/T0/B0/x",
    "https://hooks.slack.com/services/T0/B0",          # incomplete
    "http://127.0.0.1:9/services/T0/B0/x",             # loopback, outside development
    "not a url",
])
def test_other_urls_are_refused(url):
    with pytest.raises(ConnectError):
        check_webhook_url(url, SlackConfig())


def test_connect_explains_why_slack_refused(slack_host, site, fake_slack):
    fake_slack.answer = (404, "no_service")

    with pytest.raises(ConnectError) as refused:
        slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})

    assert "HTTP 404: no_service" in refused.value.message and "create a new one" in refused.value.message
    assert slack_host.connections.find(site.id, "slack") is None


def test_connect_explains_an_unreachable_slack(slack_host, site):
    nobody = f"http://127.0.0.1:{free_port()}/services/T0/B0/x"

    with pytest.raises(ConnectError) as refused:
        slack_host.connect(site, "slack", {"webhook_url": nobody})

    assert refused.value.code == "slack_unreachable" and nobody not in refused.value.message


# ---------------------------------------------------------------- posting

def test_a_sale_is_posted_as_a_readable_message(slack_host, site, fake_slack, recorder):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})
    fake_slack.messages.clear()

    slack_host.emit(site.id, "purchase.completed", SALE)
    run_workers_once(slack_host)

    assert fake_slack.messages == [{"text": "New sale: Watercolour basics — $49.00 from buyer@example.com"}]
    assert [d.status for d in slack_deliveries(recorder)] == ["delivered"]


def test_a_dispute_is_posted_with_what_to_do(slack_host, site, fake_slack):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})

    slack_host.emit(site.id, "dispute.opened", DISPUTE)
    run_workers_once(slack_host)

    assert fake_slack.texts()[-1] == ("Dispute opened: $49.00 (reason: fraudulent). "
                                      "Respond from your Stripe dashboard before the deadline.")


def test_events_it_does_not_observe_are_not_posted(slack_host, site, fake_slack, recorder):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})

    slack_host.emit(site.id, "payout.paid", CORE_EVENT_TYPES["payout.paid"].example)

    assert slack_deliveries(recorder) == []


def test_amounts_read_like_money():
    assert money(4900, "usd") == "$49.00"
    assert money(123456, "eur") == "€1,234.56"
    assert money(500, "jpy") == "500 JPY"
    assert money(1999, "chf") == "19.99 CHF"


def test_offer_titles_show_as_typed_not_as_slack_markup():
    assert escape("Oils & <Acrylics>") == "Oils &amp; &lt;Acrylics&gt;"


# ---------------------------------------------------------------- status and disconnect

def test_status_reports_the_last_delivery(slack_host, site, fake_slack):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})
    assert slack_host.status(site, "slack").reason == "Connected; nothing posted since the test message."

    slack_host.emit(site.id, "purchase.completed", SALE)
    slack_host.pipeline.observer.drain()  # a worker: the plugin observes the sale and queues its message
    assert "is on its way to Slack" in slack_host.status(site, "slack").reason
    run_workers_once(slack_host)

    connection = slack_host.status(site, "slack", refresh=True)
    assert connection.state is ConnectionState.CONNECTED
    assert connection.reason == "Last message (purchase.completed, 01 Jan 2026 00:00 UTC) posted to Slack."


def test_status_says_what_to_do_when_slack_stops_accepting(slack_host, site, fake_slack):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})
    fake_slack.answer = (404, "no_service")

    slack_host.emit(site.id, "purchase.completed", SALE)
    run_workers_once(slack_host)

    connection = slack_host.status(site, "slack")
    assert connection.state is ConnectionState.ERROR
    assert "HTTP 404" in connection.reason and "reconnect with a new webhook URL" in connection.reason


def test_disconnect_says_goodbye_and_forgets_the_url(slack_host, site, fake_slack, recorder):
    slack_host.connect(site, "slack", {"webhook_url": fake_slack.webhook_url()})

    connection = slack_host.disconnect(site, "slack")
    slack_host.emit(site.id, "purchase.completed", SALE)

    assert connection.state is ConnectionState.DISCONNECTED
    assert fake_slack.texts()[-1] == "Intellectra was disconnected from this channel."
    assert slack_deliveries(recorder) == [], "a disconnected channel gets nothing"
    assert slack_host.connections.secrets_of(connection.id) == {}
