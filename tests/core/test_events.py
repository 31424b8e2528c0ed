"""Core's vocabulary: payload schemas that any payment provider can fill, versioned and stable."""

from __future__ import annotations

import attrs
import pytest

from core.converter import converter
from core.events import CORE_EVENT_TYPES

MONEY_TYPES = ("purchase.completed", "purchase.refunded", "dispute.opened", "dispute.closed", "payout.paid",
               "payout.failed")
PROVIDER_WORDS = ("stripe", "paypal", "checkout_session", "payment_intent", "charge")
"""Names that belong to one provider's API, not to the platform's vocabulary."""


def fields_of(name: str) -> set[str]:
    spec = CORE_EVENT_TYPES[name]
    return {f.name for f in attrs.fields(spec.schema)}


@pytest.mark.parametrize("spec", CORE_EVENT_TYPES.values(), ids=lambda t: t.name)
def test_no_core_schema_carries_a_providers_field_names(spec):
    names = {f.name for f in attrs.fields(spec.schema)}
    assert not {n for n in names if any(word in n for word in PROVIDER_WORDS)}
    assert "account_id" not in names, "whose account? the provider's account is provider_account"


@pytest.mark.parametrize("name", MONEY_TYPES)
def test_every_money_event_names_its_provider_generically(name):
    assert {"provider", "provider_account", "provider_refs", "livemode"} <= fields_of(name)


@pytest.mark.parametrize("name", ("purchase.completed", "purchase.refunded", "dispute.opened", "dispute.closed"))
def test_purchases_refunds_and_disputes_share_a_payment_reference_to_match_them(name):
    assert "payment_reference" in fields_of(name)


@pytest.mark.parametrize("name", MONEY_TYPES)
def test_the_money_schemas_are_version_2_since_they_lost_stripes_fields(name):
    assert CORE_EVENT_TYPES[name].version == 2


@pytest.mark.parametrize("spec", CORE_EVENT_TYPES.values(), ids=lambda t: t.name)
def test_every_core_example_fits_its_schema_and_lists_every_field(spec):
    payload = converter.structure(dict(spec.example), spec.schema)
    assert converter.unstructure(payload) == dict(spec.example)
    assert spec.title and spec.description
