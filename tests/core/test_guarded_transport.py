"""Deliveries connect only to addresses checked at connection time (SSRF through DNS rebinding)."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from core.guarded_transport import GuardedSyncTransport, GuardedTransport, TargetAddressForbidden, guarded_client


@pytest.fixture
def server(live_server):
    """A real receiver on 127.0.0.1; returns (port, the Host headers it saw)."""
    seen: list[str] = []

    async def hello(request: Request) -> PlainTextResponse:
        seen.append(request.headers["host"])
        return PlainTextResponse("hello")

    url = live_server(Starlette(routes=[Route("/", hello)]))
    return int(url.rsplit(":", 1)[1]), seen


def resolving(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        if host != "receiver.test":
            raise OSError(f"unknown host {host}")
        return list(addresses)
    return resolve


async def get(transport: GuardedTransport, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url)


async def test_a_name_is_connected_to_the_address_it_was_checked_at(server):
    port, seen = server
    transport = GuardedTransport(allow_loopback=True, resolver=resolving("127.0.0.1"))

    answer = await get(transport, f"http://receiver.test:{port}/")

    assert answer.text == "hello"
    assert seen == [f"receiver.test:{port}"], "the request keeps its own Host; only the socket is pinned"


async def test_a_name_resolving_to_a_forbidden_address_at_connect_time_is_never_connected(server):
    port, seen = server
    transport = GuardedTransport(allow_loopback=False, resolver=resolving("127.0.0.1"))

    with pytest.raises(httpx.ConnectError) as info:
        await get(transport, f"http://receiver.test:{port}/")

    assert isinstance(info.value.__cause__, TargetAddressForbidden)
    assert "127.0.0.1" in str(info.value) and "public addresses only" in str(info.value)
    assert seen == []


async def test_one_forbidden_address_among_public_ones_refuses_the_whole_name(server):
    port, seen = server
    transport = GuardedTransport(allow_loopback=True, resolver=resolving("127.0.0.1", "10.0.0.7"))

    with pytest.raises(httpx.ConnectError, match="10.0.0.7"):
        await get(transport, f"http://receiver.test:{port}/")
    assert seen == []


async def test_an_address_that_refuses_the_connection_falls_back_to_the_next_checked_one(server):
    port, seen = server
    transport = GuardedTransport(allow_loopback=True, resolver=resolving("127.0.0.2", "127.0.0.1"))

    assert (await get(transport, f"http://receiver.test:{port}/")).text == "hello"
    assert len(seen) == 1


async def test_a_name_that_does_not_resolve_is_a_clear_connect_error():
    transport = GuardedTransport(allow_loopback=True, resolver=resolving("127.0.0.1"))

    with pytest.raises(httpx.ConnectError, match="does not resolve"):
        await get(transport, "http://nowhere.test:9/")


async def test_the_system_resolver_is_used_by_default(server):
    port, seen = server

    answer = await get(GuardedTransport(allow_loopback=True), f"http://localhost:{port}/")

    assert answer.text == "hello" and seen == [f"localhost:{port}"]


async def test_an_ip_literal_is_checked_as_it_is(server):
    port, seen = server

    assert (await get(GuardedTransport(allow_loopback=True), f"http://127.0.0.1:{port}/")).text == "hello"
    with pytest.raises(httpx.ConnectError, match="127.0.0.1"):
        await get(GuardedTransport(allow_loopback=False), f"http://127.0.0.1:{port}/")
    assert len(seen) == 1


def self_signed(name: str, directory) -> tuple[str, str]:
    """A certificate for ``name`` and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def test_tls_is_verified_for_the_name_in_the_url_not_the_pinned_address(tmp_path):
    import asyncio
    import ssl

    cert, key = self_signed("receiver.test", tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=cert)

    async def resolve(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    try:
        async with server:
            transport = GuardedTransport(allow_loopback=True, verify=trust, resolver=resolve)
            assert (await get(transport, f"https://receiver.test:{port}/")).text == "hello"

            transport = GuardedTransport(allow_loopback=True, verify=trust, resolver=resolve)
            with pytest.raises(httpx.ConnectError, match="certificate"):
                await get(transport, f"https://impostor.test:{port}/")
    finally:
        server.close()


# ---------------------------------------------------------------------------- the synchronous twin (ctx.http)
def resolving_sync(*addresses: str):
    def resolve(host: str, port: int) -> list[str]:
        if host != "receiver.test":
            raise OSError(f"unknown host {host}")
        return list(addresses)
    return resolve


def test_the_sync_transport_connects_a_name_to_the_address_it_was_checked_at(server):
    port, seen = server
    with httpx.Client(transport=GuardedSyncTransport(allow_loopback=True, resolver=resolving_sync("127.0.0.1"))) as c:
        assert c.get(f"http://receiver.test:{port}/").text == "hello"
    assert seen == [f"receiver.test:{port}"]


@pytest.mark.parametrize("addresses", [("127.0.0.1",), ("93.184.216.34", "10.0.0.7")])
def test_the_sync_transport_never_connects_a_name_with_a_forbidden_address(server, addresses):
    port, seen = server
    transport = GuardedSyncTransport(allow_loopback=False, resolver=resolving_sync(*addresses))

    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError) as info:
        client.get(f"http://receiver.test:{port}/")

    assert isinstance(info.value.__cause__, TargetAddressForbidden)
    assert addresses[-1] in str(info.value) and "public addresses only" in str(info.value)
    assert seen == []


def test_the_sync_transport_says_clearly_when_a_name_does_not_resolve():
    transport = GuardedSyncTransport(allow_loopback=True, resolver=resolving_sync("127.0.0.1"))
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ConnectError, match="does not resolve"):
        client.get("http://nowhere.test:9/")


def test_the_guarded_client_ignores_proxy_settings_from_the_environment(server, monkeypatch):
    port, seen = server
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would be the only address checked
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")

    with guarded_client(allow_loopback=True) as client:
        assert client.get(f"http://127.0.0.1:{port}/").text == "hello"
    assert seen == [f"127.0.0.1:{port}"]
