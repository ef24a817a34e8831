"""Many phones at once: a real server answers every request and stays alive (issue 21, item 2).

Regression: 100 clients x 3 ``GET /me/schedule`` brought the API down on both backends (500s
"QueuePool limit ... reached", timeouts, ``/health`` silent for 100 s) because requests held a
pooled connection while waiting for a worker thread.  Here the pool is made tiny (2
connections, no overflow) so the old deadlock would be certain; the server must queue the
requests and answer them all.  Not a timing test: figures live in ``benchmarks/load``.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from sqlmodel import Session

from api.app import create_app
from api.security import create_access_token
from dispatch.access.passwords import hash_password
from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from dispatch.settings import Settings
from tests.api.conftest import DAY, WORKER_OF, LiveServer
from tests.api.test_schedule import plan_and_publish


async def _fetch_all(base: str, tokens: list[str], rounds: int) -> list[int | str]:
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def one_phone(token: str) -> list[int | str]:
            out: list[int | str] = []
            for _ in range(rounds):
                try:
                    r = await client.get("/api/v1/me/schedule", params={"from": DAY.isoformat(), "to": DAY.isoformat()},
                                         headers={"Authorization": f"Bearer {token}"})
                    out.append(r.status_code if r.status_code == 200 else f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    out.append(type(exc).__name__)
            return out

        results = await asyncio.gather(*(one_phone(t) for t in tokens))
    return [x for phone in results for x in phone]


def test_hundred_phones_at_once_all_get_their_schedule(api, database_url: str, tmp_path) -> None:
    """100 clients x 3 schedule fetches against a 2-connection pool: 300 x 200, and /health answers after."""
    plan_and_publish(api)
    with Session(api.engine) as s:
        s.add(m.User(username="worker3", password_hash=hash_password("irrelevant-pass-1"), role=m.UserRole.WORKER,
                     worker_id="W3"))
        s.commit()
    settings = Settings(database_url=database_url, data_dir=tmp_path, secret_key="test-secret-" + "x" * 32,
                        db_pool_size=2, db_max_overflow=0, db_queue_timeout_s=60)
    engine = make_engine(database_url, settings=settings)
    users = [("worker", WORKER_OF["worker"]), ("worker2", WORKER_OF["worker2"]), ("worker3", "W3")]
    now = dt.datetime.now(dt.UTC)
    tokens = [create_access_token(settings.secret_key.get_secret_value(), u, "worker", w, now, 60)
              for u, w in users] * 34
    try:
        with LiveServer(create_app(settings, engine)) as server:
            base = server.base_url
            statuses = asyncio.run(_fetch_all(base, tokens[:100], rounds=3))
            assert len(statuses) == 300
            failures = [s for s in statuses if s != 200]
            assert failures == [], f"{len(failures)} of 300 failed, e.g. {failures[:3]}"
            assert httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200
    finally:
        engine.dispose()
