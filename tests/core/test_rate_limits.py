"""Shared request limits: a token bucket per (scope, key) in the database, the same for every process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from core.errors import ValidationFailed


def test_a_new_key_gets_a_full_minute_then_is_told_how_long_to_wait(host):
    answers = [host.rate_limits.hit("zapier", "key_1", per_minute=60) for _ in range(61)]

    assert answers == [0] * 60 + [1]


def test_the_wait_is_the_time_until_one_request_is_allowed_again(host):
    for _ in range(2):
        host.rate_limits.hit("zapier", "key_1", per_minute=2)

    assert host.rate_limits.hit("zapier", "key_1", per_minute=2) == 30


def test_the_bucket_refills_evenly_with_time(host, clock):
    for _ in range(3):
        host.rate_limits.hit("zapier", "key_1", per_minute=2)
    clock.advance(29)
    assert host.rate_limits.hit("zapier", "key_1", per_minute=2) == 1
    clock.advance(1)
    assert host.rate_limits.hit("zapier", "key_1", per_minute=2) == 0


def test_keys_and_scopes_have_buckets_of_their_own(host):
    host.rate_limits.hit("zapier", "key_1", per_minute=1)

    assert host.rate_limits.hit("zapier", "key_1", per_minute=1) > 0
    assert host.rate_limits.hit("zapier", "key_2", per_minute=1) == 0
    assert host.rate_limits.hit("slack", "key_1", per_minute=1) == 0


def test_the_limit_holds_across_hosts_on_one_database(make_host):
    """Two hosts on one database stand for two ``serve`` processes behind a load balancer."""
    first, second = make_host(), make_host()

    answers = [h.rate_limits.hit("zapier", "key_1", per_minute=3) for h in (first, second, first, second)]

    assert answers == [0, 0, 0, 20]


def test_concurrent_hits_never_let_more_through_than_the_limit(make_host):
    hosts = [make_host(), make_host()]

    def hit(n: int) -> int:
        return hosts[n % 2].rate_limits.hit("zapier", "key_1", per_minute=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(hit, range(40)))

    assert answers.count(0) == 10


def test_a_clock_that_goes_back_refills_nothing(host, clock):
    host.rate_limits.hit("zapier", "key_1", per_minute=1)
    clock.advance(-3600)

    assert host.rate_limits.hit("zapier", "key_1", per_minute=1) == 60


def test_forgetting_a_key_drops_its_bucket(host):
    host.rate_limits.hit("zapier", "key_1", per_minute=1)
    host.rate_limits.forget("zapier", "key_1")

    assert host.rate_limits.hit("zapier", "key_1", per_minute=1) == 0


def test_a_limit_below_one_per_minute_is_refused_clearly(host):
    with pytest.raises(ValidationFailed, match="per_minute must be at least 1"):
        host.rate_limits.hit("zapier", "key_1", per_minute=0)
