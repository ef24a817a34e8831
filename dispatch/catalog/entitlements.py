"""Entitlements: a senior's decisions (budgets of hours or rides per period) and what is used of them.

A decision of the centre (domain.md 1.3: "MOPR decision after a family interview sets scope,
period, place and fee"; 1.4: AOON budgets of 360-840 h a year; 1.1: the taxi's rides) grants one
senior, for one service, ``amount`` hours or rides per day, week (Monday-Sunday), month or year,
valid from-to, under a reference number ("MOPR-OP.8221.123.2026").

Three functions the reports and pages call (issue 17 item 4 builds on them):

* :func:`granted_in_period` -- hours or rides granted to a senior for a service in ``[start, end]``:
  each period of each valid decision counts in proportion to its days inside the range and the
  validity (a month's 30 h over a range holding half of it grants 15 h);
* :func:`used_in_period` -- what the senior's requests of that service book in the range:
  minutes on site (hours budgets) and days with a booking (ride budgets: a ride = outbound +
  return on one day, domain.md 1.1), from active requests and from cancelled ones up to the
  date their cancellation still counts (``care_models.RequestCancellation``);
* :func:`remaining_budgets` -- per decision valid on a day, its budget in the period holding that
  day, what the senior's requests book of it and what is left: the same count (``budget_span``,
  ``Ledger``, ``Usage.amount``) the intake rules check a new request against, so the number a
  coordinator reads is the one a submission is refused on.

:class:`Ledger` is the same count for one senior and service with requests not stored yet added
(an import's earlier rows, a care plan's earlier dates), which the intake rules check against.
Hours are on-site minutes of the senior (``duration``), not carer-hours of a two-person visit.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from dispatch import limits
from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.storage.care_models import BudgetPeriod, BudgetUnit, Decision, DecisionBase, RequestCancellation
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
    snapshot,
)
from dispatch.catalog.recurrence import occurrences_between

DECISION_IDS = IdScheme("d-", 5)
MONTHS_EN = tuple(calendar.month_name)


# --------------------------------------------------------------------------- periods


def period_bounds(day: dt.date, period: BudgetPeriod) -> tuple[dt.date, dt.date]:
    """The calendar period holding ``day``: the day, its Monday-Sunday week, its month or its year."""
    if period == BudgetPeriod.DAY:
        return day, day
    if period == BudgetPeriod.WEEK:
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if period == BudgetPeriod.MONTH:
        return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)


def period_label(day: dt.date, period: BudgetPeriod) -> str:
    """How a person names the period holding ``day``: "December 2026", "2026", "the week of 2026-12-21"."""
    start, _ = period_bounds(day, period)
    if period == BudgetPeriod.DAY:
        return day.isoformat()
    if period == BudgetPeriod.WEEK:
        return f"the week of {start.isoformat()}"
    if period == BudgetPeriod.MONTH:
        return f"{MONTHS_EN[day.month]} {day.year}"
    return str(day.year)


def _periods(start: dt.date, end: dt.date, period: BudgetPeriod) -> Iterable[tuple[dt.date, dt.date]]:
    day = start
    while day <= end:
        lo, hi = period_bounds(day, period)
        yield lo, hi
        day = hi + dt.timedelta(days=1)


# --------------------------------------------------------------------------- usage


def _unit_amount(minutes: int, days: int, unit: BudgetUnit) -> float:
    return minutes / 60 if unit == BudgetUnit.HOURS else float(days)


def format_amount(value: float, unit: BudgetUnit) -> str:
    """``1.5 hours``, ``2 rides``: numbers as a person reads them."""
    number = f"{value:g}" if unit == BudgetUnit.HOURS else f"{int(round(value))}"
    name = unit.value if value != 1 else unit.value[:-1]
    return f"{number} {name}"


@dataclass
class Usage:
    """What is booked in a range: minutes on site per date (a date with a booking is one ride)."""

    minutes_by_date: dict[dt.date, int] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        return sum(self.minutes_by_date.values())

    @property
    def days(self) -> int:
        return len(self.minutes_by_date)

    def amount(self, unit: BudgetUnit) -> float:
        """Hours or rides."""
        return _unit_amount(self.minutes, self.days, unit)


def request_stand_in(values: Mapping[str, Any], working_days_only: bool) -> SimpleNamespace:
    """A request not stored yet, as ``occurrences_between`` reads one (its dates only)."""
    return SimpleNamespace(first_date=values["first_date"], rrule=values.get("rrule"), until=values.get("until"),
                           working_days_only=working_days_only)


class Ledger:
    """Bookings of one senior for one service: stored requests (one left out, e.g. the one being
    changed) plus requests added to the ledger and not stored yet.  Occurrences are expanded per
    calendar year, once per request."""

    def __init__(self, session: Session, senior_id: str, service: str, *, exclude_request_id: str | None = None) -> None:
        self.senior_id = senior_id
        self.service = service
        svc = session.get(m.Service, service)
        self.working_days_only = bool(svc is not None and svc.working_days_only)
        stmt = select(m.VisitRequest, RequestCancellation).outerjoin(
            RequestCancellation, col(RequestCancellation.visit_request_id) == col(m.VisitRequest.id)
        ).where(col(m.VisitRequest.senior_id) == senior_id, col(m.VisitRequest.service) == service)
        self._items: list[tuple[Any, int, dt.date | None]] = []
        for row, cancellation in session.execute(stmt).all():
            if exclude_request_id is not None and row.id == exclude_request_id:
                continue
            if row.status == m.RequestStatus.CANCELLED:
                if cancellation is None or cancellation.counts_until is None:
                    continue  # cancelled before cancellations were recorded, or nothing of it counts
                self._items.append((row, row.duration, cancellation.counts_until))
            else:
                self._items.append((row, row.duration, None))
        self._cache: dict[tuple[int, int], list[dt.date]] = {}

    def add(self, values: Mapping[str, Any]) -> None:
        """Count a request that is not stored yet (prepared values)."""
        self._items.append((request_stand_in(values, self.working_days_only), int(values.get("duration") or 0), None))

    def _dates(self, index: int, year: int) -> list[dt.date]:
        key = (index, year)
        if key not in self._cache:
            request, _, counts_until = self._items[index]
            hi = dt.date(year, 12, 31)
            if counts_until is not None:
                hi = min(hi, counts_until)
            lo = max(dt.date(year, 1, 1), request.first_date)
            self._cache[key] = list(occurrences_between(request, lo, hi)) if lo <= hi else []
        return self._cache[key]

    def usage(self, start: dt.date, end: dt.date) -> Usage:
        """Minutes per date booked in ``[start, end]``."""
        by_date: dict[dt.date, int] = defaultdict(int)
        for index, (request, minutes, _) in enumerate(self._items):
            if request.first_date > end or (request.until is not None and request.until < start):
                continue
            for year in range(start.year, end.year + 1):
                for day in self._dates(index, year):
                    if start <= day <= end:
                        by_date[day] += minutes
        return Usage(dict(by_date))


def used_in_period(session: Session, senior_id: str, service: str, start: dt.date, end: dt.date) -> Usage:
    """What the senior's requests of ``service`` book in ``[start, end]`` (planned, not delivered)."""
    return Ledger(session, senior_id, service).usage(start, end)


def decisions_for(session: Session, senior_id: str, service: str, start: dt.date | None = None,
                  end: dt.date | None = None) -> list[Decision]:
    """The senior's decisions for ``service`` valid on some day of ``[start, end]`` (all if not given)."""
    stmt = select(Decision).where(col(Decision.senior_id) == senior_id, col(Decision.service) == service)
    if end is not None:
        stmt = stmt.where(col(Decision.valid_from) <= end)
    if start is not None:
        stmt = stmt.where(col(Decision.valid_to) >= start)
    return list(session.scalars(stmt.order_by(col(Decision.valid_from), col(Decision.id))).all())


@dataclass(frozen=True)
class Granted:
    """Hours or rides granted in a range, by unit (a senior may hold an hours and a rides decision)."""

    hours: float
    rides: float


def granted_in_period(session: Session, senior_id: str, service: str, start: dt.date, end: dt.date) -> Granted:
    """Hours and rides granted to the senior for ``service`` in ``[start, end]``, pro rata by days."""
    totals = {BudgetUnit.HOURS: 0.0, BudgetUnit.RIDES: 0.0}
    for decision in decisions_for(session, senior_id, service, start, end):
        lo, hi = max(start, decision.valid_from), min(end, decision.valid_to)
        for p_lo, p_hi in _periods(lo, hi, decision.period):
            inside = (min(hi, p_hi) - max(lo, p_lo)).days + 1
            totals[decision.unit] += decision.amount * inside / ((p_hi - p_lo).days + 1)
    return Granted(hours=totals[BudgetUnit.HOURS], rides=totals[BudgetUnit.RIDES])


def budget_span(decision: Decision, day: dt.date) -> tuple[dt.date, dt.date]:
    """The days of the decision's period holding ``day`` that the decision covers: a budget of
    "30 h a month" valid from the 10th counts its 30 h over the 10th to the month's end."""
    p_lo, p_hi = period_bounds(day, decision.period)
    return max(p_lo, decision.valid_from), min(p_hi, decision.valid_to)


@dataclass(frozen=True)
class Budget:
    """One decision's budget in one period: granted, booked, left (negative when overridden)."""

    decision: Decision
    start: dt.date
    end: dt.date
    label: str
    used: float

    @property
    def limit(self) -> float:
        return self.decision.amount

    @property
    def remaining(self) -> float:
        return round(self.decision.amount - self.used, 2)


def remaining_budgets(session: Session, senior_id: str, day: dt.date) -> list[Budget]:
    """Each decision of the senior valid on ``day``: its period's budget and what is left of it.

    Booked counts the senior's active requests of the service and the cancelled ones that still
    count, exactly as the intake rules do when a request is submitted (``intake_rules._budgets``).
    """
    stmt = decision_query(senior_id, valid_on=day).order_by(col(Decision.service), col(Decision.valid_from),
                                                           col(Decision.id))
    ledgers: dict[str, Ledger] = {}
    out: list[Budget] = []
    for decision in session.scalars(stmt).all():
        ledger = ledgers.get(decision.service)
        if ledger is None:
            ledger = ledgers[decision.service] = Ledger(session, senior_id, decision.service)
        lo, hi = budget_span(decision, day)
        used = ledger.usage(lo, hi).amount(decision.unit)
        out.append(Budget(decision, lo, hi, period_label(day, decision.period), round(used, 2)))
    return out


# --------------------------------------------------------------------------- rules shared with care plans


def senior_and_service_errors(session: Session, data: Mapping[str, Any]) -> tuple[list[FieldError], Any]:
    """``senior_id`` and ``service`` must name stored records (decisions and care plans alike);
    returns the errors and the service row (None if unknown)."""
    errors: list[FieldError] = []
    senior_id = data.get("senior_id")
    if not isinstance(senior_id, str) or session.get(m.Senior, senior_id) is None:
        errors.append(err("senior_id", f"unknown senior {senior_id!r}"))
    service = session.get(m.Service, data.get("service")) if isinstance(data.get("service"), str) else None
    if service is None:
        errors.append(err("service", f"unknown service {data.get('service')!r}"))
    return errors, service


def validity_errors(data: Mapping[str, Any]) -> list[FieldError]:
    """``valid_from`` and ``valid_to``: sane dates, the end not before the start (decisions and care plans)."""
    errors: list[FieldError] = []
    start, end = data.get("valid_from"), data.get("valid_to")
    for name, value in (("valid_from", start), ("valid_to", end)):
        if not isinstance(value, dt.date):
            errors.append(err(name, "is required (a date)"))
        elif (problem := limits.date_problem(value)) is not None:
            errors.append(err(name, problem))
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        errors.append(err("valid_to", f"valid_to {end} is before valid_from {start}"))
    return errors


# --------------------------------------------------------------------------- decisions: use cases


def validate_decision(session: Session, data: Mapping[str, Any]) -> list[FieldError]:
    """Every rule a decision must satisfy (``data`` is the whole record, typed)."""
    errors, _service = senior_and_service_errors(session, data)
    reference = data.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        errors.append(err("reference", "is required: the decision's reference number, e.g. MOPR-OP.8221.123.2026"))
    for name, enum in (("unit", BudgetUnit), ("period", BudgetPeriod)):
        try:
            enum(data.get(name))
        except ValueError:
            errors.append(err(name, f"must be one of {', '.join(e.value for e in enum)}"))
    amount = data.get("amount")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or not 0 < amount <= 100_000:
        errors.append(err("amount", "must be a number of hours or rides above 0 (at most 100000)"))
    elif data.get("unit") == BudgetUnit.RIDES.value and float(amount) != int(amount):
        errors.append(err("amount", "rides are counted whole"))
    errors += validity_errors(data)
    errors += length_errors(Decision, {k: data[k] for k in ("reference", "note") if isinstance(data.get(k), str)})
    return errors


def _typed(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {k: data[k] for k in DecisionBase.model_fields if k in data}
    for name, enum in (("unit", BudgetUnit), ("period", BudgetPeriod)):
        if isinstance(values.get(name), str) and values[name] in {e.value for e in enum}:
            values[name] = enum(values[name])  # the enum itself: rows and snapshots serialise it
    values.setdefault("note", "")
    if isinstance(values.get("reference"), str):
        values["reference"] = values["reference"].strip()
    return values


def get_decision(session: Session, decision_id: str) -> Decision:
    row = session.get(Decision, decision_id)
    if row is None:
        raise NotFound("decision", decision_id)
    return row


def create_decision(session: Session, actor: str, data: Mapping[str, Any], *, source: str | None = None) -> Decision:
    """Check and store a decision (id ``d-00001`` unless given); audited as ``decision.create``."""
    values = _typed(data)
    given = data.get("id")
    errors: list[FieldError] = []
    check_id(given, errors)
    errors += validate_decision(session, values)
    if errors:
        raise InvalidInput(errors)
    if given is not None and session.get(Decision, given) is not None:
        raise Conflict(f"decision {given!r} already exists", "id")
    row = Decision(id=DECISION_IDS.claim(session, Decision, given), **values)
    session.add(row)
    flush(session, f"decision {row.id!r}")
    audit.record(session, actor, "decision.create", "decision", row.id,
                 created_changes(row, {"source": source} if source else None))
    return row


def update_decision(session: Session, actor: str, decision_id: str, changes: Mapping[str, Any]) -> Decision:
    """Change a decision; the whole record is re-checked."""
    row = get_decision(session, decision_id)
    before = snapshot(row)
    values = _typed({k: getattr(row, k) for k in DecisionBase.model_fields} | dict(changes))
    errors = validate_decision(session, values)
    if errors:
        raise InvalidInput(errors)
    for name, value in values.items():
        setattr(row, name, value)
    flush(session, f"decision {decision_id!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "decision.update", "decision", decision_id, changed)
    return row


def delete_decision(session: Session, actor: str, decision_id: str) -> None:
    """Remove a decision entered by mistake (an ended one keeps its ``valid_to`` instead)."""
    row = get_decision(session, decision_id)
    before = snapshot(row)
    session.delete(row)
    flush(session, f"decision {decision_id!r}")
    audit.record(session, actor, "decision.delete", "decision", decision_id,
                 {k: {"old": v, "new": None} for k, v in before.items()})


def decision_query(senior_id: str | None = None, service: str | None = None, valid_on: dt.date | None = None) -> Any:
    stmt = select(Decision)
    if senior_id:
        stmt = stmt.where(col(Decision.senior_id) == senior_id)
    if service:
        stmt = stmt.where(col(Decision.service) == service)
    if valid_on is not None:
        stmt = stmt.where(col(Decision.valid_from) <= valid_on, col(Decision.valid_to) >= valid_on)
    return stmt
