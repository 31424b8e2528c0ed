"""``GET /metrics``: off without a token, 401 without the right one, and one view of every process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from core.store import Store
from core.store.tables import inbound_events
from core.web.app import create_app

TOKEN = "s3cret-metrics-token-0123456789"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCRIPT = str(Path(sys.executable).parent / "intellectra-integrations")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_are_off_until_a_token_is_configured(make_host, live_server):
    url = live_server(create_app(make_host()))
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert "INTELLECTRA_METRICS_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"])
def test_a_scrape_without_the_token_is_refused(make_host, live_server, authorization):
    url = live_server(create_app(make_host(settings={"metrics_token": TOKEN})))
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(f"{url}/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "intellectra_" not in response.text and TOKEN not in response.text


def test_a_scrape_with_the_token_is_prometheus_text(make_host, live_server):
    url = live_server(create_app(make_host(settings={"metrics_token": TOKEN})))
    response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {"intellectra_intake_requests", "intellectra_handler_outcomes", "intellectra_delivery_outcomes",
            "intellectra_intake_seconds", "intellectra_handler_seconds", "intellectra_delivery_seconds",
            "intellectra_database_up", "intellectra_events_pending", "intellectra_deliveries_pending"} <= names


def test_a_scrape_while_the_database_is_down_still_answers(make_host, live_server):
    host = make_host(settings={"metrics_token": TOKEN})
    url = live_server(create_app(host))
    working, host.store = host.store, Store.from_url(f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    try:
        response = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    finally:
        host.store.dispose()
        host.store = working
    assert response.status_code == 200
    scraped = samples(response.text)
    assert scraped[("intellectra_database_up", ())] == 0
    assert ("intellectra_events_pending", ()) not in scraped


# ---------------------------------------------------------------------------------------------- several processes

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store_pending(database_url: str, count: int, start: int) -> None:
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as c:
        c.execute(inbound_events.insert(), [dict(
            id=f"inb_{start + i:04d}", integration="hello", external_id=f"evt_{start + i}", type="hello.said",
            payload="{}", status="pending", attempts=0, next_attempt_at=now, received_at=now) for i in range(count)])
    engine.dispose()


def test_serve_shows_what_every_process_on_the_machine_counted(intellectra_database_url, tmp_path):
    """Two ``worker`` runs and a ``serve`` share PROMETHEUS_MULTIPROC_DIR: one scrape of serve adds them up."""
    (tmp_path / "registry.toml").write_text('[plugins.hello]\nmodule = "hello_module"\n')
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTELLECTRA_", "STRIPE_", "PROMETHEUS_"))}
    env.update(INTELLECTRA_DATABASE_URL=intellectra_database_url, INTELLECTRA_METRICS_TOKEN=TOKEN,
               INTELLECTRA_SECRET_KEYS=Fernet.generate_key().decode(), INTELLECTRA_PUBLIC_URL="http://127.0.0.1",
               PROMETHEUS_MULTIPROC_DIR=str(multiproc), PYTHONPATH=str(FIXTURES / "plugins"))
    for start, count in ((0, 3), (3, 2)):
        store_pending(intellectra_database_url, count, start)
        worker = subprocess.run([SCRIPT, "worker", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=120)
        assert worker.returncode == 0, worker.stderr
    port = free_port()
    serve = subprocess.Popen([SCRIPT, "serve", "--no-workers", "--port", str(port)], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)
        assert httpx.post(f"{url}/webhooks/hello", content=b"{}", headers={"content-type": "application/json"},
                          timeout=10).status_code == 404
        scraped = samples(httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text)
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    assert scraped[("intellectra_handler_outcomes_total", (("integration", "hello"), ("outcome", "processed")))] == 5
    assert scraped[("intellectra_intake_requests_total",
                    (("integration", "hello"), ("outcome", "webhooks_not_supported")))] == 1
    assert scraped[("intellectra_events_pending", ())] == 0
