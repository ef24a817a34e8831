"""Worker bodies, with the weekly shift pattern inline and absences as their own resource.  The
worker bodies are cut from the table's base model (``dispatch.storage.models.WorkerBase``), where
the fields' rules are written once."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, computed_field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel, OutputModel
from dispatch.fields import DATE_DOC, LOCAL_TIME_DOC, LocalTime, SaneDate, Skills
from dispatch.fields import ID_PATTERN, POSTCODE_PATTERN
from dispatch.catalog.records import MAX_WORK_MINUTES_PER_DAY, labour_warnings
from dispatch.limits import MAX_ABSENCE_DAYS, MAX_SHIFT_MINUTES, MAX_SHIFTS_PER_WEEK
from dispatch.domain import Contract, TravelMode, WorkerKind
from dispatch.storage.models import ID_LEN, WorkerBase


HOME_ADDRESS_DOC = ("home address, only to look up home_lat/home_lon when they are left out (a configured "
                    "geocoder); not stored: the planner needs the coordinates only")


class Shift(InputModel):
    """A regular shift on one weekday (0 = Monday), local wall-clock time, at most 13 h (art. 132 KP)."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")
    start: LocalTime = Field(description=LOCAL_TIME_DOC)
    end: LocalTime = Field(description=f"{LOCAL_TIME_DOC}; after start, at most {MAX_SHIFT_MINUTES} minutes later")


class ShiftPublic(OutputModel):
    weekday: int
    start: LocalTime
    end: LocalTime


class WorkerCreate(WorkerBase):
    """A new worker: the fields and rules of ``dispatch.storage.models.WorkerBase``, an optional id,
    home coordinates that may be left out (with the home address to look them up from) and the
    weekly shifts inline."""

    model_config = INPUT_CONFIG
    home_lat: float | None = Field(default=None, ge=-90, le=90,  # type: ignore[assignment]
                                   description="within 50 km of home_area's place; leave home_lat and home_lon out to "
                                               "look them up from home_street ... home_city (needs "
                                               "CAREPATH_GEOCODER=nominatim)")
    home_lon: float | None = Field(default=None, ge=-180, le=180)  # type: ignore[assignment]
    home_street: str | None = Field(default=None, min_length=1, max_length=200, description=HOME_ADDRESS_DOC)
    home_number: str | None = Field(default=None, min_length=1, max_length=20, description=HOME_ADDRESS_DOC)
    home_postcode: str | None = Field(default=None, pattern=POSTCODE_PATTERN, description=HOME_ADDRESS_DOC)
    home_city: str | None = Field(default=None, min_length=1, max_length=100, description=HOME_ADDRESS_DOC)
    shifts: list[Shift] = Field(default_factory=list, max_length=MAX_SHIFTS_PER_WEEK, description="the weekly pattern")
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (w-00042) when omitted")


class WorkerUpdate(InputModel):
    """Only the fields sent are changed; ``shifts`` replaces the whole weekly pattern."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: Literal["F", "M"] | None = None
    kind: WorkerKind | None = None
    skills: Skills | None = None
    contract: Contract | None = None
    weekly_hours: float | None = Field(default=None, ge=0, le=60)
    home_area: str | None = Field(default=None, max_length=ID_LEN)
    home_lat: float | None = Field(default=None, ge=-90, le=90)
    home_lon: float | None = Field(default=None, ge=-180, le=180)
    home_street: str | None = Field(default=None, min_length=1, max_length=200, description=HOME_ADDRESS_DOC)
    home_number: str | None = Field(default=None, min_length=1, max_length=20, description=HOME_ADDRESS_DOC)
    home_postcode: str | None = Field(default=None, pattern=POSTCODE_PATTERN, description=HOME_ADDRESS_DOC)
    home_city: str | None = Field(default=None, min_length=1, max_length=100, description=HOME_ADDRESS_DOC)
    travel_mode: TravelMode | None = None
    starts_at_office: bool | None = None
    max_daily_minutes: int | None = Field(default=None, ge=1, le=MAX_WORK_MINUTES_PER_DAY)
    car_id: str | None = Field(default=None, max_length=ID_LEN)
    shifts: list[Shift] | None = Field(default=None, max_length=MAX_SHIFTS_PER_WEEK)


class LabourWarning(OutputModel):
    """A labour rule the weekly pattern strains without breaking it (``dispatch.catalog.labour``)."""

    rule: str = Field(description="weekly_hours: the shifts add up to more than the contract's weekly_hours")
    actual_minutes: int
    limit_minutes: int
    message: str
    message_pl: str


class WorkerPublic(WorkerBase):
    """A worker as stored, with the weekly shifts and what the pattern strains (``labour_warnings``:
    hours over the contract's ``weekly_hours``, flagged, not refused; none for a zlecenie)."""

    model_config = PUBLIC_CONFIG
    id: str
    shifts: list[ShiftPublic]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def labour_warnings(self) -> list[LabourWarning]:
        shifts = [{"weekday": s.weekday, "start": s.start, "end": s.end} for s in self.shifts]
        return [LabourWarning(**w) for w in labour_warnings(self.contract, self.weekly_hours, shifts)]


class AbsenceCreate(InputModel):
    """Leave, sickness or training: no planning on any day from ``from_date`` to ``to_date``.

    At most ``MAX_ABSENCE_DAYS`` days (3 years: childcare leave, the longest in the Labour Code).
    """

    from_date: SaneDate = Field(description=DATE_DOC)
    to_date: SaneDate = Field(description=f"{DATE_DOC}; not before from_date, at most {MAX_ABSENCE_DAYS} days "
                                          "after it")
    reason: str = Field(default="", max_length=200)


class AbsencePublic(OutputModel):
    id: int
    worker_id: str
    from_date: dt.date
    to_date: dt.date
    reason: str
