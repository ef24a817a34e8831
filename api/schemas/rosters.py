"""Bodies of the planning, roster, schedule and calendar-token endpoints.

Times are ISO 8601 in the roster time zone with the offset (``2026-12-01T08:00:00+01:00``);
bookkeeping instants (created, heartbeat) are UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.common import InputModel

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class PlanRequest(InputModel):
    """Optional body of ``POST /rosters/{date}/plan``."""

    area: str | None = Field(default=None, max_length=32,
                             description="plan only this area's seniors and workers (a place id of kind area)")
    time_limit_s: float | None = Field(default=None, gt=0, le=600,
                                       description="seconds of search; default: the server's setting")


class JobProgress(BaseModel):
    visits_placed: int | None = None
    visits_total: int | None = None
    best_cost: int | None = None
    solutions_found: int | None = None
    elapsed_s: float | None = None


class JobPublic(BaseModel):
    """A planning job: poll ``GET /jobs/{id}`` until ``status`` is final."""

    id: str
    date: dt.date
    area: str | None
    status: JobStatusName
    runner: Literal["process", "queue"] = Field(description="who runs it: a child process of the API (SQLite) "
                                                            "or `carepath worker` via the queue (PostgreSQL)")
    time_limit_s: float
    progress: JobProgress
    cancel_requested: bool
    roster_id: int | None = None
    roster_version: int | None = None
    roster_url: str | None = Field(default=None, description="the stored draft, once succeeded")
    error: str | None = None
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None


class VisitPublic(BaseModel):
    """One planned visit (or ride leg) in a worker's route."""

    sequence: int
    visit_request_id: str
    occurrence_date: dt.date
    leg: Literal["visit", "pickup", "dropoff", "return_pickup", "return_dropoff", "escort", "return_escort",
                 "outbound", "return"] = Field(
        description="visit; a taxi stop (pickup, dropoff, return_pickup, return_dropoff); an assistant riding "
                    "along (escort, return_escort); outbound/return: rosters planned before pooled rides")
    senior_id: str
    senior_name: str
    address: str
    service: str
    service_name_pl: str
    service_name_en: str
    tasks: str
    arrival: dt.datetime
    start: dt.datetime
    end: dt.datetime
    travel_minutes: int
    waiting_minutes: int


class RoutePublic(BaseModel):
    worker_id: str
    worker_name: str
    worker_kind: str
    visits: list[VisitPublic]


class UnassignedPublic(BaseModel):
    visit_request_id: str
    leg: str
    senior_id: str | None
    senior_name: str | None
    service: str | None
    reason: str = Field(description="stable reason code, e.g. no_skilled_worker")
    message_pl: str
    message_en: str
    details: dict[str, Any]


class VersionSummary(BaseModel):
    version: int
    status: Literal["draft", "published", "superseded"]
    roster_id: int
    created_at: dt.datetime


class RosterPublic(BaseModel):
    """One version of a day's roster; its ETag goes back in ``If-Match`` to publish it."""

    id: int
    date: dt.date
    area: str | None
    version: int
    status: Literal["draft", "published", "superseded"]
    etag: str
    created_at: dt.datetime
    objective: float | None
    kpis: dict[str, Any]
    solver: dict[str, Any] = Field(description="status, elapsed, solutions found, parameters used")
    routes: list[RoutePublic]
    unassigned: list[UnassignedPublic]
    versions: list[VersionSummary] = Field(description="every version of this day (and area), oldest first")


class RideInfoPublic(BaseModel):
    """A ride stop as the driver (or the riding assistant) needs it: where, when, what help."""

    leg: Literal["pickup", "dropoff", "return_pickup", "return_dropoff", "escort", "return_escort",
                 "outbound", "return"]
    stop: Literal["home", "destination", "trip"] = Field(
        description="where this stop is: the senior's home, the destination, or a whole trip (escort, legacy)")
    destination: str
    appointment: dt.datetime | None
    wheelchair: bool = Field(default=False, description="needs a wheelchair place and help with the ramp")
    companion: bool = Field(default=False, description="a companion of the senior's own rides along (+1 seat)")
    assistant: bool = Field(default=False, description="the centre's assistant rides along (+1 seat)")


class ScheduleVisit(BaseModel):
    """What a worker needs for one visit, and nothing more (no health data)."""

    uid: str = Field(description="stable per visit occurrence; the calendar feed's UID")
    date: dt.date
    roster_version: int
    start: dt.datetime
    end: dt.datetime
    service: str
    service_name_pl: str
    service_name_en: str
    senior_name: str
    address: str
    tasks: str
    notes_for_workers: str
    phone: str | None = Field(default=None, description="the senior's phone, on ride legs only")
    ride: RideInfoPublic | None = None


class SchedulePublic(BaseModel):
    worker_id: str
    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    timezone: str
    visits: list[ScheduleVisit]


class CalendarTokenIssued(BaseModel):
    """The secret feed URL, shown once: subscribe to it in a calendar app; keep it private."""

    url: str
    path: str
    created_at: dt.datetime


class CalendarTokenStatus(BaseModel):
    active: bool
    created_at: dt.datetime | None = None
