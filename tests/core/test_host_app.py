"""The stable host-app API: registering the host app's hooks, its tables in the host's database, its
workers. (docs/host-app.md is the guide; tests/examples/test_host_app_guide.py checks its list.)"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import ConfigError, Host, Tenant, ValidationFailed, hookimpl
from core.host import HOST_APP_API, HOST_APP_API_VERSION
from core.models import HOST_API_VERSION, ObservationStatus
from core.plugins import HOST_APP

own = MetaData()
orders = Table("test_host_app_orders", own, Column("id", String(40), primary_key=True))


@pytest.fixture
def host_app_tables(host: Host) -> Iterator[Table]:
    """A table of the host app's own in the host's database (dropped after the test: on PostgreSQL the
    test kit empties only the host's tables)."""
    own.create_all(host.engine)
    yield orders
    own.drop_all(host.engine)


class Shop:
    """A host app: it knows one course and enrolls by email."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, str, dict[str, Any]]] = []

    @hookimpl
    def perform_action(self, tenant: Tenant, action: str, input: Mapping[str, Any]) -> Mapping[str, Any] | None:
        self.actions.append((tenant.id, action, dict(input)))
        if action != "enroll_member":
            return None
        if input["course_id"] != "crs_1":
            raise ValidationFailed("There is no such course.", code="course_unknown")
        return {"enrolled": input["email"]}


def test_every_member_of_the_stable_host_app_api_exists_on_a_host(host):
    assert HOST_API_VERSION.split(".")[0] == HOST_APP_API_VERSION
    for name in HOST_APP_API:
        assert operator.attrgetter(name)(host) is not None, name
        assert operator.attrgetter(name)(type(host) if "." not in name else host).__doc__, f"{name} is undocumented"


def test_the_host_apps_perform_action_answers_what_it_can_and_passes_its_refusals_through(host, tenant):
    shop = Shop()
    host.register_host_app(shop)

    assert host.perform_action(tenant, "enroll_member", {"email": "a@example.com", "course_id": "crs_1"}) == {
        "enrolled": "a@example.com"}
    assert host.perform_action(tenant, "add_tag", {"email": "a@example.com", "tag": "vip"}) is None
    with pytest.raises(ValidationFailed, match="no such course"):
        host.perform_action(tenant, "enroll_member", {"email": "a@example.com", "course_id": "crs_9"})


class ImpostorHooks:
    @hookimpl
    def connect(self, tenant: Tenant) -> None:
        raise AssertionError("never called")


class Watcher:
    """A host app that reacts to purchases: records what it saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.fail_with: Exception | None = None

    @hookimpl
    def observe_domain_event(self, tenant: Tenant, event: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.seen.append((tenant.id, event.type, event.data["buyer_email"]))


PURCHASE = {"offer_id": "price_1", "offer_title": "Watercolour basics", "buyer_email": "buyer@example.com",
            "amount": 4900, "currency": "usd", "provider": "stripe"}


def observations(host: Host, **where: Any) -> list[Any]:
    return host.pipeline.list_observations(limit=100, **where)


def test_the_host_app_observes_every_tenants_events_of_its_types_after_the_commit(host, tenant):
    watcher = Watcher()
    host.register_host_app(watcher, observes={"purchase.completed"})
    other, _ = host.tenants.create("Grace's Academy")  # neither tenant has any connection

    host.emit(tenant.id, "purchase.completed", PURCHASE)
    host.emit(other.id, "purchase.completed", {**PURCHASE, "buyer_email": "b2@example.com"})
    host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"})  # not observed

    assert watcher.seen == [], "nothing of the host app's runs while an event is written"
    assert [o.integration for o in observations(host)] == [HOST_APP, HOST_APP]
    report = host.pipeline.observer.drain()

    assert (report.claimed, report.observed) == (2, 2)
    assert sorted(watcher.seen) == sorted([(tenant.id, "purchase.completed", "buyer@example.com"),
                                           (other.id, "purchase.completed", "b2@example.com")])
    assert {o.status for o in observations(host)} == {ObservationStatus.OBSERVED}


def test_an_event_the_host_app_rolled_back_is_never_observed(host, tenant):
    watcher = Watcher()
    host.register_host_app(watcher, observes={"purchase.completed"})

    with pytest.raises(RuntimeError), host.engine.begin() as conn:
        host.emit(tenant.id, "purchase.completed", PURCHASE, conn=conn)
        raise RuntimeError("rolled back")

    assert observations(host) == [] and host.pipeline.observer.drain().claimed == 0


def test_a_failing_host_app_observer_is_retried_then_failed_then_replayed(host, tenant, clock):
    watcher = Watcher()
    host.register_host_app(watcher, observes={"purchase.completed"})
    host.pipeline.configure(max_attempts=2, retry_base_seconds=10)
    watcher.fail_with = RuntimeError("the enrollment service is down")
    host.emit(tenant.id, "purchase.completed", PURCHASE)

    assert host.pipeline.observer.drain().retried == 1
    clock.advance(30)
    assert host.pipeline.observer.drain().failed == 1
    (failed,) = observations(host, status="failed")
    assert failed.attempts == 2 and "the enrollment service is down" in (failed.last_error or "")
    assert any("the enrollment service is down" in e for e in host.plugins.records[HOST_APP].runtime_errors)

    watcher.fail_with = None
    host.pipeline.replay_observation(failed.id)

    assert host.pipeline.observer.drain().observed == 1
    assert watcher.seen == [(tenant.id, "purchase.completed", "buyer@example.com")]


def test_a_plugin_that_implements_the_host_apps_observer_is_not_called_for_it(make_host):
    class Meddler:
        def __init__(self) -> None:
            self.called = False

        @hookimpl
        def integration_info(self) -> Any:
            from core import IntegrationInfo

            return IntegrationInfo(name="meddler", title="Meddler", description="Observes what is not its own.")

        @hookimpl
        def observe_domain_event(self, tenant: Tenant, event: Any) -> None:
            self.called = True

    meddler = Meddler()
    host = make_host(plugins={"meddler": meddler})
    tenant, _ = host.tenants.create("Ada's Studio")
    watcher = Watcher()
    host.register_host_app(watcher, observes={"purchase.completed"})

    host.emit(tenant.id, "purchase.completed", PURCHASE)
    host.pipeline.observer.drain()

    assert len(watcher.seen) == 1 and meddler.called is False


@pytest.mark.parametrize(("hooks", "observes", "complaint"), [
    (ImpostorHooks(), (), "The host app implements connect, which a host app cannot; its hooks are "
                          "observe_domain_event, perform_action, resolve_tenant"),
    (Watcher(), ("purchase.done",), "names unknown event type(s) purchase.done; the catalogue has "
                                    "purchase.completed"),
    (Shop(), ("purchase.completed",), "needs an observe_domain_event hook"),
])
def test_host_app_hooks_that_cannot_work_are_refused_saying_why(host, hooks, observes, complaint):
    with pytest.raises(ConfigError) as refused:
        host.register_host_app(hooks, observes=observes)

    assert complaint in refused.value.message
    assert refused.value.code == "host_app_invalid"
    assert HOST_APP not in host.plugins.records


def test_a_hook_with_an_argument_the_spec_lacks_is_refused_naming_it(host):
    class Mistaken:
        @hookimpl
        def resolve_tenant(self, request: Request, session: object) -> Tenant | None:
            return None

    with pytest.raises(ConfigError, match="do not match their specs.*session"):
        host.register_host_app(Mistaken())
    host.register_host_app(Shop())  # nothing of the refused one is left behind


def test_a_host_has_one_host_app(host):
    host.register_host_app(Shop())

    with pytest.raises(ConfigError, match="already registered"):
        host.register_host_app(Watcher())


def test_the_host_apps_rows_and_its_domain_event_commit_together_on_host_engine(host, tenant, recorder,
                                                                                 host_app_tables):
    with host.engine.begin() as conn:
        conn.execute(host_app_tables.insert().values(id="ord_1"))
        host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"}, conn=conn)

    with pytest.raises(RuntimeError), host.engine.begin() as conn:
        conn.execute(host_app_tables.insert().values(id="ord_2"))
        host.emit(tenant.id, "member.created", {"member_id": "m2", "email": "n@example.com"}, conn=conn)
        raise RuntimeError("the host app's own work failed after emitting")

    with host.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(host_app_tables)).scalar() == 1
    assert [e.data["member_id"] for e in recorder.domain_events("member.created")] == ["m1"]


async def test_run_workers_delivers_what_the_host_app_emitted_until_stopped(make_host, live_server):
    received: list[bytes] = []

    async def target(request: Request) -> Response:
        received.append(await request.body())
        return Response(status_code=204)

    url = live_server(Starlette(routes=[Route("/hook", target, methods=["POST"])]))
    host = make_host(real_clock=True)
    tenant, _ = host.tenants.create("Ada's Studio")
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="member.created", target_url=f"{url}/hook")
    stop = asyncio.Event()
    workers = asyncio.create_task(host.run_workers(stop))

    await asyncio.to_thread(host.emit, tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"})
    for _ in range(200):
        if received:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(workers, timeout=15)

    assert len(received) == 1 and b'"member_id":"m1"' in received[0]
