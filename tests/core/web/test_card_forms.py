"""Card forms: a plugin declares forms for its card, the page renders them, the host checks a
submission and hands it to the plugin's ``submit_card_form`` hook, and the answer is the flash.

Demo Pay (``web_support``) declares "Create a payment link" (while connected) and "Ask Demo Pay"
(always); its hook refuses amount "0", needs the dashboard for "999", and otherwise makes a link.
"""

from __future__ import annotations

import html
import re

import pytest
from test_pages import badge, flash
from web_support import DASHBOARD, PAYMENT_LINKS, Site

from core import (
    CardForm,
    CardFormResult,
    ConnectionState,
    ConnectionStatus,
    Field,
    IntegrationInfo,
    NotFound,
    PluginError,
    hookimpl,
)

FORM = "/settings/integrations/demopay/forms/payment_link"
SECRET_PIN = "pin-4242-never-shown"


def connected(site: Site, who: str = "a"):
    browser = site.browser(who)
    browser.post("/settings/integrations/demopay/connect", {"option": "existing", "account": f"{who}cct"})
    return browser


def form_html(page: str, form: str = "payment_link") -> str | None:
    found = re.search(rf'<section class="card-form" id="demopay-form-{form}".*?</section>', page, re.S)
    return html.unescape(found.group(0)) if found else None


def flash_link(page: str) -> tuple[str, str] | None:
    found = re.search(r'<p class="flash-link"><a href="([^"]+)"[^>]*>([^<]+)</a>', page)
    return (html.unescape(found.group(1)), found.group(2)) if found else None


# ---------------------------------------------------------------------------- what the card shows
def test_a_form_for_connected_sites_appears_only_while_the_connection_works(site: Site):
    browser = site.browser("a")
    assert form_html(browser.page()) is None, "not connected: no payment links yet"
    assert form_html(browser.page(), "ask") is not None, 'a when="always" form is there from the start'

    connected(site)
    form = form_html(browser.page())
    assert form is not None
    assert '<h4 id="demopay-form-payment_link-heading">Create a payment link</h4>' in form
    assert 'action="/settings/integrations/demopay/forms/payment_link"' in form
    assert 'name="csrf_token"' in form
    assert re.search(r'<label for="demopay-form-payment_link-field-amount">Amount <span class="required">', form)
    assert re.search(r'<select id="demopay-form-payment_link-field-currency" name="currency" required', form)
    assert re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', form) == [("usd", "US dollar"),
                                                                                   ("eur", "Euro")]
    assert re.search(r'<textarea id="demopay-form-payment_link-field-note" name="note"', form)
    assert re.search(r'name="pin"\s+type="password"', form), "secret fields are password inputs"
    assert "Create the link</button>" in form

    site.demopay.remote = ConnectionStatus(state=ConnectionState.NEEDS_REAUTH, reason="Key revoked.")
    browser.post("/settings/integrations/demopay/refresh")
    assert badge(browser.page(), "demopay") == "Needs re-authentication"
    assert form_html(browser.page()) is None, "a broken connection cannot act at the provider"


def test_every_id_on_the_page_is_unique_so_each_label_finds_its_input(site: Site):
    page = connected(site).page()
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_connection_that_needs_action_still_shows_the_form(site: Site):
    browser = site.browser("a")
    to_provider = browser.post("/settings/integrations/demopay/connect", {"option": "new", "account": "x"})
    browser.get(to_provider.headers["location"].removeprefix(site.url))
    page = browser.page()
    assert badge(page, "demopay") == "Action required"
    assert form_html(page) is not None, "the provider can still say what is missing, as an error"


# ---------------------------------------------------------------------------- submitting
def test_the_plugins_answer_and_its_link_come_back_as_the_flash(site: Site):
    browser = connected(site)
    response = browser.post(FORM, {"amount": " 12.50 ", "currency": "eur", "note": "", "pin": SECRET_PIN,
                                   "not_a_field": "dropped"})
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/integrations#flash"
    page = browser.page()
    assert flash(page) == "success: Done. Payment link for 12.50 EUR created."
    assert flash_link(page) == (f"{PAYMENT_LINKS}/acct_acct/12.50", "Open the payment link")
    tenant_id = site.tenant("a").id
    assert site.demopay.submitted == [(tenant_id, "payment_link", {"amount": "12.50", "currency": "eur",
                                                                   "pin": SECRET_PIN})], (
        "the plugin gets declared fields only, stripped, empty optional ones left out")
    assert SECRET_PIN not in page


def test_missing_required_fields_are_named_and_the_plugin_is_not_asked(site: Site):
    browser = connected(site)
    browser.post(FORM, {"amount": "", "note": "For the spring class", "pin": SECRET_PIN})
    page = browser.page()
    assert flash(page) == ("error: That did not work. Fill in Amount, Currency (required for “Create a payment "
                           "link”).")
    assert site.demopay.submitted == []
    form = form_html(page)
    assert form is not None and ">For the spring class</textarea>" in form, "what was typed is filled in again"
    assert SECRET_PIN not in page, "except secrets"


def test_a_value_that_is_not_one_of_the_choices_is_refused(site: Site):
    browser = connected(site)
    browser.post(FORM, {"amount": "5", "currency": "gbp"})
    assert flash(browser.page()) == ("error: That did not work. Currency: 'gbp' is not one of the choices; choose "
                                     "one of US dollar, Euro.")
    assert site.demopay.submitted == []


def test_the_plugins_error_is_the_flash_and_the_form_keeps_what_was_typed(site: Site):
    browser = connected(site)
    response = browser.post(FORM, {"amount": "0", "currency": "eur"})
    assert response.headers["location"] == "/settings/integrations#flash"
    page = browser.page()
    assert 'id="flash"' in (form_html(page) or ""), "the error is inside the form that was used"
    assert flash(page) == "error: That did not work. Amount must be above 0; enter what the buyer pays, e.g. 12.50."
    assert flash_link(page) is None
    form = form_html(page)
    assert form is not None and 'value="0"' in form and '<option value="eur" selected>' in form


def test_an_error_with_a_place_to_fix_it_links_there(site: Site):
    browser = connected(site)
    browser.post(FORM, {"amount": "999", "currency": "usd"})
    page = browser.page()
    assert flash(page) == "error: That did not work. Demo Pay needs your bank details before you can take payments."
    assert flash_link(page) == (DASHBOARD, "Manage in Demo Pay dashboard")


def test_a_form_for_connected_sites_is_refused_without_a_connection(site: Site):
    browser = site.browser("a")
    browser.post(FORM, {"amount": "5", "currency": "usd"})
    assert flash(browser.page()) == ("error: That did not work. “Create a payment link” needs a working Demo Pay "
                                     "connection: connect Demo Pay under Settings > Integrations first.")
    assert site.demopay.submitted == []


def test_a_form_for_every_site_works_without_a_connection(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/demopay/forms/ask", {"question": "Do you support SEPA?"})
    assert flash(browser.page()) == "success: Done. Demo Pay got your question “Do you support SEPA?”."


def test_an_unknown_form_is_a_plain_error(site: Site):
    browser = connected(site)
    browser.post("/settings/integrations/demopay/forms/refund_everything", {})
    assert flash(browser.page()) == ("error: That did not work. Demo Pay has no form named 'refund_everything' (its "
                                     "forms: payment_link, ask).")


def test_the_form_needs_the_pages_csrf_token(site: Site):
    browser = connected(site)
    response = browser.post(FORM, {"amount": "5", "currency": "usd"}, csrf="")
    assert response.status_code == 403 and response.json()["error"]["code"] == "csrf_failed"
    assert site.demopay.submitted == []


def test_one_site_never_acts_through_another_sites_connection(site: Site):
    connected(site, "a")
    b = site.browser("b")
    b.post(FORM, {"amount": "5", "currency": "usd"})
    page = b.page()
    assert flash(page).startswith("error: That did not work. “Create a payment link” needs a working Demo Pay")
    assert "acct_acct" not in page and site.demopay.submitted == []


# ---------------------------------------------------------------------------- the tenant API
def test_the_tenant_api_lists_the_forms_and_submits_them(site: Site):
    connected(site)
    api = site.api("a")
    (demopay,) = [i for i in api.get("/api/integrations").json()["integrations"] if i["name"] == "demopay"]
    assert [f["name"] for f in demopay["card_forms"]] == ["payment_link", "ask"]
    assert demopay["card_forms"][0]["fields"][1]["choices"][0] == {"value": "usd", "label": "US dollar"}

    done = api.post("/api/integrations/demopay/forms/payment_link", json={"amount": 7, "currency": "usd"})
    assert done.status_code == 200
    assert done.json() == {"result": {"message": "Payment link for 7 USD created.",
                                      "link_url": f"{PAYMENT_LINKS}/acct_acct/7",
                                      "link_label": "Open the payment link", "data": {}}}


@pytest.mark.parametrize(("who", "body", "status", "code"), [
    ("a", {"currency": "usd"}, 400, "card_form_field_missing"),
    ("a", {"amount": "0", "currency": "usd"}, 400, "amount_invalid"),
    ("a", {"amount": "999", "currency": "usd"}, 409, "action_required"),
    ("b", {"amount": "5", "currency": "usd"}, 409, "not_connected"),
])
def test_the_tenant_api_answers_errors_with_their_code_and_message(site: Site, who, body, status, code):
    connected(site, "a")
    response = site.api(who).post("/api/integrations/demopay/forms/payment_link", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


# ---------------------------------------------------------------------------- misbehaving plugins
class Formless:
    """Declares a form but has no hook to act on it."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="sloppy", title="Sloppy", description="Forms that go wrong.",
                               card_forms=[CardForm(name="go", title="Go", when="always",
                                                    fields=[Field(name="x", label="X")])])


class WrongType(Formless):
    """Acts on its form, but answers with a plain dict."""

    @hookimpl
    def submit_card_form(self) -> object:
        return {"message": "a dict, not a CardFormResult"}


def test_a_plugin_that_answers_with_the_wrong_type_is_recorded_and_explained(make_host):
    host = make_host(plugins={"sloppy": WrongType()})
    tenant, _ = host.tenants.create("Ada")
    with pytest.raises(PluginError) as failed:
        host.submit_card_form(tenant, "sloppy", "go", {"x": "1"})
    assert failed.value.http_status == 502 and "try again" in failed.value.message
    recorded = host.plugins.records["sloppy"].runtime_errors[-1]
    assert "returned dict for the form 'go'; return core.CardFormResult" in recorded


def test_a_plugin_that_declares_a_form_without_the_hook_says_so(make_host):
    host = make_host(plugins={"sloppy": Formless()})
    tenant, _ = host.tenants.create("Ada")
    with pytest.raises(PluginError) as failed:
        host.submit_card_form(tenant, "sloppy", "go", {})
    assert failed.value.code == "card_form_unsupported" and failed.value.http_status == 501


def test_the_host_api_answers_with_the_result(make_host):
    class Echo:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="echo", title="Echo", description="Says it back.",
                                   card_forms=[CardForm(name="say", title="Say", when="always",
                                                        fields=[Field(name="words", label="Words", required=True)])])

        @hookimpl
        def submit_card_form(self, values):
            return CardFormResult(message=values["words"])

    host = make_host(plugins={"echo": Echo()})
    tenant, _ = host.tenants.create("Ada")
    assert host.submit_card_form(tenant, "echo", "say", {"words": "hello"}) == CardFormResult(message="hello")
    with pytest.raises(NotFound):
        host.submit_card_form(tenant, "echo", "shout", {"words": "hello"})
