"""Visit requests: coordinators and admins write, dispatchers read, workers are refused.

``DELETE`` cancels (status ``cancelled``) and keeps the request: rosters and the audit log refer
to it.  A cancelled request cannot be changed any more; enter a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, Page, domain_errors
from api.schemas.requests import VisitRequestCreate, VisitRequestPublic, VisitRequestUpdate
from dispatch import requests_service
from dispatch.models import RequestStatus, UserRole, VisitRequest
from fixtures.scenario import ServiceCode

router = APIRouter(prefix="/requests", tags=["requests"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
SORTS = {
    "id": col(VisitRequest.id),
    "first_date": col(VisitRequest.first_date),
    "window_start": col(VisitRequest.window_start),
    "priority": col(VisitRequest.priority),
    "senior_id": col(VisitRequest.senior_id),
    "service": col(VisitRequest.service),
}


@router.get(
    "", operation_id="requests-list", name="requests-list", response_model=Page[VisitRequestPublic], responses=ERRORS
)
def list_requests(
    session: DbSession,
    user: Reader,
    senior_id: Annotated[str | None, Query(max_length=32)] = None,
    service: Annotated[ServiceCode | None, Query()] = None,
    status: Annotated[RequestStatus | None, Query()] = None,
    active_on: Annotated[
        dt.date | None,
        Query(description="only active requests with an occurrence on this day (RRULE expanded; taxi and "
                          "handyman on working days only)"),
    ] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[VisitRequestPublic]:
    """Visit requests, filtered and sorted, one page at a time."""
    stmt, post_filter = requests_service.request_query(senior_id, service, status, active_on)
    rows, next_cursor = paginate(
        session, stmt, id_column=col(VisitRequest.id), allowed=SORTS, sort=parse_sort(sort, SORTS), limit=limit,
        cursor=cursor, post_filter=post_filter,
        filters={"senior_id": senior_id, "service": service, "status": status, "active_on": active_on},
    )
    return Page[VisitRequestPublic](items=[VisitRequestPublic.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "", operation_id="requests-create", name="requests-create", status_code=201, response_model=VisitRequestPublic,
    responses={**ERRORS, **CONFLICT},
)
def create_request(body: VisitRequestCreate, request: Request, session: DbSession, user: Writer, idem: Idem) -> Response:
    """Enter a request (one-off, or recurring by RRULE); 201 with ``Location``.

    Every rule is checked at once and each broken one is listed in ``errors[]`` with its field:
    unknown senior/service/place/followed request, ``window_end`` before ``window_start``, an
    invalid RRULE, ``until`` before ``first_date``, dates on which it never happens, a taxi
    request without ``destination_place_id``/``appointment``, a wheelchair ride for a senior
    who does not use one, ride fields on a non-taxi request.  Send ``Idempotency-Key`` so a
    retry after a lost answer does not enter the request twice.
    """
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = requests_service.create_request(session, user.username, body.model_dump())
    out = VisitRequestPublic.model_validate(row).model_dump(mode="json")
    return idem.finish(201, out, request.url_for("requests-get", request_id=row.id).path)


@router.get(
    "/{request_id}", operation_id="requests-get", name="requests-get", response_model=VisitRequestPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def get_request(request_id: str, session: DbSession, user: Reader) -> VisitRequestPublic:
    """One visit request, cancelled ones included."""
    with domain_errors():
        return VisitRequestPublic.model_validate(requests_service.get_request(session, request_id))


@router.patch(
    "/{request_id}", operation_id="requests-update", name="requests-update", response_model=VisitRequestPublic,
    responses={**ERRORS, **NOT_FOUND, 409: {"description": "the request is cancelled (problem+json)"}},
)
def update_request(request_id: str, body: VisitRequestUpdate, session: DbSession, user: Writer) -> VisitRequestPublic:
    """Change the fields sent; the whole request is re-checked as on create."""
    with domain_errors():
        row = requests_service.update_request(session, user.username, request_id, body.model_dump(exclude_unset=True))
    return VisitRequestPublic.model_validate(row)


@router.delete(
    "/{request_id}", operation_id="requests-cancel", name="requests-cancel", response_model=VisitRequestPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def cancel_request(request_id: str, session: DbSession, user: Writer) -> VisitRequestPublic:
    """Cancel the request: status becomes ``cancelled``, the request stays as history (200 with it).

    Cancelling a cancelled request changes nothing.
    """
    with domain_errors():
        return VisitRequestPublic.model_validate(requests_service.cancel_request(session, user.username, request_id))
