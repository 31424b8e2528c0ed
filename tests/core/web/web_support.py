"""Test support for the settings page and tenant API: throwaway plugins, a served site, browsers.

``DemoPay`` is a payments-like integration with connect fields (one secret) and two connect options:
"existing" connects at once, "new" sends the creator to the "provider" (straight back to our
callback, like an OAuth consent that was granted). It also puts two forms on its card: "Create a
payment link" while connected, and "Ask Demo Pay" always. ``Hooks`` uses API keys only, like Zapier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs
import httpx

from core import (
    ActionRequired,
    Capability,
    CardForm,
    CardFormResult,
    Choice,
    Connected,
    ConnectError,
    ConnectionState,
    ConnectionStatus,
    ConnectOption,
    Field,
    IntegrationInfo,
    Redirect,
    Tenant,
    ValidationFailed,
    hookimpl,
)
from core.host import Host

DASHBOARD = "https://dashboard.demopay.example/account"
SECRET_VALUE = "sk_demo_do_not_show_me_123456"
PAYMENT_LINKS = "https://pay.demopay.example"
PAYMENT_LINK_FORM = CardForm(
    name="payment_link", title="Create a payment link", submit_label="Create the link",
    help="Buyers pay you through the link.",
    fields=[Field(name="amount", label="Amount", type="number", required=True, help="e.g. 12.50"),
            Field(name="currency", label="Currency", required=True,
                  choices=[Choice(value="usd", label="US dollar"), Choice(value="eur", label="Euro")]),
            Field(name="note", label="Note for the buyer", type="textarea"),
            Field(name="pin", label="Account PIN", secret=True)])
ASK_FORM = CardForm(name="ask", title="Ask Demo Pay", submit_label="Send", when="always",
                    fields=[Field(name="question", label="Your question", required=True)])


class DemoPay:
    """A payments-like integration; ``remote`` is what the "provider" reports on refresh."""

    def __init__(self) -> None:
        self.remote = ConnectionStatus(state=ConnectionState.CONNECTED, reason="Ready to take payments.")
        self.disconnected: list[str] = []
        self.submitted: list[tuple[str, str, dict[str, str]]] = []

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(
            name="demopay", title="Demo Pay", description="Take payments with a throwaway provider in tests.",
            capabilities={Capability.CONNECT, Capability.STATUS},
            connect_fields=[Field(name="account", label="Account name", required=True, help="As shown at Demo Pay."),
                            Field(name="api_secret", label="Secret key", secret=True)],
            connect_options=[ConnectOption(name="existing", label="I have a Demo Pay account"),
                             ConnectOption(name="new", label="Create a new account", help="Takes two minutes.")],
            card_forms=[PAYMENT_LINK_FORM, ASK_FORM],
        )

    @hookimpl
    def connect(self, ctx: Any, tenant: Tenant, form: Mapping[str, str], state: str) -> Connected | Redirect:
        if form["option"] == "new":
            return Redirect(url=ctx.callback_url(state=state, code="granted"), state_data={"option": "new"})
        return Connected(external_id=f"acct_{form['account']}", secrets={"api_secret": form.get("api_secret", "")},
                         data={"account": form["account"]})

    @hookimpl
    def complete_connect(self, tenant: Tenant, params: Mapping[str, str]) -> Connected:
        if params.get("error") == "access_denied":
            raise ConnectError("You cancelled connecting Demo Pay; nothing was connected.", code="access_denied")
        return Connected(external_id=f"acct_new_{tenant.id}", status=ConnectionStatus(
            state=ConnectionState.ACTION_REQUIRED, reason="Demo Pay needs your bank details.",
            action_url=DASHBOARD))

    @hookimpl
    def status(self, connection: Any, refresh: bool) -> ConnectionStatus:
        return self.remote if refresh else connection.status

    @hookimpl
    def disconnect(self, tenant: Tenant) -> None:
        self.disconnected.append(tenant.id)

    @hookimpl
    def submit_card_form(self, tenant: Tenant, connection: Any, form_name: str,
                         values: Mapping[str, str]) -> CardFormResult:
        """Amount "0" is refused, "999" needs the creator at the dashboard; anything else makes a link."""
        self.submitted.append((tenant.id, form_name, dict(values)))
        if form_name == "ask":
            return CardFormResult(message=f"Demo Pay got your question “{values['question']}”.")
        if values["amount"] == "0":
            raise ValidationFailed("Amount must be above 0; enter what the buyer pays, e.g. 12.50.",
                                   code="amount_invalid")
        if values["amount"] == "999":
            raise ActionRequired("Demo Pay needs your bank details before you can take payments.",
                                 action_url=DASHBOARD)
        return CardFormResult(message=f"Payment link for {values['amount']} {values['currency'].upper()} created.",
                              link_url=f"{PAYMENT_LINKS}/{connection.external_id}/{values['amount']}",
                              link_label="Open the payment link")


class Hooks:
    """An integration that is used through API keys and webhook subscriptions only (like Zapier)."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="hooks", title="Hooks", description="Send your site's events to other apps.",
                               capabilities={Capability.API_KEYS, Capability.DELIVERIES})


class Broken:
    """A plugin whose declaration raises: it must show as a failed card, not break the page."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        raise RuntimeError("the Broken plugin cannot find its settings file")


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@attrs.define
class Browser:
    """An httpx client that behaves like a browser on the page: cookies, forms with the CSRF token."""

    client: httpx.Client
    csrf: str = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.get(path, **kwargs)
        if found := CSRF_META.search(response.text):
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: Mapping[str, str] | None = None, *, csrf: str | None = None,
             **kwargs: Any) -> httpx.Response:
        if not self.csrf:
            self.get("/login")
        form = {"csrf_token": self.csrf if csrf is None else csrf, **(data or {})}
        if csrf == "":
            form.pop("csrf_token")
        response = self.client.post(path, data=form, **kwargs)
        if found := CSRF_META.search(response.text):
            self.csrf = found.group(1)
        return response

    def page(self) -> str:
        response = self.get("/settings/integrations")
        assert response.status_code == 200, response.text
        return response.text


@attrs.define
class Site:
    host: Host
    url: str
    demopay: DemoPay
    tenants: dict[str, tuple[Tenant, str]]
    clients: list[httpx.Client] = attrs.field(factory=list)

    def tenant(self, who: str) -> Tenant:
        return self.tenants[who][0]

    def api(self, who: str) -> httpx.Client:
        """A JSON API client with ``who``'s bearer token."""
        client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.tenants[who][1]}"})
        self.clients.append(client)
        return client

    def anonymous(self) -> Browser:
        """A browser on this site's pages: it sends their Origin, as browsers do with a POST."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, headers={"Origin": self.url})
        self.clients.append(client)
        return Browser(client)

    def browser(self, who: str) -> Browser:
        """A browser signed in as ``who``: the demo sign-in where the site offers it, else with the site's token."""
        browser = self.anonymous()
        browser.get("/login")
        demo = self.host.settings.demo_sign_in
        form = {"tenant_id": self.tenant(who).id} if demo else {"token": self.tenants[who][1]}
        response = browser.post("/login", form)
        assert response.status_code == 303, response.text
        browser.get(response.headers["location"])  # signing in replaced the CSRF token; pick up the new one
        return browser
