"""8. Redaction per log line with 20,000 known secrets vs the same log line without redaction.

Each line goes through ``logging`` to a handler writing to memory, as the host's own lines do; the
measured handler carries the host's ``RedactingFilter`` over an index holding 20,000 secrets (half
Zapier-style target URLs that share their first 37 characters, half API keys), the baseline handler
none. Lines are a delivery log line without any secret (the usual case: target at most 3x the
unredacted line) and one naming a target (the filter then masks it). For scale, the same line through
the previous redaction (a sorted copy of every secret per line, each tested with ``in``). Also
recorded: the index's memory at 20,000 secrets and at its bound.
"""

from __future__ import annotations

import io
import logging
import secrets as random
import statistics
import tracemalloc

from bench.common import Options, Result, cpu_seconds_per_call

TARGET = 3.0
KNOWN = 20_000


def fake_secret(i: int) -> str:
    if i % 2:
        return f"https://hooks.zapier.com/hooks/catch/{random.randbelow(10**7)}/{random.token_hex(4)}/"
    return f"izk_{random.token_urlsafe(30)}"


def _logger(name: str, handler_filter: logging.Filter | None) -> logging.Logger:
    handler = logging.StreamHandler(io.StringIO())
    if handler_filter is not None:
        handler.addFilter(handler_filter)
    logger = logging.getLogger(f"bench.redaction.{name}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


class _PreviousFilter(logging.Filter):
    """What redaction did before the index: copy and sort every secret for each record, test each."""

    def __init__(self, known: list[str]) -> None:
        super().__init__()
        self.known = set(known)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for secret in sorted(self.known, key=len, reverse=True):
            if secret in message:
                message = message.replace(secret, "***")
        record.msg, record.args = message, None
        return True


def _previous_redaction(known: list[str], line: tuple[str, tuple[object, ...]], plain: logging.Logger,
                        opts: Options) -> Result:
    previous = _logger("previous", _PreviousFilter(known))
    loops = opts.pick(20, 50)
    message, args = line
    p = cpu_seconds_per_call(lambda: previous.info(message, *args), loops, 3)
    b = cpu_seconds_per_call(lambda: plain.info(message, *args), loops * 20, 3)
    return Result(bench="redaction", case=f"the previous redaction (sorted copy per line), {len(known):,} secrets",
                  value=p * 1e6, unit="us/line", baseline="the same line unredacted", baseline_value=b * 1e6,
                  ratio=p / b, details={"loops": loops})


def _index_bytes(count: int) -> int:
    from core.redact import SecretIndex

    values = [fake_secret(i) for i in range(count)]  # made before measuring: only the index counts
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = SecretIndex()
    for value in values:
        index.add(value)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del index
    return used


def run(opts: Options) -> list[Result]:
    from core.redact import MAX_SECRETS, RedactingFilter, SecretIndex

    known, loops, repeats = opts.pick((500, 200, 3), (KNOWN, 20_000, 7))
    index = SecretIndex()
    targets = [fake_secret(i) for i in range(known)]
    for value in targets:
        index.add(value)
    plain, redacting = _logger("plain", None), _logger("redacting", RedactingFilter(index))
    lines = {
        "a line without a secret": ("delivery %s to %s attempt %d answered %d after %d ms; next attempt at %s",
                                    ("dlv_18ee26748b07d79fd716adc987a", "hooks.zapier.com", 3, 500, 123,
                                     "2026-01-01T12:05:00Z")),
        "a line naming a known target": ("delivery %s to %s attempt %d answered %d after %d ms",
                                         ("dlv_18ee26748b07d79fd716adc987a", targets[1], 3, 500, 123)),
    }
    results = []
    for case, (message, args) in lines.items():
        redacted_out = io.StringIO()
        check = logging.StreamHandler(redacted_out)
        check.addFilter(RedactingFilter(index))
        check.handle(logging.LogRecord("bench", logging.INFO, __file__, 1, message, args, None))
        assert targets[1] not in redacted_out.getvalue()

        def unredacted(message: str = message, args: tuple[object, ...] = args) -> None:
            plain.info(message, *args)

        def redacted(message: str = message, args: tuple[object, ...] = args) -> None:
            redacting.info(message, *args)

        base_t, host_t = [], []
        for _ in range(repeats):  # alternate, so drift hits both
            base_t.append(cpu_seconds_per_call(unredacted, loops, 1))
            host_t.append(cpu_seconds_per_call(redacted, loops, 1))
        h, b = statistics.median(host_t), statistics.median(base_t)
        usual = case == "a line without a secret"
        results.append(Result(bench="redaction", case=f"{case}, {known:,} known secrets", value=h * 1e6,
                              unit="us/line", baseline="the same line unredacted", baseline_value=b * 1e6,
                              ratio=h / b, target="<= 3x baseline time" if usual else "",
                              met=h / b <= TARGET if usual else None,
                              details={"known_secrets": known, "loops": loops, "repeats": repeats}))
    results.append(_previous_redaction(targets, lines["a line without a secret"], plain, opts))
    memory_at = opts.pick((500, 1_000), (KNOWN, MAX_SECRETS))
    sizes = {count: _index_bytes(count) for count in memory_at}
    results.append(Result(bench="redaction", case=f"index memory, {memory_at[0]:,} / {memory_at[1]:,} (the bound)",
                          value=sizes[memory_at[0]] / 2**20, unit="MiB",
                          details={"bytes": {str(k): v for k, v in sizes.items()}, "bound": MAX_SECRETS,
                                   f"at_{memory_at[1]}_mib": sizes[memory_at[1]] / 2**20}))
    return results
