"""What a plugin adds to its card (the ``card_details`` hook), rendered the same way for any plugin."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from web_support import Site

from core import (
    Action,
    Capability,
    CardDetails,
    CardForm,
    CardFormResult,
    Connected,
    Fact,
    Field,
    IntegrationInfo,
    Link,
    NotFound,
    Row,
    RowAction,
    Section,
    Table,
    Tone,
    ValidationFailed,
    hookimpl,
)

ARCHIVE = CardForm(name="archive", title="Archive an item", listed=False, fields=[Field(name="item", label="Item")])
RENAME = CardForm(name="rename", title="Rename the shelf", fields=[Field(name="name", label="Name", required=True)])


class Shelf:
    """A throwaway integration whose card shows who is connected, what is needed and a table of items."""

    def __init__(self) -> None:
        self.items = {"it_1": "Watercolour basics", "it_2": "Ink drawing"}
        self.fail: Exception | None = None
        self.answer: Any = None

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="shelf", title="Shelf", description="Items on a shelf.",
                               capabilities={Capability.CONNECT}, card_forms=[RENAME, ARCHIVE])

    @hookimpl
    def connect(self) -> Connected:
        return Connected(external_id="shelf_42")

    @hookimpl
    def card_details(self, ctx: Any) -> CardDetails | None:
        if self.fail is not None:
            raise self.fail
        if self.answer is not None:
            return self.answer  # type: ignore[no-any-return]
        if ctx.connection is None:
            return CardDetails(steps=["Press Connect Shelf.", "Put something on it."],
                               links=[Link(label="Open Shelf", url="https://shelf.example/")])
        rows = [Row(key=key, cells=[title, "Live"], copy=f"https://shelf.example/{key}",
                    link=Link(label="View", url=f"https://shelf.example/admin/{key}"),
                    actions=[RowAction(text="Archive", label=f"Archive {title}", form="archive", values={"item": key},
                                       confirm=f"Archive “{title}”? Its link stops working.",
                                       confirm_button=f"Yes, archive “{title}”")])
                for key, title in self.items.items()]
        return CardDetails(
            label="Checking your shelf", tone=Tone.INFO,
            identity=[Fact(label="Account", value=ctx.connection.external_id), Fact(label="Mode", value="Test mode",
                                                                                      tone=Tone.WARNING)],
            needs_title="Shelf still needs", needs=["a photo of the shelf", "your address"],
            actions=[Action(label="Finish setup at Shelf", url=ctx.url_for("/integrations/shelf/finish"),
                            primary=True)],
            sections=[Section(name="items", title="Your items", table=Table(columns=["Item", "Status"], rows=rows,
                                                                             caption="Items on your shelf"))],
            locked_forms={"rename": "You can rename the shelf once Shelf has checked it."},
            disconnect_effects=["Your items stop selling.", "Shelf keeps your items."],
        )

    @hookimpl
    def submit_card_form(self, form_name: str, values: dict[str, str]) -> CardFormResult:
        if form_name != "archive":
            raise NotFound("no such form")
        if values.get("item") not in self.items:
            raise ValidationFailed("That item is not on your shelf.", field="item")
        title = self.items.pop(values["item"])
        return CardFormResult(message=f"“{title}” is archived.")


@pytest.fixture
def shelf() -> Shelf:
    return Shelf()


@pytest.fixture
def shelf_site(make_site, shelf: Shelf) -> Site:
    return make_site(extra={"shelf": shelf})


def card(page: str) -> str:
    found = re.search(r'<article class="card[^"]*" id="shelf".*?</article>', page, re.S)
    assert found, "no card for shelf"
    return html.unescape(found.group(0))


def text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def connected(site: Site):
    browser = site.browser("a")
    browser.post("/settings/integrations/shelf/connect", {})
    return browser


def test_before_connecting_the_card_shows_numbered_steps_and_links(shelf_site: Site):
    shelf = card(shelf_site.browser("a").page())
    assert re.search(r"<ol>\s*<li>Press Connect Shelf.</li><li>Put something on it.</li></ol>", shelf)
    assert 'href="https://shelf.example/"' in shelf and "Open Shelf" in shelf


def test_the_plugins_label_identity_needs_and_actions_are_shown_once(shelf_site: Site):
    shelf = card(connected(shelf_site).page())
    assert re.search(r'id="shelf-state">Checking your shelf<', shelf), "the plugin's word for the state"
    assert 'badge badge-info" id="shelf-state"' in shelf.replace("\n", "")
    assert "<dt>Account</dt><dd class=\"tone-neutral\">shelf_42</dd>" in shelf
    assert '<span class="badge badge-warning">Test mode</span>' in shelf, "the mode is a badge too"
    assert shelf.count("a photo of the shelf") == 1, "what is needed is said once"
    assert "<li>a photo of the shelf</li><li>your address</li>" in shelf
    assert re.search(r'<form method="post" action="http://127\.0\.0\.1:\d+/integrations/shelf/finish"', shelf)
    assert 'class="button primary">Finish setup at Shelf</button>' in shelf


def test_a_locked_form_says_why_instead_of_being_usable(shelf_site: Site):
    shelf = card(connected(shelf_site).page())
    assert "You can rename the shelf once Shelf has checked it." in shelf
    assert "/settings/integrations/shelf/forms/rename" not in shelf


def test_a_table_has_copy_buttons_links_and_row_actions_that_confirm_with_specifics(shelf_site: Site):
    shelf = card(connected(shelf_site).page())
    assert 'value="https://shelf.example/it_1"' in shelf and 'data-copy-target="shelf-items-it_1-copy"' in shelf
    assert 'href="https://shelf.example/admin/it_1"' in shelf
    assert '<td data-label="Item">Watercolour basics</td>' in shelf, "stacked rows on a phone read 'Item: ...'"
    confirm = shelf.split('aria-label="Archive Watercolour basics"', 1)[1].split("</details>", 1)[0]
    assert "Archive “Watercolour basics”? Its link stops working." in confirm
    assert 'name="item" value="it_1"' in confirm and "Yes, archive “Watercolour basics”" in confirm
    assert "Archive an item" not in shelf, "an unlisted form has no section of its own"


def test_a_row_action_runs_the_form_and_its_outcome_shows_in_the_rows_section(shelf_site: Site, shelf: Shelf):
    browser = connected(shelf_site)
    browser.page()
    done = browser.post("/settings/integrations/shelf/forms/archive", {"item": "it_1", "_section": "items"})
    assert done.status_code == 303 and done.headers["location"] == "/settings/integrations#flash"
    page = card(browser.page())
    section = page.split('id="shelf-items"', 1)[1]
    assert 'id="flash"' in section and "“Watercolour basics” is archived." in text(section)
    assert "it_1" not in shelf.items and "shelf-items-it_1" not in section


def test_a_row_actions_error_names_the_field_in_the_json_api(shelf_site: Site):
    connected(shelf_site)
    api = shelf_site.api("a")
    refused = api.post("/api/integrations/shelf/forms/archive", json={"item": "it_9"})
    assert refused.status_code == 400
    assert refused.json()["error"] == {"code": "invalid_request", "message": "That item is not on your shelf.",
                                       "field": "item"}


def test_disconnecting_asks_with_what_stops(shelf_site: Site):
    browser = connected(shelf_site)
    confirm = html.unescape(browser.get("/settings/integrations/shelf/disconnect").text)
    assert "<li>Your items stop selling.</li><li>Shelf keeps your items.</li>" in confirm


def test_when_the_plugin_cannot_say_more_its_card_says_so_and_the_page_renders(shelf_site: Site, shelf: Shelf):
    browser = connected(shelf_site)
    shelf.fail = ValidationFailed("Shelf did not answer in time")
    page = browser.page()
    assert "Shelf could not show everything right now (Shelf did not answer in time)" in card(page)
    assert 'id="demopay"' in page
    shelf.fail = RuntimeError("boom")
    page = browser.page()
    assert "Shelf could not show everything right now; try again in a moment." in card(page)
    assert "boom" not in page
    assert any("card_details" in e and "boom" in e for e in shelf_site.host.plugins.records["shelf"].runtime_errors)


def test_an_answer_of_the_wrong_type_is_recorded_against_the_plugin(shelf_site: Site, shelf: Shelf):
    browser = connected(shelf_site)
    shelf.answer = {"label": "not a CardDetails"}
    page = browser.page()
    assert re.search(r'id="shelf-state">Connected<', page)
    assert any("return core.CardDetails" in e for e in shelf_site.host.plugins.records["shelf"].runtime_errors)
