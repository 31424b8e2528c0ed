"""The host's health: what anyone may know (up, database reachable) and what operators need (plugins,
their errors, pipeline counters).

Anyone can reach ``GET /healthz`` (load balancers, uptime checks, strangers), so it says only whether the
host and its database are up; module paths, versions and error texts are for operators and sit behind
the operator token (``GET /healthz/details``) or the CLI (``intellectra-integrations health``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from core.plugins import PluginState

if TYPE_CHECKING:
    from core.host import Host


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


def public_health(host: Host) -> dict[str, Any]:
    """For anyone: ``{"status": "ok" | "degraded" | "unavailable", "database": "ok" | "unavailable"}``."""
    database = database_probe(host)
    failed = [r.name for r in host.plugins.records.values() if not r.builtin and r.state is PluginState.FAILED]
    return {"status": overall_status(database["ok"], failed), "database": "ok" if database["ok"] else "unavailable"}


def operator_health(host: Host) -> dict[str, Any]:
    """For operators: the public answer's status plus the database's dialect and error, every plugin's
    record (source, version, state, recent errors) and the names of the failed ones."""
    database = database_probe(host)
    plugins = [r.as_json() for r in host.plugins.records.values() if not r.builtin]
    failed = [p["name"] for p in plugins if p["state"] == PluginState.FAILED.value]
    return {"status": overall_status(database["ok"], failed), "database": database, "plugins": plugins,
            "failed_plugins": failed}
