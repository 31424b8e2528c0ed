"""The reliability suite's harness: each module does one job.

* ``sizes``         — how big a run is (environment variables, so a developer can run it small);
* ``processes``     — real ``serve`` / ``worker`` processes with captured output, killed by process group;
* ``stripe_events`` — signed Stripe ``checkout.session.completed`` events, byte-exact as Stripe sends them;
* ``load``          — sends them over loopback the way Stripe does (retries, duplicates, concurrent pairs);
* ``receiver``      — a delivery target that records every ``webhook-id`` and can fail on command;
* ``postgres``      — databases per run, ``pg_terminate_backend``, a private cluster to stop;
* ``world``         — tenants, Stripe connections and subscriptions, made through the host's public API;
* ``ledger``        — the totals a run must end with, read back from the database;
* ``snapshot``      — "nothing changed": every table's content before and after;
* ``rawhttp``       — requests whose paths must reach the server unnormalised;
* ``leaks``         — finding planted secrets in logs, CLI output and database dumps.
"""
