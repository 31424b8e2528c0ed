"""The event catalogue: core's types and every plugin's, declared through ``event_types`` and assembled at load."""

from __future__ import annotations

import json

import attrs
import pytest

from core import (
    CORE_EVENT_TYPES,
    Capability,
    EventType,
    IntegrationInfo,
    NewDomainEvent,
    hookimpl,
    load_event_catalogue,
)
from core.errors import ValidationFailed
from core.plugins import PluginState


@attrs.frozen(kw_only=True)
class SaleHeld:
    sale_reference: str
    amount: int
    currency: str
    reason: str | None = None


SALE_HELD = EventType(name="acme.sale_held", title="Sale held for review", version=1, schema=SaleHeld,
                      description="Acme holds a sale while it reviews it; the money is not yet the creator's.",
                      example={"sale_reference": "sale_1", "amount": 4900, "currency": "usd", "reason": "risk"})


class Acme:
    """A throwaway payment plugin with an event type of its own."""

    def __init__(self, name: str = "acme", types: object = (SALE_HELD,)) -> None:
        self.name, self.types = name, types

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name=self.name, title="Acme", description="Takes payments.",
                               capabilities={Capability.WEBHOOKS})

    @hookimpl
    def event_types(self) -> object:
        return self.types


def test_core_declares_the_platforms_vocabulary_as_a_builtin_plugin(host):
    assert {"purchase.completed", "purchase.refunded", "dispute.opened", "dispute.closed", "payout.paid",
            "payout.failed", "integration.connected", "integration.disconnected", "integration.action_required",
            "member.created", "enrollment.created", "course.completed"} <= set(host.event_types)
    assert {host.event_types.owner(name) for name in host.event_types} == {"core"}
    assert host.plugins.records["core"].builtin


def test_a_plugins_declared_type_joins_the_catalogue_and_is_emitted_validated_and_delivered(
        make_host, recorder):
    host = make_host(plugins={"acme": Acme()})
    tenant, _ = host.tenants.create("Ada's Watercolours")
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="acme.sale_held", target_url="http://127.0.0.1:9/z")

    event = host.emit(tenant.id, "acme.sale_held", {"sale_reference": "sale_7", "amount": 100, "currency": "eur"})

    assert host.event_types["acme.sale_held"] is SALE_HELD and host.event_types.owner("acme.sale_held") == "acme"
    assert (event.type, event.version) == ("acme.sale_held", 1)
    assert event.data == {"sale_reference": "sale_7", "amount": 100, "currency": "eur", "reason": None}
    [delivery] = recorder.deliveries(event_type="acme.sale_held")
    assert json.loads(delivery.payload)["data"] == event.data
    with pytest.raises(ValidationFailed, match="Invalid acme.sale_held payload: data.amount"):
        host.emit(tenant.id, "acme.sale_held", {"sale_reference": "sale_8", "amount": "lots", "currency": "eur"})
    assert len(recorder.domain_events("acme.sale_held")) == 1


def test_a_handler_can_return_its_own_type_and_the_example_is_served_in_the_delivered_shape(make_host):
    host = make_host(plugins={"acme": Acme()})
    tenant, _ = host.tenants.create("Ada's Watercolours")
    with host.store.begin() as c:
        [written] = host.events.emit_in(c, tenant.id, [NewDomainEvent(type="acme.sale_held", data=SaleHeld(
            sale_reference="sale_9", amount=5, currency="usd"))], source="acme")
    assert written.data["sale_reference"] == "sale_9"
    example = host.events.example_payload(tenant.id, "acme.sale_held")
    assert (example["type"], example["version"], example["data"]["reason"]) == ("acme.sale_held", 1, "risk")


def test_a_filter_may_name_a_field_of_a_plugins_type(make_host):
    host = make_host(plugins={"acme": Acme()})
    tenant, _ = host.tenants.create("Ada's Watercolours")
    sub, _ = host.subscriptions.subscribe(tenant.id, "zapier", event_type="acme.sale_held",
                                          target_url="http://127.0.0.1:9/z", filters={"currency": "usd"})
    assert sub.filters == {"currency": "usd"}
    with pytest.raises(ValidationFailed, match="filter on one of amount, currency, reason, sale_reference"):
        host.subscriptions.subscribe(tenant.id, "zapier", event_type="acme.sale_held",
                                     target_url="http://127.0.0.1:9/z", filters={"offer_id": "o"})


class TestConflicts:
    def test_declaring_a_type_core_owns_fails_the_plugin_naming_both_and_the_host_keeps_running(self, make_host):
        taken = attrs.evolve(SALE_HELD, name="purchase.completed")
        host = make_host(plugins={"acme": Acme(types=[taken])})

        record = host.plugins.records["acme"]
        assert record.state is PluginState.FAILED
        assert "'purchase.completed'" in record.error and "core" in record.error
        assert host.event_types.owner("purchase.completed") == "core"
        assert host.event_types["purchase.completed"].schema is not SaleHeld
        tenant, _ = host.tenants.create("Still running")
        host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"})

    def test_the_second_plugin_to_declare_a_type_fails_and_the_first_keeps_it(self, make_host):
        host = make_host(plugins={"acme": Acme(), "copycat": Acme(name="copycat")})

        assert host.plugins.records["acme"].state is PluginState.LOADED
        copycat = host.plugins.records["copycat"]
        assert copycat.state is PluginState.FAILED
        assert "'acme.sale_held'" in copycat.error and "'acme'" in copycat.error
        assert host.event_types.owner("acme.sale_held") == "acme"

    def test_a_failed_plugin_leaves_none_of_its_types_behind(self, make_host):
        fresh = attrs.evolve(SALE_HELD, name="copycat.fresh")
        host = make_host(plugins={"acme": Acme(), "copycat": Acme(name="copycat", types=[fresh, SALE_HELD])})
        assert host.plugins.records["copycat"].state is PluginState.FAILED
        assert "copycat.fresh" not in host.event_types

    def test_unregistering_a_plugin_removes_its_types(self, host):
        host.plugins.register("acme", Acme())
        assert "acme.sale_held" in host.event_types
        host.plugins.unregister("acme")
        assert "acme.sale_held" not in host.event_types
        with pytest.raises(ValidationFailed, match="Unknown domain event type 'acme.sale_held'"):
            host.event_types.require("acme.sale_held")


@pytest.mark.parametrize(("declared", "message"), [
    ("acme.sale_held", "event_types() must return a list of core.EventType"),
    ([{"name": "acme.sale_held"}], "event_types() returned dict, expected core.EventType"),
    ([attrs.evolve(SALE_HELD, name="SaleHeld")], "'SaleHeld' is not a valid event type name"),
    ([attrs.evolve(SALE_HELD, name="held")], "'held' is not a valid event type name"),
    ([attrs.evolve(SALE_HELD, version=0)], "acme.sale_held: version must be a whole number >= 1"),
    ([attrs.evolve(SALE_HELD, title=" ")], "acme.sale_held: give it a title"),
    ([attrs.evolve(SALE_HELD, schema=dict)], "acme.sale_held: schema must be an attrs class"),
    ([attrs.evolve(SALE_HELD, example={"sale_reference": "s"})], "acme.sale_held: its example does not fit"),
    ([SALE_HELD, SALE_HELD], "declares 'acme.sale_held' twice"),
])
def test_an_invalid_declaration_fails_the_plugin_with_what_to_fix(make_host, declared, message):
    host = make_host(plugins={"acme": Acme(types=declared)})
    record = host.plugins.records["acme"]
    assert record.state is PluginState.FAILED
    assert message in record.error
    assert "acme.sale_held" not in host.event_types or host.event_types.owner("acme.sale_held") != "acme"


def test_a_plugin_without_event_types_declares_none(make_host):
    class Quiet:
        @hookimpl
        def integration_info(self):
            return IntegrationInfo(name="quiet", title="Quiet", description="Declares nothing.")

    host = make_host(plugins={"quiet": Quiet()})
    assert host.plugins.records["quiet"].state is PluginState.LOADED
    assert {host.event_types.owner(name) for name in host.event_types} == {"core"}


def test_an_unknown_type_is_refused_listing_the_deployments_types(make_host):
    host = make_host(plugins={"acme": Acme()})
    tenant, _ = host.tenants.create("Ada's Watercolours")
    with pytest.raises(ValidationFailed, match=r"Unknown domain event type 'acme.sale_hold'; known types: .*"
                                               r"acme.sale_held, course.completed"):
        host.emit(tenant.id, "acme.sale_hold", {})


def test_a_deployments_catalogue_loads_from_its_registry_without_a_database(tmp_path, fixture_plugins, monkeypatch):
    registry = tmp_path / "registry.toml"
    registry.write_text('[plugins.hello]\nmodule = "hello_module"\n[plugins.hello.config]\ngreeting = "hi"\n'
                        '[plugins.broken]\nmodule = "broken_import"\n')
    monkeypatch.delenv("INTELLECTRA_PLUGINS", raising=False)

    catalogue, failed = load_event_catalogue(registry)

    assert list(catalogue) == list(CORE_EVENT_TYPES)
    assert list(failed) == ["broken"] and "failed to import" in failed["broken"]
