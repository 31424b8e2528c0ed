"""Load generators for the HTTP benchmark, each in its own process, each request a distinct signed event.

* **wrk** (Debian's package) with ``wrk_signed.lua``: wrk's Lua has no HMAC, so the bodies and their
  ``Stripe-Signature`` headers are signed beforehand (here, in Python) into a file the script cycles
  through, one line ``signature<TAB>body`` per event. wrk is C and needs a fraction of a core for
  tens of thousands of requests per second, which matters on a 2-core machine.
* **python** (this module, ``python -m bench.loadgen``): an asyncio HTTP/1.1 keep-alive client with
  the same number of connections, used when wrk is not installed (the test suite, CI). It is slower
  than wrk (it can be the bottleneck against the bare route), so the table says which one ran.

Both print one JSON line: requests, non-2xx, errors, seconds, p50/p99 latency in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, percentile, python
from bench.events import signed_bodies

LUA = Path(__file__).with_name("wrk_signed.lua")


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def write_bodies(path: Path, count: int) -> Path:
    """``count`` signed events, one ``signature<TAB>body`` line each (for wrk and the Python client alike)."""
    with path.open("wb") as f:
        for signature, body in signed_bodies(count):
            f.write(signature.encode() + b"\t" + body + b"\n")
    return path


def run(kind: str, url: str, bodies: Path, *, connections: int, seconds: float, max_requests: int) -> dict[str, Any]:
    """Drive ``url`` for ``seconds`` (bounded) with ``connections``; returns the generator's summary."""
    if kind == "wrk":
        args = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                "-s", str(LUA), url, "--", str(bodies)]
    else:
        args = [python(), "-m", "bench.loadgen", url, str(bodies), "--connections", str(connections),
                "--seconds", str(seconds), "--max-requests", str(max_requests)]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, cwd=ROOT, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            summary: dict[str, Any] = json.loads(line[len("BENCHJSON "):])
            summary["generator"] = kind
            return summary
    raise RuntimeError(f"{kind} printed no summary (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")


# ---------------------------------------------------------------------- the Python generator
async def _drive(url: str, requests: list[bytes], connections: int, seconds: float) -> dict[str, Any]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    counts = {"ok": 0, "non2xx": 0, "errors": 0}
    next_index = 0
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < len(requests) and time.perf_counter() < deadline:
                request = requests[next_index]
                next_index += 1
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                counts["ok" if 200 <= status < 300 else "non2xx"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {"requests": counts["ok"] + counts["non2xx"], "non2xx": counts["non2xx"], "errors": counts["errors"],
            "seconds": elapsed, "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000}


def _requests(url: str, bodies: Path, limit: int) -> list[bytes]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    out = []
    with bodies.open("rb") as f:
        for line in f:
            if len(out) >= limit:
                break
            signature, body = line.rstrip(b"\n").split(b"\t", 1)
            out.append(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nStripe-Signature: %s\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (parts.path.encode(), parts.netloc.encode(), signature,
                                                          len(body), body))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("url")
    parser.add_argument("bodies", type=Path)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()
    requests = _requests(args.url, args.bodies, args.max_requests)
    summary = asyncio.run(_drive(args.url, requests, args.connections, args.seconds))
    sys.stdout.write("BENCHJSON " + json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
