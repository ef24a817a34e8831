"""Car bodies.  Plates are stored upper-case with single spaces and are unique."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from api.schemas.common import InputModel, OutputModel
from dispatch.catalog import ID_PATTERN


class CarBase(InputModel):
    plate: str = Field(min_length=2, max_length=16, description="registration plate, e.g. TK 12345")
    seats: int = Field(ge=0, le=50, description="passenger seats")
    wheelchair_places: int = Field(default=0, ge=0, le=10)
    base_place: str = Field(max_length=32, description="place id where the car is kept (an office)")
    available_from: dt.time = dt.time(6, 0)
    available_to: dt.time = dt.time(22, 0)


class CarCreate(CarBase):
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (car-0042) when omitted")


class CarUpdate(InputModel):
    """Only the fields sent are changed."""

    plate: str | None = Field(default=None, min_length=2, max_length=16)
    seats: int | None = Field(default=None, ge=0, le=50)
    wheelchair_places: int | None = Field(default=None, ge=0, le=10)
    base_place: str | None = Field(default=None, max_length=32)
    available_from: dt.time | None = None
    available_to: dt.time | None = None


class CarPublic(OutputModel):
    id: str
    plate: str
    seats: int
    wheelchair_places: int
    base_place: str
    available_from: dt.time
    available_to: dt.time
