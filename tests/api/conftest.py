"""API test fixtures: an app on a fresh database (both backends), users of every role.

``api`` gives an ``ApiClient`` with ``client`` (a FastAPI TestClient), ``engine``, and
``auth(user)`` (headers with a bearer token: the one way tests act as someone) and ``login(user)``
(through the login endpoint) for the demo-like users created per test:
``admin``, ``coordinator``, ``dispatcher``, ``worker`` (linked to worker ``W1``) and
``worker2`` (linked to ``W2``).  The small scenario loaded is built by hand here so API
tests do not depend on the fixture generator's details.

``live_api`` is the same app served by a real uvicorn server on a free local port, for tests
where concurrency matters (TestClient runs requests one at a time): it gives the base URL, a
token per user and ``auth(user)`` (as ``api.auth``); see ``LiveServer`` for the guarantees.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import bind, create_app
from api.security import create_access_token
from dispatch.access.passwords import hash_password
from dispatch.clock import fixed_clock
from dispatch.storage import models as m
from dispatch.storage.db import make_engine
from fixtures.seed import load_scenario
from dispatch.settings import Settings
from fixtures import scenario as sc

PASSWORDS = {
    "admin": "admin-pass-1",
    "coordinator": "coord-pass-1",
    "dispatcher": "disp-pass-1",
    "worker": "worker-pass-1",
    "worker2": "worker2-pass-1",
}
ROLE_OF = {"admin": "admin", "coordinator": "coordinator", "dispatcher": "dispatcher", "worker": "worker", "worker2": "worker"}
WORKER_OF = {"worker": "W1", "worker2": "W2"}
MON = dt.date(2026, 11, 30)
#: "Now" for API tests (``api.clock``): before every date the tests enter, so the intake rules'
#: "no dates in the past" and lead times hold whatever day the suite runs; tests of those rules
#: move it with ``ApiClient.set_now``.
TEST_NOW = dt.datetime(2025, 12, 15, 9, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 12, 1)  # a Tuesday in the small scenario's week


def T(h: int, m_: int = 0) -> dt.time:
    return dt.time(h, m_)


def small_scenario() -> sc.Scenario:
    """Two carers, one driver with a car, three seniors, a handful of weekday requests."""
    places = (
        sc.Place("area-centrum", sc.PlaceKind.AREA, "Centrum", 50.8703, 20.6280),
        sc.Place("office-mopr", sc.PlaceKind.OFFICE, "MOPR Kielce", 50.8700, 20.6300),
        sc.Place("destination-wsz", sc.PlaceKind.DESTINATION, "WSZ", 50.8737, 20.6012),
    )
    weekdays = tuple(sc.ShiftPattern(d, T(7), T(15)) for d in range(5))
    workers = (
        sc.Worker("W1", "Anna", "Nowak", "F", sc.WorkerKind.CARER, ("community_carer",), sc.Contract.FULL_TIME_BASIC,
                  40, "area-centrum", 50.8710, 20.6290, sc.TravelMode.CAR, weekdays),
        sc.Worker("W2", "Ewa", "Kowalska", "F", sc.WorkerKind.CARER, ("community_carer",), sc.Contract.FULL_TIME_BASIC,
                  40, "area-centrum", 50.8690, 20.6270, sc.TravelMode.CAR, weekdays),
        sc.Worker("W3", "Jan", "Wiśniewski", "M", sc.WorkerKind.DRIVER, ("driving_licence_b",), sc.Contract.FULL_TIME_BASIC,
                  40, "area-centrum", 50.8700, 20.6300, sc.TravelMode.CAR, weekdays, car_id="C1"),
    )
    cars = (sc.Car("C1", "TK 12345", 3, 1, "office-mopr"),)
    services = (
        sc.Service(sc.ServiceCode.HOME_CARE, "Usługi opiekuńcze", "Home care",
                   (sc.WorkerKind.CARER, sc.WorkerKind.SPECIALIST_CARER), (), 60),
        sc.Service(sc.ServiceCode.TAXI, "Taksówka dla seniora", "Senior taxi",
                   (sc.WorkerKind.DRIVER,), ("driving_licence_b",), 30),
    )
    addr = sc.Address("Sienkiewicza", "10", "25-001", "Kielce", "4")
    seniors = tuple(
        sc.Senior(f"S{i}", first, last, "F", 1940 + i, addr, "area-centrum", 50.870 + i / 1000, 20.628 + i / 1000,
                  "+48 500 000 00%d" % i, sc.Disability.MODERATE, True, False, False, (sc.ServiceCode.HOME_CARE,),
                  regular_workers=("W1",), notes_for_workers="domofon 12", health_notes="cukrzyca typu 2")
        for i, (first, last) in enumerate((("Halina", "Zając"), ("Krystyna", "Mazur"), ("Zofia", "Kaczmarek")), 1)
    )
    daily = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    requests = (
        sc.VisitRequest("R1", "S1", sc.ServiceCode.HOME_CARE, MON, T(8), T(9), 60, rrule=daily, mandatory=True,
                        tasks="toaleta poranna, śniadanie"),
        sc.VisitRequest("R2", "S2", sc.ServiceCode.HOME_CARE, MON, T(9), T(11), 45, rrule=daily, tasks="zakupy"),
        sc.VisitRequest("R3", "S3", sc.ServiceCode.HOME_CARE, MON, T(11), T(13), 30, rrule=daily, tasks="obiad"),
        sc.VisitRequest("R4", "S1", sc.ServiceCode.TAXI, DAY, T(9), T(10), 30, required_skills=("driving_licence_b",),
                        ride=sc.Ride("destination-wsz", T(11), 60), tasks="przejazd do WSZ"),
    )
    return sc.Scenario("api-test", 1, MON, 7, places, seniors, workers, cars, services, requests, demo_date=DAY)


@dataclass
class ApiClient:
    client: TestClient
    engine: object
    settings: Settings

    def login(self, user: str) -> str:
        response = self.client.post(
            "/api/v1/auth/token", data={"username": user, "password": PASSWORDS[user]}
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def auth(self, user: str, *, role: str | None = None, worker_id: str | None = None, **extra: str) -> dict[str, str]:
        """Headers with a bearer token for ``user``: the one way API tests act as someone.

        The token is signed as ``POST /api/v1/auth/token`` signs it, from the user's row (role,
        worker link, token version), without the password round trip (``login`` is for tests
        of logging in).  ``role`` (with ``worker_id``) gives a token for a role the row does not
        have, or for a user with no row; ``extra`` are more headers (``**{"If-Match": etag}``).
        """
        with Session(self.engine) as session:
            row = session.exec(select(m.User).where(m.User.username == user)).first()
        if role is None:
            role = row.role.value if row is not None else ROLE_OF[user]
            worker_id = row.worker_id if row is not None else WORKER_OF.get(user)
        version = row.token_version if row is not None else 0
        token = create_access_token(self.settings.secret_key.get_secret_value(), user, role, worker_id,
                                    dt.datetime.now(dt.UTC), 60, version)
        return {"Authorization": f"Bearer {token}", **extra}

    def set_now(self, instant: dt.datetime) -> None:
        """Move the app's clock (``api.clock``) to ``instant`` (aware)."""
        self.client.app.state.clock = fixed_clock(instant)  # type: ignore[attr-defined]


def _settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path, secret_key="test-secret-" + "x" * 32)


@pytest.fixture(scope="session")
def _prepared_sqlite_template(_migrated_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the small scenario and the users, made once per run: a SQLite
    ``api`` test copies it instead of loading them again (about 0.1 s a test)."""
    import dispatch.access.passwords
    from tests.conftest import cheap_hasher

    target = tmp_path_factory.mktemp("prepared") / "carepath-api.db"
    shutil.copyfile(_migrated_sqlite_template, target)
    with pytest.MonkeyPatch.context() as patch:  # as every test hashes (tests/conftest._cheap_hashing)
        patch.setattr(dispatch.access.passwords, "_hasher", cheap_hasher())
        _, engine = _prepared_database(f"sqlite:///{target.as_posix()}", target.parent)
    engine.dispose()  # the last connection closed: everything is in the file itself
    return target


def _database_for_api(database_url: str, tmp_path, request: pytest.FixtureRequest) -> tuple[Settings, object]:
    """``_prepared_database``, from the run's prepared copy on SQLite (the same rows, made once)."""
    if not database_url.startswith("sqlite:///"):
        return _prepared_database(database_url, tmp_path)
    shutil.copyfile(request.getfixturevalue("_prepared_sqlite_template"), database_url.removeprefix("sqlite:///"))
    return _settings(database_url, tmp_path), make_engine(database_url)


def _prepared_database(database_url: str, tmp_path) -> tuple[Settings, object]:
    """Settings and an engine for ``database_url`` with the small scenario and one user per role."""
    settings = _settings(database_url, tmp_path)
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_scenario(session, small_scenario())
    with Session(engine) as session:
        for name, password in PASSWORDS.items():
            session.add(m.User(username=name, password_hash=hash_password(password),
                               role=m.UserRole(ROLE_OF[name]), worker_id=WORKER_OF.get(name)))
        session.commit()
    return settings, engine


_SHARED: dict[str, object] = {}


def _shape(app: FastAPI) -> tuple[int, int, int]:
    """What a test can add to an app (routes, middleware, dependency overrides): a changed app is not reused."""
    return len(app.router.routes), len(app.user_middleware), len(app.dependency_overrides)


def shared_app(settings: Settings, engine: object, clock: object) -> FastAPI:
    """This process's app, bound to ``engine`` and ``clock`` (``api.app.bind`` says why it is reused).

    A test that added a route, a middleware or an override leaves an app that is built anew for the
    next test; state a test changes (``app.state``) is reset by ``bind``.
    """
    app = _SHARED.get("app")
    if isinstance(app, FastAPI) and _SHARED.get("shape") == _shape(app):
        return bind(app, settings, engine, clock)  # type: ignore[arg-type]
    app = create_app(settings, engine, clock=clock)  # type: ignore[arg-type]
    _SHARED["app"], _SHARED["shape"] = app, _shape(app)
    return app


@pytest.fixture
def api(database_url: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[ApiClient]:
    """The app on a fresh, migrated database with the small scenario and one user per role."""
    settings, engine = _database_for_api(database_url, tmp_path, request)
    app = shared_app(settings, engine, fixed_clock(TEST_NOW))
    with TestClient(app) as client:
        yield ApiClient(client, engine, settings)
    engine.dispose()


class LiveServer:
    """``app`` served by uvicorn in a background thread on a free port of 127.0.0.1.

    The listening socket is bound here (port 0: the system picks a free one, no race with
    other processes) and handed to uvicorn.  ``start`` returns once the lifespan startup has
    run and ``/api/v1/health`` answers; ``stop`` asks uvicorn to finish the requests in flight,
    forces it after ``grace_s``, joins the thread and closes the socket, so nothing outlives
    the test.  Usable as a context manager.
    """

    def __init__(self, app: FastAPI, *, grace_s: float = 10.0, ready_timeout_s: float = 30.0) -> None:
        self.app = app
        self.grace_s = grace_s
        self.ready_timeout_s = ready_timeout_s
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._error: BaseException | None = None
        self.base_url = ""

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(2048)
        self._sock = sock
        port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.app, lifespan="on", log_config=None, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=max(1, int(self.grace_s)))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"live-api-{port}", daemon=True)
        self._thread.start()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _run(self) -> None:
        assert self._server is not None and self._sock is not None
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # noqa: BLE001 - reported by start()/stop()
            self._error = exc

    def _wait_ready(self) -> None:
        assert self._server is not None and self._thread is not None
        deadline = time.monotonic() + self.ready_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.base_url}: {self._error!r}")
            time.sleep(0.02)
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            response = client.get("/api/v1/health")
        if response.status_code != 200:
            raise RuntimeError(f"{self.base_url}/api/v1/health answered {response.status_code}: {response.text}")

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(self.grace_s + 5)
            if thread.is_alive():
                server.force_exit = True
                thread.join(10)
            if thread.is_alive():
                raise RuntimeError(f"the uvicorn thread on {self.base_url} did not stop")
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"uvicorn on {self.base_url} failed") from error


@dataclass
class LiveApi:
    """A running server: ``base_url``, a bearer token per fixture user, the engine and settings."""

    base_url: str
    engine: object
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        """Headers with the user's bearer token (logged in on the server), as ``ApiClient.auth``."""
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def client(self, **kwargs: object) -> httpx.Client:
        """A new ``httpx.Client`` on the server (one per thread: clients are not shared)."""
        return httpx.Client(base_url=self.base_url, timeout=kwargs.pop("timeout", 60), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def live_api(database_url: str, tmp_path, request: pytest.FixtureRequest) -> Iterator[LiveApi]:
    """The app of ``api`` served by a real uvicorn server (both backends), logged in as every user.

    Tokens come from ``POST /api/v1/auth/token`` on the server itself.
    """
    settings, engine = _database_for_api(database_url, tmp_path, request)
    try:
        with LiveServer(shared_app(settings, engine, fixed_clock(TEST_NOW))) as server:
            live = LiveApi(server.base_url, engine, settings)
            with live.client() as client:
                for user, password in PASSWORDS.items():
                    response = client.post("/api/v1/auth/token", data={"username": user, "password": password})
                    assert response.status_code == 200, response.text
                    live.tokens[user] = response.json()["access_token"]
            yield live
    finally:
        engine.dispose()
