"""The Zapier app's catalogue and the docs are generated from the deployment's event catalogue and kept current."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from core import EventCatalogue, EventType, load_event_catalogue
from core.events import CORE_EVENT_TYPES
from plugins.zapier import catalog
from plugins.zapier.actions import ACTIONS

REPO_REGISTRY = Path(__file__).resolve().parents[3] / "registry.toml"


@pytest.fixture
def first_party(monkeypatch):
    """The catalogue of this repository's deployment (registry.toml), its plugins' config satisfied."""
    for name, value in {"STRIPE_SECRET_KEY": "sk_test_catalog", "STRIPE_CLIENT_ID": "ca_catalog",
                        "STRIPE_WEBHOOK_SECRET": "whsec_catalog"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("INTELLECTRA_PLUGINS", raising=False)
    catalogue, failed = load_event_catalogue(REPO_REGISTRY)
    assert failed == {}
    return catalogue


def test_the_apps_catalog_is_the_repositorys_deployment_catalogue(first_party):
    assert catalog.CATALOG_PATH.read_text() == catalog.render_catalog(first_party), \
        "run `python -m plugins.zapier.catalog --write`"


def test_the_docs_trigger_reference_is_up_to_date(first_party):
    text = catalog.DOCS_PATH.read_text()
    assert catalog.docs_with_section(text, first_party) == text, "run `python -m plugins.zapier.catalog --write`"


def test_there_is_one_trigger_per_catalogue_type_and_one_entry_per_action(first_party):
    built = catalog.build(first_party)
    assert [t["event"] for t in built["triggers"]] == list(first_party)
    assert list(CORE_EVENT_TYPES) == list(first_party)[:len(CORE_EVENT_TYPES)]
    assert [a["key"] for a in built["actions"]] == list(ACTIONS)


def test_each_triggers_sample_is_the_hosts_example_payload(host):
    for trigger in catalog.build(host.event_types)["triggers"]:
        assert trigger["sample"] == host.events.example_payload(catalog.EXAMPLE_TENANT, trigger["event"])


def test_output_fields_cover_every_payload_field_and_each_key_of_a_nested_mapping(host):
    for trigger in catalog.build(host.event_types)["triggers"]:
        keys = {f["key"] for f in trigger["output_fields"]}
        for name, value in trigger["sample"]["data"].items():
            expected = {f"data__{name}__{key}" for key in value} if isinstance(value, dict) else {f"data__{name}"}
            assert expected <= keys, trigger["event"]
    [purchase] = [t for t in catalog.build(host.event_types)["triggers"] if t["event"] == "purchase.completed"]
    refs = [f for f in purchase["output_fields"] if f["key"].startswith("data__provider_refs__")]
    assert [(f["key"], f["label"]) for f in refs] == [
        ("data__provider_refs__checkout_session", "Provider refs: Checkout session"),
        ("data__provider_refs__payment_intent", "Provider refs: Payment intent")]


def test_a_plugins_type_becomes_a_trigger_with_its_own_version_and_fields():
    @attrs.frozen(kw_only=True)
    class Shipped:
        parcel_id: str
        weight_grams: int

    catalogue = EventCatalogue()
    catalogue.declare("courier", [EventType(name="courier.parcel_shipped", title="Parcel shipped", version=3,
                                            schema=Shipped, example={"parcel_id": "p_1", "weight_grams": 250})])
    [trigger] = catalog.build(catalogue)["triggers"]
    assert (trigger["key"], trigger["event"], trigger["version"], trigger["noun"]) == (
        "courier_parcel_shipped", "courier.parcel_shipped", 3, "Parcel")
    assert trigger["sample"]["data"] == {"parcel_id": "p_1", "weight_grams": 250}
    assert {"key": "data__weight_grams", "label": "Weight grams", "type": "integer"} in trigger["output_fields"]
    assert trigger["filters"] == []


def test_the_generator_writes_the_deployments_catalogue(tmp_path, monkeypatch, capsys):
    registry = tmp_path / "registry.toml"
    registry.write_text('autoload = false\n[plugins.zapier]\nmodule = "plugins.zapier"\n'
                        '[plugins.broken]\nmodule = "no_such_module_here"\n')
    out = tmp_path / "catalog.json"
    monkeypatch.delenv("INTELLECTRA_PLUGINS", raising=False)

    assert catalog.main(["--registry", str(registry), "--catalog", str(out)]) == 0

    assert [t["event"] for t in json.loads(out.read_text())["triggers"]] == list(CORE_EVENT_TYPES)
    assert "broken" in capsys.readouterr().err, "a plugin that did not load is named: its types are missing"
