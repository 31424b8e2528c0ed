"""What the pipeline's parts need of the host, and of the pipeline that runs them, as protocols.

The host (``core.host.Host``) builds the pipeline and hands itself in; the pipeline
(``core.pipeline.Pipeline``) builds its stages and hands itself in. Typing both as the protocols
here keeps the stages below what composes them: nothing in ``core.pipeline`` imports the host.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from core.clock import Clock
    from core.connections import Connections
    from core.context import IntegrationContext
    from core.domain import DomainEvents
    from core.models import Connection, Tenant
    from core.pipeline.config import PipelineConfig
    from core.pipeline.metrics import Metrics
    from core.plugin_pool import PluginPool
    from core.plugins import PluginHost
    from core.secrets import SecretBox
    from core.settings import Settings
    from core.store import Store
    from core.subscriptions import Subscriptions

T = TypeVar("T")


class Wakes(Protocol):
    """Wakes this process's idle worker loops when there is new work for them."""

    def notify_new_events(self) -> None: ...

    def notify_new_observations(self) -> None: ...

    def notify_new_deliveries(self) -> None: ...


class PipelineHost(Protocol):
    """The host as the pipeline sees it (``core.host.Host``)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def secrets(self) -> SecretBox: ...

    @property
    def plugins(self) -> PluginHost: ...

    @property
    def plugin_pool(self) -> PluginPool: ...

    @property
    def events(self) -> DomainEvents: ...

    @property
    def connections(self) -> Connections: ...

    @property
    def subscriptions(self) -> Subscriptions: ...

    @property
    def pipeline(self) -> Wakes: ...

    def context(self, integration: str, *, tenant: Tenant | None = None, connection: Connection | None = None,
                base_url: str | None = None, secrets: dict[str, str] | None = None) -> IntegrationContext: ...

    async def run_plugin_code(self, integration: str | None, what: str, fn: Callable[..., T], /,
                              *args: Any, **kwargs: Any) -> T: ...


class StageOwner(Wakes, Protocol):
    """The pipeline as its stages (processor, observer, deliverer) see it (``core.pipeline.Pipeline``)."""

    @property
    def host(self) -> PipelineHost: ...

    @property
    def config(self) -> PipelineConfig: ...

    @property
    def counters(self) -> Metrics: ...
