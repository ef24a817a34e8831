"""On which days does a visit request happen?  RFC 5545 RRULE expansion for stored requests.

A request recurs by an RRULE (``"FREQ=WEEKLY;BYDAY=MO,WE,FR"``) counted from its ``first_date``
(the DTSTART) up to ``until`` (inclusive), or happens once on ``first_date`` if it has no rule.
Works on anything with ``first_date``, ``rrule``, ``until`` and ``service`` attributes: a
``dispatch.models.VisitRequest`` row or a ``fixtures.scenario.VisitRequest``.

Calendar rule, the same as ``fixtures.occurrences`` applies to an in-memory ``Scenario`` (a test
checks the two agree): the senior taxi and the handyman run on working days only (Mon-Fri, not
on Polish public holidays; domain.md 1.1, 1.2 and 3; package ``holidays``, which has 24 December
since 2025), so their occurrences on a weekend or holiday are dropped, one-off requests
included.  ``COUNT`` in a rule counts dropped dates too (the series does not extend).  Care
services (home care, SUO, assistance, respite) follow their RRULE on holidays too: a care plan
that wants a holiday off says so in the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from typing import Protocol

import holidays
from dateutil.rrule import rrule, rrulestr

from fixtures.scenario import ServiceCode

#: Services that run on working days only (Mon-Fri, not on public holidays).
WORKING_DAY_SERVICES: frozenset[ServiceCode] = frozenset({ServiceCode.TAXI, ServiceCode.HANDYMAN})


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
    def service(self) -> str: ...


@lru_cache(maxsize=16)
def _polish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("PL", years=year)


def is_public_holiday(day: dt.date) -> bool:
    """True on a Polish statutory public holiday."""
    return day in _polish_holidays(day.year)


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday and not a Polish public holiday."""
    return day.weekday() < 5 and not is_public_holiday(day)


@lru_cache(maxsize=4096)
def parse_rrule(text: str, first_date: dt.date) -> rrule:
    """Parse an RRULE (with or without the ``RRULE:`` prefix) starting at ``first_date``.

    Raises ``InvalidRecurrence`` with the offending text.  DTSTART inside the text is refused:
    the request's ``first_date`` is the start, and two starts would disagree sooner or later.
    """
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if "DTSTART" in body.upper() or "\n" in body:
        raise InvalidRecurrence(f"rrule {text!r}: give only the rule; the request's first_date is the start")
    try:
        rule = rrulestr(body, dtstart=dt.datetime.combine(first_date, dt.time(0, 0)), cache=True)
    except (ValueError, TypeError) as exc:
        raise InvalidRecurrence(f"rrule {text!r} is not a valid RFC 5545 RRULE: {exc}") from exc
    if not isinstance(rule, rrule):  # rrulestr may return an rruleset for exotic input
        raise InvalidRecurrence(f"rrule {text!r}: a single RRULE is expected")
    return rule


def working_days_only(request: RecurringRequest) -> bool:
    """True if the request's service runs on working days only (taxi, handyman)."""
    try:
        return ServiceCode(request.service) in WORKING_DAY_SERVICES
    except ValueError:
        return False


def occurs_on(request: RecurringRequest, day: dt.date) -> bool:
    """True if the request has an occurrence on the local date ``day``."""
    if day < request.first_date or (request.until is not None and day > request.until):
        return False
    if working_days_only(request) and not is_working_day(day):
        return False
    if not request.rrule:
        return day == request.first_date
    midnight = dt.datetime.combine(day, dt.time(0, 0))
    return bool(parse_rrule(request.rrule, request.first_date).between(midnight, midnight, inc=True))


def occurrences_between(request: RecurringRequest, start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """The request's occurrence dates in ``[start, end]`` (inclusive), in order."""
    last = end if request.until is None else min(end, request.until)
    first = max(start, request.first_date)
    if first > last:
        return
    skip = working_days_only(request)
    if not request.rrule:
        if first <= request.first_date <= last and not (skip and not is_working_day(request.first_date)):
            yield request.first_date
        return
    rule = parse_rrule(request.rrule, request.first_date)
    lo = dt.datetime.combine(first, dt.time(0, 0))
    hi = dt.datetime.combine(last, dt.time(23, 59, 59))
    for moment in rule.between(lo, hi, inc=True):
        day = moment.date()
        if not (skip and not is_working_day(day)):
            yield day
