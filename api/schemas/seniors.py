"""Senior bodies.  ``health_notes`` (RODO art. 9) is write-only except in ``SeniorWithHealth``,
which only ``GET /seniors/{id}`` returns, only to coordinators and admins, and each time audited.
Lists and write answers never carry it (so neither do stored idempotent answers).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas.common import InputModel, OutputModel
from dispatch.catalog import ID_PATTERN
from fixtures.scenario import Disability, ServiceCode

Gender = Literal["F", "M"]
POSTCODE = r"^\d{2}-\d{3}$"


class SeniorBase(InputModel):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    gender: Gender
    birth_year: int = Field(ge=1900, le=2100)
    street: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=20)
    flat: str | None = Field(default=None, max_length=20)
    postcode: str = Field(pattern=POSTCODE, description="Polish format, e.g. 25-001")
    city: str = Field(min_length=1, max_length=100)
    area: str = Field(max_length=32, description="place id of the senior's area or gmina")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phone: str = Field(default="", max_length=32)
    disability: Disability
    lives_alone: bool = False
    wheelchair: bool = False
    mental_disorder: bool = False
    needs: list[ServiceCode] = Field(default_factory=list)
    preferred_gender: Gender | None = None
    regular_workers: list[str] = Field(default_factory=list, description="worker ids, continuity of care")
    forbidden_workers: list[str] = Field(default_factory=list, description="worker ids never to send")
    notes_for_workers: str = Field(default="", max_length=2000, description="e.g. access notes; shown to workers")


class SeniorCreate(SeniorBase):
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (s-00042) when omitted")
    health_notes: str = Field(default="", max_length=4000, description="special-category data (RODO art. 9)")


class SeniorUpdate(InputModel):
    """Only the fields sent are changed; ``null`` is allowed only where a value may be empty."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    street: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, min_length=1, max_length=20)
    flat: str | None = Field(default=None, max_length=20)
    postcode: str | None = Field(default=None, pattern=POSTCODE)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    area: str | None = Field(default=None, max_length=32)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=32)
    disability: Disability | None = None
    lives_alone: bool | None = None
    wheelchair: bool | None = None
    mental_disorder: bool | None = None
    needs: list[ServiceCode] | None = None
    preferred_gender: Gender | None = None
    regular_workers: list[str] | None = None
    forbidden_workers: list[str] | None = None
    notes_for_workers: str | None = Field(default=None, max_length=2000)
    health_notes: str | None = Field(default=None, max_length=4000)


class SeniorPublic(OutputModel):
    """A senior without health data: what lists, dispatchers and write answers show."""

    id: str
    first_name: str
    last_name: str
    gender: str
    birth_year: int
    street: str
    number: str
    flat: str | None
    postcode: str
    city: str
    area: str
    lat: float
    lon: float
    phone: str
    disability: Disability
    lives_alone: bool
    wheelchair: bool
    mental_disorder: bool
    needs: list[str]
    preferred_gender: str | None
    regular_workers: list[str]
    forbidden_workers: list[str]
    notes_for_workers: str


class SeniorWithHealth(SeniorPublic):
    """A senior with health notes: ``GET /seniors/{id}`` for coordinators and admins (audited)."""

    health_notes: str
