"""Visit requests: the rules a request must satisfy, and creating, changing and cancelling them.

``prepare`` is the single place where a request is checked; the API (one request) and the
spreadsheet import (many rows) both go through it, so a rule holds whichever way data comes in.
It fills the defaults a coordinator should not have to type:

* ``duration``: the service's default duration;
* ``required_skills``: the service's required skills are always included (a taxi request
  without ``driving_licence_b`` would be planned for a carer);
* ``mandatory``: the service's ``mandatory`` default;
* ride fields of a request for a ride service (``Service.kind`` ride: the taxi): ``return_trip``
  true, ``return_on_call``, ``escort`` and ``assistant`` false, ``wheelchair`` as the senior's
  wheelchair flag, ``purpose`` medical.

and reports every broken rule at once, each with the field it concerns:

* unknown senior, service, destination place or followed request;
* ``window_end`` before ``window_start`` (``window_end`` is the latest start); ``extra_windows``
  (further windows, ``dispatch.catalog.visit_windows``) out of order, touching or overlapping, inverted,
  more than ``limits.MAX_WINDOWS`` in all, or on a taxi request (its appointment sets the time);
* ``required_workers``, ``preferred_workers``, ``forbidden_workers``: unknown ids; a required or
  preferred worker who is forbidden (by the request or the senior) or cannot do the service
  (kind, skills: ``care_rules.capability_problem``); fewer required workers than the visit needs;
* an RRULE that does not parse (``dispatch.catalog.recurrence``), ``until`` before ``first_date``, or
  dates on which the request never happens (a ``working_days_only`` service such as the taxi or
  the handyman runs on working days only);
* ``priority`` 1-5, ``workers_needed`` 1-2, non-negative delays and lateness;
* the sanity ranges of ``dispatch.limits``: dates, durations, delays (a day at most), skills and
  ``tasks`` sizes;
* local times: a time of day with an offset is refused (``09:00+05:00`` is not 09:00 here); on a
  one-off request's date a time in the spring-forward gap is refused; a recurring request whose
  window would be empty on a spring-forward day (start read an hour later, after its end) is
  refused; every window counts (``dispatch.timeutil`` says how DST days are read; ``local_time_notes`` states it);
* ride consistency: a ride request needs ``destination_place_id`` and ``appointment`` (and
  ``appointment_minutes`` when a return trip is planned), the appointment comes after the pickup
  window opens, a wheelchair ride needs a senior who uses a wheelchair, and requests for visit
  services carry no ride fields.

Cancelling keeps the row (status ``cancelled``): rosters and the audit log refer to it.  Pins of
one occurrence (a worker and/or a start that day) are not request fields: ``dispatch.planning.pins``.
"""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable, Collection, Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Select, or_, select
from sqlmodel import Session, col

from dispatch.domain import as_text
from dispatch import limits
from dispatch.access import audit
from dispatch.catalog import care_rules
from dispatch.catalog import intake_rules
from dispatch.catalog import visit_windows
from dispatch.storage import models as m
from dispatch.catalog.records import (
    Conflict,
    FieldError,
    IdScheme,
    InvalidInput,
    NotFound,
    check_id,
    created_changes,
    err,
    flush,
    length_errors,
    null_errors,
    snapshot,
    worker_ref_errors,
)
from dispatch.clock import system_clock
from dispatch.catalog.entitlements import Ledger
from dispatch.catalog.recurrence import InvalidRecurrence, occurrences_between, occurs_on, parse_rrule, rule_horizon
from dispatch.catalog.services import known_codes
from dispatch.timeutil import LocalTimeKind, LocalReading, offset_problem, read_local, transition_days

REQUEST_IDS = IdScheme("r-", 6)
PRIORITY_MIN, PRIORITY_MAX = m.PRIORITY_MIN, m.PRIORITY_MAX  # the rule is the base model's
WORKERS_NEEDED_MAX = m.WORKERS_NEEDED_MAX
MAX_DURATION = limits.MAX_VISIT_MINUTES
#: Local times of a request, in the order they are checked and noted (then the extra windows').
TIME_FIELDS = ("window_start", "window_end", "appointment")
#: Who may do a request besides the senior's own lists (worker ids).
WORKER_LISTS = ("required_workers", "preferred_workers", "forbidden_workers")
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
PURPOSES: tuple[str, ...] = typing.get_args(m.Purpose)
#: How far ahead an open-ended rule is searched for its first date.
_HORIZON = dt.timedelta(days=366)


def prepare(
    session: Session,
    data: Mapping[str, Any],
    *,
    request_id: str | None = None,
    pending_request_ids: Collection[str] = (),
    previous_service: str | None = None,
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
    elif senior.erased_at is not None:
        errors.append(err("senior_id", f"senior {senior.id!r} was erased (anonymised): no new visits"))
        senior = None

    code = v.get("service")
    service = session.get(m.Service, as_text(code)) if isinstance(code, str) else None
    if service is None:
        errors.append(err("service", f"unknown service {code!r}; one of {', '.join(known_codes(session))}"))
        code = None
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
    if v.get("mandatory") is None:
        v["mandatory"] = service.mandatory if service is not None else False
    for name, default in (("workers_needed", 1), ("priority", 3), ("soft_window", False),
                          ("max_lateness", 0), ("follow_min_delay", 0), ("tasks", "")):
        if v.get(name) is None:
            v[name] = default
    for name in ("extra_windows", *WORKER_LISTS):
        if v.get(name) is None:
            v[name] = []

    # ----- dates and times
    errors += _local_time_errors(v)
    errors += _date_errors(v)
    first, until = v.get("first_date"), v.get("until")
    start, end = v.get("window_start"), v.get("window_end")
    if not isinstance(first, dt.date):
        errors.append(err("first_date", "is required (the first day of the request)"))
    if not isinstance(start, dt.time):
        errors.append(err("window_start", "is required (earliest start)"))
    if not isinstance(end, dt.time):
        errors.append(err("window_end", "is required (latest start)"))
    times_ok = all(isinstance(v.get(n), dt.time | None) and offset_problem(v[n]) is None
                   for n in TIME_FIELDS if v.get(n) is not None)
    if times_ok and isinstance(start, dt.time) and isinstance(end, dt.time) and end < start:
        errors.append(err("window_end", f"window_end {end:%H:%M} is before window_start {start:%H:%M} "
                                        "(the window is earliest to latest start)"))
    extra, extra_errors = _extra_windows(v.get("extra_windows"))
    errors += extra_errors
    times_ok = times_ok and not extra_errors
    if times_ok and isinstance(start, dt.time) and isinstance(end, dt.time) and end >= start:
        errors += [err(f"extra_windows.{i - 1}.{bound}", message)
                   for i, bound, message in visit_windows.order_problems([(start, end), *extra]) if i > 0]
    if not extra_errors:
        v["extra_windows"] = visit_windows.stored(extra)
    duration = v.get("duration")
    if duration is None and service is None:
        pass  # the default comes from the service, already reported unknown
    elif not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        errors.append(err("duration", f"must be 1 to {MAX_DURATION} minutes"))
    first_ok = isinstance(first, dt.date) and limits.date_problem(first) is None
    dates_ok = first_ok and (until is None or (isinstance(until, dt.date) and limits.date_problem(until) is None))
    if until is not None and dates_ok and until < first:
        errors.append(err("until", f"until {until} is before first_date {first}"))
        dates_ok = False
    rule = v.get("rrule")
    if rule is not None and not str(rule).strip():
        v["rrule"] = rule = None
    if rule is not None and first_ok:
        try:
            parse_rrule(rule, first)
        except InvalidRecurrence as exc:
            errors.append(err("rrule", str(exc)))
            dates_ok = False
    if dates_ok and service is not None:
        probe = SimpleNamespace(first_date=first, rrule=rule, until=until, working_days_only=service.working_days_only)
        # The probe's range is bounded whatever ``until`` says: expansion costs one step per period.
        probe_end = min(until or first + _HORIZON, rule_horizon(first))
        if next(occurrences_between(probe, first, probe_end), None) is None:
            errors.append(_never_happens(service, first, probe_end, rule))
        elif times_ok:
            errors += _dst_errors(SimpleNamespace(first_date=first, until=until, rrule=rule,
                                                  working_days_only=service.working_days_only,
                                                  extra_windows=extra, **{n: v.get(n) for n in TIME_FIELDS}))

    # ----- numbers
    if not isinstance(v["priority"], int) or not PRIORITY_MIN <= v["priority"] <= PRIORITY_MAX:
        errors.append(err("priority", f"must be {PRIORITY_MIN} (lowest) to {PRIORITY_MAX} (highest)"))
    if not isinstance(v["workers_needed"], int) or not 1 <= v["workers_needed"] <= WORKERS_NEEDED_MAX:
        errors.append(err("workers_needed", f"must be 1 or {WORKERS_NEEDED_MAX}"))
    if not isinstance(v["max_lateness"], int) or not 0 <= v["max_lateness"] <= MAX_DURATION:
        errors.append(err("max_lateness", f"must be 0 to {MAX_DURATION} minutes"))
    delay_max = limits.MAX_FOLLOW_DELAY_MINUTES
    if not isinstance(v["follow_min_delay"], int) or not 0 <= v["follow_min_delay"] <= delay_max:
        errors.append(err("follow_min_delay", f"must be 0 to {delay_max} minutes (a follow-up is on the same day)"))
    follow_max = v.get("follow_max_delay")
    if follow_max is not None and (not isinstance(follow_max, int) or not 0 <= follow_max <= delay_max):
        errors.append(err("follow_max_delay", f"must be 0 to {delay_max} minutes (a follow-up is on the same day)"))
    elif follow_max is not None and isinstance(v["follow_min_delay"], int) and follow_max < v["follow_min_delay"]:
        errors.append(err("follow_max_delay", "must be at least follow_min_delay"))
    errors += _size_errors(v)

    # ----- follows
    follows = v.get("follows_request_id")
    if follows is not None:
        if follows == request_id:
            errors.append(err("follows_request_id", "a request cannot follow itself"))
        elif follows not in pending_request_ids and session.get(m.VisitRequest, follows) is None:
            errors.append(err("follows_request_id", f"unknown request {follows!r}"))

    # ----- who may do it
    errors += _worker_errors(session, v, senior, service)

    # ----- ride
    if service is not None and service.kind == m.ServiceKind.RIDE:
        errors += _check_ride(session, v, senior)
        if v["extra_windows"]:
            errors.append(err("extra_windows", "a ride request has one pickup window: the appointment sets the time"))
    elif service is not None:
        for name in RIDE_FIELDS:
            if v.get(name) is not None:
                errors.append(err(name, f"only requests for a ride service (the taxi) have ride fields; this is a "
                                        f"{code} request"))
    return v, errors


def _extra_windows(value: object) -> tuple[list[visit_windows.Window], list[FieldError]]:
    """The extra windows as times (API objects, import pairs or stored JSON), and what is wrong with them."""
    if not isinstance(value, list | tuple):
        return [], [err("extra_windows", "must be a list of windows, e.g. [{\"start\": \"17:00\", \"end\": \"18:00\"}]")]
    if (problem := limits.list_problem(value, limits.MAX_WINDOWS - 1, "extra windows")) is not None:
        return [], [err("extra_windows", f"{problem} (at most {limits.MAX_WINDOWS} windows in all)")]
    out: list[visit_windows.Window] = []
    errors: list[FieldError] = []
    for i, item in enumerate(value):
        bounds = []
        for name, raw in zip(("start", "end"), visit_windows.read_item(item), strict=True):
            time = visit_windows.as_time(raw)
            if time is None:
                errors.append(err(f"extra_windows.{i}.{name}", "must be a time of day, e.g. 17:00"))
            elif (problem := offset_problem(time)) is not None:
                errors.append(err(f"extra_windows.{i}.{name}", problem))
            else:
                bounds.append(time)
        if len(bounds) == 2:
            out.append((bounds[0], bounds[1]))
    return out, errors


def _worker_errors(session: Session, v: dict[str, Any], senior: m.Senior | None,
                   service: m.Service | None) -> list[FieldError]:
    """The request's worker lists: known workers, no one both wanted and forbidden (the senior's
    forbidden workers count too), wanted ones able to do the service, enough required ones."""
    errors: list[FieldError] = []
    lists: dict[str, list[str]] = {}
    for name in WORKER_LISTS:
        problems = worker_ref_errors(session, name, v[name])
        errors += problems
        lists[name] = [] if problems else list(dict.fromkeys(v[name]))
        if not problems:
            v[name] = lists[name]
    forbidden = set(lists["forbidden_workers"]) | set(getattr(senior, "forbidden_workers", None) or ())
    for name in ("required_workers", "preferred_workers"):
        clash = [w for w in lists[name] if w in forbidden]
        if clash:
            errors.append(err(name, f"worker(s) {', '.join(map(repr, clash))} are forbidden for this request "
                                    "(its forbidden_workers or the senior's)"))
        elif service is not None:
            errors += [err(name, problem) for w in lists[name]
                       if (problem := care_rules.capability_problem(session.get(m.Worker, w), service.worker_kinds,
                                                                    v["required_skills"], service.code))]
    needed = v["workers_needed"]
    required = lists["required_workers"]
    if required and isinstance(needed, int) and len(required) < needed:
        errors.append(err("required_workers", f"a visit for {needed} workers needs at least {needed} required "
                                              "workers (only they may do it), or none"))
    return errors


def _local_time_errors(v: Mapping[str, Any]) -> list[FieldError]:
    """Times of day given with an offset (or not as times): refused, never read as local."""
    errors: list[FieldError] = []
    for name in TIME_FIELDS:
        value = v.get(name)
        if value is None:
            continue
        if not isinstance(value, dt.time):
            errors.append(err(name, "must be a time of day, e.g. 09:00"))
        elif (problem := offset_problem(value)) is not None:
            errors.append(err(name, problem))
    return errors


def _date_errors(v: Mapping[str, Any]) -> list[FieldError]:
    """``first_date`` and ``until`` within the sane range (``dispatch.limits``)."""
    errors: list[FieldError] = []
    for name in ("first_date", "until"):
        value = v.get(name)
        if isinstance(value, dt.date) and (problem := limits.date_problem(value)) is not None:
            errors.append(err(name, problem))
    return errors


def _size_errors(v: Mapping[str, Any]) -> list[FieldError]:
    """List and text sizes (``dispatch.limits``): 200,000 required skills were once accepted."""
    errors: list[FieldError] = []
    skills = v.get("required_skills") or []
    if (problem := limits.list_problem(skills, limits.MAX_SKILLS, "skills")) is not None:
        errors.append(err("required_skills", problem))
    elif any(not s.strip() or len(s) > limits.MAX_SKILL_LENGTH for s in skills):
        errors.append(err("required_skills", f"skills must be non-empty names of at most {limits.MAX_SKILL_LENGTH} "
                                             "characters"))
    tasks = v.get("tasks")
    if isinstance(tasks, str) and len(tasks) > limits.MAX_TASKS_LENGTH:
        errors.append(err("tasks", f"{len(tasks)} characters; at most {limits.MAX_TASKS_LENGTH}"))
    errors += length_errors(m.VisitRequest, {k: v[k] for k in ("rrule", "purpose") if k in v})
    return errors


def _dst_days(request: Any) -> list[dt.date]:
    """The request's days on which the clocks change, within its first year (one-off: its date)."""
    first, until = request.first_date, request.until
    last = first if not request.rrule else min(until or dt.date.max, first + _HORIZON)
    return [day for day in transition_days(first, last) if occurs_on(request, day)]


def _named_times(request: Any) -> list[tuple[str, dt.time | None]]:
    """The request's local times with their field names (``extra_windows.0.start``...)."""
    named: list[tuple[str, dt.time | None]] = [(name, getattr(request, name, None)) for name in TIME_FIELDS]
    for i, (start, end) in enumerate(visit_windows.extra_windows(request)):
        named += [(f"extra_windows.{i}.start", start), (f"extra_windows.{i}.end", end)]
    return named


def _window_ends(request: Any) -> dict[str, dt.time]:
    """Field name of each window's start -> that window's end."""
    ends = {"window_start": request.window_end}
    ends.update({f"extra_windows.{i}.start": end for i, (_, end) in enumerate(visit_windows.extra_windows(request))})
    return ends


def _readings(request: Any) -> list[tuple[str, LocalReading]]:
    """Each time of the request read on each of its DST days, where it is not a regular time."""
    out: list[tuple[str, LocalReading]] = []
    named = _named_times(request)
    for day in _dst_days(request):
        for name, value in named:
            if isinstance(value, dt.time):
                reading = read_local(day, value)
                if reading.kind is not LocalTimeKind.REGULAR:
                    out.append((name, reading))
    return out


def _dst_errors(request: Any) -> list[FieldError]:
    """A one-off time in the spring-forward gap, or a window that the gap would leave empty.

    A one-off request happens on one date: a time that does not exist then is a mistake a person
    can fix now.  A recurring one meets the gap once a year at most and is read as RFC 5545 says
    (``local_time_notes``), unless that reading puts the window's start after its end.
    """
    errors: list[FieldError] = []
    ends = _window_ends(request)
    for name, reading in _readings(request):
        if reading.kind is not LocalTimeKind.NONEXISTENT:
            continue
        if not request.rrule:
            errors.append(err(name, f"{reading.explain()}: choose a time outside "
                                    f"{reading.clock_from:%H:%M}-{reading.clock_to:%H:%M}"))
            continue
        end_time = ends.get(name)
        if end_time is not None and reading.meant > read_local(reading.day, end_time).meant:
            errors.append(err(name, f"{reading.resolution()}, after the window's end {end_time:%H:%M}: "
                                    f"the window would be empty that day; choose a start outside "
                                    f"{reading.clock_from:%H:%M}-{reading.clock_to:%H:%M} or a later end"))
    return errors


def local_time_notes(request: Any) -> list[dict[str, Any]]:
    """How the request's times are read on its DST days (first year; one-off: its date).

    What an answer states so that nobody is surprised on the night the clocks change: a time in
    the spring-forward gap is read with the offset from before the gap (RFC 5545: 02:30 is 03:30),
    a time in the repeated autumn hour means the first, summer-time one.  ``request`` is a row or
    anything with its attributes (the API's output model).
    """
    if not isinstance(getattr(request, "first_date", None), dt.date):
        return []
    probe = SimpleNamespace(first_date=request.first_date, until=request.until, rrule=request.rrule,
                            working_days_only=bool(getattr(request, "working_days_only", False)),
                            extra_windows=visit_windows.extra_windows(request),
                            **{n: getattr(request, n, None) for n in TIME_FIELDS})
    try:
        readings = _readings(probe)
    except (InvalidRecurrence, OverflowError, ValueError):  # a stored row from before the checks
        return []
    return [
        {"field": name, "date": r.day, "time": r.time, "kind": r.kind.value, "meant": r.meant,
         "message": r.resolution()}
        for name, r in readings
    ]


def _never_happens(service: m.Service, first: dt.date, end: dt.date, rule: str | None) -> FieldError:
    if rule is None:
        return err("first_date", f"{service.code} runs on working days only (Mon-Fri, no public holidays); "
                                 f"{first} is not one")
    span = f"between {first} and {end}"
    extra = f" ({service.code} runs on working days only)" if service.working_days_only else ""
    return err("rrule", f"the rule gives no date {span}{extra}")


def _check_ride(session: Session, v: dict[str, Any], senior: m.Senior | None) -> list[FieldError]:
    errors: list[FieldError] = []
    dest = v.get("destination_place_id")
    if dest is None:
        errors.append(err("destination_place_id", "a ride (taxi) request needs a destination place"))
    elif session.get(m.Place, dest) is None:
        errors.append(err("destination_place_id", f"unknown place {dest!r}"))
    appointment = v.get("appointment")
    if appointment is None:
        errors.append(err("appointment", "a ride (taxi) request needs the appointment time (arrive no later than)"))
    elif (isinstance(appointment, dt.time) and isinstance(v.get("window_start"), dt.time)
          and appointment.tzinfo is None and v["window_start"].tzinfo is None  # offsets: refused above
          and appointment <= v["window_start"]):
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


def create_request(session: Session, actor: str, data: Mapping[str, Any], *, now: dt.datetime | None = None,
                   ledger: Ledger | None = None, source: str | None = None) -> m.VisitRequest:
    """Check and store one new request (id generated unless given); audited as ``visit_request.create``.

    The intake rules (``dispatch.catalog.intake_rules``) are checked at ``now`` (default: the system
    clock); ``override_reason`` in ``data`` overrides them, audited.  ``ledger`` carries a batch's
    earlier requests (a care plan's expansion).
    """
    values = dict(data)
    request_id = values.pop("id", None)
    override_reason = values.pop("override_reason", None)
    errors: list[FieldError] = []
    check_id(request_id, errors)
    prepared, problems = prepare(session, values, request_id=request_id)
    errors += problems
    if (problem := intake_rules.reason_problem(override_reason)) is not None:
        errors.append(err("override_reason", problem))
    if errors:
        raise InvalidInput(errors)
    if request_id is not None and session.get(m.VisitRequest, request_id) is not None:
        raise Conflict(f"visit request {request_id!r} already exists", "id")
    overridden = intake_rules.enforce(
        intake_rules.check(session, prepared, now=now or system_clock(), ledger=ledger), override_reason)
    request_id = REQUEST_IDS.claim(session, m.VisitRequest, request_id)
    row = m.VisitRequest(id=request_id, **prepared)
    session.add(row)
    flush(session, f"visit request {request_id!r}")
    audit.record(session, actor, "visit_request.create", "visit_request", request_id,
                 created_changes(row, {"source": source} if source else None))
    if overridden:
        intake_rules.record_override(session, actor, request_id, overridden, override_reason or "")
    if ledger is not None:
        ledger.add(prepared)
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


#: What a dispatcher may change in a request: its time (the windows and how long it takes; a ride's
#: appointment), when the day's plan needs it ("she can only be home after ten").  Who gets the
#: service, which service, its dates, tasks and worker rules stay the coordinators' decisions, and so
#: does overriding the intake rules.  The change is audited like any other (``visit_request.update``).
DISPATCHER_FIELDS = frozenset({"window_start", "window_end", "extra_windows", "duration", "appointment",
                               "appointment_minutes"})


def update_request(session: Session, actor: str, request_id: str, changes: Mapping[str, Any], *,
                   now: dt.datetime | None = None) -> m.VisitRequest:
    """Change an active request; the whole result is re-checked.  Cancelled requests are history.

    A change of its dates, times, senior or service is a new submission for the intake rules
    (``override_reason`` overrides them, audited); other changes (tasks, workers) are not.
    """
    row = get_request(session, request_id)
    if row.status == m.RequestStatus.CANCELLED:
        raise Conflict(f"visit request {request_id!r} is cancelled and kept as history; create a new request")
    changes = dict(changes)
    override_reason = changes.pop("override_reason", None)
    errors = null_errors(m.VisitRequest, changes)
    if (problem := intake_rules.reason_problem(override_reason)) is not None:
        errors.append(err("override_reason", problem))
    if errors:
        raise InvalidInput(errors)
    before = snapshot(row)
    current = {k: getattr(row, k) for k in m.VisitRequestBase.model_fields}
    previous = row.service if "service" in changes and changes["service"] != row.service else None
    prepared, errors = prepare(session, current | dict(changes), request_id=request_id, previous_service=previous)
    if errors:
        raise InvalidInput(errors)
    overridden: list[intake_rules.Violation] = []
    if any(prepared.get(name, current.get(name)) != current.get(name) for name in intake_rules.SCHEDULE_FIELDS):
        overridden = intake_rules.enforce(intake_rules.check(
            session, prepared, now=now or system_clock(), request_id=request_id,
            first_date_changed=prepared.get("first_date") != current.get("first_date")), override_reason)
    if overridden:
        intake_rules.record_override(session, actor, request_id, overridden, override_reason or "")
    for name, value in prepared.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    flush(session, f"visit request {request_id!r}")
    if previous is not None:
        session.expire(row, ["service_info"])  # read the new service's flags next time
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "visit_request.update", "visit_request", request_id, changed)
    return row


def cancel_request(session: Session, actor: str, request_id: str, *, now: dt.datetime | None = None) -> m.VisitRequest:
    """Set the status to cancelled (kept for history); cancelling twice changes nothing.

    Which dates still count against quotas and budgets (past ones, and late-cancelled ones) is
    recorded at ``now`` (``intake_rules.record_cancellation``).
    """
    row = get_request(session, request_id)
    if row.status != m.RequestStatus.CANCELLED:
        row.status = m.RequestStatus.CANCELLED
        intake_rules.record_cancellation(session, row, now or system_clock())
        flush(session, f"visit request {request_id!r}")
        audit.record(session, actor, "visit_request.cancel", "visit_request", request_id,
                     {"status": {"old": m.RequestStatus.ACTIVE.value, "new": m.RequestStatus.CANCELLED.value}})
    return row


def request_query(
    senior_id: str | None = None,
    service: str | None = None,
    status: m.RequestStatus | None = None,
    active_on: dt.date | None = None,
) -> tuple[Select[Any], Callable[[m.VisitRequest], bool] | None]:
    """The filtered requests as a statement, plus a row predicate the database cannot evaluate.

    ``active_on`` keeps active requests with an occurrence on that day (RRULE expanded, services
    marked ``working_days_only`` on working days only): the statement narrows by dates, the predicate expands rules.
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
