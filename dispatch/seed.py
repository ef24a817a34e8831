"""Put a fixtures ``Scenario`` into the database, and the two queries the planner starts from.

``load_scenario`` is all or nothing: references are checked before anything is written, the
rows go in parent tables first, and any failure (a bad reference, a CHECK constraint, a
duplicate) rolls the whole load back.  A database that already holds scenario data is refused
unless ``replace=True``, which swaps the old data (and the rosters planned from it) for the new
scenario in the same transaction.

``workers_on`` and ``requests_active_on`` answer "who can work on this day" and "what has to
happen on this day" from the stored rows, the database counterpart of planning from a
``Scenario`` in memory.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlmodel import Session, SQLModel, col

from dispatch import models as m
from dispatch.recurrence import InvalidRecurrence, occurs_on, parse_rrule
from fixtures import scenario as sc

log = logging.getLogger(__name__)


class ScenarioError(ValueError):
    """The scenario is inconsistent (unknown or duplicate ids, bad rules); nothing was written."""


class ScenarioAlreadyLoaded(RuntimeError):
    """The database already holds scenario data and ``replace`` was not requested."""


@dataclass(frozen=True)
class WorkerDay:
    """A worker available on a given day, with that weekday's shifts in start order."""

    worker: m.Worker
    shifts: tuple[m.WorkerShift, ...]


# --------------------------------------------------------------------------- loading


def scenario_row_counts(session: Session) -> dict[str, int]:
    """Row counts of the non-empty scenario tables (empty dict: nothing loaded)."""
    counts: dict[str, int] = {}
    for model in m.SCENARIO_TABLES:
        n = int(session.scalar(select(func.count()).select_from(model)) or 0)
        if n:
            counts[str(model.__tablename__)] = n
    return counts


def load_scenario(
    session: Session, scenario: sc.Scenario, *, replace: bool = False, actor: str = "system"
) -> dict[str, int]:
    """Insert ``scenario`` in one transaction and commit it; return rows written per table.

    Owns the transaction: on any error everything pending in ``session`` is rolled back and the
    error re-raised, so pass a session with no other work in it.
    Raises ``ScenarioError`` for an inconsistent scenario and ``ScenarioAlreadyLoaded`` if the
    database holds scenario data and ``replace`` is False.
    """
    try:
        _check_scenario(scenario)
        existing = scenario_row_counts(session)
        if existing and not replace:
            raise ScenarioAlreadyLoaded(
                f"the database already holds scenario data ({_describe(existing)}); "
                "refusing to load on top of it: pass replace=True to swap it for this scenario"
            )
        if existing:
            _delete_scenario_data(session)
        written = _insert(session, scenario)
        session.add(
            m.AuditLog(
                actor=actor,
                action="scenario.replace" if existing else "scenario.load",
                entity="scenario",
                entity_id=scenario.name[:64],
                changes={"seed": scenario.seed, "start_date": scenario.start_date.isoformat(), "rows": written},
            )
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info("scenario %r loaded: %s", scenario.name, _describe(written))
    return written


def _describe(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {table}" for table, n in counts.items())


def _check_scenario(scenario: sc.Scenario) -> None:
    """Every id unique, every reference resolvable, every rule parseable; else ``ScenarioError``."""
    problems: list[str] = []

    def ids(kind: str, values: Iterable[str]) -> set[str]:
        seen = Counter(values)
        problems.extend(f"duplicate {kind} id {v!r}" for v, n in seen.items() if n > 1)
        return set(seen)

    places = ids("place", (p.id for p in scenario.places))
    cars = ids("car", (c.id for c in scenario.cars))
    workers = ids("worker", (w.id for w in scenario.workers))
    seniors = ids("senior", (s.id for s in scenario.seniors))
    requests = ids("request", (r.id for r in scenario.requests))
    services = ids("service", (s.code.value for s in scenario.services))

    def ref(owner: str, what: str, value: str | None, known: set[str]) -> None:
        if value is not None and value not in known:
            problems.append(f"{owner} refers to unknown {what} {value!r}")

    for car in scenario.cars:
        ref(f"car {car.id}", "place", car.base_place, places)
    for w in scenario.workers:
        ref(f"worker {w.id}", "place", w.home_area, places)
        ref(f"worker {w.id}", "car", w.car_id, cars)
    for s in scenario.seniors:
        ref(f"senior {s.id}", "place", s.area, places)
        for wid in (*s.regular_workers, *s.forbidden_workers):
            ref(f"senior {s.id}", "worker", wid, workers)
    for r in scenario.requests:
        ref(f"request {r.id}", "senior", r.senior_id, seniors)
        ref(f"request {r.id}", "service", str(getattr(r.service, "value", r.service)), services)
        ref(f"request {r.id}", "request", r.follows, requests)
        if r.ride is not None:
            ref(f"request {r.id}", "place", r.ride.destination, places)
        if r.rrule:
            try:
                parse_rrule(r.rrule, r.first_date)
            except InvalidRecurrence as exc:
                problems.append(f"request {r.id}: {exc}")
    if problems:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ScenarioError(f"scenario {scenario.name!r} is inconsistent, nothing written: {shown}{more}")



def _delete_scenario_data(session: Session) -> None:
    """Remove scenario rows and the rosters planned from them, children first; keep users and audit."""
    for model in reversed(m.ROSTER_TABLES):
        session.execute(delete(model))
    session.execute(update(m.User).where(col(m.User.worker_id).is_not(None)).values(worker_id=None))
    for model in reversed(m.SCENARIO_TABLES):
        session.execute(delete(model))
    log.warning("existing scenario data and rosters deleted for replacement")


def _requests_in_dependency_order(requests: Sequence[sc.VisitRequest]) -> list[sc.VisitRequest]:
    """Predecessors (``follows``) before followers, so the self-reference holds at every insert."""
    by_id = {r.id: r for r in requests}
    ordered: list[sc.VisitRequest] = []
    state: dict[str, int] = {}  # 1 = in progress, 2 = done

    def visit(r: sc.VisitRequest, chain: tuple[str, ...]) -> None:
        if state.get(r.id) == 2:
            return
        if state.get(r.id) == 1:
            raise ScenarioError(f"requests follow each other in a cycle: {' -> '.join((*chain, r.id))}")
        state[r.id] = 1
        if r.follows is not None:
            visit(by_id[r.follows], (*chain, r.id))
        state[r.id] = 2
        ordered.append(r)

    for r in requests:
        visit(r, ())
    return ordered


def _insert(session: Session, s: sc.Scenario) -> dict[str, int]:
    """Add the rows table by table, flushing after each so errors surface where they happen."""
    groups: list[tuple[str, list[SQLModel]]] = [
        ("places", [_place(p) for p in s.places]),
        ("services", [_service(x) for x in s.services]),
        ("cars", [_car(c) for c in s.cars]),
        ("workers", [_worker(w) for w in s.workers]),
        ("seniors", [_senior(x) for x in s.seniors]),
        ("visit_requests", [_request(r) for r in _requests_in_dependency_order(s.requests)]),
    ]
    written: dict[str, int] = {}
    for table, rows in groups:
        session.add_all(rows)
        session.flush()
        written[table] = len(rows)
    written["worker_shifts"] = sum(len(w.shifts) for w in s.workers)
    return written


def _values(items: Iterable[object]) -> list[str]:
    return [str(getattr(i, "value", i)) for i in items]


def _place(p: sc.Place) -> m.Place:
    return m.Place(id=p.id, kind=p.kind, name=p.name, lat=p.lat, lon=p.lon, note=p.note)


def _service(x: sc.Service) -> m.Service:
    return m.Service(
        code=x.code,
        name_pl=x.name_pl,
        name_en=x.name_en,
        worker_kinds=_values(x.worker_kinds),
        required_skills=list(x.required_skills),
        default_duration=x.default_duration,
    )


def _car(c: sc.Car) -> m.Car:
    return m.Car(
        id=c.id,
        plate=c.plate,
        seats=c.seats,
        wheelchair_places=c.wheelchair_places,
        base_place=c.base_place,
        available_from=c.available_from,
        available_to=c.available_to,
    )


def _worker(w: sc.Worker) -> m.Worker:
    return m.Worker(
        id=w.id,
        first_name=w.first_name,
        last_name=w.last_name,
        gender=w.gender,
        kind=w.kind,
        skills=list(w.skills),
        contract=w.contract,
        weekly_hours=w.weekly_hours,
        home_area=w.home_area,
        home_lat=w.home_lat,
        home_lon=w.home_lon,
        travel_mode=w.travel_mode,
        starts_at_office=w.starts_at_office,
        max_daily_minutes=w.max_daily_minutes,
        car_id=w.car_id,
        shifts=[m.WorkerShift(worker_id=w.id, weekday=p.weekday, start=p.start, end=p.end) for p in w.shifts],
    )


def _senior(x: sc.Senior) -> m.Senior:
    a = x.address
    return m.Senior(
        id=x.id,
        first_name=x.first_name,
        last_name=x.last_name,
        gender=x.gender,
        birth_year=x.birth_year,
        street=a.street,
        number=a.number,
        flat=a.flat,
        postcode=a.postcode,
        city=a.city,
        area=x.area,
        lat=x.lat,
        lon=x.lon,
        phone=x.phone,
        disability=x.disability,
        lives_alone=x.lives_alone,
        wheelchair=x.wheelchair,
        mental_disorder=x.mental_disorder,
        needs=_values(x.needs),
        preferred_gender=x.preferred_gender,
        regular_workers=list(x.regular_workers),
        forbidden_workers=list(x.forbidden_workers),
        notes_for_workers=x.notes_for_workers,
        health_notes=x.health_notes,
    )


def _request(r: sc.VisitRequest) -> m.VisitRequest:
    ride = r.ride
    return m.VisitRequest(
        id=r.id,
        senior_id=r.senior_id,
        service=r.service,
        first_date=r.first_date,
        window_start=r.window_start,
        window_end=r.window_end,
        duration=r.duration,
        rrule=r.rrule,
        until=r.until,
        required_skills=list(r.required_skills),
        workers_needed=r.workers_needed,
        priority=r.priority,
        mandatory=r.mandatory,
        soft_window=r.soft_window,
        max_lateness=r.max_lateness,
        destination_place_id=ride.destination if ride else None,
        appointment=ride.appointment if ride else None,
        appointment_minutes=ride.appointment_minutes if ride else None,
        return_trip=ride.return_trip if ride else None,
        return_on_call=ride.return_on_call if ride else None,
        escort=ride.escort if ride else None,
        assistant=ride.assistant if ride else None,
        wheelchair=ride.wheelchair if ride else None,
        purpose=ride.purpose if ride else None,
        follows_request_id=r.follows,
        follow_min_delay=r.follow_min_delay,
        follow_max_delay=r.follow_max_delay,
        tasks=r.tasks,
        status=m.RequestStatus.ACTIVE,
    )


# --------------------------------------------------------------------------- planner queries


def workers_on(session: Session, day: dt.date) -> list[WorkerDay]:
    """Workers with a shift on ``day``'s weekday and no absence covering ``day``, by worker id."""
    absent = exists().where(
        col(m.WorkerAbsence.worker_id) == col(m.Worker.id),
        col(m.WorkerAbsence.from_date) <= day,
        col(m.WorkerAbsence.to_date) >= day,
    )
    has_shift = exists().where(
        col(m.WorkerShift.worker_id) == col(m.Worker.id), col(m.WorkerShift.weekday) == day.weekday()
    )
    workers = session.scalars(select(m.Worker).where(has_shift, ~absent).order_by(col(m.Worker.id))).all()
    weekday = day.weekday()
    return [WorkerDay(worker=w, shifts=tuple(s for s in w.shifts if s.weekday == weekday)) for w in workers]


def requests_active_on(session: Session, day: dt.date) -> list[m.VisitRequest]:
    """Active requests with an occurrence on ``day`` (RRULE expanded, holidays skipped), by id."""
    candidates = session.scalars(
        select(m.VisitRequest)
        .where(
            col(m.VisitRequest.status) == m.RequestStatus.ACTIVE,
            col(m.VisitRequest.first_date) <= day,
            or_(col(m.VisitRequest.until).is_(None), col(m.VisitRequest.until) >= day),
        )
        .order_by(col(m.VisitRequest.id))
    ).all()
    return [r for r in candidates if occurs_on(r, day)]
