"""One cattrs converter: every model round-trips through JSON unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import models
from core.converter import converter
from core.secrets_type import Secret

aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.just(UTC))
text = st.text(max_size=20)
json_scalar = st.none() | st.booleans() | st.integers(-10**6, 10**6) | text

ROUND_TRIP_MODELS = [models.Tenant, models.Connection, models.ConnectionStatus, models.Field, models.ConnectOption,
                     models.DomainEvent, models.Subscription, models.Delivery, models.ApiKey, models.AuditEntry,
                     models.StoredEvent]


def strategy_for(cls):
    overrides = {"data": st.dictionaries(text, json_scalar, max_size=3),
                 "payload": st.dictionaries(text, json_scalar, max_size=3),
                 "details": st.dictionaries(text, json_scalar, max_size=3),
                 "detail": st.dictionaries(text, json_scalar, max_size=3),
                 "filters": st.dictionaries(text, json_scalar, max_size=3)}
    fields = {}
    for field in attrs.fields(attrs.resolve_types(cls)):
        if field.name in overrides:
            fields[field.name] = overrides[field.name]
        else:
            fields[field.name] = st.from_type(field.type).filter(lambda v: not isinstance(v, float))
    return st.builds(cls, **fields)


st.register_type_strategy(datetime, aware)


@pytest.mark.parametrize("cls", ROUND_TRIP_MODELS, ids=lambda c: c.__name__)
def test_every_model_round_trips_through_json(cls):
    @given(strategy_for(cls))
    def check(value):
        data = json.loads(json.dumps(converter.unstructure(value)))
        assert converter.structure(data, cls) == value

    check()


def test_unknown_keys_are_refused():
    from cattrs.errors import ClassValidationError

    with pytest.raises(ClassValidationError):
        converter.structure({"id": "t", "name": "n", "extra": 1}, models.Tenant)


def test_a_secret_unstructures_as_stars():
    assert converter.unstructure(Secret("sk_live_x")) == "***"
    assert repr(Secret("sk_live_x")) == "Secret('***')" and str(Secret("sk_live_x")) == "***"
