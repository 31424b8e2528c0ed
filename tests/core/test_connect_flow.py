"""The connect flow: single-use, expiring, tenant-bound states; no half-made connections."""

from __future__ import annotations

import pytest

from core import Connected, ConnectError, IntegrationInfo, Redirect, hookimpl
from core.errors import ConnectStateError, ValidationFailed
from core.models import ConnectionState

HELLO = {"plugins": {"hello": {"module": "hello_module"}}}


@pytest.fixture
def hello_host(make_host, fixture_plugins):
    return make_host(registry=HELLO)


@pytest.fixture
def two_tenants(hello_host):
    a, _ = hello_host.tenants.create("Site A")
    b, _ = hello_host.tenants.create("Site B")
    return a, b


def state_of(url: str) -> str:
    return url.rsplit("state=", 1)[1]


def test_a_direct_connect_stores_the_connection_with_encrypted_secrets(hello_host, two_tenants, recorder):
    a, _ = two_tenants
    outcome = hello_host.connect(a, "hello", {"account": "acme", "password": "hunter2-secret", "option": "direct"})
    connection = outcome.connection
    assert connection.state is ConnectionState.CONNECTED
    assert connection.external_id == "acme"
    assert hello_host.connections.secrets_of(connection.id) == {"password": "hunter2-secret"}
    assert "hunter2-secret" not in repr(connection)
    assert [e.type for e in recorder.domain_events()] == ["integration.connected"]
    assert recorder.audit()[0].action == "connected"


def test_a_missing_required_field_is_refused_naming_it(hello_host, two_tenants):
    with pytest.raises(ValidationFailed, match="Fill in Account name to connect Hello"):
        hello_host.connect(two_tenants[0], "hello", {"option": "direct"})


def test_an_unknown_connect_option_is_refused_listing_the_options(hello_host, two_tenants):
    with pytest.raises(ValidationFailed, match="choose one of direct, oauth"):
        hello_host.connect(two_tenants[0], "hello", {"account": "x", "option": "telepathy"})


class TestRedirectFlow:
    def test_a_redirect_then_callback_connects(self, hello_host, two_tenants):
        a, _ = two_tenants
        outcome = hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"})
        assert outcome.redirect_url.startswith("https://hello.example/authorize?state=")
        assert hello_host.connections.find(a.id, "hello") is None, "nothing is stored before the callback"
        done = hello_host.complete_connect(a, "hello", {"state": state_of(outcome.redirect_url), "code": "c1"})
        assert done.connection.state is ConnectionState.CONNECTED
        assert done.connection.data == {"via": "oauth"}

    def test_a_state_is_single_use(self, hello_host, two_tenants):
        a, _ = two_tenants
        state = state_of(hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"}).redirect_url)
        hello_host.complete_connect(a, "hello", {"state": state, "code": "c1"})
        with pytest.raises(ConnectStateError, match="already used") as info:
            hello_host.complete_connect(a, "hello", {"state": state, "code": "c1"})
        assert info.value.code == "connect_state_used"

    def test_a_state_expires(self, hello_host, two_tenants, clock):
        a, _ = two_tenants
        state = state_of(hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"}).redirect_url)
        clock.advance(minutes=11)
        with pytest.raises(ConnectStateError, match="expired"):
            hello_host.complete_connect(a, "hello", {"state": state, "code": "c1"})
        assert hello_host.connections.find(a.id, "hello") is None

    def test_a_state_is_bound_to_the_tenant_that_started_it(self, hello_host, two_tenants):
        a, b = two_tenants
        state = state_of(hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"}).redirect_url)
        with pytest.raises(ConnectStateError, match="started by another site") as info:
            hello_host.complete_connect(b, "hello", {"state": state, "code": "c1"})
        assert info.value.http_status == 403
        assert hello_host.connections.find(b.id, "hello") is None

    @pytest.mark.parametrize("params", [{}, {"state": "cst_forged"}])
    def test_a_missing_or_forged_state_is_refused(self, hello_host, two_tenants, params):
        with pytest.raises(ConnectStateError, match="Start again from Settings > Integrations"):
            hello_host.complete_connect(two_tenants[0], "hello", {**params, "code": "c1"})

    def test_the_raw_state_is_never_stored(self, hello_host, two_tenants):
        from core.store.tables import connect_states

        a, _ = two_tenants
        state = state_of(hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"}).redirect_url)
        with hello_host.store.read() as c:
            rows = [dict(r._mapping) for r in c.execute(connect_states.select())]
        assert state not in repr(rows) and "acme" not in repr(rows)


class TestOneAccountOneSite:
    def test_an_account_connected_to_another_site_is_refused_with_the_help_pages_advice(self, hello_host,
                                                                                         two_tenants):
        a, b = two_tenants
        hello_host.connect(a, "hello", {"account": "acme", "option": "direct"})
        with pytest.raises(ConnectError) as info:
            hello_host.connect(b, "hello", {"account": "acme", "option": "direct"})
        assert info.value.code == "account_already_connected"
        assert "create a new Hello account (you can use the same email address)" in info.value.message
        assert hello_host.connections.find(b.id, "hello") is None
        assert hello_host.connections.find(a.id, "hello").state is ConnectionState.CONNECTED

    def test_after_a_disconnect_the_account_can_be_connected_elsewhere(self, hello_host, two_tenants):
        a, b = two_tenants
        hello_host.connect(a, "hello", {"account": "acme", "option": "direct"})
        hello_host.disconnect(a, "hello")
        outcome = hello_host.connect(b, "hello", {"account": "acme", "option": "direct"})
        assert outcome.connection.tenant_id == b.id


class TestDisconnect:
    def test_disconnect_forgets_credentials_and_keeps_the_audit_record(self, hello_host, two_tenants, recorder):
        a, _ = two_tenants
        connection = hello_host.connect(a, "hello", {"account": "acme", "password": "pw-123456789",
                                                     "option": "direct"}).connection
        result = hello_host.disconnect(a, "hello")
        assert result.state is ConnectionState.DISCONNECTED
        assert result.external_id is None
        assert hello_host.connections.secrets_of(connection.id) == {}
        assert [r.action for r in recorder.audit()] == ["connected", "disconnected"]
        assert [e.type for e in recorder.domain_events()] == ["integration.connected", "integration.disconnected"]

    def test_disconnecting_twice_is_harmless(self, hello_host, two_tenants, recorder):
        a, _ = two_tenants
        hello_host.connect(a, "hello", {"account": "acme", "option": "direct"})
        hello_host.disconnect(a, "hello")
        again = hello_host.disconnect(a, "hello")
        assert again.state is ConnectionState.DISCONNECTED
        assert len(recorder.domain_events("integration.disconnected")) == 1


def test_a_plugin_refusal_stores_nothing(make_host):
    class Refusing:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="refusing", title="Refusing", description="Always says no to connect.")

        @hookimpl
        def connect(self, ctx, tenant, form, state):
            raise ConnectError("The provider said no: check your account and try again.")

    host = make_host(plugins={"refusing": Refusing()})
    tenant, _ = host.tenants.create("Site")
    with pytest.raises(ConnectError, match="The provider said no"):
        host.connect(tenant, "refusing", {})
    assert host.connections.list() == []


def test_complete_connect_can_send_the_creator_back_with_a_fresh_state(make_host):
    class Onboarding:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="onboard", title="Onboard", description="Onboarding with expiring links.")

        @hookimpl
        def connect(self, ctx, tenant, form, state):
            return Redirect(url=ctx.callback_url(state=state), state_data={"step": 1})

        @hookimpl
        def complete_connect(self, ctx, tenant, params, state_data, state):
            if params.get("refresh"):
                return Redirect(url=ctx.callback_url(state=state), state_data={"step": state_data["step"] + 1})
            return Connected(external_id="acct_1", data={"steps": state_data["step"]})

    host = make_host(plugins={"onboard": Onboarding()}, settings={"public_url": "http://test"})
    tenant, _ = host.tenants.create("Site")
    first = state_of(host.connect(tenant, "onboard", {}).redirect_url)
    again = host.complete_connect(tenant, "onboard", {"state": first, "refresh": "1"})
    assert again.redirect_url.startswith("http://test/integrations/onboard/callback?state=")
    second = state_of(again.redirect_url)
    assert second != first
    done = host.complete_connect(tenant, "onboard", {"state": second})
    assert done.connection.data == {"steps": 2}


def test_a_redirect_may_ask_for_a_longer_lived_state(make_host, clock):
    class SlowOnboarding:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="slow", title="Slow", description="An onboarding form that takes hours.")

        @hookimpl
        def connect(self, ctx, tenant, form, state):
            return Redirect(url=ctx.callback_url(state=state), state_ttl_seconds=24 * 3600)

        @hookimpl
        def complete_connect(self, ctx, tenant, params, state_data, state):
            return Connected(external_id="acct_slow")

    host = make_host(plugins={"slow": SlowOnboarding()})
    tenant, _ = host.tenants.create("Site")
    state = state_of(host.connect(tenant, "slow", {}).redirect_url)
    clock.advance(hours=23)
    assert host.complete_connect(tenant, "slow", {"state": state}).connection.external_id == "acct_slow"


def test_two_callbacks_racing_with_one_state_connect_once(hello_host, two_tenants):
    from concurrent.futures import ThreadPoolExecutor

    a, _ = two_tenants
    state = state_of(hello_host.connect(a, "hello", {"account": "acme", "option": "oauth"}).redirect_url)

    def callback(_):
        try:
            return hello_host.complete_connect(a, "hello", {"state": state, "code": "c1"}).connection.id
        except ConnectStateError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(callback, range(4)))
    assert sum(1 for r in results if r.startswith("con_")) == 1
    assert results.count("connect_state_used") == 3
    assert len(hello_host.connections.list()) == 1


def test_disconnect_still_happens_locally_when_the_plugin_raises_any_host_error(make_host):
    """hookspecs.disconnect: "If you raise, the host still disconnects locally and records your error."
    A plugin reading a secret the connection does not have (``ctx.secret`` raises NotConnected) or
    one no key can decrypt (SecretsError) must not leave the creator unable to disconnect."""
    class Revoking:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="revoking", title="Revoking", description="Revokes its token on disconnect.")

        @hookimpl
        def connect(self, ctx, tenant, form, state):
            return Connected(external_id="acct_r")  # no secrets stored

        @hookimpl
        def disconnect(self, ctx, tenant, connection):
            ctx.secret("access_token")  # raises NotConnected: nothing stored under that name

    host = make_host(plugins={"revoking": Revoking()})
    tenant, _ = host.tenants.create("Site")
    host.connect(tenant, "revoking", {})
    result = host.disconnect(tenant, "revoking")
    assert result.state is ConnectionState.DISCONNECTED
    assert result.reason.startswith("Disconnected here; Revoking reported: ")
    assert "access_token" in result.reason
