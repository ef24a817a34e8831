"""Load benchmark: workers' phones fetching their schedule, against a real server on this machine.

    python -m benchmarks.load --backend sqlite postgresql --clients 100 200 --duration 60 \
        --out benchmarks/results/load.json

For each backend: a fresh database with the published demo day (``site.prepare``), one
``carepath serve`` process, a login per worker, then for each client count two runs:

* ``paced``: every client fetches ``GET /api/v1/me/schedule`` once a second (phones polling);
* ``back_to_back``: every client fetches again as soon as it has an answer (the worst case).

Printed and written per run: requests, statuses, errors (anything but 200, timeouts apart),
timeouts (no answer within 10 s), throughput, p50/p95/p99/max latency, how long ``/health``
took to answer right after the run, and the server log's error lines.  The load generator
(``client.py``, asyncio, one process) and the server share the machine; both are named in the
output with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.load import client, site


def _server_errors(log_text: str) -> dict[str, int]:
    lines = log_text.splitlines()
    return {
        "tracebacks": sum(1 for ln in lines if ln.startswith("Traceback")),
        "pool_exhausted": sum(1 for ln in lines if "QueuePool limit" in ln),
        "database_locked": sum(1 for ln in lines if "database is locked" in ln),
    }


def run_backend(backend: str, clients: list[int], modes: list[str], duration_s: float, workdir: Path) -> list[dict]:
    rows = []
    with site.fresh_database(backend, workdir) as url:
        t0 = time.monotonic()
        prepared = site.prepare(url)
        print(f"[{backend}] prepared {len(prepared.worker_users)} worker logins for {prepared.day} "
              f"in {time.monotonic() - t0:.0f} s", flush=True)
        with site.running_server(url, workdir) as server:
            base = f"http://{server.host}:{server.port}"
            tokens = [site.login(base, u, site.WORKER_PASSWORD) for u in prepared.worker_users]
            path = f"/api/v1/me/schedule?from={prepared.day}&to={prepared.day}"
            for mode in modes:
                for n in clients:
                    requests = [client.get_request(server.host, server.port, path, tokens[i % len(tokens)])
                                for i in range(n)]
                    log_before = len(server.log_text())
                    load_before = os.getloadavg()[0]
                    outcomes = asyncio.run(client.run_clients(
                        server.host, server.port, requests, duration_s=duration_s,
                        period_s=1.0 if mode == "paced" else None))
                    health_s = site.wait_healthy(base, 120)
                    row = {"backend": backend, "mode": mode, "clients": n, "duration_s": duration_s,
                           **client.summarise(outcomes, duration_s),
                           "health_after_s": None if health_s is None else round(health_s, 2),
                           "server_log": _server_errors(server.log_text()[log_before:]),
                           "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    time.sleep(3)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--clients", nargs="+", type=int, default=[100, 200])
    parser.add_argument("--modes", nargs="+", choices=["paced", "back_to_back"], default=["paced", "back_to_back"])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args(argv)

    from benchmarks.peers.report import machine

    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="carepath-load-") as tmp:
        for backend in args.backend:
            rows += run_backend(backend, args.clients, args.modes, args.duration, Path(tmp))
    context = machine() + "; load generator: benchmarks/load/client.py (asyncio, 1 process) on the same machine"
    print(context)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"machine": context, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
