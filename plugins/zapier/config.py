"""The ``[plugins.zapier.config]`` table: limits for the API that Zapier calls."""

from __future__ import annotations

import attrs
from attrs import validators


@attrs.frozen(kw_only=True)
class ZapierConfig:
    """Every value has a default; a deployment only writes what it changes."""

    requests_per_minute: int = attrs.field(default=120, validator=[validators.instance_of(int), validators.ge(1)])
    """Requests one API key may make per minute before it gets 429 with ``Retry-After``."""
    sample_size: int = attrs.field(default=3, validator=[validators.instance_of(int), validators.ge(1),
                                                         validators.le(10)])
    """How many recent payloads the trigger sample endpoint returns (Zapier shows up to 3)."""
    app_url: str = attrs.field(default="https://zapier.com/app/zaps",
                               validator=validators.matches_re(r"https://\S+"))
    """Where the card's "Open Zapier" link goes (the published app's page, once it has one)."""
