"""Hostile delivery targets (SSRF) and hostile names in paths (traversal).

* A Zapier hook may only point at a public ``https`` address: loopback, private, link-local, metadata
  and otherwise reserved addresses are refused — also behind a host name that resolves to one, in
  every numeric spelling, and behind URL-parser confusions. (The arena's resolver stands in for DNS;
  nothing is ever sent to these addresses.)
* Names in paths are names, never paths: ``..``, encoded slashes, NUL and over-long names reach nothing
  else, whatever the route, even with valid credentials attached.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from harness import rawhttp, snapshot
from harness.arena import Arena

from core.host import Host

REFUSED_TARGETS = {
    "plain http": "http://hooks.example.test/catch",
    "loopback address": "https://127.0.0.1/catch",
    "localhost": "https://localhost/catch",
    "IPv6 loopback": "https://[::1]/catch",
    "unspecified address": "https://0.0.0.0/catch",
    "private 10/8": "https://10.0.0.1/catch",
    "private 172.16/12": "https://172.16.5.4/catch",
    "private 192.168/16": "https://192.168.1.1/catch",
    "link-local metadata address": "https://169.254.169.254/latest/meta-data/",
    "metadata host name": "https://metadata.google.internal/computeMetadata/v1/",
    "name resolving to a private address": "https://intranet.example.test/catch",
    "name resolving to public and private": "https://rebind.example.test/catch",
    "name resolving to the metadata address": "https://metadata.example.test/catch",
    "name resolving to IPv6 unique-local": "https://v6private.example.test/catch",
    "name resolving to loopback": "https://loopback.example.test/catch",
    "IPv4-mapped IPv6 private": "https://[::ffff:10.0.0.1]/catch",
    "decimal loopback": "https://2130706433/catch",
    "hex loopback": "https://0x7f000001/catch",
    "short loopback": "https://127.1/catch",
    "credentials in the URL": "https://user:pass@hooks.example.test/catch",
    "public name as user, private host": "https://hooks.example.test@10.0.0.1/catch",
    "backslash confusion": "https://hooks.example.test\\@10.0.0.1/catch",
    "fragment confusion": "https://10.0.0.1#@hooks.example.test/catch",
    "file scheme": "file:///etc/passwd",
    "gopher scheme": "gopher://hooks.example.test:70/_x",
    "scheme-relative": "//hooks.example.test/catch",
    "unresolvable name": "https://nowhere.invalid/catch",
    "over-long URL": "https://hooks.example.test/" + "a" * 3000,
    "empty": "",
}


@pytest.mark.parametrize("name", list(REFUSED_TARGETS))
def test_a_hook_to_an_unsafe_target_is_refused_and_stores_nothing(arena: Arena, name: str) -> None:
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.post(f"{arena.url}/api/zapier/hooks", headers={"X-API-Key": arena.a.api_key},
                             json={"target_url": REFUSED_TARGETS[name], "event": "purchase.completed"})

    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["code"].startswith(("target_url", "invalid")), answer.text
    assert answer.json()["error"]["message"].strip()
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


def test_a_target_url_of_the_wrong_type_is_refused(arena: Arena) -> None:
    before = snapshot.take(arena.host.store.engine)
    for value in (123, None, ["https://hooks.example.test/"], {"url": "x"}):
        answer = arena.http.post(f"{arena.url}/api/zapier/hooks", headers={"X-API-Key": arena.a.api_key},
                                 json={"target_url": value, "event": "purchase.completed"})
        assert answer.status_code in (400, 422), answer.text
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


class ConnectionCounter:
    """A TCP listener on loopback that only counts who connects (it never answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def counter() -> Iterator[ConnectionCounter]:
    made = ConnectionCounter()
    yield made
    made.close()


def test_a_name_that_resolves_to_loopback_only_at_delivery_time_is_not_contacted(
        make_host: Callable[..., Host], counter: ConnectionCounter) -> None:
    host = make_host(settings={"allow_loopback_targets": False})
    tenant, _ = host.tenants.create("Rebinding")
    host.subscriptions.resolver = lambda name, port: ["93.184.216.34"]  # what the attacker's DNS says first
    host.subscriptions.subscribe(tenant.id, "zapier", event_type="member.created",
                                 target_url=f"https://localhost:{counter.port}/hook")
    host.emit(tenant.id, "member.created", {"member_id": "m1", "email": "m@example.com"})
    host.pipeline.configure(delivery_timeout_seconds=1.0)

    asyncio.run(host.pipeline.deliverer.drain())  # by now "localhost" resolves to 127.0.0.1

    assert counter.connections == 0, "the deliverer connected to a loopback address"


# -- path traversal ---------------------------------------------------------------------------------------------
def traversals(arena: Arena) -> dict[str, tuple[str, str]]:
    return {
        "webhook ..%2F..%2Fetc": ("POST", "/webhooks/..%2F..%2Fetc"),
        "webhook ..%2F into a plugin": ("POST", "/webhooks/..%2Fstripe_connect"),
        "webhook %2e%2e%2f": ("POST", "/webhooks/%2e%2e%2fstripe_connect"),
        "webhook raw .. to the API": ("POST", "/webhooks/../api/api-keys"),
        "webhook name with encoded slashes": ("POST", "/webhooks/stripe_connect%2F..%2F..%2Fapi%2Fapi-keys"),
        "webhook name with NUL": ("POST", "/webhooks/stripe_connect%00"),
        "webhook name with a bidi control": ("POST", "/webhooks/stripe%E2%80%AEconnect"),
        "webhook over-long name": ("POST", "/webhooks/" + "a" * 4000),
        "connect raw ../../x": ("POST", "/api/integrations/../../x/connect"),
        "connect ..%2F..%2Fx": ("POST", "/api/integrations/..%2F..%2Fx/connect"),
        "connect ..%2Fzapier": ("POST", "/api/integrations/..%2Fzapier/connect"),
        "status %2e%2e": ("GET", "/api/integrations/%2e%2e/status"),
        "disconnect across plugins": ("POST", "/api/integrations/stripe_connect%2F..%2Fzapier/disconnect"),
        "callback ..%2Fzapier": ("GET", "/integrations/..%2Fzapier/callback?state=x&code=y"),
        "revoke key ..%2F..": ("DELETE", "/api/api-keys/..%2F..%2Fapi-keys"),
        "retry delivery ..%2F": ("POST", f"/api/deliveries/..%2F{arena.b.delivery_id}/retry"),
        "trigger sample ..%2F..%2Fetc%2Fpasswd": ("GET", "/api/zapier/triggers/..%2F..%2Fetc%2Fpasswd/sample"),
        "action ..%2F..%2Fadmin": ("POST", "/api/zapier/actions/..%2F..%2Fadmin"),
        "static raw ../../../../etc/passwd": ("GET", "/static/intellectra/../../../../../../etc/passwd"),
        "static ..%2F..%2Fetc%2Fpasswd": ("GET", "/static/intellectra/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
        "static into the source tree": ("GET", "/static/intellectra/%2e%2e/%2e%2e/%2e%2e/core/host.py"),
        "settings page name ..%2F": ("GET", "/settings/integrations/..%2Fzapier/disconnect"),
    }


SECRET_FILE_MARKS = ("root:x:0:0", "class Host", "import ")


def test_names_in_paths_are_never_paths(arena: Arena) -> None:
    """One pass over every traversal, each with A's bearer token, A's API key and a plausible body attached,
    so a path that got normalised onto a real route would act — and show in the snapshot."""
    credentials = {**arena.a.bearer, "X-API-Key": arena.a.api_key, "Content-Type": "application/json"}
    body = b'{"integration": "zapier", "option": "oauth", "label": "traversal"}'
    before = snapshot.take(arena.host.store.engine)
    answers: dict[str, Any] = {}
    for name, (method, path) in traversals(arena).items():
        answer = rawhttp.request(arena.port, method, path, headers=credentials, body=body)
        answers[name] = answer.status
        text = answer.body.decode(errors="replace")
        assert not any(mark in text for mark in SECRET_FILE_MARKS), f"{name} served a file: {text[:200]}"
    assert {name: status for name, status in answers.items() if not 400 <= status < 500} == {}
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


def test_an_idempotent_delete_with_a_traversal_id_deletes_nothing(arena: Arena) -> None:
    before = snapshot.take(arena.host.store.engine)

    answer = rawhttp.request(arena.port, "DELETE", "/api/zapier/hooks/..%2F..%2Fkeys",
                             headers={"X-API-Key": arena.a.api_key})

    assert answer.status in (200, 404)
    if answer.status == 200:
        assert answer.json()["deleted"] is False
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}


DEEP = b'{"label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_JSON_ROUTES = [("POST", "/api/api-keys"), ("POST", "/api/integrations/stripe_connect/connect"),
                    ("POST", "/api/zapier/keys"), ("POST", "/api/zapier/hooks"), ("POST", "/api/stripe_connect/offers"),
                    ("POST", "/api/zapier/actions/enroll_member")]


@pytest.mark.parametrize(("method", "path"), DEEP_JSON_ROUTES, ids=[p for _, p in DEEP_JSON_ROUTES])
def test_deeply_nested_json_gets_a_clear_400(arena: Arena, method: str, path: str) -> None:
    before = snapshot.take(arena.host.store.engine)

    answer = arena.http.request(method, arena.url + path, content=DEEP,
                                headers={**arena.a.bearer, "X-API-Key": arena.a.api_key,
                                         "Content-Type": "application/json"})

    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"]["message"].strip()
    assert snapshot.changes(before, snapshot.take(arena.host.store.engine)) == {}
