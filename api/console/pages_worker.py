"""The worker's phone page: their own visits from published rosters, today and the next days.

The worker is the one of the session (``worker_id`` of the account), never a parameter, exactly
as in ``GET /api/v1/me/schedule``; the visits come from the same ``dispatch.planning.schedule.worker_plan``
and show only what that API gives a worker (name, address, times, service, tasks and notes for
workers).  The calendar-feed link is issued by ``dispatch.exchange.calendar_feed`` like
``POST /api/v1/me/calendar-token``.  Start/finish buttons come with the check-in API (a slot is
left in the template).
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from api.console import PREFIX
from api.console.guards import DbSession, NotAllowed, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from dispatch.exchange import calendar_feed
from dispatch.storage import models as m
from dispatch.planning.schedule import worker_plan

router = APIRouter(prefix=PREFIX, include_in_schema=False)
WorkerUser = Annotated[ConsoleUser, Depends(page_user(m.UserRole.WORKER))]
#: Today and the next six days, as ``GET /me/schedule`` by default.
DAYS_SHOWN = 7


def maps_links(address: str) -> dict[str, str]:
    """A ``geo:`` link (opens the phone's maps app) and an https one (any browser)."""
    q = quote(address)
    return {"geo": f"geo:0,0?q={q}", "web": f"https://www.openstreetmap.org/search?query={q}"}


def today_in(tz: str) -> dt.date:
    """The local date now (a function, so tests can fix the day)."""
    return dt.datetime.now(ZoneInfo(tz)).date()


def _worker_id(user: ConsoleUser) -> str:
    if not user.user.worker_id:
        raise NotAllowed()
    return user.user.worker_id


def _page(request: Request, session: DbSession, user: ConsoleUser, feed_url: str | None = None) -> HTMLResponse:
    worker_id = _worker_id(user)
    tz = request.app.state.settings.timezone
    start = today_in(tz)
    visits, breaks = worker_plan(session, worker_id, start, start + dt.timedelta(days=DAYS_SHOWN - 1), tz)
    days = [(day, list(items)) for day, items in groupby(visits, key=lambda v: v.date)]
    breaks_by_day = {day: list(items) for day, items in groupby(breaks, key=lambda b: b.date)}
    token = calendar_feed.active_token(session, worker_id)
    return render(request, "me.html", {
        "days": days, "breaks_by_day": breaks_by_day, "today": start, "maps_links": maps_links,
        "feed_active": token is not None, "feed_url": feed_url,
    }, user)


@router.get("/me", response_class=HTMLResponse)
def my_visits(request: Request, session: DbSession, user: WorkerUser) -> HTMLResponse:
    return _page(request, session, user)


@router.post("/me/calendar-token", response_class=HTMLResponse)
def new_calendar_link(request: Request, session: DbSession, user: WorkerUser,
                      csrf_token: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    """A new calendar-feed URL, shown once (any earlier one stops working)."""
    check_csrf(request, user, csrf_token)
    secret, _row = calendar_feed.issue_token(session, _worker_id(user), user.user.username)
    session.commit()
    url = str(request.base_url).rstrip("/") + calendar_feed.feed_path(secret)
    return _page(request, session, user, feed_url=url)
