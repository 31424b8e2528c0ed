"""What the Zapier integration is, for the settings page and the host."""

from __future__ import annotations

from core import Capability, IntegrationInfo
from plugins.zapier.config import ZapierConfig

NAME = "zapier"
TITLE = "Zapier"


def integration_info() -> IntegrationInfo:
    return IntegrationInfo(
        name=NAME,
        title=TITLE,
        description="Send your site's sales, members and enrollments to thousands of apps, and let Zaps "
                    "enroll members or tag them. Connect by creating an API key and pasting it into Zapier.",
        requires_host="2.*",
        config=ZapierConfig,
        capabilities=frozenset({Capability.CONNECT, Capability.STATUS, Capability.API_KEYS,
                                Capability.DELIVERIES, Capability.ACTIONS}),
        docs_url="docs/plugins/zapier.md",
    )
