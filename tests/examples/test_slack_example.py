"""The Slack example as a third party ships it and a site runs it, following the guide's commands.

The plugin is pip-installed into a virtual environment (see plugin_venv.py for why that is fast),
found through its entry point, served by `intellectra-integrations serve` in a subprocess, and
posts to a local receiver standing in for Slack.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from plugin_guide import EXAMPLE, blocks_titled, console
from plugin_venv import HOST_SITE_PACKAGES, PluginVenv
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core.testing import free_port

SALE_TEXT = "New sale: Watercolour basics — $49.00 from buyer@example.com"


def copy_example(target: Path) -> Path:
    """The example's source, without build leftovers (pip builds in the source tree)."""
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".ruff_cache",
                                                                   ".pytest_cache", "dist"))
    return target


def run_guide_commands(venv: PluginVenv, title: str, *, cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    results = []
    for command in console(title):
        result = venv.sh(command, cwd=cwd)
        assert result.returncode == 0, f"`{command}` failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        results.append(result)
    return results


def registry_blocks() -> list[str]:
    return [b.text for b in blocks_titled("registry.toml", lang="toml")]


def plugins_by_name(venv: PluginVenv, site: Path) -> dict[str, dict[str, object]]:
    result = venv.sh("intellectra-integrations plugins list --json", cwd=site)
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)["plugins"]}


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published distribution: a wheel built from the example, standing in for PyPI."""
    base = tmp_path_factory.mktemp("publish")
    source = copy_example(base / "intellectra-slack")
    builder = PluginVenv(base / "build-venv")
    result = builder.sh(f"pip wheel --no-deps -w {base / 'wheelhouse'} .", cwd=source)
    assert result.returncode == 0, result.stderr
    return base / "wheelhouse"


@pytest.fixture(scope="module")
def site_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> PluginVenv:
    """The site's environment, with the published plugin installed from the wheelhouse."""
    venv = PluginVenv(tmp_path_factory.mktemp("site") / "venv", find_links=wheelhouse)
    install = venv.sh("pip install intellectra-slack", cwd=venv.path)
    assert install.returncode == 0, install.stderr
    return venv


# ---------------------------------------------------------------- the plugin author's side

def test_the_scaffold_command_writes_the_layout_the_guide_shows(site_venv, tmp_path):
    run_guide_commands(site_venv, "scaffold", cwd=tmp_path)

    (layout,) = blocks_titled("layout")
    top, *entries = layout.text.splitlines()
    written = sorted(p.relative_to(tmp_path / top).as_posix() for p in (tmp_path / top).rglob("*") if p.is_file())
    assert written == sorted(entry.split()[0] for entry in entries)


def test_the_examples_own_tests_pass_after_the_guides_develop_commands(tmp_path):
    developer = PluginVenv(tmp_path / "venv")
    checkout = copy_example(tmp_path / "intellectra-slack")

    install, tests = run_guide_commands(developer, "develop", cwd=checkout)

    assert " passed" in tests.stdout and "failed" not in tests.stdout, tests.stdout[-2000:]


# ---------------------------------------------------------------- the site operator's side

def test_an_operator_enables_it_with_each_registry_the_guide_shows(site_venv, tmp_path):
    first, *others = registry_blocks()
    (tmp_path / "registry.toml").write_text(first, encoding="utf-8")
    install, listing = run_guide_commands(site_venv, "enable", cwd=tmp_path)
    (row,) = [line for line in listing.stdout.splitlines() if " slack " in line]
    assert " loaded " in row, listing.stdout

    for registry in others:
        (tmp_path / "registry.toml").write_text(registry, encoding="utf-8")
        slack = plugins_by_name(site_venv, tmp_path)["slack"]
        assert slack["state"] == "loaded", slack
        assert slack["source"] == "entry_point:intellectra-slack==0.1.0" and slack["version"] == "0.1.0"


def test_it_is_installed_only_where_the_operator_installed_it(site_venv):
    assert not list(Path(HOST_SITE_PACKAGES).glob("intellectra_slack*")), "the test leaked into the host env"


class FakeSlack:
    """Slack's incoming webhooks, on loopback: records each JSON body with its headers."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, object], dict[str, str]]] = []

    async def incoming(self, request: Request) -> PlainTextResponse:
        self.posts.append((await request.json(), dict(request.headers)))
        return PlainTextResponse("ok")

    def texts(self) -> list[object]:
        return [body["text"] for body, _ in self.posts]

    def wait_for(self, text: str, timeout: float = 20) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body, headers in self.posts:
                if body.get("text") == text:
                    return headers
            time.sleep(0.05)
        raise AssertionError(f"Slack never received {text!r}; it got {self.texts()}")


@pytest.fixture(scope="module")
def running_site(site_venv: PluginVenv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A site with the guide's development registry, a tenant, and `serve` running (workers included)."""
    tmp_path = tmp_path_factory.mktemp("running-site")
    (dev_registry,) = [r for r in registry_blocks() if "allow_loopback_urls = true" in r]
    (tmp_path / "registry.toml").write_text(dev_registry, encoding="utf-8")
    env = site_venv.env(INTELLECTRA_DATABASE_URL=f"sqlite:///{tmp_path / 'site.db'}",
                        INTELLECTRA_SECRET_KEYS=Fernet.generate_key().decode(),
                        INTELLECTRA_ALLOW_LOOPBACK_TARGETS="1")
    created = site_venv.sh("intellectra-integrations tenants create \"Ada's Watercolours\" --json", cwd=tmp_path,
                           env=env)
    assert created.returncode == 0, created.stderr
    tenant = json.loads(created.stdout)
    port = free_port()
    env["INTELLECTRA_PUBLIC_URL"] = f"http://127.0.0.1:{port}"  # serve needs it outside --sandbox
    server = subprocess.Popen(["intellectra-integrations", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"serve did not start:\n{server.stdout.read() if server.stdout else ''}")
            time.sleep(0.1)
        yield {"url": url, "tenant": tenant, "env": env, "cwd": tmp_path,
               "auth": {"authorization": f"Bearer {tenant['token']}"}}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


EMIT_SALE = """
import sys
from core.events import CORE_EVENT_TYPES
from core.host import Host
host = Host.create()
event = host.emit(sys.argv[1], "purchase.completed", CORE_EVENT_TYPES["purchase.completed"].example)
host.close()
print(event.id)
"""


def test_a_sale_reaches_slack_through_the_running_host(running_site, site_venv, live_server):
    slack = FakeSlack()
    receiver = live_server(Starlette(routes=[Route("/services/{path:path}", slack.incoming, methods=["POST"])]))
    url, auth, tenant = running_site["url"], running_site["auth"], running_site["tenant"]

    listed = httpx.get(f"{url}/api/integrations", headers=auth).json()["integrations"]
    (card,) = [i for i in listed if i["name"] == "slack"]
    assert [f["name"] for f in card["connect_fields"]] == ["webhook_url"] and card["state"] == "not_connected"

    connected = httpx.post(f"{url}/api/integrations/slack/connect", headers=auth,
                           json={"webhook_url": f"{receiver}/services/T0001/B0001/sales"})
    assert connected.status_code == 201, connected.text
    assert slack.texts() == ["Intellectra is connected: new sales and disputes will be posted here."]
    assert "/services/" not in connected.text, "the webhook URL is a secret and is never echoed back"

    # The host app emits the sale in its own process; serve's workers deliver it.
    emitted = site_venv.sh(f"python -c '{EMIT_SALE}' {tenant['id']}", cwd=running_site["cwd"],
                           env=running_site["env"])
    assert emitted.returncode == 0, emitted.stderr
    headers = slack.wait_for(SALE_TEXT)
    assert headers["webhook-id"] and headers["webhook-timestamp"], "sent by the host's outbox"

    status = httpx.get(f"{url}/api/integrations/slack/status", headers=auth).json()["connection"]
    assert status["state"] == "connected"
    assert status["reason"].startswith("Last message (purchase.completed, ") and "posted to Slack" in status["reason"]

    disconnected = httpx.post(f"{url}/api/integrations/slack/disconnect", headers=auth)
    assert disconnected.json()["connection"]["state"] == "disconnected"
    assert slack.texts()[-1] == "Intellectra was disconnected from this channel."


def test_it_gets_a_card_with_its_connect_form_and_status_on_the_settings_page(running_site, live_server):
    slack = FakeSlack()
    receiver = live_server(Starlette(routes=[Route("/services/{path:path}", slack.incoming, methods=["POST"])]))
    url, auth = running_site["url"], running_site["auth"]
    page = httpx.get(f"{url}/settings/integrations", headers=auth)
    assert page.status_code == 200, page.text[:500]
    assert 'id="slack"' in page.text and "Post new sales and disputes to a Slack channel." in page.text
    assert 'name="webhook_url"' in page.text and 'type="password"' in page.text, "a secret field is masked"

    httpx.post(f"{url}/api/integrations/slack/connect", headers=auth,
               json={"webhook_url": f"{receiver}/services/T0001/B0002/sales"}).raise_for_status()
    httpx.get(f"{url}/api/integrations/slack/status", headers=auth).raise_for_status()
    page = httpx.get(f"{url}/settings/integrations", headers=auth).text
    httpx.post(f"{url}/api/integrations/slack/disconnect", headers=auth).raise_for_status()

    assert '<p class="reason" id="slack-reason">' in page
    assert "posted to Slack." in page or "nothing posted since the test message" in page
    assert "/services/T0001" not in page, "the webhook URL is never shown again"
