"""Browser tests: Playwright driving Debian's Chromium against a real server on loopback.

Never downloads a browser: the test kit's ``chromium`` (``core.testing``) skips the tests with the reason
without ``/usr/bin/chromium``, and under ``CI=true`` fails instead. Screenshots of the main states go to
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import REPO


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.chromium)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1180, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def demo(make_host: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A host set up as ``serve --sandbox`` sets it up (see test_demo_story), served on loopback."""
    from core.registry import load_registry
    from core.sandbox_mode import seed_demo_tenants
    from core.testing import free_port
    from core.web.app import create_app

    # As `serve --sandbox`: no Stripe credentials; the sandbox's keys become the plugin's config.
    for name in ("STRIPE_SECRET_KEY", "STRIPE_CLIENT_ID", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    host = make_host(registry=load_registry(REPO / "registry.toml"), real_clock=True,
                     settings={"public_url": base_url, "demo_sign_in": True}, sandbox_base_url=base_url)
    for name in ("stripe_connect", "zapier"):
        record = host.plugins.records.get(name)
        assert record is not None and record.state.value == "loaded", (
            f"the {name} plugin must load in sandbox mode ({record.error if record else 'missing'})")
    seed_demo_tenants(host)
    yield live_server(create_app(host, run_workers=True), port=port)


