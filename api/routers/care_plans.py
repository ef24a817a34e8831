"""Care plans: a senior's regular visits line by line, expanded into visit requests for a date range.

Coordinators and admins write; dispatchers read.  ``POST /care-plans/{id}/expand?from=&to=``
creates the requests (``dispatch.catalog.care_plans.expand``): idempotent, skipping the senior's absences
and, where the plan says so, public holidays; each request passes the intake rules.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session, col

from api.clock import ClockDep
from api.deps import CurrentUser, get_session, require_roles
from api.idempotency import Idem
from api.pagination import CursorQuery, LimitQuery, paginate, parse_sort, sort_query
from api.schemas.care import (
    CarePlanCreate,
    CarePlanLinePublic,
    CarePlanPublic,
    CarePlanUpdate,
    ExpandBody,
    ExpansionPublic,
    line_dict,
)
from api.schemas.common import CONFLICT, ERRORS, NOT_FOUND, Page, domain_errors
from dispatch.fields import SaneDate
from dispatch.catalog import care_plans
from dispatch.storage.care_models import CarePlan
from dispatch.catalog.records import InvalidInput, err
from dispatch.storage.models import ID_LEN, UserRole

router = APIRouter(prefix="/care-plans", tags=["care-plans"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Writer = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN))]
Reader = Annotated[CurrentUser, Depends(require_roles(UserRole.COORDINATOR, UserRole.ADMIN, UserRole.DISPATCHER))]
SORTS = {"id": col(CarePlan.id), "senior_id": col(CarePlan.senior_id), "valid_from": col(CarePlan.valid_from)}
INTAKE: dict[int | str, dict] = {409: {"description": "a quota or budget is used up (problem+json "
                                                      "intake-rule-violated; or the plan is in use)"}}


def public(plan: CarePlan) -> CarePlanPublic:
    lines = [CarePlanLinePublic(id=line.id or 0, weekdays=line.weekdays, start=line.start, end=line.end,
                                duration=line.duration, tasks=line.tasks, text=care_plans.line_text(line))
             for line in plan.lines]
    return CarePlanPublic(id=plan.id, senior_id=plan.senior_id, service=plan.service, valid_from=plan.valid_from,
                          valid_to=plan.valid_to, skip_public_holidays=plan.skip_public_holidays, note=plan.note,
                          lines=lines)


@router.get("", operation_id="care-plans-list", name="care-plans-list", response_model=Page[CarePlanPublic],
            responses=ERRORS)
def list_plans(
    session: DbSession, user: Reader,
    senior_id: Annotated[str | None, Query(max_length=ID_LEN)] = None,
    sort: Annotated[str, sort_query(SORTS)] = "id",
    limit: Annotated[int, LimitQuery] = 50,
    cursor: Annotated[str | None, CursorQuery] = None,
) -> Page[CarePlanPublic]:
    """Care plans with their lines, one page at a time."""
    rows, next_cursor = paginate(session, care_plans.plan_query(senior_id), id_column=col(CarePlan.id), allowed=SORTS,
                                 sort=parse_sort(sort, SORTS), limit=limit, cursor=cursor,
                                 filters={"senior_id": senior_id})
    return Page[CarePlanPublic](items=[public(r) for r in rows], next_cursor=next_cursor)


@router.post("", operation_id="care-plans-create", name="care-plans-create", status_code=201,
             response_model=CarePlanPublic, responses={**ERRORS, **CONFLICT})
def create_plan(body: CarePlanCreate, request: Request, session: DbSession, user: Writer, idem: Idem) -> Response:
    """Enter a care plan; a line is ``{"text": "Mon-Fri 07:30-09:00 hygiene 60 min"}`` or its parts
    (``weekdays``, ``start``, ``end``, ``duration``, ``tasks``).  201 with ``Location``."""
    lines, problems = [], []
    for i, line in enumerate(body.lines):
        try:
            lines.append(line_dict(line))
        except ValueError as exc:
            problems.append(err(f"lines.{i}.text", str(exc)))
    if (replay := idem.begin(body.model_dump(mode="json", exclude_unset=True))) is not None:
        return replay
    with domain_errors():
        if problems:
            raise InvalidInput(problems)
        row = care_plans.create_plan(session, user.username, body.model_dump(exclude={"lines"}) | {"lines": lines})
    return idem.finish(201, public(row).model_dump(mode="json"),
                       request.url_for("care-plans-get", plan_id=row.id).path)


@router.get("/{plan_id}", operation_id="care-plans-get", name="care-plans-get", response_model=CarePlanPublic,
            responses={**ERRORS, **NOT_FOUND})
def get_plan(plan_id: str, session: DbSession, user: Reader) -> CarePlanPublic:
    with domain_errors():
        return public(care_plans.get_plan(session, plan_id))


@router.patch("/{plan_id}", operation_id="care-plans-update", name="care-plans-update",
              response_model=CarePlanPublic, responses={**ERRORS, **NOT_FOUND})
def update_plan(plan_id: str, body: CarePlanUpdate, session: DbSession, user: Writer) -> CarePlanPublic:
    """Change the validity (end a plan with ``valid_to``), the holiday rule or the note."""
    with domain_errors():
        return public(care_plans.update_plan(session, user.username, plan_id, body.model_dump(exclude_unset=True)))


@router.delete("/{plan_id}", operation_id="care-plans-delete", name="care-plans-delete", status_code=204,
               responses={**ERRORS, **NOT_FOUND, **CONFLICT})
def delete_plan(plan_id: str, session: DbSession, user: Writer) -> Response:
    """Remove a plan entered by mistake; one with expanded visits is refused (409): end it instead."""
    with domain_errors():
        care_plans.delete_plan(session, user.username, plan_id)
    return Response(status_code=204)


@router.post("/{plan_id}/expand", operation_id="care-plans-expand", name="care-plans-expand",
             response_model=ExpansionPublic, responses={**ERRORS, **NOT_FOUND, **INTAKE})
def expand(
    plan_id: str, session: DbSession, user: Writer, clock: ClockDep,
    start: Annotated[SaneDate, Query(alias="from", description="first date to create visits for")],
    end: Annotated[SaneDate, Query(alias="to", description="last date (inclusive), at most 366 days on")],
    body: ExpandBody | None = None,
    dry_run: Annotated[bool, Query(description="check and report, create nothing")] = False,
) -> ExpansionPublic:
    """Create the plan's visit requests for ``[from, to]`` within its validity.

    Idempotent: a (line, date) expanded before is counted in ``already`` and not created again.
    Skipped dates are listed by why (``absence``, ``public_holiday``, ``service_not_running``).
    All or nothing: a date that breaks a request rule (422) or an intake rule (422, or 409 when
    only budgets are used up: ``intake-rule-violated``) refuses the expansion, each problem with
    its ``date`` and line; ``override_reason`` in the body accepts intake violations, audited.
    """
    with domain_errors():
        result = care_plans.expand(session, user.username, plan_id, start, end, now=clock(),
                                   override_reason=body.override_reason if body else None, dry_run=dry_run)
    return ExpansionPublic(plan_id=result.plan_id, start=result.start, end=result.end, created=result.created,
                           dates=result.dates, already=result.already, skipped=result.skipped,
                           overridden=result.overridden, dry_run=result.dry_run)
