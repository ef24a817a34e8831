"""The calendar feed: ``GET /calendar/{token}.ics``, no Authorization header (the token is the credential).

See ``dispatch.exchange.calendar_feed`` for the token rules and what the feed contains.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session

from api.deps import get_session
from api.problems import ProblemError
from dispatch.exchange import calendar_feed

router = APIRouter(prefix="/calendar", tags=["calendar"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
MAX_TOKEN_LENGTH = 128


@router.get(
    "/{token}.ics", operation_id="calendar-feed", response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545)"},
               404: {"description": "unknown or revoked token (problem+json)"}},
)
def calendar_feed_ics(token: str, request: Request, session: DbSession) -> Response:
    """A worker's published visits as iCalendar, from a month back to three months ahead, with
    ``VTIMEZONE``; visits removed by a newer published roster appear as ``STATUS:CANCELLED``.  Each
    event has the time, the place and the service only, unless the centre turned details on
    (``CAREPATH_CALENDAR_FEED_DETAILS``: the senior's name, tasks, notes)."""
    worker_id = calendar_feed.worker_for_token(session, token) if len(token) <= MAX_TOKEN_LENGTH else None
    if worker_id is None:
        raise ProblemError(404, "not-found", "Not found", "no calendar at this address (revoked or never issued)")
    settings = request.app.state.settings
    body = calendar_feed.worker_feed(session, worker_id, settings.timezone, details=settings.calendar_feed_details)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": 'inline; filename="carepath.ics"',
        "Cache-Control": "private, max-age=300",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    })
