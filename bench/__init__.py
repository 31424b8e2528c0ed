"""Benchmarks: every stage of the pipeline against a baseline measured in the same run.

``python -m bench`` (``make bench``) runs them all, prints a table of ratios and absolute figures
and writes JSON under ``bench/results/``. See bench/README.md for the figures and what they mean.

    intake_http      signed Stripe webhooks over loopback → ``serve`` vs a bare 200 and an ideal intake
    intake_inproc    the host's intake for one event vs verify + json.loads + one INSERT + COMMIT
    processing       stored checkout.session.completed → purchase.completed + one outbox row, per worker;
                     backlogs of 10k and 100k, and 10k in a 1M-row table (PostgreSQL)
    claims           one claim of 200 due events: a 1M-row table vs the backlog alone, fresh and analysed
    delivery         outbox rows → a local 200 receiver vs raw aiohttp and httpx loops (with and without reuse)
    dispatch         an addressed hook call through the host vs a bare pluggy call
    memory_startup   100,000 stored events processed (peak RSS); ``plugins list`` wall time; no disabled import
"""
