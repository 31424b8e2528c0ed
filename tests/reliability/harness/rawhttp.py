"""One HTTP/1.1 request over a plain socket, so its path reaches the server byte for byte.

HTTP clients normalise ``..`` segments and re-encode ``%2F`` before sending; a path-traversal test has
to send exactly what an attacker would.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import attrs


@attrs.frozen
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(port: int, method: str, raw_path: str, *, headers: dict[str, str] | None = None,
            body: bytes = b"", timeout: float = 10.0) -> RawAnswer:
    lines = [f"{method} {raw_path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    head, _, rest = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    return RawAnswer(status=int(status_line.split()[1]), headers=parsed, body=rest)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out
