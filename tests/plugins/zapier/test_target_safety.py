"""Target URLs in production: https only, and never a loopback, private, link-local or metadata address."""

from __future__ import annotations

import pytest

PUBLIC_IP = "93.184.216.34"
ADDRESSES = {"hooks.zapier.com": [PUBLIC_IP], "evil.example": ["10.1.2.3"],
             "sneaky.example": [PUBLIC_IP, "127.0.0.1"], "v6.example": ["::ffff:169.254.169.254"]}


@pytest.fixture
def zapier_settings():
    return {"allow_loopback_targets": False}


@pytest.fixture(autouse=True)
def fake_dns(zapier_host):
    """No real DNS in tests: names resolve from ADDRESSES, IP literals to themselves."""

    def resolve(host: str, port: int) -> list[str]:
        return ADDRESSES.get(host, [host])

    zapier_host.subscriptions.resolver = resolve


def subscribe(zapier, url):
    return zapier.post("/api/zapier/hooks", json={"target_url": url, "event": "purchase.completed"})


def test_a_public_https_target_is_accepted(zapier):
    assert subscribe(zapier, "https://hooks.zapier.com/hooks/standard/1/abc/").status_code == 201


@pytest.mark.parametrize("url, code", [
    ("http://hooks.zapier.com/hooks/standard/1/", "target_url_insecure"),
    ("https://127.0.0.1/hook", "target_url_forbidden"),
    ("https://10.0.0.5/hook", "target_url_forbidden"),
    ("https://192.168.1.10/hook", "target_url_forbidden"),
    ("https://169.254.169.254/latest/meta-data/", "target_url_forbidden"),
    ("https://metadata.google.internal/computeMetadata/v1/", "target_url_forbidden"),
    ("https://evil.example/hook", "target_url_forbidden"),
    ("https://sneaky.example/hook", "target_url_forbidden"),
    ("https://v6.example/hook", "target_url_forbidden"),
    ("https://user:pw@hooks.zapier.com/x", "target_url_invalid"),
    ("ftp://hooks.zapier.com/x", "target_url_invalid"),
])
def test_unsafe_targets_are_refused_with_a_clear_400(zapier, zapier_host, site, url, code):
    response = subscribe(zapier, url)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert zapier_host.subscriptions.list(site.tenant.id) == []


def test_a_name_resolving_to_a_private_address_is_named_in_the_error(zapier):
    message = subscribe(zapier, "https://evil.example/hook").json()["error"]["message"]
    assert "evil.example" in message and "10.1.2.3" in message
