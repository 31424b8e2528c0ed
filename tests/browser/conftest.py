"""Browser tests: Playwright driving Debian's Chromium against a real server on loopback.

Never downloads a browser. Without ``/usr/bin/chromium`` the tests skip with the reason; under
``CI=true`` they fail instead (``core.testing.skip_or_fail``). Screenshots of the main states go to
``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import REPO

from core.testing import skip_or_fail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.chromium)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per module. Not per session: Playwright's sync API keeps an event loop running
    in the main thread while it is started, and later tests call ``asyncio.run``."""
    if not CHROMIUM.exists():
        skip_or_fail(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
                     "the browser tests never download a browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1180, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``screenshot(page, "connected")`` saves ``test-artifacts/screenshots/<test>-<n>-connected.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(page: Any, label: str, *, full_page: bool = True) -> Path:
        counter["n"] += 1
        path = SCREENSHOTS / f"{request.node.name}-{counter['n']:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


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


