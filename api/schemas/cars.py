"""Car bodies, cut from the table's base model (``dispatch.storage.models.CarBase``): the fields and
their rules are written once, there.  Plates are stored upper-case with single spaces and are unique.
"""

from __future__ import annotations

from pydantic import Field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel
from dispatch.fields import LOCAL_TIME_DOC, LocalTime
from dispatch.fields import ID_PATTERN
from dispatch.storage.models import ID_LEN, CarBase


class CarCreate(CarBase):
    """A new car: the fields and rules of ``dispatch.storage.models.CarBase``, and an optional id."""

    model_config = INPUT_CONFIG
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (car-0042) when omitted")


class CarUpdate(InputModel):
    """Only the fields sent are changed."""

    plate: str | None = Field(default=None, min_length=2, max_length=16)
    seats: int | None = Field(default=None, ge=0, le=50)
    wheelchair_places: int | None = Field(default=None, ge=0, le=10)
    base_place: str | None = Field(default=None, max_length=ID_LEN)
    available_from: LocalTime | None = Field(default=None, description=LOCAL_TIME_DOC)
    available_to: LocalTime | None = Field(default=None, description=LOCAL_TIME_DOC)


class CarPublic(CarBase):
    """A car as stored."""

    model_config = PUBLIC_CONFIG
    id: str
