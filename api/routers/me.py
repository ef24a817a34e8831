"""The signed-in worker's own data: schedule, check-in of visits and calendar-feed token.

There is deliberately no worker id anywhere in these paths or parameters: the worker is the
one in the caller's token (``worker_id`` of the user), so no request can name someone else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from api.clock import ClockDep
from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.schemas.checkins import CheckinFinish, CheckinPublic, CheckinStart
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, domain_errors
from api.schemas.rosters import CalendarTokenIssued, CalendarTokenStatus, SchedulePublic
from dispatch.fields import DATE_DOC, SaneDate
from dispatch.exchange import calendar_feed
from dispatch.planning import checkin
from dispatch.storage import models as m
from dispatch.planning.schedule import (MAX_RANGE_DAYS, ScheduledBreak, ScheduledVisit, check_range, published_rosters,
                                       worker_plan)
from dispatch.planning.schedule_changes import remember, since_last_fetch
from dispatch.storage.db import is_lock_error

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
    from_date: Annotated[SaneDate | None, Query(alias="from", description=f"first day (default: today); {DATE_DOC}")] = None,
    to_date: Annotated[SaneDate | None, Query(alias="to", description="last day, inclusive (default: from + 6)")] = None,
) -> SchedulePublic:
    """Your visits from **published** rosters, in time order: for each only the senior's name and address,
    the time (local, with offset), the service, tasks and notes for workers; the senior's phone on ride
    legs only.  Never health information.  Your planned breaks in ``breaks``.  At most 92 days at a time.

    What changed since you last fetched a day: each visit and break is marked ``change: new`` or
    ``changed`` (moved), and ``removed`` lists the visits you were shown then that are no longer yours;
    ``since`` says which versions are compared.  The first fetch marks nothing."""
    worker_id = _worker_id(user)
    tz = request.app.state.settings.timezone
    start = from_date or dt.datetime.now(ZoneInfo(tz)).date()
    end = to_date or start + dt.timedelta(days=6)
    try:
        check_range(start, end)
    except ValueError as exc:
        raise ProblemError(422, "validation-error", "Invalid input", f"to: {exc}",
                           [{"field": "to", "message": f"{exc} (max {MAX_RANGE_DAYS} days)"}]) from None
    published = published_rosters(session, start, end)
    visits, breaks = worker_plan(session, worker_id, start, end, tz, published)
    changes = since_last_fetch(session, worker_id, start, end, tz, published)
    try:  # remember the versions shown (a write only when one is new); if the database is busy, next time
        if remember(session, worker_id, changes):
            session.commit()
    except DBAPIError as exc:
        session.rollback()
        if not is_lock_error(exc):
            raise

    def visit(v: ScheduledVisit) -> dict:
        return {**v.__dict__, "ride": v.ride.__dict__ if v.ride else None, "change": changes.marks.get(v.uid)}

    def pause(b: ScheduledBreak) -> dict:
        return {**b.__dict__, "minutes": b.minutes, "change": changes.marks.get(b.uid)}

    body = SchedulePublic(worker_id=worker_id, from_date=start, to_date=end, timezone=tz,
                          visits=[visit(v) for v in visits], breaks=[pause(b) for b in breaks],
                          removed=[visit(v) for v in changes.removed],
                          removed_breaks=[pause(b) for b in changes.removed_breaks],
                          since=[{"date": d, "area": a, "last_fetched_version": seen, "version": now}
                                 for d, a, seen, now in changes.since])
    # Serialised here, in this thread: returned as a model, FastAPI would validate it a second time
    # and take one more worker thread for that (phones poll this; issue 21's load benchmark).
    return Response(body.model_dump_json(by_alias=True), media_type="application/json")  # type: ignore[return-value]


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


def _checkin_public(uid: str, row: m.VisitCheckin, tz: str) -> CheckinPublic:
    zone = ZoneInfo(tz)
    return CheckinPublic(
        uid=uid, visit_request_id=row.visit_request_id, occurrence_date=row.occurrence_date, leg=row.leg,
        status="finished" if row.finished_at is not None else "started", started_at=row.started_at.astimezone(zone),
        finished_at=row.finished_at.astimezone(zone) if row.finished_at else None, outcome=row.outcome, note=row.note)


@contextmanager
def _simultaneous(session: Session, uid: str) -> Iterator[None]:
    """Two check-ins of one stop at the same moment (a phone retrying): the second is a 409, not a 500."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise ProblemError(409, "conflict", "Conflict",
                           f"visit {uid} was checked in at the same moment by another request; reload it") from None


VisitUid = Annotated[str, Path(max_length=300, description="the visit's `uid` from `GET /me/schedule`")]


@router.post("/visits/{uid}/start", operation_id="me-visit-start", response_model=CheckinPublic,
             responses={**ERRORS, **NOT_FOUND, **CONFLICT})
def start_visit(uid: VisitUid, request: Request, session: DbSession, user: WorkerUser, clock: ClockDep,
                body: Annotated[CheckinStart | None, Body()] = None) -> CheckinPublic:
    """Mark one of your visits (its ``uid`` from your schedule, published rosters only) started, at ``at``
    (local ``HH:MM`` or ``YYYY-MM-DDTHH:MM``; default now), with an optional note.  404 if it is not one of
    your published visits; 409 if already started.  Audited.  A started visit is not moved by a re-plan."""
    body = body or CheckinStart()
    tz = request.app.state.settings.timezone
    with domain_errors(), _simultaneous(session, uid):
        row = checkin.start(session, _worker_id(user), user.username, uid, body.at, body.note, clock(), tz)
        session.commit()
    return _checkin_public(uid, row, tz)


@router.post("/visits/{uid}/finish", operation_id="me-visit-finish", response_model=CheckinPublic,
             responses={**ERRORS, **NOT_FOUND, **CONFLICT})
def finish_visit(uid: VisitUid, request: Request, session: DbSession, user: WorkerUser, clock: ClockDep,
                 body: Annotated[CheckinFinish | None, Body()] = None) -> CheckinPublic:
    """Mark one of your visits finished at ``at`` (default now) with the ``outcome``: ``delivered`` (default),
    or not delivered: ``absent`` (the senior was not there) or ``refused``.  A visit not started can be
    finished only as not delivered.  422 if ``at`` is before the start; 409 if already finished.  Audited."""
    body = body or CheckinFinish()
    tz = request.app.state.settings.timezone
    with domain_errors(), _simultaneous(session, uid):
        row = checkin.finish(session, _worker_id(user), user.username, uid, body.at, body.outcome, body.note,
                             clock(), tz)
        session.commit()
    return _checkin_public(uid, row, tz)
