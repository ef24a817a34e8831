"""The worker's phone page: their own visits from published rosters, today and the next days.

The worker is the one of the session (``worker_id`` of the account), never a parameter, exactly
as in ``GET /api/v1/me/schedule``; the visits come from the same ``dispatch.planning.schedule.worker_plan``
and show only what that API gives a worker (name, address, times, service, tasks and notes for
workers).  The calendar-feed link is issued by ``dispatch.exchange.calendar_feed`` like
``POST /api/v1/me/calendar-token``.

Each visit has buttons to mark it started, finished, or not delivered (the senior was absent or
refused): they post to the console's own routes (CSRF-checked) which call what
``POST /api/v1/me/visits/{uid}/start`` and ``/finish`` call (``dispatch.planning.checkin``, at the
app's clock), with the same rules: only the worker's own published stops (anything else is the
same "not found" as for a stop that does not exist), once each, audited.  A refusal is shown on
the visit it concerns.
"""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from api.clock import now_utc
from api.console import PREFIX
from api.console.guards import DbSession, NotAllowed, check_csrf, page_user
from api.console.session import ConsoleUser
from api.console.templating import render
from dispatch.catalog.records import Conflict, InvalidInput, NotFound
from dispatch.exchange import calendar_feed
from dispatch.planning import checkin
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


def _page(request: Request, session: DbSession, user: ConsoleUser, feed_url: str | None = None,
          status_code: int = 200, refused: tuple[str, str] | None = None, done: str | None = None) -> HTMLResponse:
    worker_id = _worker_id(user)
    tz = request.app.state.settings.timezone
    start = today_in(tz)
    end = start + dt.timedelta(days=DAYS_SHOWN - 1)
    visits, breaks = worker_plan(session, worker_id, start, end, tz)
    days = [(day, list(items)) for day, items in groupby(visits, key=lambda v: v.date)]
    breaks_by_day = {day: list(items) for day, items in groupby(breaks, key=lambda b: b.date)}
    token = calendar_feed.active_token(session, worker_id)
    return render(request, "me.html", {
        "days": days, "breaks_by_day": breaks_by_day, "today": start, "maps_links": maps_links,
        "feed_active": token is not None, "feed_url": feed_url,
        "checkins": checkin.worker_checkins(session, worker_id, start, end), "refused": refused, "done": done,
        "not_delivered": checkin.NOT_DELIVERED, "anchor": _anchor,
    }, user, status_code=status_code)


@router.get("/me", response_class=HTMLResponse)
def my_visits(request: Request, session: DbSession, user: WorkerUser, done: str | None = None) -> HTMLResponse:
    return _page(request, session, user, done=done if done in ACTIONS else None)


@router.post("/me/calendar-token", response_class=HTMLResponse)
def new_calendar_link(request: Request, session: DbSession, user: WorkerUser,
                      csrf_token: Annotated[str, Form(max_length=200)] = "") -> HTMLResponse:
    """A new calendar-feed URL, shown once (any earlier one stops working)."""
    check_csrf(request, user, csrf_token)
    secret, _row = calendar_feed.issue_token(session, _worker_id(user), user.user.username)
    session.commit()
    url = str(request.base_url).rstrip("/") + calendar_feed.feed_path(secret)
    return _page(request, session, user, feed_url=url)


#: The console's check-in actions -> the outcome a finish records (None: a start).
ACTIONS = {"start": None, "finish": checkin.DELIVERED, **{o: o for o in checkin.NOT_DELIVERED}}


@router.post("/me/visits/{uid}/{action}", response_class=HTMLResponse)
def check_in(request: Request, session: DbSession, user: WorkerUser, uid: str, action: str,
             csrf_token: Annotated[str, Form(max_length=200)] = "",
             note: Annotated[str, Form(max_length=600)] = "") -> Response:
    """Mark one of the worker's own visits started, finished (delivered) or not delivered (absent,
    refused) now; back to the page at that visit, or the page with the refusal on that visit."""
    check_csrf(request, user, csrf_token)
    if action not in ACTIONS or len(uid) > 300:
        return _page(request, session, user, status_code=404, refused=(uid[:300], "not_found"))
    worker_id = _worker_id(user)
    tz = request.app.state.settings.timezone
    try:
        if ACTIONS[action] is None:
            checkin.start(session, worker_id, user.user.username, uid, None, note or None, now_utc(request), tz)
        else:
            checkin.finish(session, worker_id, user.user.username, uid, None, ACTIONS[action], note or None,
                           now_utc(request), tz)
        session.commit()
    except NotFound:
        session.rollback()
        return _page(request, session, user, status_code=404, refused=(uid, "not_found"))
    except (Conflict, IntegrityError) as exc:  # twice, or a second tap at the same moment
        session.rollback()
        return _page(request, session, user, status_code=409, refused=(uid, str(exc) if isinstance(exc, Conflict)
                                                                        else "conflict"))
    except InvalidInput as exc:
        session.rollback()
        return _page(request, session, user, status_code=422, refused=(uid, str(exc)))
    return RedirectResponse(f"{PREFIX}/me?done={quote(action)}#v-{_anchor(uid)}", status_code=303)


def _anchor(uid: str) -> str:
    """The element id of a visit on the page (the uid without characters ids should not hold)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in uid)
