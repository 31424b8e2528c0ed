"""Delivery targets: https only, never loopback, private, link-local or metadata addresses (SSRF)."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from core.targets import SendTimeGuard, check_target_url


def resolves_to(*addresses):
    return lambda host, port: list(addresses)


PUBLIC = resolves_to("93.184.216.34")


def test_a_public_https_url_is_accepted():
    assert check_target_url("https://hooks.zapier.com/hooks/standard/1/abc/", resolver=PUBLIC)


@pytest.mark.parametrize(("url", "code"), [
    ("http://hooks.example.com/x", "target_url_insecure"),
    ("ftp://hooks.example.com/x", "target_url_invalid"),
    ("https://user:pw@hooks.example.com/x", "target_url_invalid"),
    ("not a url", "target_url_invalid"),
    ("https://metadata.google.internal/computeMetadata/v1/", "target_url_forbidden"),
])
def test_unsafe_urls_are_refused_with_a_reason(url, code):
    with pytest.raises(ValidationFailed) as info:
        check_target_url(url, resolver=PUBLIC)
    assert info.value.code == code


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "0.0.0.0", "100.64.0.1"])
def test_a_host_name_resolving_to_a_non_public_address_is_refused(address):
    with pytest.raises(ValidationFailed, match="deliveries go to public addresses only"):
        check_target_url("https://innocent.example.com/hook", resolver=resolves_to("93.184.216.34", address))


def test_loopback_is_allowed_only_when_development_mode_says_so():
    loop = resolves_to("127.0.0.1")
    with pytest.raises(ValidationFailed):
        check_target_url("http://localhost:9000/hook", resolver=loop)
    assert check_target_url("http://localhost:9000/hook", allow_loopback=True, resolver=loop)
    with pytest.raises(ValidationFailed):
        check_target_url("http://internal.example/hook", allow_loopback=True, resolver=resolves_to("10.0.0.5"))


def test_a_host_that_does_not_resolve_is_refused_clearly():
    with pytest.raises(ValidationFailed, match="does not resolve"):
        check_target_url("https://nowhere.invalid/hook")


# ---------------------------------------------------------------------------- the send-time guard
class CountingResolver:
    """Resolves every name to one address (a public one unless told) and counts the lookups."""

    def __init__(self, address: str = "93.184.216.34") -> None:
        self.address = address
        self.lookups: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        return [self.address]


async def test_a_passed_https_url_does_not_let_plain_http_to_the_same_host_through():
    guard = SendTimeGuard(allow_loopback=False, resolver=CountingResolver())
    await guard.check("https://hooks.example.com/a")

    with pytest.raises(ValidationFailed) as info:
        await guard.check("http://hooks.example.com/a")
    assert info.value.code == "target_url_insecure"


async def test_credentials_in_a_url_are_refused_even_when_its_host_just_passed():
    guard = SendTimeGuard(allow_loopback=False, resolver=CountingResolver())
    await guard.check("https://hooks.example.com/a")

    with pytest.raises(ValidationFailed) as info:
        await guard.check("https://user:pw@hooks.example.com/a")
    assert info.value.code == "target_url_invalid"
    assert "pw" not in info.value.message


async def test_answers_are_cached_per_scheme_host_and_port():
    resolver = CountingResolver()
    guard = SendTimeGuard(allow_loopback=False, resolver=resolver)

    for url in ("https://hooks.example.com/a", "https://hooks.example.com/b", "https://HOOKS.example.com./c"):
        await guard.check(url)
    await guard.check("https://hooks.example.com:8443/a")

    assert resolver.lookups == [("hooks.example.com", 443), ("hooks.example.com", 8443)]


async def test_the_cache_keeps_only_the_most_recently_used_targets():
    resolver = CountingResolver()
    guard = SendTimeGuard(allow_loopback=False, resolver=resolver, max_entries=2)

    for host in ("a.example.com", "b.example.com", "a.example.com", "c.example.com", "a.example.com",
                 "b.example.com"):
        await guard.check(f"https://{host}/hook")

    assert [host for host, _ in resolver.lookups] == ["a.example.com", "b.example.com", "c.example.com",
                                                      "b.example.com"]
    assert len(guard) == 2


async def test_a_cached_answer_expires_after_its_ttl():
    resolver = CountingResolver()
    now = [100.0]
    guard = SendTimeGuard(allow_loopback=False, resolver=resolver, ttl=30.0, monotonic=lambda: now[0])

    await guard.check("https://hooks.example.com/a")
    now[0] += 29.0
    await guard.check("https://hooks.example.com/a")
    now[0] += 2.0
    await guard.check("https://hooks.example.com/a")

    assert len(resolver.lookups) == 2


async def test_a_refusal_is_cached_like_a_pass_and_says_why():
    resolver = CountingResolver("10.0.0.1")
    guard = SendTimeGuard(allow_loopback=False, resolver=resolver)

    for _ in range(2):
        with pytest.raises(ValidationFailed, match="10.0.0.1") as info:
            await guard.check("https://internal.example.com/hook")
        assert info.value.code == "target_url_forbidden"
    assert len(resolver.lookups) == 1


def test_a_port_that_is_not_a_number_is_refused_clearly():
    with pytest.raises(ValidationFailed) as info:
        check_target_url("https://hooks.example.com:http/x", resolver=PUBLIC)
    assert info.value.code == "target_url_invalid"
