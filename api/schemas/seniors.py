"""Senior bodies.  The health fields (``disability``, ``mental_disorder``, ``health_notes``; RODO
art. 9) are write-only except in ``SeniorHealthRead``, which only ``GET /seniors/{id}/health?purpose=``
returns, only to coordinators and admins, and each time audited with the purpose.  Lists, single
reads and write answers never carry them (so neither do stored idempotent answers).  The bodies are
cut from the table's base models (``dispatch.storage.models.SeniorBase``, ``SeniorHealth``), where
the fields' rules are written once.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import INPUT_CONFIG, PUBLIC_CONFIG, InputModel
from dispatch.fields import ServiceRef, WorkerRefs
from dispatch.limits import MAX_KM_FROM_AREA, MAX_NEEDS
from dispatch.fields import ID_PATTERN, POSTCODE_PATTERN
from dispatch.domain import Disability
from dispatch.storage.models import ID_LEN, Gender, SeniorBase, SeniorHealth

GenderRuleName = Literal["none", "prefer", "require"]
GENDER_RULE_DOC = ("how preferred_gender binds: none (no wish), prefer (a wish), require (intimate-care services "
                   "are never given by a worker of the other gender, even if a visit stays unplaced; other services "
                   "keep it as a wish); default: prefer when preferred_gender is given, else none")
POSTCODE = POSTCODE_PATTERN


class SeniorCreate(SeniorBase, SeniorHealth):
    """A new senior: the fields and rules of ``dispatch.storage.models.SeniorBase`` and
    ``SeniorHealth``, an optional id, coordinates that may be left out to be looked up, and a
    gender rule that may be left out (prefer when preferred_gender is given, else none)."""

    model_config = INPUT_CONFIG
    lat: float | None = Field(default=None, ge=-90, le=90,  # type: ignore[assignment]
                              description=f"within {MAX_KM_FROM_AREA:.0f} km of the area's place; leave lat and lon "
                                          "out to look them up from the address (needs CAREPATH_GEOCODER=nominatim; "
                                          "without a geocoder the answer is 422 naming lat)")
    lon: float | None = Field(default=None, ge=-180, le=180)  # type: ignore[assignment]
    gender_rule: GenderRuleName | None = Field(default=None, description=GENDER_RULE_DOC)  # type: ignore[assignment]
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (s-00042) when omitted")


class SeniorUpdate(InputModel):
    """Only the fields sent are changed; ``null`` is allowed only where a value may be empty.  A changed
    address without ``lat``/``lon`` is looked up again (with a geocoder) or refused (422 naming lat)."""

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: Gender | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    street: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, min_length=1, max_length=20)
    flat: str | None = Field(default=None, max_length=20)
    postcode: str | None = Field(default=None, pattern=POSTCODE)
    city: str | None = Field(default=None, min_length=1, max_length=100)
    area: str | None = Field(default=None, max_length=ID_LEN)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=32)
    disability: Disability | None = None
    lives_alone: bool | None = None
    wheelchair: bool | None = None
    mental_disorder: bool | None = None
    needs: list[ServiceRef] | None = Field(default=None, max_length=MAX_NEEDS)
    preferred_gender: Gender | None = Field(default=None, description="null clears it (and the gender rule, unless "
                                                                      "gender_rule is sent too)")
    gender_rule: GenderRuleName | None = Field(default=None, description=GENDER_RULE_DOC.replace(
        "default: prefer when preferred_gender is given, else none", "kept unless preferred_gender changes"))
    regular_workers: WorkerRefs | None = None
    forbidden_workers: WorkerRefs | None = None
    notes_for_workers: str | None = Field(default=None, max_length=2000)
    health_notes: str | None = Field(default=None, max_length=4000)


class SeniorPublic(SeniorBase):
    """A senior without health data: what lists, dispatchers and write answers show."""

    model_config = PUBLIC_CONFIG
    id: str
    gender_rule: str  # type: ignore[assignment]
    erased_at: dt.datetime | None = Field(default=None, description="set once the senior's data were erased "
                                                                    "(anonymised): the names and address are placeholders")


class SeniorHealthRead(SeniorHealth):
    """A senior's health fields: ``GET /seniors/{id}/health?purpose=...`` for coordinators and admins
    (each read audited with its purpose)."""

    model_config = PUBLIC_CONFIG
    id: str
    purpose: str = Field(description="the purpose this read was made (and audited) for")


class SeniorErased(BaseModel):
    """The answer of ``POST /seniors/{id}/erase``."""

    id: str
    erased_at: dt.datetime
    already_erased: bool = Field(description="true: the senior had been erased before; nothing was changed now")
