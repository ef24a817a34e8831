"""The API's clock: what "now" is for a request, for every rule that reads the time.

Intake rules (no dates in the past, lead times, cancellation deadlines), re-planning "from now" and
closed days (``dispatch.planning.day_lock``) all read the time here, and only here.  ``create_app(clock=...)``
puts a ``dispatch.clock.Clock`` on ``app.state.clock`` (tests: ``ApiClient.set_now``); an app made
without one reads the process-wide :data:`clock` (the system clock; the test suite sets it once for
every app it serves, because its days are fixed dates that are mostly over by the real clock).
``dispatch`` and ``optimizer`` read no clock: they are given the time.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request

from dispatch.clock import Clock, system_clock

clock: Clock = system_clock
"""The clock of apps created without one."""


def get_clock(request: Request) -> Clock:
    """The app's clock (``app.state.clock``), else the process-wide :data:`clock` (read at call time)."""
    return getattr(request.app.state, "clock", None) or (lambda: clock())


def now_utc(request: Request) -> dt.datetime:
    """The current instant as this request's app sees it, aware, in UTC."""
    return get_clock(request)()


#: A route's clock: call it for the current instant (aware UTC).
ClockDep = Annotated[Clock, Depends(get_clock)]
