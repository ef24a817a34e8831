"""Visit requests: the rules a request must satisfy, and creating, changing and cancelling them.

``prepare`` is the single place where a request is checked; the API (one request) and the
spreadsheet import (many rows) both go through it, so a rule holds whichever way data comes in.
It fills the defaults a coordinator should not have to type:

* ``duration``: the service's default duration;
* ``required_skills``: the service's required skills are always included (a taxi request
  without ``driving_licence_b`` would be planned for a carer);
* ride fields of a taxi request: ``return_trip`` true, ``return_on_call``, ``escort`` and ``assistant`` false,
  ``wheelchair`` as the senior's wheelchair flag, ``purpose`` medical.

and reports every broken rule at once, each with the field it concerns:

* unknown senior, service, destination place or followed request;
* ``window_end`` before ``window_start`` (``window_end`` is the latest start);
* an RRULE that does not parse (``dispatch.recurrence``), ``until`` before ``first_date``, or
  dates on which the request never happens (the taxi and the handyman run on working days only);
* ``priority`` 1-5, ``workers_needed`` 1-2, non-negative delays and lateness;
* ride consistency: a taxi request needs ``destination_place_id`` and ``appointment`` (and
  ``appointment_minutes`` when a return trip is planned), the appointment comes after the pickup
  window opens, a wheelchair ride needs a senior who uses a wheelchair, and requests for other
  services carry no ride fields.

Cancelling keeps the row (status ``cancelled``): rosters and the audit log refer to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import Session, col

from dispatch import audit
from dispatch import models as m
from dispatch.catalog import (
    Conflict,
    FieldError,
    IdScheme,
    InvalidInput,
    NotFound,
    check_id,
    created_changes,
    err,
    flush,
    null_errors,
    snapshot,
)
from dispatch.recurrence import InvalidRecurrence, occurrences_between, occurs_on, parse_rrule
from fixtures.scenario import ServiceCode

REQUEST_IDS = IdScheme("r-", 6)
PRIORITY_MIN, PRIORITY_MAX = 1, 5
WORKERS_NEEDED_MAX = 2
MAX_DURATION = 12 * 60
RIDE_FIELDS = (
    "destination_place_id",
    "appointment",
    "appointment_minutes",
    "return_trip",
    "return_on_call",
    "escort",
    "assistant",
    "wheelchair",
    "purpose",
)
#: Trip purposes of the senior taxi (domain.md 1.1).
PURPOSES = ("medical", "office", "bank", "cemetery", "shopping", "activity")
RIDE_SERVICES = frozenset({ServiceCode.TAXI})
#: How far ahead an open-ended rule is searched for its first date.
_HORIZON = dt.timedelta(days=366)


def _service_code(value: object) -> ServiceCode | None:
    try:
        return ServiceCode(getattr(value, "value", value))
    except ValueError:
        return None


def prepare(
    session: Session,
    data: Mapping[str, Any],
    *,
    request_id: str | None = None,
    pending_request_ids: Collection[str] = (),
    previous_service: ServiceCode | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """The request's stored values (defaults filled) and every rule it breaks.

    ``data`` holds typed values for the fields of ``VisitRequestBase`` (missing optional fields
    take their defaults).  ``pending_request_ids`` are requests written in the same batch (an
    import), which ``follows_request_id`` may refer to.  ``previous_service`` is the service the
    request had before an update: its skills are dropped unless the caller set the skills.
    """
    v: dict[str, Any] = {k: data[k] for k in m.VisitRequestBase.model_fields if k in data and k != "status"}
    errors: list[FieldError] = []

    senior = session.get(m.Senior, v.get("senior_id")) if v.get("senior_id") is not None else None
    if senior is None:
        errors.append(err("senior_id", f"unknown senior {v.get('senior_id')!r}"))

    code = _service_code(v.get("service"))
    service = session.get(m.Service, code) if code is not None else None
    if code is None:
        errors.append(err("service", f"unknown service {v.get('service')!r}; one of {', '.join(s.value for s in ServiceCode)}"))
    elif service is None:
        errors.append(err("service", f"service {code.value!r} is not offered here (no such row in services)"))
    else:
        v["service"] = code

    # ----- defaults from the service
    if v.get("duration") is None and service is not None:
        v["duration"] = service.default_duration
    skills = [s for s in (v.get("required_skills") or []) if isinstance(s, str)]
    if previous_service is not None and "required_skills" not in data:
        old = session.get(m.Service, previous_service)
        if old is not None:
            skills = [s for s in skills if s not in old.required_skills]
    if service is not None:
        skills += [s for s in service.required_skills if s not in skills]
    v["required_skills"] = skills
    for name, default in (("workers_needed", 1), ("priority", 3), ("mandatory", False), ("soft_window", False),
                          ("max_lateness", 0), ("follow_min_delay", 0), ("tasks", "")):
        if v.get(name) is None:
            v[name] = default

    # ----- dates and times
    first, until = v.get("first_date"), v.get("until")
    start, end = v.get("window_start"), v.get("window_end")
    if not isinstance(first, dt.date):
        errors.append(err("first_date", "is required (the first day of the request)"))
    if not isinstance(start, dt.time):
        errors.append(err("window_start", "is required (earliest start)"))
    if not isinstance(end, dt.time):
        errors.append(err("window_end", "is required (latest start)"))
    if isinstance(start, dt.time) and isinstance(end, dt.time) and end < start:
        errors.append(err("window_end", f"window_end {end:%H:%M} is before window_start {start:%H:%M} "
                                        "(the window is earliest to latest start)"))
    duration = v.get("duration")
    if not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        errors.append(err("duration", f"must be 1 to {MAX_DURATION} minutes"))
    dates_ok = isinstance(first, dt.date)
    if until is not None and dates_ok and until < first:
        errors.append(err("until", f"until {until} is before first_date {first}"))
        dates_ok = False
    rule = v.get("rrule")
    if rule is not None and not str(rule).strip():
        v["rrule"] = rule = None
    if rule is not None and isinstance(first, dt.date):
        try:
            parse_rrule(rule, first)
        except InvalidRecurrence as exc:
            errors.append(err("rrule", str(exc)))
            dates_ok = False
    if dates_ok and code is not None:
        probe = SimpleNamespace(first_date=first, rrule=rule, until=until, service=code.value)
        if next(occurrences_between(probe, first, until or first + _HORIZON), None) is None:
            errors.append(_never_happens(code, first, until, rule))

    # ----- numbers
    if not isinstance(v["priority"], int) or not PRIORITY_MIN <= v["priority"] <= PRIORITY_MAX:
        errors.append(err("priority", f"must be {PRIORITY_MIN} (lowest) to {PRIORITY_MAX} (highest)"))
    if not isinstance(v["workers_needed"], int) or not 1 <= v["workers_needed"] <= WORKERS_NEEDED_MAX:
        errors.append(err("workers_needed", f"must be 1 or {WORKERS_NEEDED_MAX}"))
    for name in ("max_lateness", "follow_min_delay"):
        if not isinstance(v[name], int) or v[name] < 0:
            errors.append(err(name, "must be 0 or more minutes"))
    follow_max = v.get("follow_max_delay")
    if follow_max is not None and (not isinstance(follow_max, int) or follow_max < v["follow_min_delay"]):
        errors.append(err("follow_max_delay", "must be at least follow_min_delay"))

    # ----- follows
    follows = v.get("follows_request_id")
    if follows is not None:
        if follows == request_id:
            errors.append(err("follows_request_id", "a request cannot follow itself"))
        elif follows not in pending_request_ids and session.get(m.VisitRequest, follows) is None:
            errors.append(err("follows_request_id", f"unknown request {follows!r}"))

    # ----- ride
    if code in RIDE_SERVICES:
        errors += _check_ride(session, v, senior)
    elif code is not None:
        for name in RIDE_FIELDS:
            if v.get(name) is not None:
                errors.append(err(name, f"only taxi requests have ride fields; this is a {code.value} request"))
    return v, errors


def _never_happens(code: ServiceCode, first: dt.date, until: dt.date | None, rule: str | None) -> FieldError:
    working_days = code.value in ("taxi", "handyman")
    if rule is None:
        return err("first_date", f"{code.value} runs on working days only (Mon-Fri, no public holidays); "
                                 f"{first} is not one")
    span = f"between {first} and {until}" if until else f"within a year of {first}"
    extra = " (taxi and handyman run on working days only)" if working_days else ""
    return err("rrule", f"the rule gives no date {span}{extra}")


def _check_ride(session: Session, v: dict[str, Any], senior: m.Senior | None) -> list[FieldError]:
    errors: list[FieldError] = []
    dest = v.get("destination_place_id")
    if dest is None:
        errors.append(err("destination_place_id", "a taxi request needs a destination place"))
    elif session.get(m.Place, dest) is None:
        errors.append(err("destination_place_id", f"unknown place {dest!r}"))
    appointment = v.get("appointment")
    if appointment is None:
        errors.append(err("appointment", "a taxi request needs the appointment time (arrive no later than)"))
    elif isinstance(v.get("window_start"), dt.time) and appointment <= v["window_start"]:
        errors.append(err("appointment", f"appointment {appointment:%H:%M} is not after the pickup window opens "
                                         f"({v['window_start']:%H:%M})"))
    for name, default in (("return_trip", True), ("return_on_call", False), ("escort", False),
                          ("assistant", False)):
        if v.get(name) is None:
            v[name] = default
    if v.get("wheelchair") is None:
        v["wheelchair"] = bool(senior.wheelchair) if senior is not None else False
    if v.get("purpose") is None:
        v["purpose"] = "medical"
    elif v["purpose"] not in PURPOSES:
        errors.append(err("purpose", f"must be one of {', '.join(PURPOSES)}"))
    minutes = v.get("appointment_minutes")
    if minutes is None and v["return_trip"]:
        errors.append(err("appointment_minutes", "expected length of the appointment in minutes, "
                                                 "needed to plan the return ride"))
    elif minutes is not None and (not isinstance(minutes, int) or not 0 <= minutes <= MAX_DURATION):
        errors.append(err("appointment_minutes", f"must be 0 to {MAX_DURATION} minutes"))
    if v["wheelchair"] and senior is not None and not senior.wheelchair:
        errors.append(err("wheelchair", f"senior {senior.id!r} is not recorded as a wheelchair user; "
                                        "update the senior first or order a regular ride"))
    if v["workers_needed"] != 1:
        errors.append(err("workers_needed", "a ride has one driver"))
    return errors


# --------------------------------------------------------------------------- use cases


def get_request(session: Session, request_id: str) -> m.VisitRequest:
    row = session.get(m.VisitRequest, request_id)
    if row is None:
        raise NotFound("visit request", request_id)
    return row


def create_request(session: Session, actor: str, data: Mapping[str, Any]) -> m.VisitRequest:
    """Check and store one new request (id generated unless given); audited as ``visit_request.create``."""
    values = dict(data)
    request_id = values.pop("id", None)
    errors: list[FieldError] = []
    check_id(request_id, errors)
    prepared, problems = prepare(session, values, request_id=request_id)
    errors += problems
    if errors:
        raise InvalidInput(errors)
    if request_id is not None and session.get(m.VisitRequest, request_id) is not None:
        raise Conflict(f"visit request {request_id!r} already exists", "id")
    request_id = request_id or REQUEST_IDS.allocate(session, m.VisitRequest)[0]
    row = m.VisitRequest(id=request_id, **prepared)
    session.add(row)
    flush(session, f"visit request {request_id!r}")
    audit.record(session, actor, "visit_request.create", "visit_request", request_id, created_changes(row))
    return row


def add_prepared(session: Session, actor: str, rows: list[tuple[str, dict[str, Any]]], source: str) -> list[m.VisitRequest]:
    """Insert already prepared requests (``(id, values)``, in dependency order) and audit each."""
    out = []
    for request_id, values in rows:
        row = m.VisitRequest(id=request_id, **values)
        session.add(row)
        out.append(row)
    flush(session, "imported visit requests")
    for row in out:
        audit.record(session, actor, "visit_request.create", "visit_request", row.id,
                     created_changes(row, {"source": source}))
    return out


def update_request(session: Session, actor: str, request_id: str, changes: Mapping[str, Any]) -> m.VisitRequest:
    """Change an active request; the whole result is re-checked.  Cancelled requests are history."""
    row = get_request(session, request_id)
    if row.status == m.RequestStatus.CANCELLED:
        raise Conflict(f"visit request {request_id!r} is cancelled and kept as history; create a new request")
    errors = null_errors(m.VisitRequest, changes)
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row)
    current = {k: getattr(row, k) for k in m.VisitRequestBase.model_fields}
    previous = row.service if "service" in changes and changes["service"] != row.service else None
    prepared, errors = prepare(session, current | dict(changes), request_id=request_id, previous_service=previous)
    if errors:
        raise InvalidInput(errors)
    for name, value in prepared.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    flush(session, f"visit request {request_id!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "visit_request.update", "visit_request", request_id, changed)
    return row


def cancel_request(session: Session, actor: str, request_id: str) -> m.VisitRequest:
    """Set the status to cancelled (kept for history); cancelling twice changes nothing."""
    row = get_request(session, request_id)
    if row.status != m.RequestStatus.CANCELLED:
        row.status = m.RequestStatus.CANCELLED
        flush(session, f"visit request {request_id!r}")
        audit.record(session, actor, "visit_request.cancel", "visit_request", request_id,
                     {"status": {"old": m.RequestStatus.ACTIVE.value, "new": m.RequestStatus.CANCELLED.value}})
    return row


def request_query(
    senior_id: str | None = None,
    service: ServiceCode | None = None,
    status: m.RequestStatus | None = None,
    active_on: dt.date | None = None,
) -> tuple[Select[Any], Callable[[m.VisitRequest], bool] | None]:
    """The filtered requests as a statement, plus a row predicate the database cannot evaluate.

    ``active_on`` keeps active requests with an occurrence on that day (RRULE expanded, taxi and
    handyman on working days only): the statement narrows by dates, the predicate expands rules.
    """
    stmt = select(m.VisitRequest)
    if senior_id:
        stmt = stmt.where(col(m.VisitRequest.senior_id) == senior_id)
    if service is not None:
        stmt = stmt.where(col(m.VisitRequest.service) == service)
    if status is not None:
        stmt = stmt.where(col(m.VisitRequest.status) == status)
    if active_on is None:
        return stmt, None
    stmt = stmt.where(
        col(m.VisitRequest.status) == m.RequestStatus.ACTIVE,
        col(m.VisitRequest.first_date) <= active_on,
        or_(col(m.VisitRequest.until).is_(None), col(m.VisitRequest.until) >= active_on),
    )
    return stmt, lambda r: occurs_on(r, active_on)
