"""Throwaway integrations for the browser tests (the page must work for any plugin, not just ours)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core import (
    Capability,
    Connected,
    ConnectionState,
    ConnectionStatus,
    ConnectOption,
    Field,
    IntegrationInfo,
    Redirect,
    Tenant,
    hookimpl,
)

SECRET_VALUE = "sk_demo_never_shown_0123456789"
REPO = Path(__file__).resolve().parents[2]


def card(page: Any, title: str) -> Any:
    """The card of the integration titled ``title`` on the settings page."""
    return page.locator("article.card", has=page.get_by_role("heading", name=title, exact=True))


def connect_unverified(page: Any) -> str:
    """On the settings page: connect a new Stripe account through the sandbox's OAuth page that still
    needs information; returns its id."""
    from playwright.sync_api import expect  # not at import: conftest imports this module before any skip

    stripe = card(page, "Stripe")
    stripe.get_by_role("button", name="I have a Stripe account").click()
    expect(page.get_by_role("heading", name=re.compile("Connect your Stripe account"))).to_be_visible()
    page.locator("#register-email").fill("ada@example.com")
    page.locator("#register-business-name").fill("Ada's Watercolour Studio")
    page.locator("#register-status").select_option("unverified")
    page.locator("#register").click()
    page.get_by_role("radio", name=re.compile("Ada's Watercolour Studio")).check()
    page.locator("#connect").click()
    expect(stripe.locator("#stripe_connect-state")).to_have_text("Action required")
    return str(stripe.locator("dt:text-is('Account ID') + dd").inner_text())


class DemoPay:
    """Connect fields (one secret) and two options; "new" goes through the provider and needs action."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(
            name="demopay", title="Demo Pay", description="Take payments with a throwaway provider.",
            capabilities={Capability.CONNECT, Capability.STATUS},
            connect_fields=[Field(name="account", label="Account name", required=True),
                            Field(name="api_secret", label="Secret key", secret=True, help="Never shown again.")],
            connect_options=[ConnectOption(name="existing", label="I have a Demo Pay account"),
                             ConnectOption(name="new", label="Create a new account")],
        )

    @hookimpl
    def connect(self, ctx: Any, tenant: Tenant, form: Mapping[str, str], state: str) -> Connected | Redirect:
        if form["option"] == "new":
            return Redirect(url=ctx.callback_url(state=state, code="granted"))
        return Connected(external_id=f"acct_{form['account']}", secrets={"api_secret": form.get("api_secret", "")})

    @hookimpl
    def complete_connect(self, tenant: Tenant) -> Connected:
        return Connected(external_id=f"acct_new_{tenant.id}", status=ConnectionStatus(
            state=ConnectionState.ACTION_REQUIRED, reason="Demo Pay needs your bank details.",
            action_url="https://dashboard.demopay.example/"))

    @hookimpl
    def status(self, connection: Any) -> ConnectionStatus:
        return connection.status


class Hooks:
    """Used through API keys only, like Zapier."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="hooks", title="Hooks", description="Send your site's events to other apps.",
                               capabilities={Capability.API_KEYS})


WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def assert_accessible(page: Any, state: str) -> None:
    """axe-core finds no WCAG 2.x A/AA violation on the page as it is now (``state`` names it in failures)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA}})
    violations = [f"{v['id']}: {v['help']} ({len(v['nodes'])}: {v['nodes'][0]['target']})"
                  for v in results.response["violations"]]
    assert not violations, f"axe, {state}: {violations}"


def in_viewport(page: Any, locator: Any) -> bool:
    """The element's whole box is inside the visible part of the page."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= size["height"] + 1  # subpixels
