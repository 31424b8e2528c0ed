"""``intellectra-host serve``: the miniature Intellectra on loopback, with the Stripe sandbox and two
demo creators to sign in as."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import click
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from intellectra_host.school import School
from intellectra_host.site import SiteConfig, build_site

DEMO_CREATORS = (
    {"email": "ada@example.com", "name": "Ada Lovelace", "password": "watercolour",
     "site_name": "Ada's Watercolour Studio"},
    {"email": "grace@example.com", "name": "Grace Hopper", "password": "compilers",
     "site_name": "Grace's Code Academy"},
)


def seed_demo_creators(school: School) -> None:
    """The demo creators, once (a restart keeps the database's)."""
    if school.creators():
        return
    for creator in DEMO_CREATORS:
        school.add_creator(**creator)


def development_key(database_url: str) -> str:
    """``INTELLECTRA_SECRET_KEYS``, else a key kept beside a SQLite database (created once, owner-only)."""
    configured = os.environ.get("INTELLECTRA_SECRET_KEYS")
    if configured:
        return configured
    database = make_url(database_url).database
    if make_url(database_url).get_backend_name() != "sqlite" or not database:
        raise click.ClickException("Set INTELLECTRA_SECRET_KEYS (a Fernet key) for a database that is not a "
                                   "SQLite file.")
    path = Path(f"{database}.site-key")
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(Fernet.generate_key().decode())
    return path.read_text().strip()


def demo_config(*, port: int, database_url: str) -> SiteConfig:
    key = development_key(database_url)
    return SiteConfig(site_url=f"http://127.0.0.1:{port}", database_url=database_url, secret_keys=key,
                      session_secret=hashlib.sha256(b"site-session:" + key.encode()).hexdigest())


@click.group()
def main() -> None:
    """A miniature Intellectra that embeds the integration host (an example; development only)."""


@main.command()
@click.option("--port", default=8800, show_default=True, type=int)
@click.option("--database", "database_url", default="sqlite:///intellectra-host.db", show_default=True,
              help="SQLAlchemy URL of the one database the site and the integration host share.")
def serve(port: int, database_url: str) -> None:
    """Serve the site on 127.0.0.1 with the Stripe sandbox (no Stripe credentials needed)."""
    import uvicorn

    config = demo_config(port=port, database_url=database_url)
    site = build_site(config)
    try:
        seed_demo_creators(site.school)
        click.echo(f"Serving the miniature Intellectra on {config.site_url}")
        for creator in DEMO_CREATORS:
            click.echo(f"  sign in as {creator['email']} / {creator['password']}  ({creator['site_name']})")
        uvicorn.run(site.app, host="127.0.0.1", port=port, log_level="warning")
    finally:
        site.close()

