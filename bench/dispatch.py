"""5. Hook dispatch: an addressed call (``status``) through the host vs a bare pluggy hook call.

Both managers hold the same N plugins, each implementing ``integration_info`` and ``status``. The host's
``PluginHost.call(name, "status", ...)`` reaches exactly one plugin (checks the record, a cached
``subset_hook_caller``, the isolation wrapper); the baseline ``pm.hook.status(...)`` on a bare
``pluggy.PluginManager`` with the same hook specs calls all N. Target: ≤ 2x the baseline's time.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

import pluggy

from bench.common import Options, Result, cpu_seconds_per_call

TARGET = 2.0
STATUS: Any = None


class StatusPlugin:
    def __init__(self, name: str) -> None:
        self.name = name

    @pluggy.HookimplMarker("intellectra")
    def integration_info(self) -> Any:
        from core.models import IntegrationInfo

        return IntegrationInfo(name=self.name, title=self.name.title(), description="A benchmark plugin.")

    @pluggy.HookimplMarker("intellectra")
    def status(self, ctx: Any, tenant: Any, connection: Any, refresh: bool) -> Any:
        return STATUS  # no work of its own: what is timed is the dispatch


def run(opts: Options) -> list[Result]:
    from core import hookspecs
    from core.models import Connection, ConnectionState, ConnectionStatus, Tenant
    from core.plugins import PluginHost

    global STATUS
    STATUS = ConnectionStatus(state=ConnectionState.CONNECTED, reason="Ready.")

    loops, repeats = opts.pick((200, 3), (50_000, 7))
    now = datetime.now(UTC)
    tenant = Tenant(id="ten_bench", name="Bench", created_at=now)
    results = []
    for n in (3, 10):
        names = [f"plugin{i}" for i in range(n)]
        host_plugins = PluginHost()
        bare = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        bare.add_hookspecs(hookspecs)
        for name in names:
            record = host_plugins.register(name, StatusPlugin(name))
            assert record.state.value == "loaded", record.error
            bare.register(StatusPlugin(name), name=name)
        target = names[n // 2]
        connection = Connection(id="con_bench", tenant_id=tenant.id, integration=target, state="connected")
        ctx = object()
        kwargs: dict[str, Any] = dict(ctx=ctx, tenant=tenant, connection=connection, refresh=False)
        assert host_plugins.call(target, "status", **kwargs) is STATUS

        def addressed(kwargs: dict[str, Any] = kwargs, target: str = target, hp: PluginHost = host_plugins) -> Any:
            return hp.call(target, "status", **kwargs)

        def broadcast(kwargs: dict[str, Any] = kwargs, hook: Any = bare.hook.status) -> Any:
            return hook(**kwargs)

        host_t, base_t = [], []
        for _ in range(repeats):  # alternate, so drift hits both
            base_t.append(cpu_seconds_per_call(broadcast, loops, 1))
            host_t.append(cpu_seconds_per_call(addressed, loops, 1))
        h, b = statistics.median(host_t), statistics.median(base_t)
        results.append(Result(bench="dispatch", case=f"addressed status, {n} plugins", value=h * 1e6, unit="us/call",
                              baseline=f"bare pluggy hook call, {n} plugins", baseline_value=b * 1e6, ratio=h / b,
                              target="<= 2x baseline time", met=h / b <= TARGET,
                              details={"loops": loops, "repeats": repeats}))
    return results
