"""A small HTTP/1.1 load client: keep-alive connections over asyncio streams, one per simulated client.

Why not httpx or wrk: the load generator runs on the same 2-core machine as the server, so it
must cost little per request (a hand-rolled keep-alive exchange costs tens of microseconds;
httpx's async client costs about a millisecond), and every client needs its own bearer token
(one worker's phone each), which wrk cannot do without scripting.  The server is our own, so
the client only has to understand what uvicorn sends: a status line, headers with
``content-length``, a body.

Two behaviours, as the issue describes workers' phones:

* ``paced``: each client sends one request per period (1 s), phases spread evenly; a request
  slower than the period delays only that client's next request (no pile-up on one client).
* ``back_to_back``: each client sends its next request as soon as the previous answer arrived.

Every request ends as a status code, a ``timeout`` (no full answer within ``timeout_s``) or an
``error`` (connection refused/reset); latencies are wall-clock from the first byte sent to the
last byte read.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """What one client saw: a latency per completed request, and counts per status or failure."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    finished_at: list[float] = field(default_factory=list)  # perf_counter when each latency was measured

    def add(self, status: str, latency_ms: float | None) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if latency_ms is not None:
            self.latencies_ms.append(latency_ms)
            self.finished_at.append(time.perf_counter())


class _Connection:
    """One keep-alive connection; reopened after an error or ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, body


def get_request(host: str, port: int, path: str, token: str | None) -> bytes:
    """The bytes of a ``GET path`` with an optional bearer token."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}Accept: application/json\r\n\r\n").encode()


def post_request(host: str, port: int, path: str, token: str, body: object | None = None,
                 headers: dict[str, str] | None = None) -> bytes:
    """The bytes of a ``POST path`` with a bearer token, a JSON ``body`` (none: empty) and extra ``headers``."""
    payload = b"" if body is None else json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    content_type = "Content-Type: application/json\r\n" if body is not None else ""
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Accept: application/json\r\n{content_type}{extra}Content-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def exchange_timed(conn: _Connection, request: bytes, timeout_s: float, out: Outcome) -> tuple[int, bytes] | None:
    """Send ``request``, record its status (or ``timeout``/``error``) and latency in ``out``; the answer or None."""
    t0 = time.perf_counter()
    try:
        status, body = await asyncio.wait_for(conn.exchange(request), timeout_s)
    except TimeoutError:
        out.add("timeout", None)
        await conn.close()
        return None
    except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        out.add("error", None)
        await conn.close()
        return None
    out.add(str(status), (time.perf_counter() - t0) * 1000.0)
    return status, body


async def _one(conn: _Connection, request: bytes, timeout_s: float, out: Outcome) -> None:
    await exchange_timed(conn, request, timeout_s, out)


async def _client(host: str, port: int, request: bytes | Callable[[], bytes], *, start_at: float, stop_at: float,
                  period_s: float | None, timeout_s: float) -> Outcome:
    """One simulated client; ``request`` is the same bytes every time, or a factory for a new request each time
    (a coordinator's POST carries a new body and ``Idempotency-Key``)."""
    out = Outcome()
    conn = _Connection(host, port)
    loop = asyncio.get_running_loop()
    next_at = start_at
    try:
        while True:
            now = loop.time()
            if period_s is not None and next_at > now:
                await asyncio.sleep(next_at - now)
            if loop.time() >= stop_at:
                break
            await _one(conn, request() if callable(request) else request, timeout_s, out)
            if period_s is not None:
                next_at = max(next_at + period_s, loop.time())
    finally:
        await conn.close()
    return out


async def run_clients(host: str, port: int, requests: Sequence[bytes | Callable[[], bytes]], *, duration_s: float,
                      period_s: float | None, timeout_s: float = 10.0, begin: float | None = None) -> list[Outcome]:
    """Run ``len(requests)`` clients for ``duration_s`` (paced if ``period_s``, else back to back), from
    ``begin`` (the event loop's clock; default: in 0.2 s)."""
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.2 if begin is None else begin
    n = len(requests)
    tasks = [
        asyncio.create_task(_client(
            host, port, req,
            start_at=begin + (i * period_s / n if period_s else 0.0),
            stop_at=begin + duration_s, period_s=period_s, timeout_s=timeout_s,
        ))
        for i, req in enumerate(requests)
    ]
    return list(await asyncio.gather(*tasks))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) by the nearest-rank method; NaN for no values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 1))))
    return sorted_values[rank - 1]


def summarise(outcomes: Sequence[Outcome], duration_s: float, ok_statuses: Sequence[str] = ("200",)) -> dict[str, object]:
    """Totals over all clients: requests, statuses, throughput, p50/p95/p99/max latency.  A request is ``ok``
    when its status is one of ``ok_statuses``; every other status (or a broken connection) is an error."""
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    for o in outcomes:
        latencies += o.latencies_ms
        for k, v in o.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    latencies.sort()
    total = sum(statuses.values())
    ok = sum(statuses.get(code, 0) for code in ok_statuses)
    return {
        "requests": total,
        "ok": ok,
        "errors": total - ok - statuses.get("timeout", 0),
        "timeouts": statuses.get("timeout", 0),
        "statuses": dict(sorted(statuses.items())),
        "throughput_rps": round(ok / duration_s, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        **by_second(outcomes),
    }


def by_second(outcomes: Sequence[Outcome], slow_ms: float = 50.0) -> dict[str, object]:
    """When the slow answers came: the run cut into whole seconds (by when each answer arrived),
    ``slow_seconds`` lists the seconds (from the first answer) whose p95 was over ``slow_ms``, with that
    p95 and the answers in them.  A stall (a checkpoint, a pause) shows as a few seconds in a row; a server
    that cannot keep up, as most of them."""
    samples = [(t, lat) for o in outcomes for t, lat in zip(o.finished_at, o.latencies_ms)]
    if not samples:
        return {"slow_seconds": []}
    first = min(t for t, _ in samples)
    seconds: dict[int, list[float]] = {}
    for t, lat in samples:
        seconds.setdefault(int(t - first), []).append(lat)
    slow = []
    for second in sorted(seconds):
        values = sorted(seconds[second])
        p95 = percentile(values, 0.95)
        if p95 > slow_ms:
            slow.append([second, round(p95, 1), len(values)])
    return {"seconds": len(seconds), "slow_seconds": slow}
