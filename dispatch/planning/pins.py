"""Pins: the dispatcher's "this one, at 10:00" for one occurrence of a visit request.

Why a pin belongs to an occurrence (request, date) and not to the request: it is a decision
about one day's plan (Anna is in the area on Tuesday; the senior sees the doctor at 11 that
day), made when that day is planned, and it must not quietly bind every later occurrence of a
recurring request.  What binds every occurrence already has its place on the request: the
windows (a window 10:00-10:00 is a fixed time) and ``required_workers`` (only these workers).
So a pin is a row of ``visit_pins`` per (request, date), set and removed without touching the
request, and a re-plan of the day keeps it (``problem_builder`` passes it to the optimizer as
``pinned_worker`` / ``pinned_start``; the independent checker verifies both).

A pin is checked when it is set, with the rules the planner will apply:

* the request is active, occurs on the date, and is not a taxi ride (a ride's time comes from
  the appointment and its car is shared; name its driver in ``required_workers``);
* the worker exists, can do the service (kind and skills), is not forbidden for the request
  or the senior, is one of the request's required workers when it names some, and the visit
  needs one worker (a two-person visit names both in ``required_workers`` instead);
* the start is a local time without an offset that exists on that date (not in the
  spring-forward gap) and lies in one of the request's windows that day (or within the
  allowed lateness of a soft window).

Data can change after a pin is set (the worker falls ill, the window moves); planning then
leaves the request unplaced with a reason that names the pin (``SKIP_CAUSES``), never plans
it against the pin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch import limits
from dispatch.access import audit
from dispatch.catalog import care_rules
from dispatch.catalog import visit_windows
from dispatch.storage import models as m
from dispatch.catalog.records import Conflict, FieldError, InvalidInput, NotFound, err, flush, snapshot
from dispatch.catalog.recurrence import occurs_on
from dispatch.catalog.requests import get_request
from dispatch.timeutil import LocalTimeKind, local_time_to_minutes, offset_problem, read_local


def pins_on(session: Session, day: dt.date) -> dict[str, m.VisitPin]:
    """The pins of ``day`` by request id (what planning the day applies)."""
    rows = session.scalars(select(m.VisitPin).where(col(m.VisitPin.date) == day)).all()
    return {p.visit_request_id: p for p in rows}


def list_pins(session: Session, request_id: str) -> list[m.VisitPin]:
    """A request's pins, by date."""
    get_request(session, request_id)
    stmt = select(m.VisitPin).where(col(m.VisitPin.visit_request_id) == request_id).order_by(col(m.VisitPin.date))
    return list(session.scalars(stmt).all())


def pin_errors(session: Session, request: m.VisitRequest, day: dt.date, worker_id: str | None,
               start: dt.time | None) -> list[FieldError]:
    """Every rule the pin breaks (see the module docstring), each with its field."""
    if (problem := limits.date_problem(day)) is not None:
        return [err("date", problem)]
    if worker_id is None and start is None:
        return [err("worker_id", "a pin names a worker, a start time or both")]
    if request.is_ride:
        return [err("worker_id" if worker_id is not None else "start",
                    "taxi rides are not pinned: the appointment sets the time and the car is shared; name the "
                    "driver in the request's required_workers")]
    errors: list[FieldError] = []
    if not occurs_on(request, day):
        errors.append(err("date", f"request {request.id!r} does not happen on {day.isoformat()}"))
    if worker_id is not None:
        errors += _worker_errors(session, request, worker_id)
    if start is not None:
        errors += _start_errors(request, day, start)
    return errors


def _worker_errors(session: Session, request: m.VisitRequest, worker_id: str) -> list[FieldError]:
    worker = session.get(m.Worker, worker_id)
    if worker is None:
        return [err("worker_id", f"unknown worker {worker_id!r}")]
    senior = session.get(m.Senior, request.senior_id)
    forbidden = {*(request.forbidden_workers or ()), *((senior.forbidden_workers or ()) if senior else ())}
    if worker_id in forbidden:
        return [err("worker_id", f"worker {worker_id!r} is forbidden for this request (its forbidden_workers or "
                                 "the senior's)")]
    if request.required_workers and worker_id not in request.required_workers:
        return [err("worker_id", f"only {', '.join(request.required_workers)} may do this request "
                                 "(required_workers)")]
    if request.workers_needed > 1:
        return [err("worker_id", "a two-person visit is not pinned to one worker: name both in required_workers, "
                                 "or pin its start only")]
    service = session.get(m.Service, request.service)
    if service is not None and (problem := care_rules.capability_problem(
            worker, service.worker_kinds, request.required_skills, service.code)) is not None:
        return [err("worker_id", problem)]
    return []


def _start_errors(request: m.VisitRequest, day: dt.date, start: dt.time) -> list[FieldError]:
    if (problem := offset_problem(start)) is not None:
        return [err("start", problem)]
    reading = read_local(day, start)
    if reading.kind is LocalTimeKind.NONEXISTENT:
        return [err("start", f"{reading.explain()}: choose a time outside "
                             f"{reading.clock_from:%H:%M}-{reading.clock_to:%H:%M}")]
    spans = visit_windows.day_minutes(day, visit_windows.windows_of(request))
    lateness = request.max_lateness if request.soft_window else 0
    if not visit_windows.start_fits(spans, local_time_to_minutes(day, start), lateness):
        late = f" (or up to {lateness} minutes after the last)" if lateness else ""
        return [err("start", f"{start:%H:%M} is outside the request's windows "
                             f"{visit_windows.text(visit_windows.windows_of(request))}{late}")]
    return []


def set_pin(session: Session, actor: str, request_id: str, day: dt.date,
            data: Mapping[str, Any]) -> tuple[m.VisitPin, bool]:
    """Pin the request's occurrence on ``day`` (replacing its pin); returns the pin and whether it is new."""
    request = get_request(session, request_id)
    if request.status == m.RequestStatus.CANCELLED:
        raise Conflict(f"visit request {request_id!r} is cancelled; nothing of it is planned any more")
    worker_id, start = data.get("worker_id"), data.get("start")
    errors = pin_errors(session, request, day, worker_id, start)
    if errors:
        raise InvalidInput(errors)
    row = session.scalars(
        select(m.VisitPin).where(col(m.VisitPin.visit_request_id) == request_id, col(m.VisitPin.date) == day)
    ).first()
    created = row is None
    before = {} if row is None else snapshot(row)
    if row is None:
        row = m.VisitPin(visit_request_id=request_id, date=day, created_by=actor)
        session.add(row)
    row.worker_id, row.start = worker_id, start
    row.created_by = actor
    flush(session, f"the pin of {request_id!r} on {day.isoformat()}")
    changes = audit.diff(_audited(before), _audited(snapshot(row)))
    if changes:
        # Under the request (a pin is part of its history); the date says which occurrence.
        audit.record(session, actor, "visit_request.pin", "visit_request", request_id,
                     {"date": day.isoformat(), **changes})
    return row, created


def delete_pin(session: Session, actor: str, request_id: str, day: dt.date) -> None:
    """Remove the pin of the request's occurrence on ``day``."""
    get_request(session, request_id)
    row = session.scalars(
        select(m.VisitPin).where(col(m.VisitPin.visit_request_id) == request_id, col(m.VisitPin.date) == day)
    ).first()
    if row is None:
        raise NotFound("pin", _entity_id(request_id, day))
    before = _audited(snapshot(row))
    session.delete(row)
    flush(session, f"the pin of {request_id!r} on {day.isoformat()}")
    audit.record(session, actor, "visit_request.unpin", "visit_request", request_id,
                 {"date": day.isoformat(), **{k: {"old": v, "new": None} for k, v in before.items()}})


def _audited(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in ("worker_id", "start") if k in values}


def _entity_id(request_id: str, day: dt.date) -> str:
    return f"{request_id}@{day.isoformat()}"
