"""Notifier: a throwaway observing plugin for the observers' tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core import Capability, Connected, IntegrationInfo, hookimpl

MEMBER = {"member_id": "m1", "email": "m@example.com"}


class Notifier:
    """Observes new members and posts them to the URL given at connect; can be told to fail."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.fail_with: Exception | None = None
        self.during: Callable[[], None] | None = None
        """Called inside ``on_domain_event`` (a test's probe)."""

    @hookimpl
    def integration_info(self) -> IntegrationInfo:
        return IntegrationInfo(name="notifier", title="Notifier", description="Posts new members somewhere.",
                               capabilities={Capability.CONNECT}, observes={"member.created"})

    @hookimpl
    def connect(self, ctx: Any, tenant: Any, form: Any, state: str) -> Connected:
        return Connected(secrets={"url": "http://127.0.0.1:9/members"})

    @hookimpl
    def on_domain_event(self, ctx: Any, event: Any) -> None:
        self.seen.append(event.id)
        if self.during is not None:
            self.during()
        if self.fail_with is not None:
            raise self.fail_with
        ctx.deliver(to=ctx.secret("url"), json={"text": f"New member: {event.data['email']}"})
