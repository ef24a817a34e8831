"""The live day: what changed between versions, hand edits, who can take a visit, checking a plan file.

* ``GET /rosters/{date}/diff?from=N&to=M`` (``dispatch.planning.roster_diff``): per worker, stops kept, moved in
  time, moved to or from another worker, added, removed; the workers who must be told.
* ``PATCH /rosters/{date}/visits/{visit_request_id}`` (``dispatch.planning.roster_edits``): assign, move, unassign
  or pin one visit; checked by the independent checker; a new draft version.
* ``POST /rosters/{date}/recommendations`` (``dispatch.planning.recommend``): the cheapest feasible (worker, start)
  options for a request, and why the next best workers cannot take it.
* ``POST /rosters/check``: a problem and a solution file checked as ``carepath check`` does.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from sqlmodel import Session

from api.clock import now_utc
from api.deps import CurrentUser, get_session, require_roles
from api.problems import ProblemError
from api.routers.rosters import AreaQuery, Planner, Reader, RosterDate, check_area
from api.schemas.common import ERRORS, domain_errors
from api.schemas.roster_edits import (
    FindingPublic,
    PlanCheckRequest,
    PlanCheckResult,
    RecommendationPublic,
    RecommendationRequest,
    RosterDiffPublic,
    RosterEditRequest,
    RosterEditResult,
    RosterRef,
    ViolationPublic,
)
from dispatch.planning import day_lock
from dispatch.planning import publish
from dispatch.storage import models as m
from dispatch.storage.models import ID_LEN
from dispatch.planning.plan_findings import Finding
from dispatch.planning.recommend import InlineRequest, recommend_for
from dispatch.planning.roster_diff import RosterDiff, VersionNotFound, roster_diff
from dispatch.planning.roster_edits import Edit, EditRefused, edit_visit

router = APIRouter(prefix="/rosters", tags=["rosters"])

DbSession = Annotated[Session, Depends(get_session, scope="function")]
Checker = Annotated[
    CurrentUser, Depends(require_roles(m.UserRole.DISPATCHER, m.UserRole.COORDINATOR, m.UserRole.ADMIN))
]


def diff_public(diff: RosterDiff) -> RosterDiffPublic:
    return RosterDiffPublic(
        date=diff.date, area=diff.area, from_version=diff.from_version, to_version=diff.to_version,
        counts=diff.counts(), must_tell=diff.must_tell,
        workers=[{"worker_id": w.worker_id, "worker_name": w.worker_name, "must_be_told": w.must_be_told,
                  "kept": w.kept, "moved_in_time": [c.__dict__ for c in w.moved_in_time],
                  "moved_in": [c.__dict__ for c in w.moved_in], "moved_out": [c.__dict__ for c in w.moved_out],
                  "added": [c.__dict__ for c in w.added], "removed": [c.__dict__ for c in w.removed],
                  "breaks_changed": w.breaks_changed} for w in diff.workers],
    )


@router.get("/{date}/diff", operation_id="rosters-diff", response_model=RosterDiffPublic,
            responses={**ERRORS, 404: {"description": "no such version, or no roster (problem+json)"}})
def get_diff(
    date: RosterDate,
    request: Request,
    session: DbSession,
    user: Reader,
    from_version: Annotated[int | None, Query(alias="from", ge=1, description="the old version (default: the "
                                                                             "published one)")] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, description="the new version (default: the "
                                                                         "latest)")] = None,
    area: AreaQuery = None,
) -> RosterDiffPublic:
    """What changed between two versions of ``date``, per worker: stops kept, moved in time, moved to
    (``moved_out``) or from (``moved_in``) another worker, added, removed, and whether the breaks moved;
    ``must_tell`` lists the workers whose day changed.  A stop is a request's visit (or ride leg) on one
    worker; a two-person visit has two.  Default: the published version against the latest (draft)."""
    check_area(session, area)
    try:
        diff = roster_diff(session, date, request.app.state.settings.timezone, from_version, to_version, area)
    except VersionNotFound as exc:
        raise ProblemError(404, "roster-not-found", "No roster", str(exc)) from None
    return diff_public(diff)


def finding_public(f: Finding) -> FindingPublic:
    return FindingPublic(rule=f.rule, severity=f.severity, visit_request_ids=f.visit_request_ids,
                         worker_id=f.worker_id, minutes=f.minutes, message_pl=f.message_pl, message_en=f.message_en,
                         details=f.details, pre_existing=f.pre_existing)


@router.patch(
    "/{date}/visits/{visit_request_id}", operation_id="rosters-edit-visit", response_model=RosterEditResult,
    responses={**ERRORS, 404: {"description": "no roster, or no such request (problem+json)"},
               409: {"description": "the edit breaks a rule (`violations`: rule, requests, minutes), or the day is "
                                    "closed (problem+json)"},
               412: {"description": "If-Match is not the latest version's ETag (problem+json)"},
               428: {"description": "If-Match missing (problem+json)"}},
)
def edit_roster_visit(
    date: RosterDate,
    request: Request,
    response: Response,
    session: DbSession,
    user: Planner,
    visit_request_id: Annotated[str, Path(min_length=1, max_length=ID_LEN, description="the visit request")],
    body: Annotated[RosterEditRequest, Body()],
    now: Annotated[dt.datetime, Depends(now_utc)],
    if_match: Annotated[str | None, Header(description="the ETag of the version you edit")] = None,
    area: AreaQuery = None,
    dry_run: Annotated[bool, Query(description="only check: the verdict (409 or the warnings), nothing "
                                               "stored")] = False,
) -> RosterEditResult:
    """Edit one visit of the latest version of ``date`` by hand; the result is a **new draft version**.

    * assign or move: ``{"worker_id": "W2"}`` (same start), ``{"start": "10:30"}`` (same worker), or both;
      a two-person visit names both workers in ``worker_ids``; an unplaced visit given a worker only goes
      into that worker's best free slot;
    * ``{"unassign": true}``: take it out of the plan;
    * ``{"pin": true}`` (alone or with a move): pin it where it ends up, so re-plans keep it; ``false``
      removes its pin (a pinned visit moved by hand takes its pin along);
    * ``reason``: why, for the audit log.

    The routes it touches are timed again, every other stop kept where it was (later stops move later
    only if they must), and the whole plan is checked by the independent checker: a hard rule the edit
    breaks is refused with 409 listing each violation (rule, requests, minutes, sentences); soft costs
    (lateness, overtime) come back as ``warnings`` with the new version.  Requires ``If-Match`` with the
    latest version's ETag (428 without, 412 if it changed).  ``?dry_run=true`` checks the edit the
    same way and stores nothing (``dry_run``: true, no ``roster``/``diff``): the verdict before saving.  Taxi rides are not edited by hand.  A day
    whose end has passed: admins only (audited).  Audited with who, what and why."""
    check_area(session, area)
    edit = Edit(tuple(body.worker_ids or ([body.worker_id] if body.worker_id else [])), body.start, body.unassign,
                body.pin, body.reason)
    settings = request.app.state.settings
    try:
        with domain_errors():
            result = edit_visit(session, date, visit_request_id, edit, actor=user.username, role=user.role,
                                if_match=if_match, settings=settings, now=now, area=area, dry_run=dry_run)
            if result.roster is None:
                session.rollback()
            else:
                session.commit()
    except publish.PreconditionRequired:
        raise ProblemError(428, "precondition-required", "Precondition required",
                           "send If-Match with the ETag of the roster version you edit (GET /rosters/{date})") from None
    except publish.RosterNotFound as exc:
        raise ProblemError(404, "roster-not-found", "No roster", str(exc)) from None
    except publish.PreconditionFailed as exc:
        session.rollback()
        raise ProblemError(412, "precondition-failed", "The roster changed", f"{exc}; reload it and edit again",
                           headers={"ETag": publish.etag(exc.current)}) from None
    except day_lock.DayClosed as exc:
        raise ProblemError(409, "day-closed", "The day is closed", str(exc)) from None
    except EditRefused as exc:
        raise ProblemError(
            409, "edit-breaks-rules", "The edit breaks the plan's rules",
            "; ".join(f.message_en for f in exc.findings) + ". Nothing was stored.",
            [{"field": "visit", "message": f"{f.rule}: {f.message_en}"} for f in exc.findings],
            extensions={"violations": [finding_public(f).model_dump() for f in exc.findings]},
        ) from None
    except Exception:
        session.rollback()
        raise
    r = result.roster
    if r is None:
        return RosterEditResult(dry_run=True, roster=None, base_version=result.base.version,
                                warnings=[finding_public(f) for f in result.warnings], diff=None)
    assert result.diff is not None
    etag = publish.etag(r)
    response.headers["ETag"] = etag
    return RosterEditResult(
        roster=RosterRef(id=r.id or 0, date=r.date, area=r.area, version=r.version, status=r.status.value, etag=etag),
        base_version=result.base.version, warnings=[finding_public(f) for f in result.warnings],
        diff=diff_public(result.diff),
    )


@router.post("/{date}/recommendations", operation_id="rosters-recommendations", response_model=RecommendationPublic,
             responses={**ERRORS, 404: {"description": "no such request (problem+json)"}})
def recommendations(
    date: RosterDate,
    request: Request,
    session: DbSession,
    user: Reader,
    body: Annotated[RecommendationRequest, Body()],
) -> RecommendationPublic:
    """Who can take this visit, and when: the ``top`` cheapest feasible (worker, start) options in the
    latest version of ``date`` (draft or published), nothing else moved, each with its cost increase (the
    objective's, term by term), what it would displace (a visit that gives way, if any), and checked by
    the independent checker; and why the next best workers cannot take it (``others``: reasons in Polish
    and English).  ``{"request_id": ...}``: a stored request active that day (one just submitted, one left
    unplaced, or a placed one: where else it could go); ``{"request": {...}}``: a visit described inline,
    not stored.  Taxi rides are not recommended (re-plan).  Nothing is written, so coordinators may ask too
    (e.g. before entering an urgent visit)."""
    check_area(session, body.area)
    inline = None
    if body.request is not None:
        r = body.request
        inline = InlineRequest(r.senior_id, r.service, r.window_start, r.window_end, r.duration, r.workers_needed,
                               r.priority, r.mandatory, tuple(r.required_skills), r.soft_window, r.max_lateness)
    with domain_errors():
        view = recommend_for(session, date, request.app.state.settings, request_id=body.request_id, inline=inline,
                             top=body.top, others=body.others, area=body.area)
    return RecommendationPublic(
        date=view.date, area=view.area, roster_version=view.roster_version, visit_request_id=view.visit_request_id,
        options=[{"workers": [w.__dict__ for w in o.workers], "start": o.start, "end": o.end,
                  "cost_increase": o.cost_increase, "terms": o.terms, "displaces": o.displaces} for o in view.options],
        others=[r.__dict__ for r in view.others], elapsed_s=view.elapsed_s,
    )


@router.post("/check", operation_id="rosters-check", response_model=PlanCheckResult, responses=ERRORS)
def check_plan(body: Annotated[PlanCheckRequest, Body()], user: Checker) -> PlanCheckResult:
    """Check a plan file the way ``carepath check`` does: the problem and the solution in the optimizer's
    JSON format (``optimizer/FORMAT.md``), every violation of the independent checker (errors make it
    infeasible; warnings do not), and the objective when it is feasible.  Nothing is stored."""
    from optimizer import FormatError, check, evaluate, is_feasible, problem_from_dict, solution_from_dict

    try:
        problem = problem_from_dict(body.problem)
    except FormatError as exc:
        raise ProblemError(422, "validation-error", "Invalid input", f"problem: {exc}",
                           [{"field": "problem", "message": str(exc)}]) from None
    try:
        solution = solution_from_dict(body.solution)
    except FormatError as exc:
        raise ProblemError(422, "validation-error", "Invalid input", f"solution: {exc}",
                           [{"field": "solution", "message": str(exc)}]) from None
    violations = check(problem, solution)
    ok = is_feasible(violations)
    evaluation: Any = evaluate(problem, solution) if ok else None
    return PlanCheckResult(
        feasible=ok, errors=sum(1 for v in violations if v.severity == "error"),
        violations=[ViolationPublic(rule=str(v.rule), severity=v.severity, message=v.message, worker_id=v.worker_id,
                                    visit_id=v.visit_id, shift_index=v.shift_index) for v in violations],
        objective=evaluation.total if evaluation else None, terms=dict(evaluation.terms) if evaluation else None,
    )
