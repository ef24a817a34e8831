"""Bodies for care decisions: decisions (entitlements), care plans, intake rules, seniors' absences.

The ``XCreate`` / ``XUpdate`` / ``XPublic`` family cut from the ``XBase`` models of
``dispatch.storage.care_models`` (field rules live there); cross-field and reference rules are in the
``dispatch`` use cases, which report every problem at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import InputModel, OutputModel
from api.schemas.types import DATE_DOC
from dispatch.fields import LOCAL_TIME_DOC, LocalTime, SaneDate, ServiceRef
from dispatch.storage.care_models import (
    REFERENCE_LEN,
    BudgetPeriod,
    BudgetUnit,
    CarePlanBase,
    DecisionBase,
    IntakeRuleBase,
    SeniorAbsenceBase,
)
from dispatch.catalog.records import ID_PATTERN
from dispatch.catalog.intake_rules import HORIZON_DAYS
from dispatch.storage.models import ID_LEN

_FORBID = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- decisions


class DecisionCreate(DecisionBase):
    """A decision: ``amount`` hours or rides of ``service`` per ``period`` for the senior, valid from-to."""

    model_config = _FORBID  # type: ignore[assignment]
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (d-00042) when omitted")


class DecisionUpdate(InputModel):
    senior_id: str | None = Field(default=None, max_length=ID_LEN)
    service: ServiceRef | None = None
    reference: str | None = Field(default=None, min_length=1, max_length=REFERENCE_LEN)
    unit: BudgetUnit | None = None
    amount: float | None = Field(default=None, gt=0, le=100_000)
    period: BudgetPeriod | None = None
    valid_from: SaneDate | None = None
    valid_to: SaneDate | None = None
    note: str | None = Field(default=None, max_length=500)


class DecisionPublic(DecisionBase):
    model_config = ConfigDict(from_attributes=True)  # type: ignore[assignment]
    id: str


# --------------------------------------------------------------------------- care plans


class CarePlanLineIn(InputModel):
    """One line: either ``text`` ("Mon-Fri 07:30-09:00 hygiene 60 min") or the parts."""

    text: str | None = Field(default=None, max_length=600, examples=["Mon-Fri 07:30-09:00 hygiene 60 min"])
    weekdays: list[int] | str | None = Field(default=None, description="0 = Monday ... 6 = Sunday, or 'Mon-Fri', "
                                                                      "'Mon,Wed,Fri', 'daily'")
    start: LocalTime | None = Field(default=None, description=f"the visit happens from: {LOCAL_TIME_DOC}")
    end: LocalTime | None = Field(default=None, description="... until (its latest start is end - duration)")
    duration: int | None = Field(default=None, ge=1, le=720, description="minutes on site")
    tasks: str = Field(default="", max_length=500)


class CarePlanCreate(CarePlanBase):
    model_config = _FORBID  # type: ignore[assignment]
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="generated (cp-00042) when omitted")
    lines: list[CarePlanLineIn] = Field(min_length=1, max_length=21)


class CarePlanUpdate(InputModel):
    """What a plan's PATCH may change (its senior, service and lines are fixed: end it and enter a new one)."""

    valid_from: SaneDate | None = None
    valid_to: SaneDate | None = Field(default=None, description=f"{DATE_DOC}; set it to end the plan")
    skip_public_holidays: bool | None = None
    note: str | None = Field(default=None, max_length=500)


class CarePlanLinePublic(OutputModel):
    id: int
    weekdays: list[int]
    start: LocalTime
    end: LocalTime
    duration: int
    tasks: str
    text: str = Field(description="the line as written: 'Mon-Fri 07:30-09:00 hygiene 60 min'")


class CarePlanPublic(CarePlanBase):
    model_config = ConfigDict(from_attributes=True)  # type: ignore[assignment]
    id: str
    lines: list[CarePlanLinePublic]


class ExpandBody(InputModel):
    override_reason: str | None = Field(default=None, min_length=1, max_length=500,
                                        description="accept the visits although they break intake rules (budget); "
                                                    "audited per request")


class ExpansionPublic(BaseModel):
    plan_id: str
    start: dt.date = Field(alias="from", serialization_alias="from")
    end: dt.date = Field(alias="to", serialization_alias="to")
    created: list[str] = Field(description="ids of the new visit requests (dry run: the ids they would get)")
    dates: list[dt.date] = Field(description="the date of each new request, in the same order")
    already: int = Field(description="(line, date) pairs expanded before: nothing new")
    skipped: dict[str, list[dt.date]] = Field(description="dates left out: absence, public_holiday, "
                                                          "service_not_running")
    overridden: int = Field(description="new requests accepted by the override reason")
    dry_run: bool

    model_config = ConfigDict(populate_by_name=True)


# --------------------------------------------------------------------------- intake rules


class IntakeRuleSet(IntakeRuleBase):
    """The service's intake rules (replaces them; a field left out takes its default: no limit)."""

    model_config = _FORBID  # type: ignore[assignment]


class IntakeRulePublic(IntakeRuleBase):
    model_config = ConfigDict(from_attributes=True)  # type: ignore[assignment]
    service: str
    horizon_days: int = Field(default=HORIZON_DAYS, description="how far a recurring request's occurrences are "
                                                                "checked against quotas and budgets")


# --------------------------------------------------------------------------- seniors' absences


class SeniorAbsenceCreate(SeniorAbsenceBase):
    """The senior is away (hospital, holiday) from ``from_date`` to ``to_date``: no care-plan visits then."""

    model_config = _FORBID  # type: ignore[assignment]


class SeniorAbsencePublic(SeniorAbsenceBase):
    model_config = ConfigDict(from_attributes=True)  # type: ignore[assignment]
    id: int
    senior_id: str


def line_dict(line: CarePlanLineIn) -> dict[str, Any]:
    """A line body as ``dispatch.catalog.care_plans`` takes it (``text`` parsed; ValueError names the problem)."""
    from dispatch.catalog.care_plans import parse_days, parse_line

    if line.text is not None:
        out = parse_line(line.text)
        if line.tasks:
            out["tasks"] = line.tasks
        return out
    weekdays = parse_days(line.weekdays) if isinstance(line.weekdays, str) else line.weekdays
    return {"weekdays": weekdays, "start": line.start, "end": line.end, "duration": line.duration,
            "tasks": line.tasks}
