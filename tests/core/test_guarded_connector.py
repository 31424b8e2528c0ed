"""Deliveries' aiohttp connector: every address checked at connection time, connections reused per target."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.guarded_connector import ForbiddenTargetAddress, guarded_connector
from tests.core.test_guarded_transport import resolving, self_signed

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello"


class Receiver:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that counts connections and records Host headers."""

    def __init__(self) -> None:
        self.connections = 0
        self.hosts: list[str] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"host":
                        self.hosts.append(value.strip().decode())
                    if name.lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    made = Receiver()
    server = await asyncio.start_server(made.handle, "127.0.0.1", 0)
    made.port = server.sockets[0].getsockname()[1]
    async with server:
        yield made
        server.close()


async def post(connector: aiohttp.TCPConnector, *urls: str) -> list[str]:
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = []
        for url in urls:
            async with session.post(url, data=b"{}") as response:
                answers.append(await response.text())
        return answers


async def test_a_name_is_connected_to_the_address_it_was_checked_at(receiver):
    connector = guarded_connector(allow_loopback=True, limit=4, resolver=resolving("127.0.0.1"))

    assert await post(connector, f"http://receiver.test:{receiver.port}/") == ["hello"]
    assert receiver.hosts == [f"receiver.test:{receiver.port}"], "the request keeps its own Host; the socket is pinned"


async def test_posts_to_one_target_reuse_its_connection(receiver):
    connector = guarded_connector(allow_loopback=True, limit=4, resolver=resolving("127.0.0.1"))

    answers = await post(connector, *[f"http://receiver.test:{receiver.port}/hook"] * 5)

    assert answers == ["hello"] * 5
    assert receiver.connections == 1


async def test_a_name_resolving_to_a_forbidden_address_at_connect_time_is_never_connected(receiver):
    connector = guarded_connector(allow_loopback=False, limit=4, resolver=resolving("127.0.0.1"))

    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await post(connector, f"http://receiver.test:{receiver.port}/")

    assert isinstance(info.value.__cause__, ForbiddenTargetAddress)
    assert "127.0.0.1" in str(info.value.__cause__) and "public addresses only" in str(info.value.__cause__)
    assert receiver.connections == 0


async def test_one_forbidden_address_among_public_ones_refuses_the_whole_name(receiver):
    connector = guarded_connector(allow_loopback=True, limit=4, resolver=resolving("127.0.0.1", "10.0.0.7"))

    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await post(connector, f"http://receiver.test:{receiver.port}/")

    assert "10.0.0.7" in str(info.value.__cause__)
    assert receiver.connections == 0


async def test_an_ip_literal_is_checked_as_it_is(receiver):
    allowed = guarded_connector(allow_loopback=True, limit=4)
    assert await post(allowed, f"http://127.0.0.1:{receiver.port}/") == ["hello"]

    refused = guarded_connector(allow_loopback=False, limit=4)
    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await post(refused, f"http://127.0.0.1:{receiver.port}/")

    assert isinstance(info.value.__cause__, ForbiddenTargetAddress)
    assert receiver.connections == 1


@pytest.mark.parametrize("address", ["169.254.169.254", "10.1.2.3", "::1", "0.0.0.0"])
async def test_metadata_private_and_unspecified_literals_are_refused_before_any_socket_connects(address):
    connector = guarded_connector(allow_loopback=False, limit=4)
    host = f"[{address}]" if ":" in address else address

    with pytest.raises(aiohttp.ClientConnectorError) as info:
        await post(connector, f"http://{host}:9/")

    assert isinstance(info.value.__cause__, ForbiddenTargetAddress)


async def test_an_address_that_refuses_the_connection_falls_back_to_the_next_checked_one(receiver):
    connector = guarded_connector(allow_loopback=True, limit=4, resolver=resolving("127.0.0.2", "127.0.0.1"))

    assert await post(connector, f"http://receiver.test:{receiver.port}/") == ["hello"]


async def test_a_name_that_does_not_resolve_is_a_clear_connect_error():
    connector = guarded_connector(allow_loopback=True, limit=4, resolver=resolving("127.0.0.1"))

    with pytest.raises(aiohttp.ClientConnectorError, match="does not resolve.*check the URL"):
        await post(connector, "http://nowhere.test:9/")


async def test_the_system_resolver_is_used_by_default(receiver):
    connector = guarded_connector(allow_loopback=True, limit=4)

    assert await post(connector, f"http://localhost:{receiver.port}/") == ["hello"]
    assert receiver.hosts == [f"localhost:{receiver.port}"]


async def test_tls_is_verified_for_the_name_in_the_url_not_the_pinned_address(tmp_path):
    cert, key = self_signed("receiver.test", tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
    port = server.sockets[0].getsockname()[1]
    trust = ssl.create_default_context(cafile=cert)
    async with server:
        connector = guarded_connector(allow_loopback=True, limit=4, tls=trust, resolver=resolving("127.0.0.1"))
        assert await post(connector, f"https://receiver.test:{port}/") == ["hello"]

        impostor = guarded_connector(allow_loopback=True, limit=4, tls=trust,
                                     resolver=lambda host, port: resolving("127.0.0.1")("receiver.test", port))
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await post(impostor, f"https://impostor.test:{port}/")
        server.close()


async def test_the_default_tls_context_verifies_certificates():
    connector = guarded_connector(allow_loopback=True, limit=4)

    assert connector._ssl.verify_mode is ssl.CERT_REQUIRED and connector._ssl.check_hostname  # type: ignore[union-attr]
