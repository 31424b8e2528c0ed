"""A host builds on an empty database and serves its health check."""

import httpx

from core.web.app import create_app


def test_health_reports_the_database_up(host, live_server):
    url = live_server(create_app(host))
    response = httpx.get(f"{url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
