"""Visit requests: coordinators and admins write, dispatchers read (and change a request's time:
``requests_service.DISPATCHER_FIELDS``), workers are refused.

``DELETE`` cancels (status ``cancelled``) and keeps the request: rosters and the audit log refer
to it.  A cancelled request cannot be changed any more; enter a new one.

Pins (``/requests/{id}/pins/{date}``) fix the worker and/or the start of one occurrence
(``dispatch.planning.pins`` says why per occurrence); dispatchers set them too, since pinning is part of
planning a day.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.clock import ClockDep
from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.problems import ProblemError
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, Page, domain_errors
from api.schemas.requests import (
    PinPublic,
    PinSet,
    VisitRequestCreate,
    VisitRequestPublic,
    VisitRequestUpdate,
)
from dispatch.fields import SaneDate
from api.schemas.types import date_path
from dispatch.planning import pins
from dispatch.catalog import requests as requests_service
from dispatch.storage.models import ID_LEN, RequestStatus, UserRole, VisitRequest

router = APIRouter(prefix="/requests", tags=["requests"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
#: Pinning is planning: dispatchers as well as coordinators and admins.
Pinner = Reader
PinDate = Annotated[SaneDate, date_path("the occurrence's local date, YYYY-MM-DD")]
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
    senior_id: Annotated[str | None, Query(max_length=ID_LEN)] = None,
    service: Annotated[str | None, Query(max_length=ID_LEN, description="a service code")] = None,
    status: Annotated[RequestStatus | None, Query()] = None,
    active_on: Annotated[
        SaneDate | None,
        Query(description="only active requests with an occurrence on this day (RRULE expanded; services "
                          "marked working_days_only, such as the taxi and the handyman, on working days only)"),
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
def create_request(body: VisitRequestCreate, request: Request, session: DbSession, user: Writer, idem: Idem,
                   clock: ClockDep) -> Response:
    """Enter a request (one-off, or recurring by RRULE); 201 with ``Location``.

    Every rule is checked at once and each broken one is listed in ``errors[]`` with its field:
    unknown senior/service/place/followed request, ``window_end`` before ``window_start``, an
    invalid RRULE, ``until`` before ``first_date``, dates on which it never happens, a taxi
    request without ``destination_place_id``/``appointment``, a wheelchair ride for a senior
    who does not use one, ride fields on a non-taxi request, ``extra_windows`` out of order or
    overlapping (``extra_windows.1.start``), an unknown worker in ``required_workers``,
    ``preferred_workers`` or ``forbidden_workers``, a required or preferred worker who is
    forbidden or cannot do the service.  Send ``Idempotency-Key`` so a retry after a lost answer
    does not enter the request twice.

    Then the service's intake rules (``dispatch.catalog.intake_rules``): no date in the past, booking lead
    time in working days, service days and hours, quotas per month and year, the budget of the
    senior's decisions.  A broken rule is a problem ``intake-rule-violated``: 409 when only quotas
    or budgets are used up, 422 otherwise; each entry of ``errors[]`` names the ``rule`` and the
    numbers ("2 of 2 rides used in December 2026": ``used``, ``limit``, ``period``).  A written
    ``override_reason`` accepts the request anyway and is audited (``visit_request.intake_override``).
    """
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        row = requests_service.create_request(session, user.username, body.model_dump(), now=clock())
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
def update_request(request_id: str, body: VisitRequestUpdate, session: DbSession, user: Reader,
                   clock: ClockDep) -> VisitRequestPublic:
    """Change the fields sent; the whole request is re-checked as on create (the intake rules when its
    dates, times, senior or service change; ``override_reason`` as on create).  Dispatchers change only
    the time: ``window_start``, ``window_end``, ``extra_windows``, ``duration``, ``appointment``,
    ``appointment_minutes`` (403 naming any other field).  Audited."""
    changes = body.model_dump(exclude_unset=True)
    if user.role == UserRole.DISPATCHER and (others := sorted(changes.keys() - requests_service.DISPATCHER_FIELDS)):
        raise ProblemError(403, "forbidden", "Not allowed",
                           "a dispatcher changes only a request's time (" +
                           ", ".join(sorted(requests_service.DISPATCHER_FIELDS)) + "); ask a coordinator for the rest",
                           [{"field": name, "message": "coordinators and admins only"} for name in others])
    with domain_errors():
        row = requests_service.update_request(session, user.username, request_id, changes, now=clock())
    return VisitRequestPublic.model_validate(row)


@router.delete(
    "/{request_id}", operation_id="requests-cancel", name="requests-cancel", response_model=VisitRequestPublic,
    responses={**ERRORS, **NOT_FOUND},
)
def cancel_request(request_id: str, session: DbSession, user: Writer, clock: ClockDep) -> VisitRequestPublic:
    """Cancel the request: status becomes ``cancelled``, the request stays as history (200 with it).

    Cancelling a cancelled request changes nothing.  A cancellation later than the service's
    ``cancel_working_days`` before a date leaves that date counted against quotas and budgets.
    """
    with domain_errors():
        return VisitRequestPublic.model_validate(
            requests_service.cancel_request(session, user.username, request_id, now=clock()))


@router.get(
    "/{request_id}/pins", operation_id="requests-pins-list", name="requests-pins-list", response_model=list[PinPublic],
    responses={**ERRORS, **NOT_FOUND},
)
def list_pins(request_id: str, session: DbSession, user: Reader) -> list[PinPublic]:
    """The request's pins, by date."""
    with domain_errors():
        return [PinPublic.model_validate(p) for p in pins.list_pins(session, request_id)]


@router.put(
    "/{request_id}/pins/{date}", operation_id="requests-pins-set", name="requests-pins-set", response_model=PinPublic,
    responses={**ERRORS, **NOT_FOUND, 409: {"description": "the request is cancelled (problem+json)"}},
)
def set_pin(request_id: str, date: PinDate, body: PinSet, response: Response, session: DbSession,
            user: Pinner) -> PinPublic:
    """Pin the occurrence on ``date`` to a worker and/or a start ("this one, at 10:00"); replaces its pin.

    201 when the occurrence had no pin, 200 when it replaced one.  Refused with 422 naming the
    field: a date on which the request does not happen; a taxi request; an unknown worker, one
    who may not do it (kind, skills, forbidden for the request or the senior, not among its
    required workers) or a pin of one worker on a two-person visit; a start with an offset, in
    the spring-forward gap that day, or outside the request's windows.  Planning that day keeps
    the pin; if it cannot hold any more (the worker is off), the visit is unplaced with why.
    """
    with domain_errors():
        row, created = pins.set_pin(session, user.username, request_id, date, body.model_dump(exclude_unset=True))
    response.status_code = 201 if created else 200
    return PinPublic.model_validate(row)


@router.delete(
    "/{request_id}/pins/{date}", operation_id="requests-pins-delete", name="requests-pins-delete", status_code=204,
    responses={**ERRORS, **NOT_FOUND},
)
def delete_pin(request_id: str, date: PinDate, session: DbSession, user: Pinner) -> Response:
    """Remove the pin of the occurrence on ``date``; planning that day is free again."""
    with domain_errors():
        pins.delete_pin(session, user.username, request_id, date)
    return Response(status_code=204)
