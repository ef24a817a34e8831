"""On which days does a visit request happen?  RFC 5545 RRULE expansion for stored requests.

A request recurs by an RRULE (``"FREQ=WEEKLY;BYDAY=MO,WE,FR"``) counted from its ``first_date``
(the DTSTART) up to ``until`` (inclusive), or happens once on ``first_date`` if it has no rule.
Works on anything with ``first_date``, ``rrule``, ``until`` and ``working_days_only``
attributes: a ``dispatch.storage.models.VisitRequest`` row (which reads the flag from its service) or
a stand-in built from a service row.

Calendar rule, the same as ``fixtures.occurrences`` applies to an in-memory ``Scenario`` (a test
checks the two agree): a service marked ``working_days_only`` (in Kielce the senior taxi and the
handyman) runs Mon-Fri, not on Polish public holidays (domain.md 1.1, 1.2 and 3; package
``holidays``, which has 24 December since 2025), so its occurrences on a weekend or holiday are
dropped, one-off requests included.  ``COUNT`` in a rule counts dropped dates too (the series
does not extend).  Other services (home care, SUO, assistance, respite) follow their RRULE on
holidays too: a care plan that wants a holiday off says so in the plan.

Bounded work (issue 21: ``FREQ=SECONDLY`` took 119 s and 1.98 GB to store, then 27 s per list):
``parse_rrule`` is the one validator of rules and refuses frequencies below daily, time-of-day
parts, and ``COUNT``/``INTERVAL``/``UNTIL`` past ``MAX_COUNT``/``MAX_INTERVAL``/``MAX_RULE_YEARS``.
Expansion works on days and walks only the periods of the range asked (dateutil's iterator
would scan to the year 9999 for a rule that never matches), and a stored rule that the
validator refuses is left out with a warning naming the request.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import holidays
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

log = logging.getLogger(__name__)


class InvalidRecurrence(ValueError):
    """An RRULE that cannot be parsed or does not fit the request's first date."""


class RecurringRequest(Protocol):
    """What recurrence needs of a request (rows and fixture dataclasses both qualify)."""

    @property
    def first_date(self) -> dt.date: ...
    @property
    def rrule(self) -> str | None: ...
    @property
    def until(self) -> dt.date | None: ...
    @property
    def working_days_only(self) -> bool: ...


@lru_cache(maxsize=16)
def _polish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("PL", years=year)


def is_public_holiday(day: dt.date) -> bool:
    """True on a Polish statutory public holiday."""
    return day in _polish_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a Polish public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


#: A visit's time of day comes from its window, so a rule only chooses days: these are the
#: frequencies it may have (RFC 5545 names -> dateutil constants).  Anything finer
#: (``SECONDLY``, ``MINUTELY``, ``HOURLY``) would mean thousands of visits a day and made one
#: request take minutes and gigabytes to expand (issue 21).
DAY_FREQUENCIES: dict[str, int] = {"DAILY": DAILY, "WEEKLY": WEEKLY, "MONTHLY": MONTHLY, "YEARLY": YEARLY}
#: The rule parts a visit request may use.  ``BYHOUR``/``BYMINUTE``/``BYSECOND`` choose times
#: (the window does that); ``BYYEARDAY``/``BYWEEKNO`` and dateutil's ``BYEASTER`` are not needed
#: by any care plan and are refused rather than half supported by the day-level expansion below.
ALLOWED_PARTS: frozenset[str] = frozenset(
    {"FREQ", "INTERVAL", "COUNT", "UNTIL", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"}
)
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
#: How far a rule's own ``UNTIL`` may lie after ``first_date``; a rule without an end (no
#: ``UNTIL``, no ``COUNT``) is allowed and is what an open-ended care plan uses.
MAX_RULE_YEARS = 10
#: ``COUNT`` at most: one occurrence a day for ``MAX_RULE_YEARS`` years.
MAX_COUNT = MAX_RULE_YEARS * 366
#: ``INTERVAL`` at most, per frequency: one year between repeats (ten for a yearly rule).
MAX_INTERVAL: dict[int, int] = {DAILY: 366, WEEKLY: 53, MONTHLY: 12, YEARLY: MAX_RULE_YEARS}


@dataclass(frozen=True)
class DayRule:
    """A checked rule, reduced to what decides *days* (dateutil's defaults from DTSTART filled in).

    Expansion (``_days``) walks the rule's periods (day, week, month or year) itself and stops
    at the end of the asked range: dateutil's own iterator scans period after period until it
    finds a match, up to the year 9999 for a rule that never matches
    (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``: 4 s), whatever the range asked.
    """

    first_date: dt.date
    freq: int
    interval: int
    count: int | None
    until: dt.datetime | None
    wkst: int
    bymonth: tuple[int, ...] | None
    byweekday: tuple[int, ...] | None
    bynweekday: tuple[tuple[int, int], ...] | None
    bymonthday: tuple[int, ...]
    bynmonthday: tuple[int, ...]
    bysetpos: tuple[int, ...] | None


def _rule_parts(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The rule body without the ``RRULE:`` prefix, and its ``(NAME, value)`` parts, names upper-cased."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts = []
    for piece in body.split(";"):
        name, _, value = piece.partition("=")
        parts.append((name.strip().upper(), value.strip()))
    return body, parts


def _refuse_parts(text: str, parts: list[tuple[str, str]]) -> None:
    """Refuse, before any parsing or expansion, frequencies below daily and parts a visit cannot use."""
    names = [name for name, _ in parts]
    for name, value in parts:
        if name == "FREQ" and value.upper() in ("SECONDLY", "MINUTELY", "HOURLY"):
            raise InvalidRecurrence(
                f"rrule {text!r}: FREQ={value.upper()} repeats within a day; a visit request repeats at most "
                "daily (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY) and takes its time of day from its window"
            )
        if name in _TIME_PARTS:
            raise InvalidRecurrence(
                f"rrule {text!r}: {name} is not accepted; the rule chooses days only, the time of day comes "
                "from window_start and window_end"
            )
        if name and name not in ALLOWED_PARTS:
            raise InvalidRecurrence(
                f"rrule {text!r}: {name} is not accepted for a visit request; use "
                f"{', '.join(sorted(ALLOWED_PARTS))}"
            )
        if names.count(name) > 1:
            raise InvalidRecurrence(f"rrule {text!r}: {name} is given twice")
    if "COUNT" in names and "UNTIL" in names:
        raise InvalidRecurrence(f"rrule {text!r}: give COUNT or UNTIL, not both (RFC 5545)")


def _check_bounds(text: str, rule: rrule, first_date: dt.date) -> None:
    """``COUNT``, ``INTERVAL`` and ``UNTIL`` within the documented limits."""
    if rule._freq not in DAY_FREQUENCIES.values():  # FREQ missing is refused by dateutil
        raise InvalidRecurrence(f"rrule {text!r}: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    if rule._count is not None and not 1 <= rule._count <= MAX_COUNT:
        raise InvalidRecurrence(f"rrule {text!r}: COUNT must be 1 to {MAX_COUNT}")
    frequency = next(name for name, value in DAY_FREQUENCIES.items() if value == rule._freq)
    if not 1 <= rule._interval <= MAX_INTERVAL[rule._freq]:
        raise InvalidRecurrence(f"rrule {text!r}: INTERVAL must be 1 to {MAX_INTERVAL[rule._freq]} for FREQ={frequency}")
    if rule._bynweekday:  # dateutil itself fails with IndexError on ordinals past the year
        limit, within = (53, "the year") if rule._freq == YEARLY and not rule._bymonth else (5, "a month")
        for _, n in rule._bynweekday:
            if not 1 <= abs(n) <= limit:
                raise InvalidRecurrence(f"rrule {text!r}: BYDAY ordinal {n} is out of range; {within} has at most "
                                        f"{limit} of each weekday (1 to {limit}, or -1 to -{limit} from the end)")
    if rule._until is not None:
        latest = rule_horizon(first_date)
        if rule._until.date() > latest:
            raise InvalidRecurrence(
                f"rrule {text!r}: UNTIL may be at most {MAX_RULE_YEARS} years after first_date ({latest}); "
                "leave UNTIL out for a rule without an end"
            )


def rule_horizon(first_date: dt.date) -> dt.date:
    """The last day a rule starting on ``first_date`` may name in ``UNTIL`` (``MAX_RULE_YEARS`` on)."""
    return _add_years(first_date, MAX_RULE_YEARS)


def _add_years(day: dt.date, years: int) -> dt.date:
    """``day`` moved ``years`` years on (29 February to 28 February), capped at 9999-12-31."""
    year = min(day.year + years, dt.MAXYEAR)
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


@lru_cache(maxsize=4096)
def parse_rrule(text: str, first_date: dt.date) -> DayRule:
    """Check an RRULE (with or without the ``RRULE:`` prefix) starting at ``first_date``.

    The one validator of rules: API create and update and the spreadsheet imports (both through
    ``requests_service.prepare``) and scenario loading (``seed``) call it, and expansion calls it
    again on stored rules.  Raises ``InvalidRecurrence`` naming the rule and what is wrong:
    syntax (dateutil's RFC 5545 parser), frequencies below daily, time-of-day parts, ``DTSTART``
    inside the text (the request's ``first_date`` is the start, and two starts would disagree
    sooner or later), and ``COUNT``/``INTERVAL``/``UNTIL`` beyond the limits above.
    """
    body, parts = _rule_parts(text)
    if "DTSTART" in body.upper() or "\n" in body:
        raise InvalidRecurrence(f"rrule {text!r}: give only the rule; the request's first_date is the start")
    _refuse_parts(text, [p for p in parts if p != ("", "")])
    try:
        rule = rrulestr(body, dtstart=dt.datetime.combine(first_date, dt.time(0, 0)))
    except (ValueError, TypeError) as exc:
        raise InvalidRecurrence(f"rrule {text!r} is not a valid RFC 5545 RRULE: {exc}") from exc
    if not isinstance(rule, rrule):  # rrulestr may return an rruleset for exotic input
        raise InvalidRecurrence(f"rrule {text!r}: a single RRULE is expected")
    _check_bounds(text, rule, first_date)
    return _day_rule(rule, first_date)


def _day_rule(rule: rrule, first_date: dt.date) -> DayRule:
    """What decides days, read from dateutil's parsed rule (its private fields, with defaults filled).

    dateutil has no public accessor for the parsed parts; these fields have been stable since
    2003, and ``tests/dispatch/test_recurrence.py`` checks the expansion against dateutil's own
    day by day, so a change there fails a test rather than planning.
    """
    return DayRule(
        first_date=first_date,
        freq=rule._freq,
        interval=rule._interval,
        count=rule._count,
        until=rule._until,
        wkst=rule._wkst,
        bymonth=rule._bymonth,
        byweekday=rule._byweekday,
        bynweekday=rule._bynweekday,
        bymonthday=rule._bymonthday,
        bynmonthday=rule._bynmonthday,
        bysetpos=rule._bysetpos,
    )


def occurs_on(request: RecurringRequest, day: dt.date) -> bool:
    """True if the request has an occurrence on the local date ``day``."""
    return next(occurrences_between(request, day, day), None) is not None


def occurrences_between(request: RecurringRequest, start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """The request's occurrence dates in ``[start, end]`` (inclusive), in order.

    The work is bounded by the range asked, not by the rule: periods are walked from the one
    holding ``start`` (from ``first_date`` for a rule with ``COUNT``, which counts from there) to
    the one holding ``end``, one candidate day at a time.  A stored rule that the validator now
    refuses (``FREQ=SECONDLY`` saved before issue 21) yields nothing; see ``_stored_rule``.
    """
    last = end if request.until is None else min(end, request.until)
    first = max(start, request.first_date)
    if first > last:
        return
    if not request.rrule:
        days: Iterator[dt.date] = iter([request.first_date] if first <= request.first_date <= last else [])
    else:
        rule = _stored_rule(request)
        if rule is None:
            return
        days = _days(rule, first, last)
    skip = bool(request.working_days_only)
    for day in days:
        if not (skip and not is_working_day(day)):
            yield day


def _stored_rule(request: RecurringRequest) -> DayRule | None:
    """The request's rule, or None (with a warning naming the request) if the validator refuses it.

    Skipped rather than raised: such a rule can only have been stored before the validator
    existed, and an error would take down the whole day's list and plan for every other senior
    because of one row.  A rule below daily has no sensible occurrences to keep anyway (the
    visit's time comes from its window).  The warning names the request and what to correct;
    the request itself stays readable, and any update must give a valid rule.
    """
    try:
        return parse_rrule(request.rrule or "", request.first_date)
    except InvalidRecurrence as exc:
        log.warning("visit request %s is left out of lists and plans until its rule is corrected: %s",
                    getattr(request, "id", "?"), exc)
        return None


def _days(rule: DayRule, lo: dt.date, hi: dt.date) -> Iterator[dt.date]:
    """The rule's dates in ``[lo, hi]``, as dateutil defines them, walking periods up to ``hi`` only."""
    remaining = rule.count
    index = 0 if remaining is not None else _period_index(rule, lo)
    until = rule.until
    while True:
        begin, selected = _selected(rule, index)
        if begin is None or begin > hi:
            return
        for day in selected:
            if until is not None and dt.datetime.combine(day, dt.time(0, 0)) > until:
                return
            if day < rule.first_date:
                continue
            if remaining is not None:
                if remaining == 0:
                    return
                remaining -= 1
            if day > hi:
                return
            if day >= lo:
                yield day
        index += 1


def _period_index(rule: DayRule, day: dt.date) -> int:
    """The index of the last period (every ``interval``-th day/week/month/year) starting on or before ``day``."""
    first = rule.first_date
    if day <= first:
        return 0
    if rule.freq == DAILY:
        return (day - first).days // rule.interval
    if rule.freq == WEEKLY:
        return ((day - _week_start(rule, first)).days // 7) // rule.interval
    if rule.freq == MONTHLY:
        return ((day.year - first.year) * 12 + day.month - first.month) // rule.interval
    return (day.year - first.year) // rule.interval


def _week_start(rule: DayRule, day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - rule.wkst) % 7)


def _period(rule: DayRule, index: int) -> list[dt.date] | None:
    """The candidate days of period ``index``, or None past the year 9999.

    As dateutil: the first weekly period runs from ``first_date`` to the end of its week
    (``WKST``), later ones are whole weeks; monthly and yearly periods are whole months and years.
    """
    first = rule.first_date
    step = index * rule.interval
    try:
        if rule.freq == DAILY:
            return [first + dt.timedelta(days=step)]
        if rule.freq == WEEKLY:
            week = _week_start(rule, first) + dt.timedelta(weeks=step)
            begin = first if index == 0 else week
            return [begin + dt.timedelta(days=i) for i in range((week + dt.timedelta(weeks=1) - begin).days)]
        if rule.freq == MONTHLY:
            year, month = divmod(first.month - 1 + step, 12)
            year += first.year
            if year > dt.MAXYEAR:
                return None
            return [dt.date(year, month + 1, d) for d in range(1, calendar.monthrange(year, month + 1)[1] + 1)]
        year = first.year + step
        if year > dt.MAXYEAR:
            return None
        begin = dt.date(year, 1, 1)
        return [begin + dt.timedelta(days=i) for i in range(366 if calendar.isleap(year) else 365)]
    except OverflowError:
        return None


@lru_cache(maxsize=8192)
def _selected(rule: DayRule, index: int) -> tuple[dt.date | None, tuple[dt.date, ...]]:
    """The first day of period ``index`` (None past the year 9999) and the days of it that the BY
    parts and ``BYSETPOS`` keep.  Cached: a plan or a list asks the same periods again."""
    period = _period(rule, index)
    if not period:
        return None, ()
    nth = _nth_weekdays(rule, period) if rule.bynweekday else None
    kept = [day for day in period if _matches(rule, day, nth)]
    if rule.bysetpos is None:
        return period[0], tuple(kept)
    positions = (pos - 1 if pos > 0 else pos for pos in rule.bysetpos)
    return period[0], tuple(sorted({kept[i] for i in positions if -len(kept) <= i < len(kept)}))


def _matches(rule: DayRule, day: dt.date, nth: set[dt.date] | None) -> bool:
    if rule.bymonth and day.month not in rule.bymonth:
        return False
    if rule.byweekday and day.weekday() not in rule.byweekday:
        return False
    if nth is not None and day not in nth:
        return False
    if rule.bymonthday or rule.bynmonthday:
        from_end = day.day - calendar.monthrange(day.year, day.month)[1] - 1
        if day.day not in rule.bymonthday and from_end not in rule.bynmonthday:
            return False
    return True


def _nth_weekdays(rule: DayRule, period: list[dt.date]) -> set[dt.date]:
    """Days that are the n-th (or n-th last) weekday of their month, or of the year for a yearly
    rule without ``BYMONTH``, for ``BYDAY=2TH`` or ``BYDAY=-1FR`` (dateutil keeps ordinals only
    for monthly and yearly rules)."""
    year = period[0].year
    if rule.freq == MONTHLY:
        spans = [(period[0], period[-1])]
    elif rule.bymonth:
        spans = [(dt.date(year, m, 1), dt.date(year, m, calendar.monthrange(year, m)[1])) for m in rule.bymonth]
    else:
        spans = [(dt.date(year, 1, 1), dt.date(year, 12, 31))]
    marked: set[dt.date] = set()
    for begin, end in spans:
        for weekday, n in rule.bynweekday or ():
            if n < 0:
                day = end - dt.timedelta(days=(end.weekday() - weekday) % 7) + dt.timedelta(weeks=n + 1)
            else:
                day = begin + dt.timedelta(days=(weekday - begin.weekday()) % 7) + dt.timedelta(weeks=n - 1)
            if begin <= day <= end:
                marked.add(day)
    return marked
