"""The system under load: a database with a published demo day, worker logins, and a real server.

``prepared_database`` loads the generated Kielce week into a fresh database (an SQLite file, or
a new PostgreSQL database that is dropped afterwards), plans and publishes the demo day, and
gives every worker a login, so that ``GET /api/v1/me/schedule`` returns each phone its own
visits.  ``running_server`` starts ``carepath serve`` (one uvicorn process, as the README
deploys it) as a child process on a free port and stops it afterwards; its log is kept so
the report can count server-side errors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
WORKER_PASSWORD = "load-test-password-1"


@dataclass(frozen=True)
class Site:
    database_url: str
    day: dt.date
    worker_users: tuple[str, ...]
    """Usernames of workers with at least one visit on ``day`` in the published roster."""


@contextlib.contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A new, empty database URL for ``backend``; a PostgreSQL one is dropped on exit."""
    if backend == "sqlite":
        yield f"sqlite:///{(directory / 'load.db').resolve()}"
        return
    import psycopg

    name = f"carepath_load_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                         "AND pid <> pg_backend_pid()", (name,))
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def prepare(database_url: str, *, seed: int = 2026, time_limit_s: float = 5.0) -> Site:
    """Migrate, load the demo week, plan and publish its demo day, create one login per worker."""
    from sqlmodel import select

    from dispatch.storage import models as m
    from dispatch.storage.db import make_engine, session_scope
    from dispatch.storage.migrate import upgrade
    from dispatch.planning.publish import etag, mandatory_request_ids, publish_latest, unplaced_mandatory
    from dispatch.planning.rosters import plan_day
    from fixtures.seed import load_scenario
    from dispatch.settings import get_settings
    from dispatch.providers.travel import provider_from_settings
    from dispatch.access.users import create_user
    from fixtures.generator import BENCHMARK_PROFILE, generate
    from optimizer import load_params, load_weights

    upgrade(database_url)
    scenario = generate(seed, profile=BENCHMARK_PROFILE)
    day = scenario.demo_date
    settings = get_settings()
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            load_scenario(session, scenario, replace=True, actor="load benchmark")
        params = load_params(None, time_limit_s=time_limit_s)
        planned = plan_day(engine, day, provider_from_settings(settings), params, settings.timezone, load_weights(None))
        with session_scope(engine) as session:
            # a short solve may leave mandatory visits unplaced: publishing then needs them acknowledged
            missing = mandatory_request_ids(unplaced_mandatory(session, planned.roster.id or 0))
            publish_latest(session, day, etag(planned.roster), "load benchmark", acknowledged=missing)
        with session_scope(engine) as session:
            busy = sorted(set(session.exec(
                select(m.RosterAssignment.worker_id).where(m.RosterAssignment.roster_id == planned.roster.id)
            ).all()))
            users = []
            for worker_id in busy:
                username = f"load-{worker_id}".lower()
                create_user(session, "load benchmark", username, WORKER_PASSWORD, m.UserRole.WORKER, worker_id)
                users.append(username)
    finally:
        engine.dispose()
    return Site(database_url, day, tuple(users))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def _get(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - our own loopback server
        return int(resp.status)


def wait_healthy(base: str, timeout_s: float) -> float | None:
    """Seconds until ``/health`` answered 200, or None if it did not within ``timeout_s``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        try:
            if _get(f"{base}/api/v1/health", timeout=2.0) == 200:
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.1)
    return None


@contextlib.contextmanager
def running_server(database_url: str, directory: Path, extra_env: dict[str, str] | None = None) -> Iterator[Server]:
    """``carepath serve`` on a free loopback port, with a random secret; stopped (SIGINT) on exit."""
    port = free_port()
    log_path = directory / f"server-{port}.log"
    env = dict(os.environ)
    env.update({
        "CAREPATH_DATABASE_URL": database_url,
        "CAREPATH_SECRET_KEY": secrets.token_urlsafe(48),
        "CAREPATH_DATA_DIR": str(directory),
        "CAREPATH_LOG_LEVEL": "WARNING",
    })
    env.update(extra_env or {})
    cli = [sys.executable, "-c", "from dispatch.cli.app import main; main()", "serve", "--host", "127.0.0.1",
           "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cli, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server("127.0.0.1", port, process, log_path)
    try:
        if wait_healthy(f"http://127.0.0.1:{port}", 60) is None:
            raise RuntimeError(f"the server did not start; its log:\n{server.log_text()[-3000:]}")
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login(base: str, username: str, password: str) -> str:
    """A bearer token for ``username`` through ``POST /api/v1/auth/token``."""
    import json
    import urllib.parse

    data = urllib.parse.urlencode({"username": username, "password": password}).encode()
    req = urllib.request.Request(f"{base}/api/v1/auth/token", data=data, method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - our own loopback server
        return str(json.loads(resp.read())["access_token"])
