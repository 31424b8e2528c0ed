"""``DevServer``: a development stand-in for a provider, returned by the ``dev_servers`` hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class DevServer:
    """A running development server (e.g. the Stripe sandbox) and how to wire the plugin to it."""

    name: str
    url: str
    stop: Callable[[], None] = attrs.field(repr=False)
    config_overrides: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    description: str = ""
    links: Mapping[str, str] = attrs.field(factory=dict)
    """Pages worth opening (shown by ``serve --sandbox``)."""
