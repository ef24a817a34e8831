"""Intake rules: what every submitted visit request is checked against, per service, from the database.

One function, :func:`check`, is called for every submission: a request over the API (create,
and a change of its dates or times), a spreadsheet import (``carepath import requests`` and
``POST /imports/requests``, each row against the stored requests and the file's earlier rows),
and each request a care plan's expansion creates (API and CLI).  The rules (``IntakeRule``, one
row per service, changed by admins; a service without a row gets only ``no_past``):

* ``no_past`` -- no date before today (local date of the injectable clock, ``dispatch.clock``);
* ``lead_working_days`` -- the first date is at least N working days after today; working days
  are Monday to Friday except Polish public holidays (24 December from 2025), the one calendar in
  ``dispatch.catalog.recurrence`` (domain.md 1.1: taxi booked >= 3 working days ahead; 3);
* ``service_days`` and ``service_from``/``service_to`` -- the service runs on these weekdays and
  hours (taxi Mon-Fri 06:00-20:00, domain.md 1.1): a visit starts at or after ``service_from`` and
  ends by ``service_to``; a ride's pickup window opens at or after ``service_from`` and its
  return (appointment + its length) leaves by ``service_to``;
* ``month_quota`` / ``year_quota`` -- days with a booking per senior per calendar month / year
  (taxi 2 and 6; a ride = outbound + return on one day, so two requests on one day are one ride);
* the budget of the senior's decisions (``dispatch.catalog.entitlements``): hours or rides per period;
* ``cancel_working_days`` -- a date may be cancelled free until the N-th working day before it;
  a later cancellation leaves it counted (:func:`record_cancellation`; taxi: 1 working day).

Recurring requests (RRULE) are checked occurrence by occurrence over a horizon of
``HORIZON_DAYS`` (366) from the later of today and the first date: one full year of quotas.
Occurrences past the horizon are checked when the request is changed, not later (documented).

A violation names its rule and the numbers ("2 of 2 rides used in December 2026").  Quotas and
budgets used up (``exhausted``) answer 409, any other rule 422 (``IntakeRefused.status``): a
409 means "right form, nothing left", a 422 "this date or time is not allowed".  A coordinator
(or admin) may override every rule with a written ``override_reason``; the request is stored
and an ``visit_request.intake_override`` audit row keeps the reason and the violations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dispatch.access import audit
from dispatch.storage import models as m
from dispatch.storage.care_models import BudgetPeriod, BudgetUnit, IntakeRule, IntakeRuleBase, RequestCancellation
from dispatch.catalog.records import FieldError, InvalidInput, NotFound, err, flush, snapshot
from dispatch.clock import local_today, system_clock
from dispatch.catalog.entitlements import (
    Ledger,
    budget_span,
    decisions_for,
    format_amount,
    period_bounds,
    period_label,
    request_stand_in,
)
from dispatch.catalog.recurrence import is_working_day, occurrences_between

#: How far a recurring request's occurrences are checked: a year of quotas from its start.
HORIZON_DAYS = 366
#: Longest reason accepted for an override (it goes into the audit log).
MAX_REASON_LENGTH = 500
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Request fields whose change re-runs the intake rules on an update.
SCHEDULE_FIELDS = ("senior_id", "service", "first_date", "until", "rrule", "window_start", "window_end",
                   "duration", "appointment", "appointment_minutes", "return_trip", "status")

#: Kielce's senior taxi (domain.md 1.1, MOPR rules of 2021): 2 rides a month, 6 a year, booked 3
#: working days ahead, Mon-Fri 06:00-20:00, cancelled at least 1 working day before.
KIELCE_TAXI = {
    "month_quota": 2, "year_quota": 6, "lead_working_days": 3, "service_days": [0, 1, 2, 3, 4],
    "service_from": dt.time(6, 0), "service_to": dt.time(20, 0), "cancel_working_days": 1, "no_past": True,
}


# --------------------------------------------------------------------------- working days


def working_days_after(day: dt.date, n: int) -> dt.date:
    """The n-th working day after ``day`` (``day`` itself not counted; n = 0 gives ``day``).

    Booking on Friday 2026-12-18 with n = 3: Mon 21 (1), Tue 22 (2), Wed 23 (3).  On Monday
    2026-12-21: 22 (1), 23 (2), then 24 (Wigilia, a holiday from 2025), 25, 26 and the weekend
    are skipped, so Monday 28 is the 3rd.
    """
    current = day
    counted = 0
    while counted < n:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before ``day`` (the last day to cancel a booking on ``day`` free)."""
    current = day
    counted = 0
    while counted < n:
        current -= dt.timedelta(days=1)
        if is_working_day(current):
            counted += 1
    return current


# --------------------------------------------------------------------------- violations


@dataclass(frozen=True)
class Violation:
    """One broken rule: its code, the request field it concerns, a sentence, and the numbers."""

    rule: str
    field: str
    message: str
    numbers: dict[str, Any] = field(default_factory=dict)
    exhausted: bool = False
    """A quota or budget is used up (409); otherwise the date or time is not allowed (422)."""

    def as_error(self) -> FieldError:
        out: dict[str, Any] = {"field": self.field, "message": self.message, "rule": self.rule}
        out.update(self.numbers)
        return out  # type: ignore[return-value]


class IntakeRefused(InvalidInput):
    """The request breaks intake rules (and no override reason was given)."""

    slug = "intake-rule-violated"
    title = "The request breaks an intake rule"

    def __init__(self, violations: list[Violation], errors: list[FieldError] | None = None) -> None:
        self.violations = violations
        super().__init__(errors if errors is not None else [v.as_error() for v in violations],
                         "; ".join(v.message for v in violations))

    @property
    def status(self) -> int:
        """409 when every violation is a quota or budget used up, else 422."""
        return 409 if self.violations and all(v.exhausted for v in self.violations) else 422


# --------------------------------------------------------------------------- the rules of a service


def rule_for(session: Session, service: str) -> IntakeRule:
    """The service's stored rules, or the default (only ``no_past``) if it has none."""
    row = session.get(IntakeRule, service)
    return row if row is not None else IntakeRule(service=service)


def _span(values: Mapping[str, Any], is_ride: bool) -> tuple[dt.time, dt.time] | None:
    """The local times the service is busy for the request: (first start, last end or return pickup)."""
    start, end, duration = values.get("window_start"), values.get("window_end"), values.get("duration")
    if not isinstance(start, dt.time) or not isinstance(end, dt.time):
        return None
    if is_ride:
        appointment = values.get("appointment")
        if not isinstance(appointment, dt.time):
            return start, end
        back = appointment
        if values.get("return_trip", True) and isinstance(values.get("appointment_minutes"), int):
            back = _add_minutes(appointment, values["appointment_minutes"])
        return start, max(back, end)
    return start, _add_minutes(end, duration if isinstance(duration, int) else 0)


def _add_minutes(time: dt.time, minutes: int) -> dt.time:
    total = min(time.hour * 60 + time.minute + minutes, 24 * 60 - 1)
    return dt.time(total // 60, total % 60)


def check(
    session: Session,
    values: Mapping[str, Any],
    *,
    now: dt.datetime,
    request_id: str | None = None,
    ledger: Ledger | None = None,
    first_date_changed: bool = True,
) -> list[Violation]:
    """Every intake rule the prepared request ``values`` breaks (empty: accepted).

    ``values`` are ``requests_service.prepare``'s output (checked and defaults filled).
    ``request_id`` is the request being changed (left out of the counts).  ``ledger`` counts the
    senior's bookings of the service, with a batch's earlier requests added (imports, care plans);
    by default one is read from the database.  ``first_date_changed`` False (an update that keeps
    the first date) lets a recurring request that began in the past be changed.
    """
    service = session.get(m.Service, values.get("service"))
    first = values.get("first_date")
    if service is None or not isinstance(first, dt.date) or not isinstance(values.get("senior_id"), str):
        return []
    rule = rule_for(session, service.code)
    is_ride = service.kind == m.ServiceKind.RIDE
    unit = BudgetUnit.RIDES if is_ride else BudgetUnit.HOURS
    noun = "rides" if is_ride else "visits"
    today = local_today(now)
    out: list[Violation] = []

    if rule.no_past and first < today and first_date_changed:
        out.append(Violation("no_past", "first_date", f"{first} is in the past (today is {today}); "
                                                      "requests are entered for today or later",
                             {"date": first.isoformat(), "today": today.isoformat()}))
    start = max(first, today)
    horizon = start + dt.timedelta(days=HORIZON_DAYS - 1)
    until = values.get("until")
    end = min(until, horizon) if isinstance(until, dt.date) else horizon
    dates = list(occurrences_between(request_stand_in(values, service.working_days_only), start, end)) if start <= end else []

    if rule.lead_working_days and dates:
        earliest = working_days_after(today, rule.lead_working_days)
        early = [d for d in dates if d < earliest]
        if early:
            out.append(Violation(
                "lead_time", "first_date",
                f"{service.code} is booked at least {rule.lead_working_days} working days ahead (weekends and "
                f"public holidays excluded): {early[0]} is too soon; today is {today}, the earliest date is {earliest}",
                {"date": early[0].isoformat(), "earliest": earliest.isoformat(),
                 "lead_working_days": rule.lead_working_days}))
    if rule.service_days is not None:
        off = [d for d in dates if d.weekday() not in rule.service_days]
        if off:
            days = ", ".join(WEEKDAY_NAMES[i] for i in sorted(rule.service_days))
            out.append(Violation("service_days", "first_date",
                                 f"{service.code} runs on {days}; {off[0]} is a {WEEKDAY_NAMES[off[0].weekday()]}",
                                 {"date": off[0].isoformat(), "service_days": sorted(rule.service_days)}))
    span = _span(values, is_ride)
    if span is not None and (rule.service_from is not None or rule.service_to is not None):
        lo, hi = rule.service_from or dt.time(0, 0), rule.service_to or dt.time(23, 59)
        if span[0] < lo or span[1] > hi:
            what = "pickup and return" if is_ride else "visit"
            fld = "window_start" if span[0] < lo else ("appointment_minutes" if is_ride else "window_end")
            out.append(Violation("service_hours", fld,
                                 f"{service.code} runs {lo:%H:%M}-{hi:%H:%M}; this {what} spans "
                                 f"{span[0]:%H:%M}-{span[1]:%H:%M}",
                                 {"service_from": f"{lo:%H:%M}", "service_to": f"{hi:%H:%M}",
                                  "from": f"{span[0]:%H:%M}", "to": f"{span[1]:%H:%M}"}))

    if dates:
        book = ledger if ledger is not None else Ledger(session, values["senior_id"], service.code,
                                                        exclude_request_id=request_id)
        new_days = set(dates)
        for quota, period in ((rule.month_quota, BudgetPeriod.MONTH), (rule.year_quota, BudgetPeriod.YEAR)):
            if quota is not None:
                out += _quota(book, new_days, quota, period, noun, "month_quota" if period == BudgetPeriod.MONTH
                              else "year_quota")
        out += _budgets(session, book, values, new_days, unit)
    return out


def _quota(book: Ledger, new_days: set[dt.date], quota: int, period: BudgetPeriod, noun: str,
           code: str) -> list[Violation]:
    """The first period whose booked days (stored + this request's) pass ``quota``."""
    seen: set[tuple[dt.date, dt.date]] = set()
    for day in sorted(new_days):
        bounds = period_bounds(day, period)
        if bounds in seen:
            continue
        seen.add(bounds)
        booked = set(book.usage(*bounds).minutes_by_date)
        mine = {d for d in new_days if bounds[0] <= d <= bounds[1]}
        if len(booked | mine) > quota:
            label = period_label(day, period)
            return [Violation(code, "first_date",
                              f"{len(booked)} of {quota} {noun} used in {label}; this request would make "
                              f"{len(booked | mine)}", {"used": len(booked), "limit": quota, "period": label,
                                                         "date": day.isoformat()}, exhausted=True)]
    return []


def _budgets(session: Session, book: Ledger, values: Mapping[str, Any], new_days: set[dt.date],
             unit: BudgetUnit) -> list[Violation]:
    """The first decision period whose budget this request would overdraw."""
    first, last = min(new_days), max(new_days)
    minutes = int(values.get("duration") or 0)
    for decision in decisions_for(session, values["senior_id"], values["service"], first, last):
        seen: set[tuple[dt.date, dt.date]] = set()
        for day in sorted(d for d in new_days if decision.valid_from <= d <= decision.valid_to):
            lo, hi = budget_span(decision, day)  # the span and the count remaining_budgets shows
            if (lo, hi) in seen:
                continue
            seen.add((lo, hi))
            used = book.usage(lo, hi)
            mine = sorted(d for d in new_days if lo <= d <= hi)
            before = used.amount(decision.unit)
            if decision.unit == BudgetUnit.RIDES:
                after = float(len(set(used.minutes_by_date) | set(mine)))
            else:
                after = (used.minutes + minutes * len(mine)) / 60
            if after > decision.amount + 1e-9:
                label = period_label(day, decision.period)
                return [Violation(
                    "budget", "duration" if decision.unit == BudgetUnit.HOURS else "first_date",
                    f"{_num(before)} of "
                    f"{format_amount(decision.amount, decision.unit)} used in {label} under decision "
                    f"{decision.reference} ({decision.id}); this request would make {_num(after)}",
                    {"used": round(before, 2), "limit": decision.amount, "unit": decision.unit.value,
                     "period": label, "decision_id": decision.id, "reference": decision.reference,
                     "date": day.isoformat()}, exhausted=True)]
    return []


def _num(value: float) -> str:
    return f"{value:g}"


class Ledgers:
    """One ``Ledger`` per (senior, service) for a batch of submissions (an import's rows): each
    checked request is added to its ledger, so later rows count the earlier ones."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_key: dict[tuple[str, str], Ledger] = {}

    def check(self, values: Mapping[str, Any], *, now: dt.datetime | None) -> list[Violation]:
        senior, service = values.get("senior_id"), values.get("service")
        if not isinstance(senior, str) or not isinstance(service, str):
            return []
        ledger = self._by_key.get((senior, service))
        if ledger is None:
            ledger = self._by_key[(senior, service)] = Ledger(self.session, senior, service)
        violations = check(self.session, values, now=now or system_clock(), ledger=ledger)
        ledger.add(values)
        return violations


# --------------------------------------------------------------------------- enforcing


def reason_problem(reason: str | None) -> str | None:
    """Why an override reason cannot be accepted (None: it can, or none was given)."""
    if reason is None:
        return None
    if not reason.strip():
        return "an override needs a written reason"
    if len(reason) > MAX_REASON_LENGTH:
        return f"{len(reason)} characters; at most {MAX_REASON_LENGTH}"
    return None


def enforce(violations: list[Violation], override_reason: str | None) -> list[Violation]:
    """Raise ``IntakeRefused`` unless there are none or a reason overrides them; the overridden ones."""
    if not violations:
        return []
    if override_reason is None or not override_reason.strip():
        raise IntakeRefused(violations)
    return violations


def record_override(session: Session, actor: str, request_id: str, violations: list[Violation],
                    reason: str) -> None:
    """The audit row of an override: who, the reason, and each rule with its numbers."""
    audit.record(session, actor, "visit_request.intake_override", "visit_request", request_id, {
        "reason": reason.strip(),
        "violations": [{"rule": v.rule, "message": v.message, **v.numbers} for v in violations],
    })


# --------------------------------------------------------------------------- cancellations


def record_cancellation(session: Session, request: m.VisitRequest, now: dt.datetime) -> RequestCancellation:
    """Remember when ``request`` was cancelled and which of its dates still count.

    Past dates count (they happened).  With ``cancel_working_days`` N a date may be cancelled
    free until the N-th working day before it (taxi, N = 1: "cancel/change >= 1 working day
    before", domain.md 1.1; Inowrocław: "by the previous working day").  Later is a late
    cancellation and the date still counts: Monday's ride cancelled on Saturday (the last free day
    was Friday) uses a ride of the month; Wednesday's cancelled on Tuesday does not.
    """
    today = local_today(now)
    rule = rule_for(session, request.service)
    counts_until = today - dt.timedelta(days=1)
    late = False
    if rule.cancel_working_days:
        # The N-th working day before a date is at most N + 14 days before it (Easter, Christmas).
        horizon = today + dt.timedelta(days=rule.cancel_working_days * 3 + 14)
        late_dates = [d for d in occurrences_between(request, today, horizon)
                      if working_days_before(d, rule.cancel_working_days) < today]
        if late_dates:
            counts_until, late = late_dates[-1], True
    row = session.get(RequestCancellation, request.id)
    if row is None:
        row = RequestCancellation(visit_request_id=request.id)
        session.add(row)
    row.cancelled_at, row.counts_until, row.late = now, counts_until, late
    return row


# --------------------------------------------------------------------------- rules: use cases


def validate_rule(data: Mapping[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    days = data.get("service_days")
    if days is not None and (not isinstance(days, list) or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days)):
        errors.append(err("service_days", "must be weekdays 0 (Monday) to 6 (Sunday)"))
    lo, hi = data.get("service_from"), data.get("service_to")
    if isinstance(lo, dt.time) and isinstance(hi, dt.time) and hi <= lo:
        errors.append(err("service_to", f"service_to {hi:%H:%M} is not after service_from {lo:%H:%M}"))
    for name in ("service_from", "service_to"):
        value = data.get(name)
        if isinstance(value, dt.time) and value.tzinfo is not None:
            errors.append(err(name, "must be a local time without an offset"))
    return errors


def set_rule(session: Session, actor: str, service: str, data: Mapping[str, Any]) -> IntakeRule:
    """Create or replace the service's intake rules (fields not given take their defaults); audited."""
    if session.get(m.Service, service) is None:
        raise NotFound("service", service)
    values = {k: data.get(k, IntakeRuleBase.model_fields[k].default) for k in IntakeRuleBase.model_fields}
    if values["service_days"] is not None:
        values["service_days"] = sorted(set(values["service_days"]))
    errors = validate_rule(values)
    if errors:
        raise InvalidInput(errors)
    row = session.get(IntakeRule, service)
    before = snapshot(row) if row is not None else {}
    if row is None:
        row = IntakeRule(service=service, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    flush(session, f"intake rules of {service!r}")
    changed = audit.diff(before, snapshot(row))
    if changed:
        audit.record(session, actor, "intake_rule.set", "intake_rule", service, changed)
    return row


def seed_kielce(session: Session) -> list[str]:
    """Kielce's rules for its ``taxi`` service, if the catalogue has one and it has no rules yet
    (a scenario load; the load's own audit row records it)."""
    if session.get(m.Service, "taxi") is None or session.get(IntakeRule, "taxi") is not None:
        return []
    session.add(IntakeRule(service="taxi", **KIELCE_TAXI))
    session.flush()
    return ["taxi"]


def rule_json(rule: IntakeRule) -> dict[str, Any]:
    return {"service": rule.service, **{k: getattr(rule, k) for k in IntakeRuleBase.model_fields}}

