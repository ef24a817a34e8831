"""What time it is: one injectable clock for the rules that depend on "now".

Intake rules (no dates in the past, booking lead time, the cancellation deadline) read the
time; a test or a demo must be able to say what "now" is without patching the system clock.
The API keeps a ``Clock`` on ``app.state.clock`` (``api.clock``); the CLI uses ``system_clock``
through ``cli_clock``, which tests replace with ``monkeypatch``.  Instants are aware UTC; the
local date ("today") is read in the roster time zone, like a roster day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

from dispatch.timeutil import utc_to_local

#: A function giving the current instant, aware UTC.
Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    """The machine's time, aware UTC."""
    return dt.datetime.now(dt.UTC)


def fixed_clock(instant: dt.datetime) -> Clock:
    """A clock that always says ``instant`` (aware): tests and reproducible demos."""
    if instant.tzinfo is None:
        raise ValueError("a fixed clock needs an aware instant")
    at = instant.astimezone(dt.UTC)
    return lambda: at


def local_today(now: dt.datetime, tz: ZoneInfo | str | None = None) -> dt.date:
    """The local date of ``now`` in the roster time zone (Europe/Warsaw by default)."""
    return utc_to_local(now, tz).date()


def cli_clock() -> dt.datetime:
    """"Now" for CLI commands (a seam: tests monkeypatch ``dispatch.clock.cli_clock``)."""
    return system_clock()
