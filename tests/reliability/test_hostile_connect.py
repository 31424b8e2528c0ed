"""Hostile returns from Stripe's OAuth: forged, reused, expired and other-tenant ``state``, a reused
authorization ``code``. Each gets a clear 4xx and connects nothing; the only thing a refusal may
change is the connect state it used up (a state is single-use, even when the code behind it fails).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from harness import snapshot
from harness.arena import Arena, Tenant
from harness.world import STRIPE

from core.connect_flow import STATE_TTL

CONSUMED_STATE_ONLY = {"connect_states"}


def new_tenant(arena: Arena, name: str) -> Tenant:
    tenant, token = arena.host.tenants.create(name)
    return Tenant(id=tenant.id, token=token, account="")


def refused_without_changes(arena: Arena, tenant: Tenant, params: dict[str, str], *, code: str,
                            may_change: set[str] | None = None) -> None:
    before = snapshot.take(arena.host.store.engine)

    answer = arena.callback(tenant, params)

    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["code"] == code, answer.text
    assert answer.json()["message"].strip()
    changed = snapshot.changes(before, snapshot.take(arena.host.store.engine))
    assert set(changed) <= (may_change or set()), changed


def state_of(url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["state"][0]


def test_a_forged_state_is_refused(arena: Arena) -> None:
    tenant = new_tenant(arena, "Forger")
    refused_without_changes(arena, tenant, {"state": "cst_" + "A" * 32, "code": "ac_forged"},
                            code="connect_state_unknown")


def test_a_missing_state_is_refused(arena: Arena) -> None:
    tenant = new_tenant(arena, "No State")
    refused_without_changes(arena, tenant, {"code": "ac_whatever"}, code="connect_state_missing")


def test_another_tenants_state_is_refused_and_stays_usable_by_its_owner(arena: Arena) -> None:
    owner, intruder = new_tenant(arena, "Owner"), new_tenant(arena, "Intruder")
    email = "owner@example.com"
    account = arena.new_sandbox_account(email)
    returned = arena.authorize(arena.start_connect(owner), email)

    refused_without_changes(arena, intruder, returned, code="connect_state_other_tenant")

    assert arena.callback(owner, returned).status_code == 200
    connection = arena.host.connections.find(owner.id, STRIPE)
    assert connection is not None and connection.external_id == account


def test_a_used_state_and_a_used_code_are_refused(arena: Arena) -> None:
    first, second = new_tenant(arena, "First"), new_tenant(arena, "Second")
    email = "first@example.com"
    arena.new_sandbox_account(email)
    returned = arena.authorize(arena.start_connect(first), email)
    assert arena.callback(first, returned).status_code == 200

    # The same return again (a reload, or an attacker replaying the URL):
    refused_without_changes(arena, first, returned, code="connect_state_used")
    # The same code with a fresh, valid state of another tenant: Stripe refuses the code; the state is used up.
    fresh_state = state_of(arena.start_connect(second))
    refused_without_changes(arena, second, {"code": returned["code"], "state": fresh_state}, code="invalid_grant",
                            may_change=CONSUMED_STATE_ONLY)
    assert arena.host.connections.find(second.id, STRIPE) is None


def test_an_expired_state_is_refused(arena: Arena) -> None:
    late = new_tenant(arena, "Late")
    state = state_of(arena.start_connect(late))
    arena.clock.advance(STATE_TTL.total_seconds() + 1)

    refused_without_changes(arena, late, {"state": state, "code": "ac_late"}, code="connect_state_expired")


def test_a_state_for_one_integration_is_refused_by_another(arena: Arena) -> None:
    tenant = new_tenant(arena, "Mixer")
    state = state_of(arena.start_connect(tenant))
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.get(f"{arena.url}/integrations/zapier/callback", params={"state": state, "code": "x"},
                            headers={**tenant.bearer, "Accept": "application/json"})

    assert 400 <= answer.status_code < 500
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


CALLERS: dict[str, Callable[[Arena], dict[str, str]]] = {
    "no identity": lambda arena: {"Accept": "application/json"},
    "a made-up bearer token": lambda arena: {"Accept": "application/json", "Authorization": "Bearer tok_madeup"},
}


@pytest.mark.parametrize("caller", list(CALLERS))
def test_a_callback_without_a_signed_in_tenant_connects_nothing(arena: Arena, caller: str) -> None:
    tenant = new_tenant(arena, f"Victim {caller}")
    state = state_of(arena.start_connect(tenant))
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.get(f"{arena.url}/integrations/{STRIPE}/callback", params={"state": state, "code": "x"},
                            headers=CALLERS[caller](arena))

    assert 400 <= answer.status_code < 500
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}
