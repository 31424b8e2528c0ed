"""The web app's own session: a signed cookie kept out of ``scope["session"]`` (a host app's)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from core.testing import LiveServer
from core.web.session import COOKIE, OwnSessionMiddleware, own_session


async def remember(request: Request) -> Response:
    own_session(request)["seen"] = request.query_params["value"]
    return JSONResponse({"host_app_session": "session" in request.scope})


async def recall(request: Request) -> Response:
    return JSONResponse(own_session(request))


async def forget(request: Request) -> Response:
    own_session(request).clear()
    return JSONResponse({})


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    inner = Starlette(routes=[Route("/remember", remember), Route("/recall", recall), Route("/forget", forget)])
    inner.add_middleware(OwnSessionMiddleware, secret_key="k" * 32)
    with LiveServer(Starlette(routes=[Mount("/prefix", app=inner)])) as server, \
            httpx.Client(base_url=f"{server.url}/prefix", timeout=10) as http:
        yield http


def test_what_the_app_keeps_comes_back_on_the_next_request_and_never_lands_in_scope_session(client):
    answer = client.get("/remember", params={"value": "watercolour"})

    assert answer.json() == {"host_app_session": False}
    assert client.get("/recall").json() == {"seen": "watercolour"}
    (cookie,) = answer.headers.get_list("set-cookie")
    assert cookie.startswith(f"{COOKIE}=") and "path=/prefix;" in cookie and "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_request_that_changes_nothing_sets_no_cookie(client):
    client.get("/remember", params={"value": "watercolour"})

    assert "set-cookie" not in client.get("/recall").headers


def test_a_tampered_cookie_is_an_empty_session(client):
    client.get("/remember", params={"value": "watercolour"})
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"), path="/prefix")

    assert client.get("/recall").json() == {}


def test_clearing_the_session_expires_the_cookie(client):
    client.get("/remember", params={"value": "watercolour"})

    answer = client.get("/forget")

    (cookie,) = answer.headers.get_list("set-cookie")
    assert cookie.startswith(f"{COOKIE}=null;") and "expires=Thu, 01 Jan 1970" in cookie
    assert client.get("/recall").json() == {}
