"""Each API key gets a configurable number of requests per minute; past it, 429 with Retry-After."""

from __future__ import annotations

import pytest

from plugins.zapier.ratelimit import RateLimiter


@pytest.fixture
def zapier_config():
    return {"requests_per_minute": 2}


def test_a_key_over_its_limit_gets_429_with_retry_after(zapier):
    statuses = [zapier.get("/api/zapier/me").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = zapier.get("/api/zapier/me")
    assert limited.headers["retry-after"] == "30"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert "2 per minute" in limited.json()["error"]["message"]


def test_the_limit_is_per_key(make_site):
    ada, bob = make_site("Ada"), make_site("Bob")
    with ada.zapier() as a, bob.zapier() as b:
        for _ in range(3):
            a.get("/api/zapier/me")
        assert a.get("/api/zapier/me").status_code == 429
        assert b.get("/api/zapier/me").status_code == 200


def test_the_limit_refills_with_time(zapier, clock):
    for _ in range(3):
        zapier.get("/api/zapier/me")
    clock.advance(30)
    assert zapier.get("/api/zapier/me").status_code == 200


def test_the_limiter_answers_how_long_to_wait():
    now = [0.0]
    limiter = RateLimiter(60, now=lambda: now[0])
    assert [limiter.hit("k") for _ in range(60)] == [0] * 60
    assert limiter.hit("k") == 1
    now[0] += 1.0
    assert limiter.hit("k") == 0


def test_an_unknown_config_value_is_refused_with_its_path(make_host):
    import plugins.zapier as plugin

    host = make_host(plugins={"zapier": plugin}, config={"zapier": {"requests_per_minute": 0}})
    error = host.plugins.records["zapier"].error
    assert error is not None and "plugins.zapier.config" in error and "requests_per_minute" in error
