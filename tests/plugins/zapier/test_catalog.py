"""The Zapier app's catalogue and the docs are generated from the Python side and kept current."""

from __future__ import annotations

from core import EVENT_TYPES
from plugins.zapier import catalog
from plugins.zapier.actions import ACTIONS


def test_the_apps_catalog_is_up_to_date():
    assert catalog.CATALOG_PATH.read_text() == catalog.render_catalog(), \
        "run `python -m plugins.zapier.catalog --write`"


def test_the_docs_trigger_reference_is_up_to_date():
    text = catalog.DOCS_PATH.read_text()
    assert catalog.docs_with_section(text) == text, "run `python -m plugins.zapier.catalog --write`"


def test_there_is_one_trigger_per_domain_event_and_one_entry_per_action():
    built = catalog.build()
    assert [t["event"] for t in built["triggers"]] == list(EVENT_TYPES)
    assert [a["key"] for a in built["actions"]] == list(ACTIONS)


def test_each_triggers_sample_is_the_hosts_example_payload(host):
    for trigger in catalog.build()["triggers"]:
        assert trigger["sample"] == host.events.example_payload(catalog.EXAMPLE_TENANT, trigger["event"])


def test_output_fields_cover_every_payload_field():
    for trigger in catalog.build()["triggers"]:
        keys = {f["key"] for f in trigger["output_fields"]}
        assert {f"data__{name}" for name in trigger["sample"]["data"]} <= keys
