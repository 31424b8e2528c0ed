"""The host's health: what anyone may know (up, database reachable) and what operators need (plugins,
their errors, pipeline counters).

Anyone can reach ``GET /healthz`` (load balancers, uptime checks, strangers), so it says only whether the
host and its database are up; module paths, versions and error texts are for operators and sit behind
the operator token (``GET /healthz/details``) or the CLI (``intellectra-integrations health``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import and_, func, inspect, or_, select, text

from core.plugins import PluginState
from core.store.tables import observations

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from core.host import Host
    from core.store import Store


def database_probe(host: Host) -> dict[str, Any]:
    """``{"ok", "dialect"[, "error"]}``: one ``SELECT 1`` (the error is the exception's class name only)."""
    try:
        with host.store.read() as c:
            c.execute(text("SELECT 1"))
        return {"ok": True, "dialect": host.store.dialect}
    except Exception as exc:  # the answer *is* the error
        return {"ok": False, "dialect": host.store.dialect, "error": exc.__class__.__name__}


def overall_status(database_ok: bool, failed_plugins: list[str]) -> str:
    if not database_ok:
        return "unavailable"
    return "degraded" if failed_plugins else "ok"


@attrs.frozen(kw_only=True)
class ObserverFailures:
    """A plugin's observations that failed, as stored (so every process sees what any worker saw)."""

    failed: int
    """Gave up after the last attempt: waiting for ``observations replay``."""
    retrying: int
    """Failed their latest attempt and wait for the next."""
    last_error: str | None

    def as_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def summary(self) -> str:
        return (f"on_domain_event: {self.failed} failed, {self.retrying} retrying; "
                f"last error: {self.last_error or '(none recorded)'}")


_FAILED = observations.c.status == "failed"
_RETRYING = and_(observations.c.status == "pending", observations.c.last_error.is_not(None))


def observer_failures(c: Connection) -> dict[str, ObserverFailures]:
    """Each plugin's failed and retrying observations with the latest error (a retrying one's, as the
    most recent, else the last to fail), in one grouped count plus one query per failing plugin."""
    counts: dict[str, dict[str, int]] = {}
    for integration, status, n in c.execute(
            select(observations.c.integration, observations.c.status, func.count())
            .where(or_(_FAILED, _RETRYING)).group_by(observations.c.integration, observations.c.status)):
        counts.setdefault(integration, {})["failed" if status == "failed" else "retrying"] = n
    found = {}
    for integration, by_status in sorted(counts.items()):
        mine = observations.c.integration == integration
        last_error = c.execute(select(observations.c.last_error).where(mine, _RETRYING)
                               .order_by(observations.c.next_attempt_at.desc()).limit(1)).scalar()
        if last_error is None:
            last_error = c.execute(select(observations.c.last_error).where(mine, _FAILED)
                                   .order_by(observations.c.finished_at.desc()).limit(1)).scalar()
        found[integration] = ObserverFailures(failed=by_status.get("failed", 0),
                                              retrying=by_status.get("retrying", 0), last_error=last_error)
    return found


def stored_observer_failures(store: Store) -> dict[str, ObserverFailures]:
    """``observer_failures`` of a database that may not be there yet (``plugins list`` before ``db
    upgrade``): none when the SQLite file or the table does not exist, and no file is created."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return {}
    with store.read() as c:
        if not inspect(c).has_table(observations.name):
            return {}
        return observer_failures(c)


def public_health(host: Host) -> dict[str, Any]:
    """For anyone: ``{"status": "ok" | "degraded" | "unavailable", "database": "ok" | "unavailable"}``."""
    database = database_probe(host)
    failed = [r.name for r in host.plugins.records.values() if not r.builtin and r.state is PluginState.FAILED]
    return {"status": overall_status(database["ok"], failed), "database": "ok" if database["ok"] else "unavailable"}


def operator_health(host: Host) -> dict[str, Any]:
    """For operators: the public answer's status plus the database's dialect and error, every plugin's
    record (source, version, state, this process's recent errors, the stored observer failures of every
    process), the names of the plugins that failed to load and of those whose observations failed.

    A plugin whose observations failed for good makes the status ``degraded``, as a load failure does:
    either needs an operator. Observations that are only retrying are shown but may still succeed."""
    database = database_probe(host)
    stored: dict[str, ObserverFailures] = {}
    if database["ok"]:
        with host.store.read() as c:
            stored = observer_failures(c)
    plugins = [with_observer_failures(r.as_json(), stored) for r in host.plugins.records.values() if not r.builtin]
    failed = [p["name"] for p in plugins if p["state"] == PluginState.FAILED.value]
    failing = [p["name"] for p in plugins if p["observer_failures"] and p["observer_failures"]["failed"]]
    return {"status": overall_status(database["ok"], failed + failing), "database": database, "plugins": plugins,
            "failed_plugins": failed, "failing_plugins": failing}


def with_observer_failures(row: dict[str, Any], stored: dict[str, ObserverFailures]) -> dict[str, Any]:
    failures = stored.get(row["name"])
    return {**row, "observer_failures": failures.as_json() if failures else None}
