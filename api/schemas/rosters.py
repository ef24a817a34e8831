"""Bodies of the planning, roster, schedule and calendar-token endpoints.

Times are ISO 8601 in the roster time zone with the offset (``2026-12-01T08:00:00+01:00``);
bookkeeping instants (created, heartbeat) are UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from api.schemas.checkins import CheckinState
from api.schemas.common import InputModel
from dispatch.limits import MAX_ACKNOWLEDGED_VISITS
from dispatch.storage.models import ID_LEN

JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class PlanRequest(InputModel):
    """Optional body of ``POST /rosters/{date}/plan``."""

    area: str | None = Field(default=None, max_length=ID_LEN,
                             description="plan only this area's seniors and workers (a place id of kind area)")
    time_limit_s: float | None = Field(default=None, gt=0, le=600,
                                       description="seconds of search; default: the server's setting")


class PublishRequest(InputModel):
    """Optional body of ``POST /rosters/{date}/publish``."""

    acknowledge_unplaced_mandatory: list[Annotated[str, Field(min_length=1, max_length=ID_LEN)]] = Field(
        default_factory=list, max_length=MAX_ACKNOWLEDGED_VISITS,
        description="the request ids of the draft's unplaced mandatory visits (`unplaced_mandatory_ids` of "
                    "`GET /rosters/{date}`), exactly those: publishing a roster that leaves mandatory visits "
                    "out requires it (409 otherwise); audited")


class JobDay(BaseModel):
    """A day a week job has stored (its draft version)."""

    date: dt.date
    roster_id: int
    version: int
    visits_total: int
    visits_placed: int
    elapsed_s: float | None = None


class JobProgress(BaseModel):
    visits_placed: int | None = None
    visits_total: int | None = None
    best_cost: int | None = None
    solutions_found: int | None = None
    elapsed_s: float | None = None
    changes: dict[str, int | float] | None = Field(
        default=None, description="a re-plan, once succeeded: the published stops kept (same worker, start within "
                                  "15 min), moved_in_time, moved_worker, removed; stops added; kept_share; "
                                  "published_version")
    days: list[JobDay] | None = Field(
        default=None, description="a week job: the days stored so far, each a whole draft (while it runs, the "
                                  "other progress figures are those of the day being planned; once succeeded, the "
                                  "week's totals)")


class JobPublic(BaseModel):
    """A planning job: poll ``GET /jobs/{id}`` until ``status`` is final."""

    id: str
    date: dt.date
    days: int = Field(default=1, description="days planned from `date`: 1, or 7 for a week job "
                                             "(`POST /rosters/week/{monday}/plan`)")
    area: str | None
    status: JobStatusName
    runner: Literal["process", "queue"] = Field(description="who runs it: a child process of the API (SQLite) "
                                                            "or `carepath worker` via the queue (PostgreSQL)")
    time_limit_s: float
    progress: JobProgress
    cancel_requested: bool
    roster_id: int | None = None
    roster_version: int | None = None
    roster_url: str | None = Field(default=None, description="the stored draft, once succeeded (a week job: the "
                                                             "week's report, `GET /rosters/week/{monday}`)")
    unplaced_mandatory: int | None = Field(
        default=None, description="once succeeded: how many mandatory visits (requests) the draft leaves out")
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
    checkin: CheckinState = Field(default_factory=lambda: CheckinState(status="planned"),
                                  description="the worker's check-in and the late/missed flags (published versions)")


class BreakPublic(BaseModel):
    """A planned break (Kodeks pracy art. 134), local time with the offset."""

    shift_index: int
    start: dt.datetime
    end: dt.datetime
    minutes: int


class RoutePublic(BaseModel):
    worker_id: str
    worker_name: str
    worker_kind: str
    visits: list[VisitPublic]
    breaks: list[BreakPublic] = Field(description="the worker's planned breaks, in time order")


class UnassignedPublic(BaseModel):
    visit_request_id: str
    leg: str
    senior_id: str | None
    senior_name: str | None
    service: str | None
    mandatory: bool = Field(description="the visit was mandatory: publishing needs it acknowledged")
    reason: str = Field(description="stable reason code, e.g. no_skilled_worker")
    message_pl: str = Field(description="the reason in Polish, with the day's local clock times "
                                        "(worded from reason and details when the plan was stored)")
    message_en: str = Field(description="the reason in English, as message_pl")
    details: dict[str, Any] = Field(description=(
        "the facts behind the reason: case (which situation under the reason code), worker and visit ids, "
        "counts, priorities, and times as minutes from the day's local midnight (a DST day has 1380 or 1500); "
        "leg (visit, pickup, dropoff); for request_not_plannable, cause and date"))


class LabourLimitPublic(BaseModel):
    """A labour rule that cut a worker's day when this version was planned (``dispatch.catalog.labour``)."""

    worker_id: str
    rule: str = Field(description="daily_rest (11 h after the previous day's last end or before the next day's "
                                  "first start), weekly_rest (35 h in the Monday-Sunday week), weekly_maximum "
                                  "(48 h a week), settlement_hours (the period's norm + the year's overtime left)")
    details: dict[str, Any] = Field(description="the numbers: minutes of the day (earliest_start, latest_end, "
                                                "start, end), instants of the other day's work (UTC), minutes of "
                                                "work and limits")
    message_pl: str
    message_en: str


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
    unplaced_mandatory: int = Field(description="how many mandatory visits (requests) this version leaves out")
    unplaced_mandatory_ids: list[str] = Field(
        description="their request ids: publish with `acknowledge_unplaced_mandatory` set to this list")
    objective: float | None
    kpis: dict[str, Any]
    solver: dict[str, Any] = Field(description="status, elapsed, solutions found, parameters used")
    routes: list[RoutePublic]
    unassigned: list[UnassignedPublic] = Field(description="visits not placed, with reasons; mandatory ones first")
    labour_limits: list[LabourLimitPublic] = Field(
        default_factory=list, description="labour rules across days that cut a worker's day in this version, and why")
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
    change: Literal["new", "changed"] | None = Field(
        default=None, description="since you last fetched this day: new to you, or moved (null: unchanged, or "
                                  "the first fetch)")


class ScheduleBreak(BaseModel):
    """One of the worker's planned breaks."""

    uid: str = Field(description="stable per worker, day and break; the calendar feed's UID")
    date: dt.date
    roster_version: int
    start: dt.datetime
    end: dt.datetime
    minutes: int
    change: Literal["new", "changed"] | None = Field(default=None, description="as for visits")


class ScheduleSince(BaseModel):
    """One published day of the range: the version you were last shown and the one shown now."""

    date: dt.date
    area: str | None
    last_fetched_version: int | None = Field(description="null: first fetch of this day")
    version: int


class SchedulePublic(BaseModel):
    worker_id: str
    from_date: dt.date = Field(serialization_alias="from")
    to_date: dt.date = Field(serialization_alias="to")
    timezone: str
    visits: list[ScheduleVisit]
    breaks: list[ScheduleBreak] = Field(default_factory=list, description="your planned breaks, in time order")
    removed: list[ScheduleVisit] = Field(default_factory=list, description=(
        "visits you were shown when you last fetched and that are no longer yours (as they were)"))
    removed_breaks: list[ScheduleBreak] = Field(default_factory=list, description="the same for breaks")
    since: list[ScheduleSince] = Field(default_factory=list, description="per published day: which version "
                                                                          "the marks compare against")


class CalendarTokenIssued(BaseModel):
    """The secret feed URL, shown once: subscribe to it in a calendar app; keep it private."""

    url: str
    path: str
    created_at: dt.datetime


class CalendarTokenStatus(BaseModel):
    active: bool
    created_at: dt.datetime | None = None
