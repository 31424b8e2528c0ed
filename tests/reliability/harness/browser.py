"""A creator's browser on the settings page: signed in through ``/login`` with the page's CSRF token,
holding the session cookie (what a hostile page would ride on) and sending the page's Origin."""

from __future__ import annotations

import re

import httpx

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def sign_in(base_url: str, tenant_token: str) -> tuple[httpx.Client, str]:
    """A client with the tenant's session cookie, and the session's current CSRF token."""
    client = httpx.Client(base_url=base_url, timeout=20, follow_redirects=False, headers={"Origin": base_url})
    page = client.get("/login")
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    answer = client.post("/login", data={"token": tenant_token, "csrf_token": found.group(1),
                                         "next": "/settings/integrations"})
    assert answer.status_code == 303, answer.text[:500]
    settings = client.get("/settings/integrations")
    assert settings.status_code == 200, settings.text[:500]
    meta = META.search(settings.text)
    assert meta, settings.text[:500]
    return client, meta.group(1)
