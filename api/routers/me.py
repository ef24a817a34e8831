"""The signed-in worker's own data: schedule and calendar-feed token.

There is deliberately no worker id anywhere in these paths or parameters: the worker is the
one in the caller's token (``worker_id`` of the user), so no request can name someone else.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.schemas.common import ERRORS
from api.schemas.rosters import CalendarTokenIssued, CalendarTokenStatus, SchedulePublic
from dispatch import calendar_feed
from dispatch import models as m
from dispatch.schedule import MAX_RANGE_DAYS, check_range, worker_schedule

router = APIRouter(prefix="/me", tags=["me"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
WorkerUser = Annotated[CurrentUser, Depends(require_roles(m.UserRole.WORKER))]


def _worker_id(user: CurrentUser) -> str:
    if not user.worker_id:
        raise ProblemError(403, "not-a-worker", "Not linked to a worker",
                           "your account is not linked to a worker record; ask an administrator")
    return user.worker_id


@router.get("/schedule", operation_id="me-schedule", response_model=SchedulePublic, responses=ERRORS,
            response_model_by_alias=True)
def my_schedule(
    request: Request,
    session: DbSession,
    user: WorkerUser,
    from_date: Annotated[dt.date | None, Query(alias="from", description="first day (default: today)")] = None,
    to_date: Annotated[dt.date | None, Query(alias="to", description="last day, inclusive (default: from + 6)")] = None,
) -> SchedulePublic:
    """Your visits from **published** rosters, in time order: for each only the senior's name and address,
    the time (local, with offset), the service, tasks and notes for workers; the senior's phone on ride
    legs only.  Never health information.  At most 92 days at a time."""
    worker_id = _worker_id(user)
    tz = request.app.state.settings.timezone
    start = from_date or dt.datetime.now(ZoneInfo(tz)).date()
    end = to_date or start + dt.timedelta(days=6)
    try:
        check_range(start, end)
    except ValueError as exc:
        raise ProblemError(422, "validation-error", "Invalid input", f"to: {exc}",
                           [{"field": "to", "message": f"{exc} (max {MAX_RANGE_DAYS} days)"}]) from None
    visits = worker_schedule(session, worker_id, start, end, tz)
    return SchedulePublic(worker_id=worker_id, from_date=start, to_date=end, timezone=tz,
                          visits=[{**v.__dict__, "ride": v.ride.__dict__ if v.ride else None} for v in visits])


@router.post("/calendar-token", operation_id="me-calendar-token-create", status_code=201,
             response_model=CalendarTokenIssued, responses=ERRORS)
def issue_calendar_token(request: Request, response: Response, session: DbSession, user: WorkerUser) -> CalendarTokenIssued:
    """A new secret calendar-feed URL (iCalendar) for your schedule; any earlier URL stops working.

    The URL is the password: it is shown only now (only a hash is stored).  Revoke it with
    ``DELETE /me/calendar-token``."""
    worker_id = _worker_id(user)
    secret, row = calendar_feed.issue_token(session, worker_id, user.username)
    session.commit()
    path = calendar_feed.feed_path(secret)
    response.headers["Location"] = "/api/v1/me/calendar-token"
    response.headers["Cache-Control"] = "no-store"
    return CalendarTokenIssued(url=str(request.base_url).rstrip("/") + path, path=path, created_at=row.created_at)


@router.get("/calendar-token", operation_id="me-calendar-token-get", response_model=CalendarTokenStatus,
            responses=ERRORS)
def calendar_token_status(session: DbSession, user: WorkerUser) -> CalendarTokenStatus:
    """Whether you have an active calendar-feed URL (the URL itself cannot be shown again)."""
    row = calendar_feed.active_token(session, _worker_id(user))
    return CalendarTokenStatus(active=row is not None, created_at=row.created_at if row else None)


@router.delete("/calendar-token", operation_id="me-calendar-token-delete", status_code=204, responses=ERRORS)
def revoke_calendar_token(session: DbSession, user: WorkerUser) -> Response:
    """Revoke your calendar-feed URL: calendar apps subscribed to it get nothing more."""
    calendar_feed.revoke_tokens(session, _worker_id(user), user.username)
    session.commit()
    return Response(status_code=204)
