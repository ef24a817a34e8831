"""Bodies of the live-day endpoints: version diff, hand edits, recommendations, plan check.

Times are ISO 8601 in the roster time zone with the offset; ``start`` in an edit is a local
time of the day without an offset ("10:30").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import InputModel
from dispatch.fields import LOCAL_TIME_DOC, LocalTime, ServiceRef, Skills
from dispatch.limits import MAX_VISIT_MINUTES
from dispatch.storage.models import ID_LEN

WorkerId = Annotated[str, Field(min_length=1, max_length=ID_LEN)]


class StopChangePublic(BaseModel):
    visit_request_id: str
    occurrence_date: dt.date
    leg: str
    old_start: dt.datetime | None = None
    old_end: dt.datetime | None = None
    new_start: dt.datetime | None = None
    new_end: dt.datetime | None = None
    other_worker_id: str | None = Field(default=None, description="moved_in: from whom; moved_out: to whom")


class WorkerDiffPublic(BaseModel):
    worker_id: str
    worker_name: str
    must_be_told: bool
    kept: int = Field(description="stops with the same start and end")
    moved_in_time: list[StopChangePublic]
    moved_in: list[StopChangePublic] = Field(description="stops taken over from another worker")
    moved_out: list[StopChangePublic] = Field(description="stops given to another worker")
    added: list[StopChangePublic]
    removed: list[StopChangePublic]
    breaks_changed: bool


class RosterDiffPublic(BaseModel):
    """Two versions of a day compared per worker; a stop is a request's visit (or ride leg) on one worker."""

    date: dt.date
    area: str | None
    from_version: int | None = Field(description="null: no published version, everything is added")
    to_version: int
    counts: dict[str, int]
    must_tell: list[str] = Field(description="workers whose day changed: tell them")
    workers: list[WorkerDiffPublic]


class RosterEditRequest(InputModel):
    """``PATCH /rosters/{date}/visits/{visit_request_id}``: what to do with the visit (see the endpoint)."""

    worker_id: WorkerId | None = Field(default=None, description="assign or move to this worker")
    worker_ids: list[WorkerId] | None = Field(default=None, max_length=2,
                                              description="a two-person visit: both its workers")
    start: LocalTime | None = Field(default=None, description=f"the new start; {LOCAL_TIME_DOC}")
    unassign: bool = Field(default=False, description="take the visit out of the plan")
    pin: bool | None = Field(default=None, description="true: pin it where it ends up (re-plans keep it); "
                                                       "false: remove its pin")
    reason: str | None = Field(default=None, max_length=500, description="why (kept in the audit log)")

    @model_validator(mode="after")
    def _one_way_to_name_workers(self) -> RosterEditRequest:
        if self.worker_id is not None and self.worker_ids:
            raise ValueError("give worker_id or worker_ids, not both")
        return self


class FindingPublic(BaseModel):
    rule: str = Field(description="the checker's rule code (e.g. time_window, shift_end_exceeded), or a soft cost: "
                                  "lateness, overtime")
    severity: str
    visit_request_ids: list[str]
    worker_id: str | None
    minutes: int | None = Field(description="by how many minutes the rule is broken (late, over, outside)")
    message_pl: str
    message_en: str
    details: dict[str, Any] = Field(description="the facts; times as minutes of the day")
    pre_existing: bool = Field(description="already so before this edit")


class RosterRef(BaseModel):
    id: int
    date: dt.date
    area: str | None
    version: int
    status: str
    etag: str


class RosterEditResult(BaseModel):
    """The new draft version made by the edit, what the checker warns about, and what changed
    (a dry run: only the verdict, nothing stored)."""

    dry_run: bool = Field(default=False, description="true: only checked, nothing stored (`?dry_run=true`)")
    roster: RosterRef | None = Field(description="the new version; null on a dry run")
    base_version: int
    warnings: list[FindingPublic]
    diff: RosterDiffPublic | None = Field(description="what changed; null on a dry run")


class InlineVisit(InputModel):
    """A visit not stored, to ask "who could take it?" before entering it (a one-off on the day)."""

    senior_id: str = Field(min_length=1, max_length=ID_LEN)
    service: ServiceRef
    window_start: LocalTime
    window_end: LocalTime
    duration: int | None = Field(default=None, gt=0, le=MAX_VISIT_MINUTES,
                                 description="minutes; default: the service's")
    workers_needed: int = Field(default=1, ge=1, le=2)
    priority: int = Field(default=3, ge=1, le=5)
    mandatory: bool = False
    required_skills: Skills = Field(default_factory=list)
    soft_window: bool = False
    max_lateness: int = Field(default=0, ge=0, le=MAX_VISIT_MINUTES)


class RecommendationRequest(InputModel):
    """``{"request_id": ...}`` for a stored request active that day, or ``{"request": {...}}`` inline."""

    request_id: str | None = Field(default=None, min_length=1, max_length=ID_LEN)
    request: InlineVisit | None = None
    top: int = Field(default=5, ge=1, le=20, description="how many options")
    others: int = Field(default=5, ge=0, le=20, description="how many of the next best workers to explain")
    area: str | None = Field(default=None, max_length=ID_LEN)

    @model_validator(mode="after")
    def _exactly_one(self) -> RecommendationRequest:
        if (self.request_id is None) == (self.request is None):
            raise ValueError("give request_id (a stored request) or request (inline), exactly one")
        return self


class WorkerRefPublic(BaseModel):
    worker_id: str
    worker_name: str
    shift_index: int


class OptionPublic(BaseModel):
    workers: list[WorkerRefPublic]
    start: dt.datetime
    end: dt.datetime
    cost_increase: int = Field(description="objective of the plan with this option minus without the visit "
                                           "(negative: placing it saves its drop penalty)")
    terms: dict[str, int] = Field(description="the change of each objective term")
    displaces: dict[str, Any] | None = Field(description="a visit left out to make room (request, leg, worker, start)")


class RefusalPublic(BaseModel):
    worker_id: str
    worker_name: str
    reason: str
    message_pl: str
    message_en: str
    details: dict[str, Any]


class RecommendationPublic(BaseModel):
    date: dt.date
    area: str | None
    roster_version: int | None = Field(description="the version the options fit into (null: no roster yet)")
    visit_request_id: str | None
    options: list[OptionPublic] = Field(description="cheapest first, each checked by the independent checker")
    others: list[RefusalPublic] = Field(description="why the next best workers cannot take it")
    elapsed_s: float


class PlanCheckRequest(InputModel):
    """A problem and a solution in the optimizer's JSON format (``optimizer/FORMAT.md``)."""

    problem: dict[str, Any]
    solution: dict[str, Any]


class ViolationPublic(BaseModel):
    rule: str
    severity: str
    message: str
    worker_id: str | None
    visit_id: str | None
    shift_index: int | None


class PlanCheckResult(BaseModel):
    feasible: bool
    errors: int
    violations: list[ViolationPublic]
    objective: int | None = Field(description="evaluate's objective of the plan (when it is feasible)")
    terms: dict[str, int] | None = None
