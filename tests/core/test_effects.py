"""Whatever a hook asks for through ``ctx`` is applied — status, disconnect, deliveries — never dropped."""

from __future__ import annotations

import json

import pytest

from core import (
    CardForm,
    CardFormResult,
    Connected,
    ConnectionState,
    ConnectionStatus,
    Field,
    IntegrationInfo,
    hookimpl,
)


class Reporter:
    """A plugin whose status hook answers what the test sets, and whose card form posts somewhere."""

    def __init__(self) -> None:
        self.answer = ConnectionStatus(state=ConnectionState.CONNECTED, reason="fine")

    @hookimpl
    def integration_info(self):
        return IntegrationInfo(name="reporter", title="Reporter", description="Reports what the test says.",
                               card_forms=[CardForm(name="ping", title="Ping the channel",
                                                    fields=[Field(name="text", label="Text", required=True)])])

    @hookimpl
    def connect(self, ctx, tenant, form, state):
        return Connected(external_id="acct_reporter", secrets={"token": "tok_reporter_secret"})

    @hookimpl
    def status(self, ctx, tenant, connection, refresh):
        return self.answer

    @hookimpl
    def submit_card_form(self, ctx, tenant, connection, form_name, values):
        ctx.deliver(to="https://hooks.example.com/ping", json={"text": values["text"]})
        return CardFormResult(message="Sent.")


@pytest.fixture
def reporter(make_host):
    plugin = Reporter()
    host = make_host(plugins={"reporter": plugin})
    tenant, _ = host.tenants.create("Site")
    connection = host.connect(tenant, "reporter", {}).connection
    return host, plugin, tenant, connection


def test_a_status_of_disconnected_forgets_the_credentials_and_frees_the_account(reporter):
    host, plugin, tenant, connection = reporter
    plugin.answer = ConnectionStatus(state=ConnectionState.DISCONNECTED, reason="Revoked at the provider.")
    updated = host.status(tenant, "reporter", refresh=True)
    assert updated.state is ConnectionState.DISCONNECTED
    assert updated.reason == "Revoked at the provider."
    assert updated.external_id is None
    assert host.connections.secrets_of(connection.id) == {}


def test_a_status_of_pending_for_a_made_connection_is_an_error_saying_so(reporter):
    host, plugin, tenant, _ = reporter
    plugin.answer = ConnectionStatus(state=ConnectionState.PENDING)
    updated = host.status(tenant, "reporter", refresh=True)
    assert updated.state is ConnectionState.ERROR
    assert "reported the connection as pending; reconnect it" in updated.reason


def test_a_delivery_asked_for_in_a_card_form_is_queued(reporter, recorder):
    host, _, tenant, _ = reporter
    assert host.submit_card_form(tenant, "reporter", "ping", {"text": "hello"}).message == "Sent."
    (row,) = [r for r in recorder.deliveries() if r.integration == "reporter"]
    assert json.loads(row.payload) == {"text": "hello"}
    assert row.target_url == "https://hooks.example.com/…"
    assert host.secrets.decrypt(row.target_url_secret) == "https://hooks.example.com/ping"
