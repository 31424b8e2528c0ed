"""Delivery targets: https only, never loopback, private, link-local or metadata addresses (SSRF)."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from core.targets import check_target_url


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
