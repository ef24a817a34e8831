"""API test fixtures: an app on a fresh database (both backends), users of every role.

``api`` gives an ``ApiClient`` with ``client`` (a FastAPI TestClient), ``engine``, and
``login(role)`` / ``headers(role)`` for the demo-like users created per test:
``admin``, ``coordinator``, ``dispatcher``, ``worker`` (linked to worker ``W1``) and
``worker2`` (linked to ``W2``).  The small scenario loaded is built by hand here so API
tests do not depend on the fixture generator's details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.security import hash_password
from dispatch import models as m
from dispatch.db import make_engine
from dispatch.seed import load_scenario
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


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at minimal cost in API tests, so a login takes milliseconds (the real cost is ~0.5 s)."""
    import api.security
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    monkeypatch.setattr(
        api.security, "_hasher", PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    )


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

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(user)}"}


@pytest.fixture
def api(database_url: str, tmp_path) -> Iterator[ApiClient]:
    """The app on a fresh, migrated database with the small scenario and one user per role."""
    settings = Settings(database_url=database_url, data_dir=tmp_path, secret_key="test-secret-" + "x" * 32)
    engine = make_engine(database_url)
    with Session(engine) as session:
        load_scenario(session, small_scenario())
    with Session(engine) as session:
        for name, password in PASSWORDS.items():
            session.add(m.User(username=name, password_hash=hash_password(password),
                               role=m.UserRole(ROLE_OF[name]), worker_id=WORKER_OF.get(name)))
        session.commit()
    app = create_app(settings, engine)
    with TestClient(app) as client:
        yield ApiClient(client, engine, settings)
    engine.dispose()
