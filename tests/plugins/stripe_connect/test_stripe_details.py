"""Details a security review found in the Stripe plugin, each pinned by a test.

* Stripe's OAuth error classes are imported where they are used, not reached through ``stripe.oauth_error``
  (an attribute only another module's import creates): a deauthorize call that fails on the network is
  reported as Stripe being unreachable even where nothing else set that attribute.
* ``application_fee_percent`` has at most two decimal places, Stripe's limit for subscriptions.
* An offer's URLs go into the Product's metadata, whose values Stripe caps at 500 characters: a longer
  one is refused by the host, naming the field, before anything is sent to Stripe.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from stripe_kit import NAME, StripeWorld, plugin_config

import plugins.stripe_connect
from core.host import Host
from core.plugins import PluginState


@pytest.fixture
def fresh_stripe_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """``stripe.oauth_error`` is a submodule that ``import stripe`` does not load; today the library's own
    request code happens to import it. Take the attribute away so only the plugin's own imports count
    (the module stays loaded, so the library keeps raising the very same classes)."""
    importlib.import_module("stripe._api_requestor")  # loads stripe.oauth_error before we hide it
    monkeypatch.delattr(stripe, "oauth_error", raising=False)


def test_a_disconnect_during_an_outage_says_stripe_was_unreachable(stripe_world: StripeWorld,
                                                                  fresh_stripe_import: None) -> None:
    site, _ = stripe_world.connected_site()
    stripe_world.sandbox.stop()

    answer = site.disconnect()

    connection = answer.json()["connection"]
    assert connection["state"] == "disconnected"
    assert "Stripe could not be reached" in connection["reason"], connection["reason"]
    assert "AttributeError" not in connection["reason"]


@pytest.mark.parametrize("percent", [10.125, 0.001, 33.333])
def test_a_fee_percent_with_more_than_two_decimals_fails_the_plugin_naming_the_key(
        make_host: Callable[..., Host], percent: float) -> None:
    host = make_host(plugins={NAME: plugins.stripe_connect},
                     config={NAME: plugin_config("http://127.0.0.1:9", application_fee_percent=percent)})

    record = host.plugins.records[NAME]
    assert record.state is PluginState.FAILED
    assert f"plugins.{NAME}.config.application_fee_percent" in (record.error or "")
    assert "at most two decimal places" in (record.error or "")


@pytest.mark.parametrize("percent", [0, 2.5, 10.25, "7.75", 100])
def test_a_fee_percent_with_up_to_two_decimals_is_accepted(make_host: Callable[..., Host], percent: Any) -> None:
    host = make_host(plugins={NAME: plugins.stripe_connect},
                     config={NAME: plugin_config("http://127.0.0.1:9", application_fee_percent=percent)})

    assert host.plugins.records[NAME].state is PluginState.LOADED, host.plugins.records[NAME].error


@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_an_offer_url_longer_than_stripes_metadata_limit_is_refused_before_stripe_hears_of_it(
        stripe_world: StripeWorld, field: str) -> None:
    site, _ = stripe_world.connected_site()
    long_url = "https://ada.example/thanks?" + "x" * 480  # 507 characters
    sent_before = [r for r in stripe_world.requests() if r["path"] == "/v1/products"]

    answer = site.create_offer(**{field: long_url})

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "offer_invalid"
    assert field in error["message"] and "500" in error["message"]
    assert [r for r in stripe_world.requests() if r["path"] == "/v1/products"] == sent_before


def test_an_offer_url_of_exactly_500_characters_is_accepted(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()
    url = "https://ada.example/thanks?" + "x" * (500 - len("https://ada.example/thanks?"))

    answer = site.create_offer(success_url=url)

    assert answer.status_code == 201, answer.text


def test_a_bundle_whose_contents_do_not_fit_stripes_metadata_is_refused_not_cut(stripe_world: StripeWorld) -> None:
    site, _ = stripe_world.connected_site()

    answer = site.create_offer(kind="bundle", includes=[f"course_{i:04d}" for i in range(60)])

    assert answer.status_code == 400
    assert "includes" in answer.json()["error"]["message"]
