"""Polish working-time rules across days (Kodeks pracy; ``../shared/domain.md`` section 2), in one place.

Two callers ask these rules, with the same numbers:

* **entry** (``pattern_findings``): a worker's weekly shift pattern, when it is created, changed or
  imported (``dispatch.catalog.records.validate_worker``).  Breaking a hard rule (the 11 h daily rest
  in every doba, the 35 h weekly rest in every week) is refused; more hours than the contract's
  ``weekly_hours`` is a warning only (overtime is lawful, within limits the planner enforces).
* **planning** (``day_limits``): the day's shifts of one worker, cut by what is already planned or
  published on the days around it (``dispatch.planning.work_spans`` reads that): rest of 11 h after
  the last end before the day and before the first start after it, a 35 h rest left in the day's
  week, and the day's working minutes capped by the week's maximum and by the settlement period's
  norm plus the overtime left in the calendar year.

Rules, as applied here:

* Doba (art. 128 par. 3): 24 h from the start of work.  Every rest is measured in real minutes
  (through UTC), so a DST night of 23 or 25 hours counts what it lasts, not the clock.
* Week: Monday 00:00 to the next Monday 00:00, local (the centre's settlement weeks start on a
  Monday); the weekly rest must lie inside the week (art. 133 par. 1: "in every week").
* Settlement period: ``labour_settlement_months`` months counted from January (1 to 4, art. 129);
  its norm is ``weekly_hours`` x days / 7.  Overtime in a period is planned time over its norm;
  a calendar year allows ``labour_overtime_hours_per_year`` (art. 151 par. 3).
* Civil contracts (umowa zlecenie): none of these caps apply; their hours are still recorded.

The functions return reason codes and numbers (minutes, instants); wording in Polish and English
is made at the edge (``dispatch.planning.labour_words``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from dispatch.domain import Contract
from dispatch.timeutil import day_origin, to_minutes

DOBA_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DOBA_MINUTES

#: Rule codes (``Finding.rule`` and ``DayLimit.rule``).
DAILY_REST = "daily_rest"  # art. 132: 11 h uninterrupted in every doba
WEEKLY_REST = "weekly_rest"  # art. 133: 35 h uninterrupted in every week
WEEKLY_HOURS = "weekly_hours"  # the contract's weekly hours (a warning at entry)
WEEKLY_MAXIMUM = "weekly_maximum"  # art. 131: 48 h a week incl. overtime
SETTLEMENT_HOURS = "settlement_hours"  # art. 129 + 151: the period's norm + overtime left in the year


@dataclass(frozen=True)
class LabourRules:
    """The numbers of the rules; the settings hold the ones a centre may change."""

    daily_rest_minutes: int = 11 * 60
    weekly_rest_minutes: int = 35 * 60
    settlement_months: int = 1
    overtime_minutes_per_year: int = 150 * 60
    max_weekly_minutes: int = 48 * 60

    @classmethod
    def from_settings(cls, settings: Any | None = None) -> LabourRules:
        if settings is None:
            from dispatch.settings import get_settings

            settings = get_settings()
        return cls(settlement_months=settings.labour_settlement_months,
                   overtime_minutes_per_year=settings.labour_overtime_hours_per_year * 60,
                   max_weekly_minutes=settings.labour_max_weekly_hours * 60)


def is_capped(contract: object) -> bool:
    """Whether Kodeks pracy's working-time rules bind this contract (not an umowa zlecenie)."""
    return contract != Contract.CIVIL


# --------------------------------------------------------------------------- entry: the weekly pattern


@dataclass(frozen=True)
class Finding:
    """A rule a weekly pattern breaks (``error``) or strains (a warning), with its numbers in minutes."""

    rule: str
    actual_minutes: int
    limit_minutes: int
    error: bool
    weekday: int | None = None
    shift_index: int | None = None
    """Index of the shift (in the pattern as given) the doba starts with, for a daily rest."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "actual_minutes": self.actual_minutes,
                               "limit_minutes": self.limit_minutes}
        if self.weekday is not None:
            out["weekday"] = self.weekday
        return out


def _week_minute(weekday: int, t: dt.time) -> int:
    return weekday * DOBA_MINUTES + t.hour * 60 + t.minute


def longest_rest(work: Iterable[tuple[int, int]], lo: int, hi: int) -> int:
    """The longest stretch of [lo, hi) free of every ``work`` interval (clipped to it)."""
    clipped = sorted((max(a, lo), min(b, hi)) for a, b in work if b > lo and a < hi)
    best, at = 0, lo
    for a, b in clipped:
        best = max(best, a - at)
        at = max(at, b)
    return max(best, hi - at)


def pattern_findings(contract: object, weekly_hours: float,
                     shifts: Sequence[Mapping[str, Any]], rules: LabourRules | None = None) -> list[Finding]:
    """What a weekly shift pattern breaks: errors (daily and weekly rest) and warnings (hours over the
    contract's ``weekly_hours``).  ``shifts`` are ``{"weekday", "start", "end"}`` with local times,
    already valid one by one (``validate_shifts``).  The pattern repeats every week, read on a week
    without a clock change (a DST week is planned in real hours by ``day_limits``)."""
    rules = rules or LabourRules()
    if not shifts or not is_capped(contract):
        return []
    spans = [(_week_minute(s["weekday"], s["start"]), _week_minute(s["weekday"], s["end"])) for s in shifts]
    repeated = [(a + k * WEEK_MINUTES, b + k * WEEK_MINUTES) for k in (-1, 0, 1) for a, b in spans]
    out: list[Finding] = []
    first_of_day: dict[int, int] = {}
    for i, s in enumerate(shifts):
        if s["weekday"] not in first_of_day or spans[i][0] < spans[first_of_day[s["weekday"]]][0]:
            first_of_day[s["weekday"]] = i
    for weekday in sorted(first_of_day):
        i = first_of_day[weekday]
        start = spans[i][0]
        rest = longest_rest(repeated, start, start + DOBA_MINUTES)
        if rest < rules.daily_rest_minutes:
            out.append(Finding(DAILY_REST, rest, rules.daily_rest_minutes, True, weekday, i))
    weekly = longest_rest(spans, 0, WEEK_MINUTES)
    if weekly < rules.weekly_rest_minutes:
        out.append(Finding(WEEKLY_REST, weekly, rules.weekly_rest_minutes, True))
    total = sum(b - a for a, b in spans)
    norm = round(weekly_hours * 60)
    if total > norm:
        out.append(Finding(WEEKLY_HOURS, total, norm, False))
    return out


# --------------------------------------------------------------------------- planning: a day among its neighbours


@dataclass(frozen=True)
class WorkSpan:
    """A worker's work on another day, as a stored roster has it: first start and last end (aware
    UTC, leaving home to coming back) and the minutes worked."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime
    work_minutes: int


@dataclass(frozen=True)
class DayLimit:
    """A limit applied to a worker's day, with the numbers that made it (reason code and facts)."""

    rule: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DayTerms:
    """A worker's day after the rules: shifts as ``(start, end, max_overtime)`` minutes of the day,
    the day's working-minute cap, and the limits that changed anything."""

    shifts: tuple[tuple[int, int, int], ...]
    max_work_minutes: int
    limits: tuple[DayLimit, ...] = ()


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday the day's week starts on and the next Monday."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=7)


def period_bounds(day: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The settlement period holding ``day``: ``months`` months counted from January, [first, next first)."""
    first_month = (day.month - 1) // months * months + 1
    start = dt.date(day.year, first_month, 1)
    end_month = first_month + months
    end = dt.date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


def _norm_minutes(weekly_hours: float, start: dt.date, end: dt.date) -> int:
    return round(weekly_hours * 60 * (end - start).days / 7)


def year_overtime_used(weekly_hours: float, spans: Iterable[WorkSpan], day: dt.date, months: int) -> int:
    """Overtime already planned in ``day``'s calendar year before ``day``'s settlement period: in each
    earlier period, the minutes planned over its norm."""
    by_period: dict[tuple[dt.date, dt.date], int] = {}
    current = period_bounds(day, months)
    for s in spans:
        if s.date.year != day.year:
            continue
        bounds = period_bounds(s.date, months)
        if bounds != current:
            by_period[bounds] = by_period.get(bounds, 0) + s.work_minutes
    return sum(max(0, total - _norm_minutes(weekly_hours, *b)) for b, total in by_period.items())


def day_limits(
    day: dt.date, tz: str, contract: object, weekly_hours: float, shifts: Sequence[tuple[int, int, int]],
    max_work_minutes: int, others: Sequence[WorkSpan], rules: LabourRules | None = None,
) -> DayTerms:
    """The worker's shifts on ``day`` (minutes of the day, with each one's overtime) cut so that the
    rules hold with the work ``others`` (other days' spans) already planned, and the day's cap.

    A civil contract is returned as it is.  Shifts are cut, in this order: the 11 h rest after the
    last end before the day and before the first start after it; a 35 h rest left in the week
    (starting later, ending earlier, or not working the day, whichever keeps more of the day); then
    the working minutes capped by the week's maximum and the settlement period's norm plus the
    year's overtime left.  A cap of 0 or no shift left means the worker is not planned that day.
    """
    rules = rules or LabourRules()
    if not is_capped(contract):
        return DayTerms(tuple(shifts), max_work_minutes)
    others = [s for s in others if s.date != day]
    limits: list[DayLimit] = []
    work = list(shifts)

    def minute(instant: dt.datetime) -> int:
        return to_minutes(instant, day, tz)

    before = [s for s in others if s.date < day]
    after = [s for s in others if s.date > day]
    if before and work:
        last = max(before, key=lambda s: s.end)
        earliest = minute(last.end) + rules.daily_rest_minutes
        if earliest > work[0][0]:
            work = [(max(a, earliest), b, o) for a, b, o in work if b > earliest]
            limits.append(DayLimit(DAILY_REST, {"side": "before", "other_date": last.date.isoformat(),
                                                "other_end": last.end.isoformat(), "earliest_start": earliest,
                                                "rest_minutes": rules.daily_rest_minutes}))
    if after and work:
        first = min(after, key=lambda s: s.start)
        latest = minute(first.start) - rules.daily_rest_minutes
        if latest < work[-1][1] + work[-1][2]:
            work = [(a, min(b, latest), max(0, min(o, latest - b))) for a, b, o in work if a < latest]
            limits.append(DayLimit(DAILY_REST, {"side": "after", "other_date": first.date.isoformat(),
                                                "other_start": first.start.isoformat(), "latest_end": latest,
                                                "rest_minutes": rules.daily_rest_minutes}))
    monday, next_monday = week_bounds(day)
    week = [s for s in others if monday <= s.date < next_monday]
    if work and week:
        work = _keep_weekly_rest(day, tz, work, week, monday, next_monday, rules, limits)
    cap = max_work_minutes
    if work:
        worked_week = sum(s.work_minutes for s in week)
        week_left = max(0, rules.max_weekly_minutes - worked_week)
        if week_left < cap:
            cap = week_left
            limits.append(DayLimit(WEEKLY_MAXIMUM, {"week_start": monday.isoformat(), "worked_minutes": worked_week,
                                                    "limit_minutes": rules.max_weekly_minutes, "cap_minutes": cap}))
        start, end = period_bounds(day, rules.settlement_months)
        worked_period = sum(s.work_minutes for s in others if start <= s.date < end)
        norm = _norm_minutes(weekly_hours, start, end)
        overtime_left = max(0, rules.overtime_minutes_per_year
                            - year_overtime_used(weekly_hours, others, day, rules.settlement_months))
        period_left = max(0, norm + overtime_left - worked_period)
        if period_left < cap:
            cap = period_left
            limits.append(DayLimit(SETTLEMENT_HOURS, {
                "period_start": start.isoformat(), "period_end": (end - dt.timedelta(days=1)).isoformat(),
                "norm_minutes": norm, "worked_minutes": worked_period, "overtime_left_minutes": overtime_left,
                "cap_minutes": cap}))
    if cap <= 0:
        work = []
    return DayTerms(tuple(work), cap if work else 0, tuple(limits))


def _keep_weekly_rest(
    day: dt.date, tz: str, work: list[tuple[int, int, int]], week: Sequence[WorkSpan], monday: dt.date,
    next_monday: dt.date, rules: LabourRules, limits: list[DayLimit],
) -> list[tuple[int, int, int]]:
    """``work`` so that the week keeps a 35 h rest: unchanged if it does; else the longest of starting
    later (35 h after the last end before the day), ending earlier (35 h before the next start), or
    not working the day."""
    lo, hi = to_minutes(day_origin(monday, tz), day, tz), to_minutes(day_origin(next_monday, tz), day, tz)
    spans = [(to_minutes(s.start, day, tz), to_minutes(s.end, day, tz)) for s in week]
    need = rules.weekly_rest_minutes
    today = (work[0][0], max(b + o for _, b, o in work))
    if longest_rest([*spans, today], lo, hi) >= need:
        return work
    prev_end = max([b for a, b in spans if b <= today[0]] or [lo])
    next_start = min([a for a, b in spans if a >= today[1]] or [hi])
    options: list[tuple[int, str, list[tuple[int, int, int]]]] = []
    later = prev_end + need
    cut = [(max(a, later), b, o) for a, b, o in work if b > later]
    if cut and longest_rest([*spans, (cut[0][0], max(b + o for _, b, o in cut))], lo, hi) >= need:
        options.append((sum(b - a for a, b, _ in cut), "start_later", cut))
    earlier = next_start - need
    cut = [(a, min(b, earlier), max(0, min(o, earlier - b))) for a, b, o in work if a < earlier]
    if cut and longest_rest([*spans, (cut[0][0], max(b + o for _, b, o in cut))], lo, hi) >= need:
        options.append((sum(b - a for a, b, _ in cut), "end_earlier", cut))
    options.append((0, "day_off", []))
    _, how, chosen = max(options, key=lambda o: o[0])
    details: dict[str, Any] = {"week_start": monday.isoformat(), "rest_minutes": need, "how": how,
                               "rest_kept_minutes": longest_rest(spans, lo, hi) if not chosen else need}
    if chosen:
        details["start"] = chosen[0][0]
        details["end"] = chosen[-1][1]
    limits.append(DayLimit(WEEKLY_REST, details))
    return chosen
