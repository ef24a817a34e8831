"""The time windows of a visit request: stored, checked and turned into a day's minutes.

A request may be done in one of several windows of the day ("08:00-09:00 or 17:00-18:00"),
each the earliest to the latest start.  The first window stays in ``window_start`` and
``window_end`` (every client, export and import file written before several windows existed
keeps working and keeps its meaning); the others are ``extra_windows``, stored as JSON
``[{"start": "17:00:00", "end": "18:00:00"}]``.  Windows are given in order of time, and each
starts after the one before it ends: two windows that touch or overlap are one window.

On a day the clocks change the times are read as ``dispatch.timeutil`` says (02:30 on the
spring-forward day is 03:30); a window that reading empties is dropped for that day, and
windows it makes overlap are merged, so the optimizer always gets ordered, disjoint windows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from dispatch.timeutil import local_time_to_minutes

#: A window: earliest and latest local start.
Window = tuple[dt.time, dt.time]


def as_time(value: object) -> dt.time | None:
    """A time given as a time or as stored ISO text (``"17:00:00"``); None for anything else."""
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        try:
            return dt.time.fromisoformat(value)
        except ValueError:
            return None
    return None


def _bound(item: object, name: str) -> object:
    if isinstance(item, dict):
        return item.get(name)
    if isinstance(item, list | tuple) and len(item) == 2:
        return item[0 if name == "start" else 1]
    return getattr(item, name, None)


def read_item(item: object) -> tuple[object, object]:
    """The start and end of one extra window as given (a stored dict, an API object, a pair)."""
    return _bound(item, "start"), _bound(item, "end")


def extra_windows(request: Any) -> list[Window]:
    """The request's windows after the first, as times (items that are not times are left out)."""
    out: list[Window] = []
    for item in getattr(request, "extra_windows", None) or ():
        start, end = (as_time(v) for v in read_item(item))
        if start is not None and end is not None:
            out.append((start, end))
    return out


def windows_of(request: Any) -> list[Window]:
    """All windows of a request (a row, an API model or a fixture request), first one first."""
    return [(request.window_start, request.window_end), *extra_windows(request)]


def stored(windows: Iterable[Window]) -> list[dict[str, str]]:
    """Windows as the JSON ``extra_windows`` column keeps them."""
    return [{"start": start.isoformat(), "end": end.isoformat()} for start, end in windows]


def text(windows: Sequence[Window]) -> str:
    """``08:00-09:00, 17:00-18:00``: how messages name a request's windows."""
    return ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in windows)


def order_problems(windows: Sequence[Window]) -> list[tuple[int, str, str]]:
    """``(index, "start"|"end", message)`` for each window that ends before it starts or does not
    come after the one before it (index 0 is the first window, ``window_start``/``window_end``)."""
    out: list[tuple[int, str, str]] = []
    previous: Window | None = None
    for i, (start, end) in enumerate(windows):
        if end < start:
            out.append((i, "end", f"the window ends ({end:%H:%M}) before it starts ({start:%H:%M}); "
                                  "a window is the earliest to the latest start"))
            continue
        if previous is not None and start <= previous[1]:
            out.append((i, "start", f"{start:%H:%M}-{end:%H:%M} does not start after the window before it ends "
                                    f"({previous[0]:%H:%M}-{previous[1]:%H:%M}); give windows in order of time, "
                                    "without touching or overlapping (join them into one instead)"))
        previous = (start, end)
    return out


def day_minutes(day: dt.date, windows: Sequence[Window], tz: str | None = None) -> list[tuple[int, int]]:
    """The windows as minutes of ``day`` (see ``dispatch.timeutil``): emptied ones dropped, the
    rest ordered and merged where the clock change made them overlap."""
    spans = sorted(
        (a, b) for a, b in ((local_time_to_minutes(day, s, tz), local_time_to_minutes(day, e, tz)) for s, e in windows)
        if b >= a
    )
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def start_fits(spans: Sequence[tuple[int, int]], minute: int, lateness: int = 0) -> bool:
    """Whether a visit may start at ``minute`` of the day: inside a window (``day_minutes``), or
    up to ``lateness`` minutes after the last one (a soft window's allowed lateness)."""
    last = len(spans) - 1
    return any(a <= minute <= b + (lateness if i == last else 0) for i, (a, b) in enumerate(spans))
