"""Worker bodies, with the weekly shift pattern inline and absences as their own resource."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from api.schemas.common import InputModel, OutputModel
from dispatch.catalog import ID_PATTERN, MAX_WORK_MINUTES_PER_DAY
from fixtures.scenario import Contract, TravelMode, WorkerKind


class Shift(InputModel):
    """A regular shift on one weekday (0 = Monday), local wall-clock time."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: dt.time
    end: dt.time


class ShiftPublic(OutputModel):
    weekday: int
    start: dt.time
    end: dt.time


class WorkerBase(InputModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    gender: Literal["F", "M"]
    kind: WorkerKind
    skills: list[str] = Field(default_factory=list, description="e.g. community_carer, driving_licence_b")
    contract: Contract
    weekly_hours: float = Field(ge=0, le=60)
    home_area: str = Field(max_length=32, description="place id")
    home_lat: float = Field(ge=-90, le=90)
    home_lon: float = Field(ge=-180, le=180)
    travel_mode: TravelMode
    starts_at_office: bool = False
    max_daily_minutes: int = Field(default=480, ge=1, le=MAX_WORK_MINUTES_PER_DAY)
    car_id: str | None = Field(default=None, max_length=32)
    shifts: list[Shift] = Field(default_factory=list, description="the weekly pattern")


class WorkerCreate(WorkerBase):
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (w-00042) when omitted")


class WorkerUpdate(InputModel):
    """Only the fields sent are changed; ``shifts`` replaces the whole weekly pattern."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: Literal["F", "M"] | None = None
    kind: WorkerKind | None = None
    skills: list[str] | None = None
    contract: Contract | None = None
    weekly_hours: float | None = Field(default=None, ge=0, le=60)
    home_area: str | None = Field(default=None, max_length=32)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)
    travel_mode: TravelMode | None = None
    starts_at_office: bool | None = None
    max_daily_minutes: int | None = Field(default=None, ge=1, le=MAX_WORK_MINUTES_PER_DAY)
    car_id: str | None = Field(default=None, max_length=32)
    shifts: list[Shift] | None = None


class WorkerPublic(OutputModel):
    id: str
    first_name: str
    last_name: str
    gender: str
    kind: WorkerKind
    skills: list[str]
    contract: Contract
    weekly_hours: float
    home_area: str
    home_lat: float
    home_lon: float
    travel_mode: TravelMode
    starts_at_office: bool
    max_daily_minutes: int
    car_id: str | None
    shifts: list[ShiftPublic]


class AbsenceCreate(InputModel):
    """Leave, sickness or training: no planning on any day from ``from_date`` to ``to_date``."""

    from_date: dt.date
    to_date: dt.date
    reason: str = Field(default="", max_length=200)


class AbsencePublic(OutputModel):
    id: int
    worker_id: str
    from_date: dt.date
    to_date: dt.date
    reason: str
