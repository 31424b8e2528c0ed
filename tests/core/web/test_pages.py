"""Settings > Integrations: what a creator sees on the page and what its buttons do."""

from __future__ import annotations

import html
import re

import attrs
import pytest
from web_support import DASHBOARD, SECRET_VALUE, Site

from core import ConnectionState, ConnectionStatus, EventType, IntegrationInfo, hookimpl


def card(page: str, name: str) -> str:
    """The HTML of one integration's card."""
    found = re.search(rf'<article class="card[^"]*" id="{name}".*?</article>', page, re.S)
    assert found, f"no card for {name}"
    return html.unescape(found.group(0))


def badge(page: str, name: str) -> str:
    found = re.search(rf'id="{name}-state">([^<]+)<', page)
    assert found, f"no state badge for {name}"
    return found.group(1)


def flash(page: str) -> str:
    found = re.search(r'<div class="notice notice-(\w+)" id="flash"[^>]*>\s*<p>(.*?)</p>', page, re.S)
    assert found, "no flash message on the page"
    return f"{found.group(1)}: {html.unescape(re.sub(r'<[^>]+>', '', found.group(2)))}"


def test_signed_out_visitors_are_sent_to_sign_in(site: Site):
    response = site.anonymous().get("/settings/integrations")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Fintegrations"


def test_each_loaded_integration_has_a_card_with_its_connect_form(site: Site):
    page = site.browser("a").page()
    demopay = card(page, "demopay")
    assert "Demo Pay" in demopay and "Take payments with a throwaway provider in tests." in demopay
    assert badge(page, "demopay") == "Not connected"
    assert re.search(r'<label for="demopay-field-account">Account name', demopay)
    assert 'name="account"' in demopay and "As shown at Demo Pay." in demopay
    assert re.search(r'name="api_secret"\s+type="password"', demopay), "secret fields are password inputs"
    buttons = re.findall(r'<button type="submit" name="option" value="(\w+)"[^>]*>([^<]+)</button>', demopay)
    assert buttons == [("existing", "I have a Demo Pay account"), ("new", "Create a new account")]
    assert badge(page, "hooks") == "Not set up"
    assert "Create API key" in card(page, "hooks")


def test_a_plugin_that_failed_to_load_says_it_is_unavailable_and_keeps_the_cause_for_the_operator(make_site):
    site = make_site(broken=True)
    page = site.browser("a").page()
    broken = card(page, "broken")
    assert badge(page, "broken") == "Unavailable"
    assert "is temporarily unavailable" in broken and "Nothing you set up is lost" in broken
    assert "the Broken plugin cannot find its settings file" not in broken, "the cause is for the site operator"
    assert "plugins list" not in broken and "restart" not in broken, "no operator instructions for creators"
    assert "cannot find its settings file" in (site.host.plugins.records["broken"].error or "")
    assert 'action="/settings/integrations/broken/connect"' not in broken
    assert card(page, "demopay"), "the other integrations still render"


def test_connecting_with_fields_connects_at_once_and_never_echoes_the_secret(site: Site):
    browser = site.browser("a")
    browser.page()
    response = browser.post("/settings/integrations/demopay/connect",
                            {"option": "existing", "account": "ada", "api_secret": SECRET_VALUE})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/integrations#flash", "the address brings the message into view"
    page = browser.page()
    assert flash(page) == "success: Connected. Demo Pay is connected."
    assert 'id="flash"' in card(page, "demopay"), "the message is inside the card that was used"
    assert badge(page, "demopay") == "Connected"
    assert SECRET_VALUE not in page
    assert site.host.connections.find(site.tenant("a").id, "demopay").external_id == "acct_ada"
    assert "Disconnect" in card(page, "demopay") and "Refresh status" in card(page, "demopay")
    assert "flash" not in browser.page().split("<main", 1)[1][:400], "a flash is shown once"


def test_a_missing_required_field_comes_back_as_a_plain_error(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/connect", {"option": "existing", "account": ""})
    page = browser.page()
    assert flash(page) == "error: That did not work. Fill in Account name to connect Demo Pay."
    assert badge(page, "demopay") == "Not connected"


def test_connecting_through_the_provider_redirects_there_and_the_return_is_explained(site: Site):
    browser = site.browser("a")
    to_provider = browser.post("/settings/integrations/demopay/connect", {"option": "new", "account": "ada"})
    assert to_provider.status_code == 303
    provider_url = to_provider.headers["location"]
    assert provider_url.startswith(f"{site.url}/integrations/demopay/callback?state=")
    back = browser.get(provider_url.removeprefix(site.url))
    assert back.status_code == 303 and back.headers["location"] == "/settings/integrations#flash"
    page = browser.page()
    assert flash(page) == ("warning: Connected, but action is required. Demo Pay is connected. "
                           "Demo Pay needs your bank details.")
    assert badge(page, "demopay") == "Action required"
    demopay = card(page, "demopay")
    assert f'href="{DASHBOARD}"' in demopay and "Manage in Demo Pay dashboard" in demopay


@pytest.mark.parametrize(("params", "expected"), [
    ({"error": "access_denied"}, "info: Nothing was connected. You cancelled connecting Demo Pay; nothing was "
                                 "connected."),
    ({}, "error: That did not work. The link you came back with has no connect state. Start again from Settings > "
         "Integrations."),
])
def test_a_failed_return_from_the_provider_says_what_happened(site: Site, params, expected):
    browser = site.browser("a")
    if params:
        to_provider = browser.post("/settings/integrations/demopay/connect", {"option": "new", "account": "x"})
        state = re.search(r"state=([^&]+)", to_provider.headers["location"]).group(1)
        params = {**params, "state": state}
    browser.get("/integrations/demopay/callback", params=params)
    assert flash(browser.page()) == expected


def test_disconnect_asks_for_confirmation_first(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/connect", {"option": "existing", "account": "ada"})
    page = browser.page()
    assert 'href="/settings/integrations/demopay/disconnect"' in card(page, "demopay")
    confirm = browser.get("/settings/integrations/demopay/disconnect")
    assert confirm.status_code == 200
    assert "Disconnect Demo Pay?" in html.unescape(confirm.text)
    assert "Yes, disconnect Demo Pay" in confirm.text and "Cancel" in confirm.text
    assert site.host.connections.find(site.tenant("a").id, "demopay").state == ConnectionState.CONNECTED
    done = browser.post("/settings/integrations/demopay/disconnect")
    assert done.status_code == 303
    page = browser.page()
    assert flash(page) == "success: Disconnected. Demo Pay is disconnected."
    assert badge(page, "demopay") == "Disconnected"
    assert site.demopay.disconnected == [site.tenant("a").id]


def test_refresh_status_asks_the_provider_and_shows_the_new_state(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/connect", {"option": "existing", "account": "ada"})
    site.demopay.remote = ConnectionStatus(state=ConnectionState.NEEDS_REAUTH, reason="Your Demo Pay key was revoked.")
    browser.post("/settings/integrations/demopay/refresh")
    page = browser.page()
    assert flash(page) == "warning: Status refreshed. Demo Pay: Your Demo Pay key was revoked."
    assert badge(page, "demopay") == "Needs re-authentication"
    assert 'action="/settings/integrations/demopay/connect"' in card(page, "demopay"), "offers to connect again"


def test_an_api_key_is_shown_once_and_can_be_revoked(site: Site):
    browser = site.browser("a")
    created = browser.post("/settings/integrations/hooks/api-keys", {"label": "My Zaps"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    plaintext = re.search(r'id="hooks-new-key"[^>]*value="([^"]+)"', created.text).group(1)
    assert plaintext.startswith("ik_")
    assert "this is the only time it is shown" in created.text
    assert 'data-copy-target="hooks-new-key"' in created.text
    assert site.host.api_keys.authenticate(plaintext, "hooks") is not None
    page = browser.page()
    assert plaintext not in page, "never shown again"
    hooks = card(page, "hooks")
    assert "My Zaps" in hooks and f"{plaintext[:10]}…" in hooks
    assert badge(page, "hooks") == "1 active key"
    (key,) = site.host.api_keys.list(site.tenant("a").id)
    revoked = browser.post(f"/settings/integrations/hooks/api-keys/{key.id}/revoke")
    assert revoked.status_code == 303
    page = browser.page()
    assert flash(page) == f"success: API key revoked. The key “My Zaps” ({key.prefix}…) no longer works."
    assert site.host.api_keys.authenticate(plaintext, "hooks") is None
    assert "No active keys." in card(page, "hooks")


def test_api_keys_are_refused_for_an_integration_that_does_not_use_them(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/api-keys", {"label": "x"})
    assert flash(browser.page()) == "error: That did not work. Demo Pay does not use API keys."
    assert site.host.api_keys.list(site.tenant("a").id) == []


def test_active_subscriptions_are_listed_without_their_secret_urls(site: Site):
    tenant = site.tenant("a")
    site.host.subscriptions.subscribe(tenant.id, "hooks", event_type="purchase.completed",
                                      target_url="http://127.0.0.1:9/hooks/standard/123/s3cr3tpath")
    hooks = card(site.browser("a").page(), "hooks")
    assert "Purchase completed" in hooks and "→ 127.0.0.1" in hooks
    assert "s3cr3tpath" not in hooks


def test_recent_events_are_listed_in_plain_words(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/connect", {"option": "existing", "account": "ada"})
    site.host.emit(site.tenant("a").id, "member.created", {"member_id": "mem_1", "email": "m@example.com"})
    page = html.unescape(browser.page())
    events = page.split('id="events"', 1)[1]
    assert "Member created" in events and "member_id: mem_1" in events
    assert "Integration connected" in events and "Demo Pay: Connected." in events
    assert events.index("Member created") < events.index("Integration connected"), "newest first"


def test_an_event_of_a_plugins_own_type_is_listed_by_its_title_and_by_name_once_the_plugin_is_gone(site: Site):
    @attrs.frozen(kw_only=True)
    class ParcelShipped:
        parcel_id: str

    class Courier:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="courier", title="Courier", description="Ships parcels.")

        @hookimpl
        def event_types(self):
            return [EventType(name="courier.parcel_shipped", title="Parcel shipped", version=1, schema=ParcelShipped,
                              example={"parcel_id": "par_1"})]

    site.host.plugins.register("courier", Courier())
    site.host.emit(site.tenant("a").id, "courier.parcel_shipped", {"parcel_id": "par_7"})
    events = html.unescape(site.browser("a").page()).split('id="events"', 1)[1]
    assert "Parcel shipped" in events and "parcel_id: par_7" in events

    site.host.plugins.unregister("courier")
    events = html.unescape(site.browser("a").page()).split('id="events"', 1)[1]
    assert "Parcel shipped" not in events and "courier.parcel_shipped" in events


def test_failed_deliveries_can_be_retried_from_the_page(site: Site):
    tenant = site.tenant("a")
    site.host.subscriptions.subscribe(tenant.id, "hooks", event_type="member.created",
                                      target_url="http://127.0.0.1:9/unreachable")
    site.host.emit(tenant.id, "member.created", {"member_id": "mem_1", "email": "m@example.com"})
    (delivery,) = site.host.pipeline.list_deliveries(tenant_id=tenant.id)
    with site.host.store.begin() as c:
        from core.store.tables import deliveries

        c.execute(deliveries.update().values(status="dead", attempts=8, last_error="connection refused"))
    browser = site.browser("a")
    section = html.unescape(browser.page().split('id="deliveries"', 1)[1])
    assert "member.created" in section and "Gave up after 8 attempts" in section and "connection refused" in section
    assert "unreachable" not in section, "only the target's host is shown"
    retried = browser.post(f"/settings/integrations/deliveries/{delivery.id}/retry")
    assert retried.status_code == 303 and retried.headers["location"].endswith("#flash")
    page = browser.page()
    assert flash(page) == "success: Delivery queued again. The member.created delivery will be sent again shortly."
    assert site.host.pipeline.get_delivery(delivery.id).status.value == "pending"
    assert "Nothing failing" in page


def test_pages_are_not_cached_or_framed(site: Site):
    response = site.browser("a").get("/settings/integrations")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_is_accessible_by_construction(site: Site):
    """Landmarks, a skip link, one h1, and a label for every input a person fills in."""
    page = site.browser("a").page()
    assert '<html lang="en">' in page and '<main id="main"' in page and 'href="#main"' in page
    assert page.count("<h1") == 1
    inputs = re.findall(r'<input id="([^"]+)"[^>]*type="(?!hidden)', page)
    assert inputs
    for input_id in inputs:
        assert f'<label for="{input_id}"' in page, f"input {input_id} has no label"


def test_the_static_files_are_served(site: Site):
    browser = site.anonymous()
    css = browser.get("/static/intellectra/settings.css")
    assert css.status_code == 200 and ".badge-good" in css.text
    assert "clipboard" in browser.get("/static/intellectra/copy.js").text


class Keyed:
    """Connects by creating an API key, like Zapier: connect and api_keys, and nothing to fill in."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        from core import Capability

        return IntegrationInfo(name="keyed", title="Keyed", description="Connect with a key.",
                               capabilities={Capability.CONNECT, Capability.API_KEYS})

    @hookimpl
    def connect(self):
        from core import Connected

        return Connected(status=ConnectionStatus(state=ConnectionState.CONNECTED, reason="1 key."))


def test_creating_the_first_api_key_is_the_connect_step_where_nothing_else_is_asked(make_site):
    site = make_site(extra={"keyed": Keyed()})
    browser = site.browser("a")
    keyed = card(browser.page(), "keyed")
    assert "/settings/integrations/keyed/connect" not in keyed, "no Connect button that only turns the card amber"
    assert "Create API key" in keyed and badge(browser.page(), "keyed") == "Not connected"
    created = browser.post("/settings/integrations/keyed/api-keys", {"label": "My Zaps"})
    assert created.status_code == 201
    assert badge(created.text, "keyed") == "Connected"
    assert site.host.connections.find(site.tenant("a").id, "keyed").state == ConnectionState.CONNECTED
