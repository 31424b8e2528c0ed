"""A webhook receiver that answers every POST with 200, fast enough not to be what is measured.

An asyncio protocol that speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies): the delivery
benchmark's target, for the host's deliverer and the httpx baseline alike.

    python -m bench.receiver --port PORT [--seconds LIMIT]
"""

from __future__ import annotations

import argparse
import asyncio

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


class Receiver(asyncio.Protocol):
    received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            Receiver.received += 1
            self.transport.write(RESPONSE)


async def serve(port: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024)
    async with server:
        await asyncio.sleep(seconds)  # bounded: the benchmark stops it long before


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=900.0)
    args = parser.parse_args()
    from core import server_stack

    server_stack.run(serve(args.port, args.seconds))  # uvloop: the receiver must not be what is measured


if __name__ == "__main__":
    main()
