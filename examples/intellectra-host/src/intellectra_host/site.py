"""Putting the site together: the integration host in-process, the site's tables beside its own, the
site's web app with the integration host's mounted under ``/integrations``, and the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
from core import Host, Settings, load_registry
from core.web.app import create_app
from starlette.applications import Starlette

from intellectra_host import tables
from intellectra_host.hooks import SiteHooks
from intellectra_host.school import School
from intellectra_host.web import layout_for, site_app

PACKAGED_REGISTRY = Path(__file__).parent / "registry.toml"
INTEGRATIONS_PREFIX = "/integrations"
"""Where the site mounts the integration host: its settings page is ``/integrations/settings/integrations``."""
SIGN_IN_PATH = "/login"


@attrs.frozen(kw_only=True)
class SiteConfig:
    site_url: str
    """Where browsers reach the site, e.g. ``http://127.0.0.1:8800`` (no trailing slash)."""
    database_url: str
    """One database for the site's tables and the integration host's."""
    secret_keys: str = attrs.field(repr=False)
    """The integration host's encryption keys (``INTELLECTRA_SECRET_KEYS``)."""
    session_secret: str = attrs.field(repr=False)
    """Signs the site's own session cookie."""
    registry_path: Path = PACKAGED_REGISTRY
    sandbox: bool = True
    """Run the Stripe sandbox and point the Stripe plugin at it (this example always does)."""
    run_workers: bool = True
    """Run the integration host's workers in the site's process (``False``: run ``intellectra-integrations
    worker`` beside it)."""

    @property
    def integrations_url(self) -> str:
        return f"{self.site_url}{INTEGRATIONS_PREFIX}"


@attrs.define
class Site:
    config: SiteConfig
    host: Host
    school: School
    app: Starlette

    def close(self) -> None:
        self.host.close()


def create_host(config: SiteConfig) -> Host:
    """The integration host, from the same registry and settings the site's operators configure.

    Its public URL is the site's, with the prefix the site mounts it under: every link it hands out
    (Stripe's return URL, checkout links, webhook targets) then points into the site.
    """
    settings = Settings(database_url=config.database_url, secret_keys=config.secret_keys,
                        public_url=config.integrations_url, registry_path=config.registry_path,
                        allow_loopback_targets=config.sandbox)
    return Host.create(settings=settings, registry=load_registry(config.registry_path), migrate=True,
                       sandbox_base_url=config.integrations_url if config.sandbox else None)


def build_site(config: SiteConfig) -> Site:
    host = create_host(config)
    tables.metadata.create_all(host.engine)
    school = School(host)
    host.register_host_app(SiteHooks(school), observes={"purchase.completed"})
    integrations = create_app(host, layout=layout_for(INTEGRATIONS_PREFIX), sign_in_url=SIGN_IN_PATH)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # A mounted app's own lifespan never runs (ASGI sends lifespan events to the outermost app
        # only), so the site runs the integration host's workers itself.
        stop = asyncio.Event()
        workers = asyncio.create_task(host.run_workers(stop)) if config.run_workers else None
        try:
            yield
        finally:
            stop.set()
            if workers is not None:
                await workers

    app = site_app(school, integrations, site_url=config.site_url, session_secret=config.session_secret,
                   integrations_prefix=INTEGRATIONS_PREFIX, lifespan=lifespan)
    return Site(config=config, host=host, school=school, app=app)

