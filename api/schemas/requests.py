"""Visit request bodies.  The checks here are the simple per-field ones (so the OpenAPI document
shows them); every rule, cross-field ones included, is in ``dispatch.catalog.requests.prepare``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ConfigDict, Field
from pydantic import BaseModel, computed_field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel, OutputModel
from dispatch.fields import LOCAL_TIME_DOC, LocalTime, SaneDate, ServiceRef, Skills, WorkerRefs
from dispatch.catalog import requests as requests_service
from dispatch.fields import ID_PATTERN
from dispatch.limits import MAX_FOLLOW_DELAY_MINUTES, MAX_TASKS_LENGTH, MAX_WINDOWS
from dispatch.storage.models import RequestStatus
from dispatch.catalog.requests import MAX_DURATION, PRIORITY_MAX, PRIORITY_MIN, WORKERS_NEEDED_MAX
from dispatch.storage.models import FORBIDDEN_DOC, ID_LEN, PREFERRED_DOC, REQUIRED_DOC, Purpose, VisitRequestBase


EXTRA_WINDOWS_DOC = (f"further windows after the first (window_start-window_end), in order of time, each starting "
                     f"after the one before ends, e.g. [{{\"start\": \"17:00\", \"end\": \"18:00\"}}]: the visit "
                     f"starts in any one window; at most {MAX_WINDOWS} windows in all; not for taxi requests")


OVERRIDE_DOC = ("coordinators and admins: accept the request although it breaks intake rules (quota, budget, lead "
                "time, service hours, a past date); the written reason is audited with the rules broken")


class WindowIn(InputModel):
    """One more window: the earliest and latest start."""

    start: LocalTime = Field(description=f"earliest start: {LOCAL_TIME_DOC}")
    end: LocalTime = Field(description=f"latest start: {LOCAL_TIME_DOC}")


class WindowOut(BaseModel):
    start: LocalTime
    end: LocalTime


class VisitRequestCreate(VisitRequestBase):
    """A new request: the fields and per-field rules of ``dispatch.storage.models.VisitRequestBase``,
    an optional id, typed extra windows, duration and mandatory that default to the service's, and
    an override reason."""

    model_config = INPUT_CONFIG
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (r-000042) when omitted")
    extra_windows: list[WindowIn] = Field(default_factory=list, max_length=MAX_WINDOWS - 1,  # type: ignore[assignment]
                                          description=EXTRA_WINDOWS_DOC)
    duration: int | None = Field(default=None, ge=1, le=MAX_DURATION,  # type: ignore[assignment]
                                 description="minutes on site; default: the service's")
    mandatory: bool | None = Field(default=None,  # type: ignore[assignment]
                                   description="must be planned; default: the service's `mandatory`")
    override_reason: str | None = Field(default=None, min_length=1, max_length=500, description=OVERRIDE_DOC)


class VisitRequestUpdate(InputModel):
    """Only the fields sent are changed; the whole request is then re-checked.  Cancel with DELETE."""

    senior_id: str | None = Field(default=None, max_length=ID_LEN)
    service: ServiceRef | None = None
    first_date: SaneDate | None = None
    window_start: LocalTime | None = Field(default=None, description=LOCAL_TIME_DOC)
    window_end: LocalTime | None = Field(default=None, description=LOCAL_TIME_DOC)
    extra_windows: list[WindowIn] | None = Field(default=None, max_length=MAX_WINDOWS - 1,
                                                 description=f"{EXTRA_WINDOWS_DOC}; replaces them all ([]: none)")
    duration: int | None = Field(default=None, ge=1, le=MAX_DURATION)
    rrule: str | None = Field(default=None, max_length=500)
    until: SaneDate | None = None
    required_skills: Skills | None = None
    workers_needed: int | None = Field(default=None, ge=1, le=WORKERS_NEEDED_MAX)
    priority: int | None = Field(default=None, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    mandatory: bool | None = None
    soft_window: bool | None = None
    max_lateness: int | None = Field(default=None, ge=0, le=MAX_DURATION)
    destination_place_id: str | None = Field(default=None, max_length=ID_LEN)
    appointment: LocalTime | None = Field(default=None, description=LOCAL_TIME_DOC)
    appointment_minutes: int | None = Field(default=None, ge=0, le=MAX_DURATION)
    return_trip: bool | None = None
    return_on_call: bool | None = None
    escort: bool | None = None
    assistant: bool | None = None
    wheelchair: bool | None = None
    purpose: Purpose | None = None
    follows_request_id: str | None = Field(default=None, max_length=ID_LEN)
    follow_min_delay: int | None = Field(default=None, ge=0, le=MAX_FOLLOW_DELAY_MINUTES)
    follow_max_delay: int | None = Field(default=None, ge=0, le=MAX_FOLLOW_DELAY_MINUTES)
    tasks: str | None = Field(default=None, max_length=MAX_TASKS_LENGTH)
    required_workers: WorkerRefs | None = Field(default=None, description=REQUIRED_DOC)
    preferred_workers: WorkerRefs | None = Field(default=None, description=PREFERRED_DOC)
    forbidden_workers: WorkerRefs | None = Field(default=None, description=FORBIDDEN_DOC)
    override_reason: str | None = Field(default=None, min_length=1, max_length=500, description=OVERRIDE_DOC)


class LocalTimeNote(BaseModel):
    """How a time of the request is read on a day when the clocks change (``dispatch.timeutil``)."""

    field: str = Field(description="window_start, window_end, appointment or extra_windows.N.start/end")
    date: dt.date = Field(description="the day of the request on which the clocks change")
    time: LocalTime = Field(description="the time as entered")
    kind: str = Field(description="nonexistent (in the spring-forward gap) or ambiguous (in the repeated hour)")
    meant: dt.datetime = Field(description="the instant planned, local time with its offset")
    message: str


def _assistant_optional(schema: dict[str, Any]) -> None:
    """``assistant`` came after the other ride fields and stays optional in the answer's schema."""
    schema["required"] = [name for name in schema.get("required", []) if name != "assistant"]


class VisitRequestPublic(VisitRequestBase):
    """A request as stored, with the DST notes of its times."""

    model_config = ConfigDict(**PUBLIC_CONFIG, json_schema_extra=_assistant_optional)
    id: str
    status: RequestStatus
    extra_windows: list[WindowOut]  # type: ignore[assignment]
    working_days_only: bool = Field(default=False, exclude=True)
    """Read from the stored request's service, for ``local_time_notes``; not part of the answer."""

    @computed_field(description="DST days within the request's first year (one-off: its date) on which a time "  # type: ignore[prop-decorator]
                                "falls into the spring-forward gap (read as RFC 5545 does: 02:30 is 03:30) or "
                                "the repeated autumn hour (the first, summer-time one is meant)")
    @property
    def local_time_notes(self) -> list[LocalTimeNote]:
        return [LocalTimeNote(**n) for n in requests_service.local_time_notes(self)]


class PinSet(InputModel):
    """Body of ``PUT /requests/{id}/pins/{date}``: a worker, a start, or both."""

    worker_id: str | None = Field(default=None, max_length=ID_LEN, description="the worker who does it that day")
    start: LocalTime | None = Field(default=None, description=f"the start that day: {LOCAL_TIME_DOC}; inside one of "
                                                              "the request's windows")


class PinPublic(OutputModel):
    """The pin of one occurrence of a request: planning that day keeps it."""

    visit_request_id: str
    date: dt.date
    worker_id: str | None
    start: LocalTime | None
    created_by: str = Field(description="who set it last")
    created_at: dt.datetime
