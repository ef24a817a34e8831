"""Care plans: a senior's regular visits, line by line, expanded into visit requests for any dates.

A line reads as a coordinator writes it (domain.md 1.3: "visits of 0.5-2 h, 1-3 visits/day for
heavy-need clients (morning hygiene, midday meal, evening), weekday base with optional
weekend/holiday visits per care plan"): ``Mon-Fri 07:30-09:00 hygiene 60 min``, ``daily
17:00-19:00 evening care 45 min``.  The times say when the visit happens, so the request made
from it may start from 07:30 until 08:00 (``window_end`` is the latest start: end - duration).

:func:`expand` creates one one-off visit request per line and date in ``[from, to]`` within the
plan's validity, skipping

* dates on which the line does not run (weekdays),
* the senior's absences (``dispatch.catalog.senior_absences``: hospital, holiday),
* Polish public holidays when the plan says ``skip_public_holidays`` (``dispatch.catalog.recurrence``),
* days a ``working_days_only`` service does not run,
* (line, date) pairs already expanded (``CarePlanVisit``): expanding twice creates nothing new.

Each request is checked as any request is (``requests_service.prepare``) and then by the intake
rules (``intake_rules.check``, counting the expansion's earlier dates: budgets per week, month
or year).  All or nothing: one refused date refuses the expansion, every problem listed with
its date; a written ``override_reason`` accepts the intake violations and is audited per request.

Plans are changed by ending them (``valid_to``) and entering a new one; their lines are fixed
once created, so what was expanded stays explainable.  A plan with expanded visits is not deleted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from dispatch import limits
from dispatch.access import audit
from dispatch.catalog import intake_rules
from dispatch.catalog import requests as requests_service
from dispatch.storage import models as m
from dispatch.storage.care_models import CarePlan, CarePlanBase, CarePlanLine, CarePlanVisit
from dispatch.catalog.records import (
    Conflict,
    FieldError,
    IdScheme,
    InvalidInput,
    NotFound,
    check_id,
    err,
    flush,
    length_errors,
    snapshot,
)
from dispatch.catalog.entitlements import Ledger, senior_and_service_errors, validity_errors
from dispatch.catalog.recurrence import is_public_holiday, is_working_day
from dispatch.catalog.senior_absences import absences_between
from dispatch.timeutil import offset_problem

CARE_PLAN_IDS = IdScheme("cp-", 5)
#: Lines in one plan (three visits a day on different weekdays fit many times over).
MAX_LINES = 21
#: Days one expansion covers at most (bounded work): a year.
MAX_EXPAND_DAYS = 366
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {"daily": list(range(7)), "weekdays": list(range(5)), "weekends": [5, 6],
                "codziennie": list(range(7)), "pon-pt": list(range(5))}
_LINE_RE = re.compile(r"^\s*(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+(?P<rest>.+?)\s*$")
_MINUTES_RE = re.compile(r"(?P<n>\d+)\s*(?:min|minutes|minut)\b\.?", re.IGNORECASE)


# --------------------------------------------------------------------------- reading lines


def parse_days(text: str) -> list[int]:
    """``Mon-Fri``, ``Mon,Wed,Fri``, ``Sat-Sun``, ``daily``, ``weekdays`` -> weekday numbers (0 = Monday)."""
    low = text.strip().lower()
    if low in _DAY_ALIASES:
        return list(_DAY_ALIASES[low])
    days: set[int] = set()
    for part in low.split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if not all(e in DAY_NAMES for e in ends) or len(ends) not in (1, 2):
            raise ValueError(f"{text!r} is not a set of days: write Mon-Fri, Mon,Wed,Fri, Sat-Sun or daily")
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update(range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)])
    return sorted(days)


def _time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def parse_line(text: str) -> dict[str, Any]:
    """``"Mon-Fri 07:30-09:00 hygiene 60 min"`` -> ``weekdays``, ``start``, ``end``, ``duration``, ``tasks``."""
    match = _LINE_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r}: write a line as 'Mon-Fri 07:30-09:00 hygiene 60 min'")
    rest = match["rest"]
    minutes = _MINUTES_RE.search(rest)
    if minutes is None:
        raise ValueError(f"{text!r}: say how long the visit is, e.g. '60 min'")
    tasks = (rest[:minutes.start()] + rest[minutes.end():]).strip(" ,;")
    try:
        start, end = _time(match["start"]), _time(match["end"])
    except ValueError:
        raise ValueError(f"{text!r}: times are HH:MM, e.g. 07:30") from None
    return {"weekdays": parse_days(match["days"]), "start": start, "end": end, "duration": int(minutes["n"]),
            "tasks": tasks}


def line_text(line: CarePlanLine) -> str:
    """A stored line as a person writes it ("Mon-Fri 07:30-09:00 hygiene 60 min")."""
    days = sorted(line.weekdays)
    if days == list(range(7)):
        shown = "daily"
    elif days and days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        shown = f"{DAY_NAMES[days[0]].capitalize()}-{DAY_NAMES[days[-1]].capitalize()}"
    else:
        shown = ",".join(DAY_NAMES[d].capitalize() for d in days)
    tasks = f" {line.tasks}" if line.tasks else ""
    return f"{shown} {line.start:%H:%M}-{line.end:%H:%M}{tasks} {line.duration} min"


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def validate_lines(lines: Sequence[Mapping[str, Any]]) -> list[FieldError]:
    errors: list[FieldError] = []
    if not lines:
        return [err("lines", "a care plan needs at least one line, e.g. 'Mon-Fri 07:30-09:00 hygiene 60 min'")]
    if len(lines) > MAX_LINES:
        return [err("lines", f"{len(lines)} lines; at most {MAX_LINES}")]
    for i, line in enumerate(lines):
        where = f"lines.{i}"
        days = line.get("weekdays")
        if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            errors.append(err(f"{where}.weekdays", "must be weekdays 0 (Monday) to 6 (Sunday), at least one"))
        start, end, duration = line.get("start"), line.get("end"), line.get("duration")
        times_ok = True
        for name, value in (("start", start), ("end", end)):
            if not isinstance(value, dt.time):
                errors.append(err(f"{where}.{name}", "must be a time of day, e.g. 07:30"))
                times_ok = False
            elif (problem := offset_problem(value)) is not None:
                errors.append(err(f"{where}.{name}", problem))
                times_ok = False
        if not isinstance(duration, int) or not 1 <= duration <= limits.MAX_VISIT_MINUTES:
            errors.append(err(f"{where}.duration", f"must be 1 to {limits.MAX_VISIT_MINUTES} minutes"))
        elif times_ok and isinstance(start, dt.time) and isinstance(end, dt.time):
            if end <= start:
                errors.append(err(f"{where}.end", f"{end:%H:%M} is not after {start:%H:%M}"))
            elif _minutes(end) - _minutes(start) < duration:
                errors.append(err(f"{where}.duration", f"a {duration} min visit does not fit {start:%H:%M}-{end:%H:%M}"))
        tasks = line.get("tasks") or ""
        if not isinstance(tasks, str) or len(tasks) > 500:
            errors.append(err(f"{where}.tasks", "at most 500 characters"))
    return errors


# --------------------------------------------------------------------------- plans: use cases


def validate_plan(session: Session, data: Mapping[str, Any]) -> list[FieldError]:
    errors, service = senior_and_service_errors(session, data)
    if service is not None and service.kind == m.ServiceKind.RIDE:
        errors.append(err("service", f"{service.code} is a ride: rides are booked one by one (destination, "
                                     "appointment), not from a care plan"))
    errors += validity_errors(data)
    errors += length_errors(CarePlan, {"note": data.get("note") or ""})
    return errors


def get_plan(session: Session, plan_id: str) -> CarePlan:
    row = session.get(CarePlan, plan_id)
    if row is None:
        raise NotFound("care plan", plan_id)
    return row


def plan_json(plan: CarePlan) -> dict[str, Any]:
    """The plan as plain data for the audit log."""
    return snapshot(plan) | {"lines": [line_text(line) for line in plan.lines]}


def create_plan(session: Session, actor: str, data: Mapping[str, Any]) -> CarePlan:
    """Check and store a plan with its lines (id ``cp-00001`` unless given); audited."""
    values = {k: data[k] for k in CarePlanBase.model_fields if k in data}
    values.setdefault("note", "")
    values.setdefault("skip_public_holidays", False)
    given = data.get("id")
    lines = [dict(line) for line in data.get("lines") or []]
    for line in lines:
        line.setdefault("tasks", "")
    errors: list[FieldError] = []
    check_id(given, errors)
    errors += validate_plan(session, values) + validate_lines(lines)
    if errors:
        raise InvalidInput(errors)
    if given is not None and session.get(CarePlan, given) is not None:
        raise Conflict(f"care plan {given!r} already exists", "id")
    plan = CarePlan(id=CARE_PLAN_IDS.claim(session, CarePlan, given), **values)
    plan.lines = [CarePlanLine(weekdays=sorted(set(line["weekdays"])), start=line["start"], end=line["end"],
                               duration=line["duration"], tasks=line["tasks"]) for line in lines]
    session.add(plan)
    flush(session, f"care plan {plan.id!r}")
    audit.record(session, actor, "care_plan.create", "care_plan", plan.id, audit.diff({}, plan_json(plan)))
    return plan


#: What a plan's PATCH may change: its lines are fixed once created (see the module docstring).
UPDATABLE = ("valid_from", "valid_to", "skip_public_holidays", "note")


def update_plan(session: Session, actor: str, plan_id: str, changes: Mapping[str, Any]) -> CarePlan:
    """Change a plan's validity, holiday rule or note (end it with ``valid_to``); audited."""
    plan = get_plan(session, plan_id)
    refused = [err(k, "a plan's senior, service and lines are fixed: end this plan (valid_to) and enter a new one")
               for k in changes if k not in UPDATABLE]
    if refused:
        raise InvalidInput(refused)
    before = plan_json(plan)
    values = {k: getattr(plan, k) for k in CarePlanBase.model_fields} | dict(changes)
    errors = validate_plan(session, values)
    if errors:
        raise InvalidInput(errors)
    for name in UPDATABLE:
        setattr(plan, name, values[name])
    flush(session, f"care plan {plan_id!r}")
    changed = audit.diff(before, plan_json(plan))
    if changed:
        audit.record(session, actor, "care_plan.update", "care_plan", plan_id, changed)
    return plan


def expanded_count(session: Session, plan: CarePlan) -> int:
    line_ids = [line.id for line in plan.lines]
    if not line_ids:
        return 0
    return int(session.scalar(select(func.count()).select_from(CarePlanVisit)
                              .where(col(CarePlanVisit.line_id).in_(line_ids))) or 0)


def delete_plan(session: Session, actor: str, plan_id: str) -> None:
    """Remove a plan entered by mistake; one with expanded visits is ended (``valid_to``) instead."""
    plan = get_plan(session, plan_id)
    if (n := expanded_count(session, plan)) > 0:
        raise Conflict(f"care plan {plan_id!r} has {n} expanded visit(s); end it with valid_to instead")
    before = plan_json(plan)
    session.delete(plan)
    flush(session, f"care plan {plan_id!r}")
    audit.record(session, actor, "care_plan.delete", "care_plan", plan_id,
                 {k: {"old": v, "new": None} for k, v in before.items()})


def plan_query(senior_id: str | None = None) -> Any:
    stmt = select(CarePlan)
    if senior_id:
        stmt = stmt.where(col(CarePlan.senior_id) == senior_id)
    return stmt


# --------------------------------------------------------------------------- expansion


@dataclass
class Expansion:
    """What an expansion did (or, for a dry run, would do)."""

    plan_id: str
    start: dt.date
    end: dt.date
    created: list[str] = field(default_factory=list)
    """Ids of the new requests, by date then line."""
    dates: list[dt.date] = field(default_factory=list)
    already: int = 0
    """(line, date) pairs expanded before: nothing new."""
    skipped: dict[str, list[dt.date]] = field(default_factory=dict)
    """Dates left out, by why: ``absence``, ``public_holiday``, ``service_not_running``."""
    overridden: int = 0
    dry_run: bool = False


def _skip(skipped: dict[str, list[dt.date]], why: str, day: dt.date) -> None:
    days = skipped.setdefault(why, [])
    if not days or days[-1] != day:
        days.append(day)


def expand(session: Session, actor: str, plan_id: str, start: dt.date, end: dt.date, *, now: dt.datetime,
           override_reason: str | None = None, dry_run: bool = False) -> Expansion:
    """Create the plan's visit requests for ``[start, end]`` (see the module docstring)."""
    plan = get_plan(session, plan_id)
    errors: list[FieldError] = []
    if end < start:
        errors.append(err("to", f"to {end} is before from {start}"))
    elif (end - start).days + 1 > MAX_EXPAND_DAYS:
        errors.append(err("to", f"{(end - start).days + 1} days; expand at most {MAX_EXPAND_DAYS} days at a time"))
    if (problem := intake_rules.reason_problem(override_reason)) is not None:
        errors.append(err("override_reason", problem))
    if errors:
        raise InvalidInput(errors)
    result = Expansion(plan.id, start, end, dry_run=dry_run)
    lo, hi = max(start, plan.valid_from), min(end, plan.valid_to)
    service = session.get(m.Service, plan.service)
    assert service is not None  # a foreign key
    absences = absences_between(session, plan.senior_id, lo, hi) if lo <= hi else []
    done = {(v.line_id, v.date) for v in session.scalars(
        select(CarePlanVisit).where(col(CarePlanVisit.line_id).in_([line.id for line in plan.lines]),
                                    col(CarePlanVisit.date) >= lo, col(CarePlanVisit.date) <= hi))}
    ledger = Ledger(session, plan.senior_id, plan.service)
    pending: list[tuple[CarePlanLine, dt.date, dict[str, Any], list[intake_rules.Violation]]] = []
    problems: list[FieldError] = []
    violations: list[intake_rules.Violation] = []
    day = lo
    while day <= hi:
        for index, line in enumerate(plan.lines):
            if day.weekday() not in line.weekdays:
                continue
            if any(a.from_date <= day <= a.to_date for a in absences):
                _skip(result.skipped, "absence", day)
                continue
            if plan.skip_public_holidays and is_public_holiday(day):
                _skip(result.skipped, "public_holiday", day)
                continue
            if service.working_days_only and not is_working_day(day):
                _skip(result.skipped, "service_not_running", day)
                continue
            if (line.id, day) in done:
                result.already += 1
                continue
            values, line_errors = requests_service.prepare(session, _request_values(plan, line, day))
            if line_errors:
                problems += [_at(e, index, day) for e in line_errors]
                continue
            found = intake_rules.check(session, values, now=now, ledger=ledger)
            ledger.add(values)
            problems += [_at(v.as_error(), index, day) for v in found]
            violations += found
            pending.append((line, day, values, found))
        day += dt.timedelta(days=1)
    if problems:
        only_intake = len(problems) == len(violations)
        if not only_intake:
            raise InvalidInput(problems)
        if not override_reason:
            raise intake_rules.IntakeRefused(violations, problems)
    ids = requests_service.REQUEST_IDS.for_batch(session, m.VisitRequest, [None] * len(pending), dry_run=dry_run)
    result.created = ids
    result.dates = [d for _, d, _, _ in pending]
    result.overridden = sum(1 for *_, found in pending if found)
    if dry_run or not pending:
        return result
    rows = requests_service.add_prepared(session, actor, [(i, values) for i, (_, _, values, _) in zip(ids, pending, strict=True)],
                                         source=f"care_plan:{plan.id}")
    for row, (line, day, _, found) in zip(rows, pending, strict=True):
        session.add(CarePlanVisit(line_id=line.id, date=day, visit_request_id=row.id))
        if found:
            intake_rules.record_override(session, actor, row.id, found, override_reason or "")
    flush(session, f"care plan {plan.id!r} visits")
    audit.record(session, actor, "care_plan.expand", "care_plan", plan.id, {
        "from": start.isoformat(), "to": end.isoformat(), "created": len(rows), "already": result.already,
        "skipped": {k: [d.isoformat() for d in v] for k, v in result.skipped.items()},
        **({"override_reason": override_reason} if result.overridden else {}),
    })
    return result


def _request_values(plan: CarePlan, line: CarePlanLine, day: dt.date) -> dict[str, Any]:
    latest = _minutes(line.end) - line.duration
    return {
        "senior_id": plan.senior_id, "service": plan.service, "first_date": day, "window_start": line.start,
        "window_end": dt.time(latest // 60, latest % 60), "duration": line.duration, "tasks": line.tasks,
    }


def _at(error: FieldError, index: int, day: dt.date) -> FieldError:
    """A request problem as a plan problem: the line and date it comes from."""
    out: dict[str, Any] = dict(error)
    out["field"] = f"lines.{index}" + (f".{error.get('field')}" if error.get("field") else "")
    out["date"] = day.isoformat()
    out["message"] = f"{day}: {error.get('message', '')}"
    return out  # type: ignore[return-value]


