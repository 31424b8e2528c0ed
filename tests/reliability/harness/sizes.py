"""How big a reliability run is. The defaults are what the issue asks for; a developer can run it small:

    INTELLECTRA_RELIABILITY_EVENTS=500 pytest tests/reliability
"""

from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


EVENTS = _int("INTELLECTRA_RELIABILITY_EVENTS", 5000)
"""Distinct signed Stripe events per load run."""
FAULT_EVENTS = _int("INTELLECTRA_RELIABILITY_FAULT_EVENTS", EVENTS)
"""Distinct events per run with crashes or database faults (same as EVENTS unless set)."""
DUPLICATE_SHARE = _float("INTELLECTRA_RELIABILITY_DUPLICATES", 0.30)
"""Share of events sent twice; half of those twice at the same moment to two different processes."""
TENANTS = _int("INTELLECTRA_RELIABILITY_TENANTS", 8)
SERVE_PROCESSES = _int("INTELLECTRA_RELIABILITY_SERVES", 4)
WORKER_PROCESSES = _int("INTELLECTRA_RELIABILITY_WORKERS", 2)
IN_FLIGHT = _int("INTELLECTRA_RELIABILITY_IN_FLIGHT", 24)
"""Requests the sender keeps open at once (Stripe sends concurrently too)."""
KILLS = _int("INTELLECTRA_RELIABILITY_KILLS", 3)
"""SIGKILLs of each kind (worker mid-batch, serve mid-request) in the crash run."""
TERMINATIONS = _int("INTELLECTRA_RELIABILITY_TERMINATIONS", 3)
"""Rounds of ``pg_terminate_backend`` on every backend in the database-fault run."""
DRAIN_SECONDS = _float("INTELLECTRA_RELIABILITY_DRAIN_SECONDS", 420.0)
"""Upper bound for the pipeline to finish after the load; a run that needs longer fails."""
FUZZ_EXAMPLES = _int("INTELLECTRA_RELIABILITY_FUZZ_EXAMPLES", 150)
"""Hypothesis examples per property (the schemathesis run uses a fifth of this per operation)."""
