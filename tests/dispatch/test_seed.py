"""Loading a fixture Scenario into the database, all or nothing, and the planner's day queries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from dispatch.storage import models as m
from dispatch.storage.db import session_scope
from fixtures.seed import ScenarioAlreadyLoaded, ScenarioError, load_scenario
from dispatch.planning.day_inputs import requests_active_on, workers_on
from fixtures import scenario as sc

MON = dt.date(2026, 11, 2)
T = dt.time


def tiny_scenario() -> sc.Scenario:
    """Two seniors, three workers, a car, three requests: small enough to check by hand."""
    places = (
        sc.Place("A-CEN", sc.PlaceKind.AREA, "Centrum (Rynek)", 50.8703, 20.6280),
        sc.Place("D-WSZ", sc.PlaceKind.DESTINATION, "WSZ (ul. Grunwaldzka 45)", 50.8737, 20.6012),
        sc.Place("O-MOPR", sc.PlaceKind.OFFICE, "MOPR (ul. Studzienna 2)", 50.8650, 20.6300, note="PLACEHOLDER"),
    )
    services = (
        sc.Service(sc.ServiceCode.HOME_CARE, "usługi opiekuńcze", "home care", (sc.WorkerKind.CARER,), (), 60),
        sc.Service(
            sc.ServiceCode.TAXI, "taksówka dla seniora", "senior taxi", (sc.WorkerKind.DRIVER,), ("driving",), 30
        ),
    )
    cars = (sc.Car("C1", "TK 12345", seats=3, wheelchair_places=1, base_place="O-MOPR"),)
    mon_wed = (sc.ShiftPattern(0, T(7), T(15)), sc.ShiftPattern(2, T(7), T(15)))
    workers = (
        sc.Worker("W001", "Anna", "Nowak", "F", sc.WorkerKind.CARER, ("hygiene",), sc.Contract.FULL_TIME_BASIC, 40,
                  "A-CEN", 50.871, 20.629, sc.TravelMode.WALK, mon_wed),
        sc.Worker("W002", "Jan", "Kowalski", "M", sc.WorkerKind.DRIVER, ("driving",), sc.Contract.FULL_TIME_BASIC, 40,
                  "A-CEN", 50.872, 20.627, sc.TravelMode.CAR,
                  tuple(sc.ShiftPattern(d, T(7), T(15)) for d in range(5)), starts_at_office=True, car_id="C1"),
        sc.Worker("W003", "Ewa", "Wiśniewska", "F", sc.WorkerKind.CARER, (), sc.Contract.FULL_TIME_SPLIT, 30,
                  "A-CEN", 50.869, 20.631, sc.TravelMode.PUBLIC_TRANSPORT,
                  (sc.ShiftPattern(0, T(6), T(10)), sc.ShiftPattern(0, T(15), T(19)))),
    )
    seniors = (
        sc.Senior("S0001", "Zofia", "Kwiatkowska", "F", 1941, sc.Address("Sienkiewicza", "10", "25-001", "Kielce", "4"),
                  "A-CEN", 50.8705, 20.6270, "+48 600 000 001", sc.Disability.SEVERE, True, False, False,
                  (sc.ServiceCode.HOME_CARE, sc.ServiceCode.TAXI), preferred_gender="F",
                  regular_workers=("W001",), forbidden_workers=("W003",), notes_for_workers="key at flat 5",
                  health_notes="synthetic: diabetes"),
        sc.Senior("S0002", "Marian", "Lis", "M", 1948, sc.Address("Leśna", "3", "25-002", "Kielce"),
                  "A-CEN", 50.8710, 20.6300, "+48 600 000 002", sc.Disability.MODERATE, False, True, False,
                  (sc.ServiceCode.TAXI,)),
    )
    requests = (
        # R3 is listed before the request it follows: the loader must order them.
        sc.VisitRequest("R3", "S0001", sc.ServiceCode.HOME_CARE, MON, T(11), T(13), 30,
                        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR", follows="R1", follow_min_delay=120, follow_max_delay=240),
        sc.VisitRequest("R1", "S0001", sc.ServiceCode.HOME_CARE, MON, T(8), T(9), 60,
                        rrule="FREQ=WEEKLY;BYDAY=MO,WE,FR", until=dt.date(2026, 12, 31), required_skills=("hygiene",),
                        priority=2, mandatory=True, tasks="morning hygiene"),
        sc.VisitRequest("R2", "S0002", sc.ServiceCode.TAXI, MON, T(9), T(9, 30), 30,
                        ride=sc.Ride("D-WSZ", T(10), 90, escort=True, wheelchair=True)),
    )
    return sc.Scenario("tiny", 1, MON, 7, places, seniors, workers, cars, services, requests)


def counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            model.__tablename__: s.scalar(select(func.count()).select_from(model))
            for model in (*m.SCENARIO_TABLES, *m.ROSTER_TABLES, m.AuditLog)
        }


def test_load_scenario_and_read_back(engine: Engine) -> None:
    """Every entity lands in its table, with enums, JSON lists, shifts, address and ride intact."""
    with session_scope(engine) as s:
        written = load_scenario(s, tiny_scenario())
    assert written == {"places": 3, "services": 2, "cars": 1, "workers": 3, "seniors": 2, "visit_requests": 3,
                       "worker_shifts": 9}
    with session_scope(engine) as s:
        senior = s.get(m.Senior, "S0001")
        assert senior is not None
        assert senior.address == tiny_scenario().seniors[0].address
        assert senior.disability is sc.Disability.SEVERE
        assert senior.needs == ["home_care", "taxi"] and sc.ServiceCode.TAXI in senior.needs
        assert (senior.regular_workers, senior.forbidden_workers) == (["W001"], ["W003"])
        assert senior.health_notes == "synthetic: diabetes"

        driver = s.get(m.Worker, "W002")
        assert driver is not None and driver.kind is sc.WorkerKind.DRIVER and driver.car_id == "C1"
        assert driver.travel_mode is sc.TravelMode.CAR and driver.starts_at_office
        assert [(x.weekday, x.start, x.end) for x in driver.shifts] == [(d, T(7), T(15)) for d in range(5)]

        ride = s.get(m.VisitRequest, "R2")
        assert ride is not None and ride.ride == tiny_scenario().requests[2].ride
        care = s.get(m.VisitRequest, "R1")
        assert care is not None and care.ride is None and care.status is m.RequestStatus.ACTIVE
        assert (care.until, care.required_skills, care.mandatory) == (dt.date(2026, 12, 31), ["hygiene"], True)
        assert s.get(m.VisitRequest, "R3").follows == "R1"  # type: ignore[union-attr]
        assert s.get(m.Service, sc.ServiceCode.TAXI).worker_kinds == ["driver"]  # type: ignore[union-attr]
        audit = s.scalars(select(m.AuditLog)).one()
        assert (audit.action, audit.entity_id, audit.at.tzinfo is not None) == ("scenario.load", "tiny", True)


def test_second_load_is_refused_and_data_stays(engine: Engine) -> None:
    """Loading onto a database with data raises a clear error and changes nothing."""
    with session_scope(engine) as s:
        load_scenario(s, tiny_scenario())
    before = counts(engine)
    with pytest.raises(ScenarioAlreadyLoaded, match="replace=True"):
        with session_scope(engine) as s:
            load_scenario(s, tiny_scenario())
    assert counts(engine) == before


def test_replace_swaps_scenario_and_drops_its_rosters(engine: Engine) -> None:
    """replace=True removes old scenario rows and rosters, keeps users (unlinked) and the audit trail."""
    with session_scope(engine) as s:
        load_scenario(s, tiny_scenario())
    with session_scope(engine) as s:
        roster = m.Roster(date=MON, version=1)
        s.add(roster)
        s.flush()
        at = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)
        s.add(m.RosterAssignment(roster_id=roster.id, worker_id="W001", visit_request_id="R1", occurrence_date=MON,
                                 sequence=0, arrival=at, start=at, end=at + dt.timedelta(hours=1)))
        s.add(m.User(username="anna", password_hash="x", role=m.UserRole.WORKER, worker_id="W001"))
    smaller = dataclasses.replace(tiny_scenario(), name="smaller", requests=tiny_scenario().requests[1:])
    with session_scope(engine) as s:
        load_scenario(s, smaller, replace=True)
    after = counts(engine)
    assert after["visit_requests"] == 2 and after["rosters"] == 0 and after["roster_assignments"] == 0
    assert after["audit_log"] == 2
    with session_scope(engine) as s:
        user = s.scalars(select(m.User)).one()
        assert user.worker_id is None and user.active


def test_failure_mid_load_writes_nothing(engine: Engine) -> None:
    """A row the database rejects after earlier tables were flushed rolls the whole load back."""
    base = tiny_scenario()
    broken = dataclasses.replace(base.requests[2], window_start=T(12), window_end=T(9))  # CHECK window_order
    bad = dataclasses.replace(base, requests=(*base.requests[:2], broken))
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            load_scenario(s, bad)
    assert set(counts(engine).values()) == {0}


def test_inconsistent_scenario_is_refused_before_writing(engine: Engine) -> None:
    """Unknown references and duplicate ids are listed in one ScenarioError; nothing is written."""
    base = tiny_scenario()
    orphan = dataclasses.replace(base.requests[2], id="R9", senior_id="S9999")
    bad = dataclasses.replace(base, requests=(*base.requests, orphan, base.requests[0]))
    with pytest.raises(ScenarioError) as info:
        with session_scope(engine) as s:
            load_scenario(s, bad)
    assert "unknown senior 'S9999'" in str(info.value) and "duplicate request id 'R3'" in str(info.value)
    assert set(counts(engine).values()) == {0}


def test_workers_on_a_day_follow_shifts_and_absences(engine: Engine) -> None:
    """Monday: all three with Monday shifts; an absence removes W001; Tuesday only the driver."""
    with session_scope(engine) as s:
        load_scenario(s, tiny_scenario())
    with session_scope(engine) as s:
        monday = workers_on(s, MON)
        assert [w.worker.id for w in monday] == ["W001", "W002", "W003"]
        assert [(x.start, x.end) for x in monday[2].shifts] == [(T(6), T(10)), (T(15), T(19))]
        assert [w.worker.id for w in workers_on(s, MON + dt.timedelta(days=1))] == ["W002"]
        s.add(m.WorkerAbsence(worker_id="W001", from_date=MON - dt.timedelta(days=3), to_date=MON, reason="leave"))
    with session_scope(engine) as s:
        assert [w.worker.id for w in workers_on(s, MON)] == ["W002", "W003"]
        assert "W001" in [w.worker.id for w in workers_on(s, MON + dt.timedelta(days=2))]


def test_requests_active_on_a_day_expand_rules(engine: Engine) -> None:
    """Recurring requests appear on their weekdays only, one-offs on their date, cancelled never."""
    with session_scope(engine) as s:
        load_scenario(s, tiny_scenario())
    with session_scope(engine) as s:
        assert [r.id for r in requests_active_on(s, MON)] == ["R1", "R2", "R3"]
        assert requests_active_on(s, MON + dt.timedelta(days=1)) == []
        assert [r.id for r in requests_active_on(s, MON + dt.timedelta(days=2))] == ["R1", "R3"]
        s.get(m.VisitRequest, "R3").status = m.RequestStatus.CANCELLED  # type: ignore[union-attr]
    with session_scope(engine) as s:
        assert [r.id for r in requests_active_on(s, MON + dt.timedelta(days=2))] == ["R1"]
        assert requests_active_on(s, dt.date(2027, 1, 4)) == []  # R1 ended on 2026-12-31
