"""Visit request bodies.  The checks here are the simple per-field ones (so the OpenAPI document
shows them); every rule, cross-field ones included, is in ``dispatch.requests_service.prepare``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.schemas.common import InputModel, OutputModel
from dispatch.catalog import ID_PATTERN
from dispatch.models import RequestStatus
from dispatch.requests_service import MAX_DURATION, PRIORITY_MAX, PRIORITY_MIN, WORKERS_NEEDED_MAX
from fixtures.scenario import ServiceCode

Purpose = Literal["medical", "office", "bank", "cemetery", "shopping", "activity"]


class VisitRequestCreate(InputModel):
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (r-000042) when omitted")
    senior_id: str = Field(max_length=32)
    service: ServiceCode
    first_date: dt.date = Field(description="first (or only) day")
    window_start: dt.time = Field(description="earliest start, local time")
    window_end: dt.time = Field(description="latest start, local time")
    duration: int | None = Field(default=None, ge=1, le=MAX_DURATION, description="minutes on site; default: the service's")
    rrule: str | None = Field(default=None, max_length=500, description="RFC 5545 RRULE without DTSTART, e.g. "
                                                                       "FREQ=WEEKLY;BYDAY=MO,WE,FR; omit for one-off")
    until: dt.date | None = Field(default=None, description="last day of a recurring request (inclusive)")
    required_skills: list[str] = Field(default_factory=list, description="the service's own skills are always added")
    workers_needed: int = Field(default=1, ge=1, le=WORKERS_NEEDED_MAX)
    priority: int = Field(default=3, ge=PRIORITY_MIN, le=PRIORITY_MAX, description="1 lowest, 5 highest")
    mandatory: bool = False
    soft_window: bool = False
    max_lateness: int = Field(default=0, ge=0, le=MAX_DURATION)
    destination_place_id: str | None = Field(default=None, max_length=32, description="taxi: destination place id")
    appointment: dt.time | None = Field(default=None, description="taxi: arrive no later than")
    appointment_minutes: int | None = Field(default=None, ge=0, le=MAX_DURATION, description="taxi: appointment length")
    return_trip: bool | None = Field(default=None, description="taxi: default true")
    return_on_call: bool | None = Field(default=None, description="taxi: default false")
    escort: bool | None = Field(default=None, description="taxi: default false")
    assistant: bool | None = Field(default=None, description="taxi: the centre's personal assistant rides along; "
                                                             "default false")
    wheelchair: bool | None = Field(default=None, description="taxi: default as the senior")
    purpose: Purpose | None = Field(default=None, description="taxi: default medical")
    follows_request_id: str | None = Field(default=None, max_length=32)
    follow_min_delay: int = Field(default=0, ge=0)
    follow_max_delay: int | None = Field(default=None, ge=0)
    tasks: str = Field(default="", max_length=2000)


class VisitRequestUpdate(InputModel):
    """Only the fields sent are changed; the whole request is then re-checked.  Cancel with DELETE."""

    senior_id: str | None = Field(default=None, max_length=32)
    service: ServiceCode | None = None
    first_date: dt.date | None = None
    window_start: dt.time | None = None
    window_end: dt.time | None = None
    duration: int | None = Field(default=None, ge=1, le=MAX_DURATION)
    rrule: str | None = Field(default=None, max_length=500)
    until: dt.date | None = None
    required_skills: list[str] | None = None
    workers_needed: int | None = Field(default=None, ge=1, le=WORKERS_NEEDED_MAX)
    priority: int | None = Field(default=None, ge=PRIORITY_MIN, le=PRIORITY_MAX)
    mandatory: bool | None = None
    soft_window: bool | None = None
    max_lateness: int | None = Field(default=None, ge=0, le=MAX_DURATION)
    destination_place_id: str | None = Field(default=None, max_length=32)
    appointment: dt.time | None = None
    appointment_minutes: int | None = Field(default=None, ge=0, le=MAX_DURATION)
    return_trip: bool | None = None
    return_on_call: bool | None = None
    escort: bool | None = None
    assistant: bool | None = None
    wheelchair: bool | None = None
    purpose: Purpose | None = None
    follows_request_id: str | None = Field(default=None, max_length=32)
    follow_min_delay: int | None = Field(default=None, ge=0)
    follow_max_delay: int | None = Field(default=None, ge=0)
    tasks: str | None = Field(default=None, max_length=2000)


class VisitRequestPublic(OutputModel):
    id: str
    senior_id: str
    service: ServiceCode
    status: RequestStatus
    first_date: dt.date
    window_start: dt.time
    window_end: dt.time
    duration: int
    rrule: str | None
    until: dt.date | None
    required_skills: list[str]
    workers_needed: int
    priority: int
    mandatory: bool
    soft_window: bool
    max_lateness: int
    destination_place_id: str | None
    appointment: dt.time | None
    appointment_minutes: int | None
    return_trip: bool | None
    return_on_call: bool | None
    escort: bool | None
    assistant: bool | None = None
    wheelchair: bool | None
    purpose: str | None
    follows_request_id: str | None
    follow_min_delay: int
    follow_max_delay: int | None
    tasks: str
